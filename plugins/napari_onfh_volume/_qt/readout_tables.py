"""The live readout: a volume summary per lesion and the per-slice area table."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qtpy.QtCore import QSize, Qt
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem

from ..hips import Misplaced
from ..layers import LABEL_COLOURS
from ..provenance import AIDS, Marked
from ..readout import LesionReadout

CURRENT_SLICE = QColor("#4a4a1a")
#: Row height of both tables: compact, as a spreadsheet's, so ten slices fit in a dock.
ROW_PX = 22


def _cell(text: str, align_right: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align_right:
        item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter))
    return item


def _short(name: str) -> str:
    """``right hip lesion`` → ``Right``: table headers stay narrow in a dock."""
    return name.removesuffix(" hip lesion").capitalize()


def cm3(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


class FittedTable(QTableWidget):
    """A table whose ``fitted`` columns fit their content and the others share the rest equally, and
    that asks for the width that shows every header and cell in full.

    Equal shares of a narrow dock clipped the headers ("Cavalieri (cm³)") and the marked areas;
    the dock now widens to what the columns need.
    """

    def __init__(self, rows: int, columns: int, fitted: tuple[int, ...] = (0,)) -> None:
        super().__init__(rows, columns)
        self._fitted = fitted
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for column in fitted:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.sectionResized.connect(lambda *_args: self.updateGeometry())

    def minimumSizeHint(self) -> QSize:
        header = self.horizontalHeader()
        needed = [max(header.sectionSizeHint(i), self.sizeHintForColumn(i)) for i in range(header.count())]
        shared = [width for i, width in enumerate(needed) if i not in self._fitted]
        columns = sum(needed) - sum(shared) + len(shared) * max(shared, default=0)
        width = columns + 2 * self.frameWidth() + self.verticalScrollBar().sizeHint().width()
        hint = super().minimumSizeHint()
        return QSize(max(width, hint.width()), hint.height())


class VolumeSummary(FittedTable):
    """One row per lesion: volume by area x thickness, Cavalieri volume, slices traced."""

    HEADERS = ("Lesion", "Volume (cm³)", "Cavalieri (cm³)", "Slices")

    def __init__(self) -> None:
        super().__init__(0, len(self.HEADERS), fitted=(0, 3))
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.verticalHeader().setDefaultSectionSize(ROW_PX)
        # Room for the header and both hips without a scroll bar; further labels scroll.
        self.setFixedHeight(3 * self.verticalHeader().defaultSectionSize() + 2 * self.frameWidth() + 8)

    def show_lesions(self, lesions: Sequence[LesionReadout]) -> None:
        self.setRowCount(len(lesions))
        for row, lesion in enumerate(lesions):
            name = _cell(lesion.name, align_right=False)
            if lesion.label in LABEL_COLOURS:
                name.setForeground(QBrush(QColor(LABEL_COLOURS[lesion.label])))
            self.setItem(row, 0, name)
            self.setItem(row, 1, _cell(cm3(lesion.volume_thickness_cm3)))
            self.setItem(row, 2, _cell(cm3(lesion.volume_cavalieri_cm3)))
            self.setItem(row, 3, _cell(str(lesion.traced_slices)))


class HipWarning(QLabel):
    """Under the volumes, in the warning colour: voxels of a hip's label that lie in the other hip."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setStyleSheet("color: #ffb000; font-weight: bold")
        self.hide()

    def show_misplaced(self, misplaced: Sequence[Misplaced]) -> None:
        self.setText("\n".join(f"⚠ {found.message()}" for found in misplaced))
        self.setVisible(bool(misplaced))


class SliceAreaTable(FittedTable):
    """Area (mm²) of each lesion on each slice; the current slice highlighted, a click jumps to a slice.

    Areas on slices a tracing aid filled are in italics, marked with the aid: "(filled)" between
    traced slices, "(band fill)" from a band fill click, "(detected)" from "Find lesions" (no click),
    "(propagated)" carried from the baseline. The table never takes the keyboard focus:
    arrows and digits stay with the canvas.
    """

    #: Rows visible without scrolling at the default size (with the header).
    VISIBLE_ROWS = 10

    def __init__(self, jump: Callable[[int], None]) -> None:
        super().__init__(0, 1)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.verticalHeader().setDefaultSectionSize(ROW_PX)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.cellClicked.connect(lambda row, _column: jump(row))
        self.setMinimumHeight(
            (self.VISIBLE_ROWS + 1) * self.verticalHeader().defaultSectionSize() + 2 * self.frameWidth() + 4
        )
        self._labels: list[int] = []
        self._aided: Marked = {}
        self._current = -1

    def show_lesions(
        self,
        lesions: Sequence[LesionReadout],
        slices: set[int] | None = None,
        aided: Marked | None = None,
    ) -> None:
        """Fill the table; with ``slices`` only those rows (and only if the lesions are the same).

        ``aided`` lists, per tracing aid and label, the slices that aid filled.
        """
        labels = [lesion.label for lesion in lesions]
        count = len(lesions[0].pixel_counts) if lesions else 0
        aided = aided or {}
        if aided != self._aided:
            self._aided, slices = aided, None
        if labels != self._labels or self.rowCount() != count:
            self._labels, slices = labels, None
            self.setColumnCount(1 + len(lesions))
            self.setHorizontalHeaderLabels(["Slice", *(f"{_short(lesion.name)} (mm²)" for lesion in lesions)])
            self.setRowCount(count)
        rows = range(count) if slices is None else sorted(k for k in slices if 0 <= k < count)
        for row in rows:
            self.setItem(row, 0, _cell(str(row)))
            for column, lesion in enumerate(lesions, start=1):
                self.setItem(row, column, self._area_cell(lesion, row))
        self._paint_row(self._current, QBrush(CURRENT_SLICE))

    def _area_cell(self, lesion: LesionReadout, row: int) -> QTableWidgetItem:
        area = lesion.slice_areas_mm2[row]
        if not area:
            return _cell("")
        aids = [aid for aid in AIDS if row in self._aided.get(aid, {}).get(lesion.label, ())]
        if not aids:
            return _cell(f"{area:.1f}")
        item = _cell(f"{area:.1f} ({', '.join(aid.mark for aid in aids)})")
        font = item.font()
        font.setItalic(True)
        item.setFont(font)
        item.setToolTip(f"{' and '.join(aid.hint for aid in aids)}: check it before signing off")
        return item

    def set_current(self, row: int) -> None:
        """Highlight ``row`` (the slice on screen) and scroll to it."""
        self._paint_row(self._current, QBrush())
        self._current = row
        self._paint_row(row, QBrush(CURRENT_SLICE))
        item = self.item(row, 0)
        if item is not None:
            self.scrollToItem(item, QAbstractItemView.ScrollHint.PositionAtCenter)

    def current_row(self) -> int:
        """The highlighted row (the slice on screen)."""
        return self._current

    def _paint_row(self, row: int, brush: QBrush) -> None:
        for column in range(self.columnCount()):
            item = self.item(row, column)
            if item is not None:
                item.setBackground(brush)
