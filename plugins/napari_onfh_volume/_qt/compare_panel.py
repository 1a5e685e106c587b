"""The Compare tab: a baseline and a follow-up tracing, per-hip volumes, relative change and category.

Only wiring: choosing, laying out and measuring are :mod:`napari_onfh_volume.compare`'s. The
comparison is recomputed whenever one of its inputs changes (layers, threshold, method, an edit of
either tracing). While the tab is shown, both timepoints are side by side, baseline on the left.
"""

from __future__ import annotations

from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from onfh_volume import OnfhError
from onfh_volume.change import DEFAULT_THRESHOLD_PCT, Comparison
from onfh_volume.vocabulary import METHOD_NAMES, METHODS

from .. import compare
from .focus import no_focus
from .readout_tables import cm3


class ComparePanel(QGroupBox):
    """Pick a baseline and a follow-up lesion layer (each on its scan) and compare them hip by hip."""

    HEADERS = ("Hip", "Baseline cm³", "Follow-up cm³", "Change", "Category")

    def __init__(self, viewer) -> None:
        super().__init__("Compare timepoints")
        self.viewer = viewer
        self.baseline = QComboBox()
        self.followup = QComboBox()
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.1, 100.0)
        self.threshold.setDecimals(1)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(DEFAULT_THRESHOLD_PCT)
        self.method = QComboBox()
        for method in METHODS:
            self.method.addItem(METHOD_NAMES[method].formula, method)
        self.swap_button = no_focus(QPushButton("Swap baseline and follow-up"))
        self.swap_button.clicked.connect(self.swap)
        # Edits arrive stroke by stroke: recompute once they pause.
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(150)
        self._pending.timeout.connect(self.run)
        for signal in (
            self.baseline.currentTextChanged,
            self.followup.currentTextChanged,
            self.threshold.valueChanged,
            self.method.currentIndexChanged,
        ):
            signal.connect(self.inputs_changed)
        self._watched: list = []
        self.side_by_side = compare.SideBySide(viewer)
        self._side_by_side = False
        self.result = QTableWidget(0, len(self.HEADERS))
        self.result.setHorizontalHeaderLabels(self.HEADERS)
        self.result.verticalHeader().setVisible(False)
        self.result.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.result.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.result.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.result.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.result.setFixedHeight(3 * self.result.verticalHeader().defaultSectionSize() + 8)
        self.message = QLabel()
        self.message.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Baseline lesions", self.baseline)
        form.addRow("Follow-up lesions", self.followup)
        form.addRow("Change threshold", self.threshold)
        form.addRow("Volume", self.method)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.swap_button)
        layout.addWidget(self.result)
        layout.addWidget(self.message)
        self.comparison: Comparison | None = None
        self.refresh_layers()

    def refresh_layers(self) -> None:
        """List the lesion layers; a new choice prefers names saying baseline and follow-up, else order."""
        names = compare.lesion_names(self.viewer)
        chosen = compare.choose_pair(names, self.baseline.currentText(), self.followup.currentText())
        for box, name in zip((self.baseline, self.followup), chosen, strict=True):
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            box.setCurrentText(name)
            box.blockSignals(False)
        self.inputs_changed()

    def inputs_changed(self, *_args) -> None:
        """Recompute soon: a layer, the threshold, the method or a tracing changed."""
        self._watch(self._chosen_layers())
        if self._side_by_side:  # another pair chosen (or swapped): lay it out
            self.set_side_by_side(True)
        self._pending.start()

    def _edited(self, _event=None) -> None:
        self._pending.start()

    def _chosen_layers(self) -> list:
        names = {self.baseline.currentText(), self.followup.currentText()}
        return [layer for layer in self.viewer.layers if layer.name in names]

    def _watch(self, layers: list) -> None:
        """Listen to the edits (paint, undo/redo redraws, replaced data) of the compared layers."""
        if [id(layer) for layer in layers] == [id(layer) for layer in self._watched]:
            return
        for layer in self._watched:
            for emitter in (layer.events.paint, layer.events.data, layer.events.set_data):
                emitter.disconnect(self._edited)
        self._watched = layers
        for layer in layers:
            for emitter in (layer.events.paint, layer.events.data, layer.events.set_data):
                emitter.connect(self._edited)

    def release(self) -> None:
        """Stop listening to the layers and leave the viewer's grid as it was."""
        self._pending.stop()
        self._watch([])
        self.set_side_by_side(False)

    def set_side_by_side(self, on: bool) -> None:
        """Baseline (left) and follow-up (right) side by side, fitted on entry; or one view again."""
        entering = on and not self._side_by_side
        self._side_by_side = on
        if on:
            pairs = compare.pairs(self.viewer, self.baseline.currentText(), self.followup.currentText())
            if entering or pairs != self.side_by_side.shown:
                self.side_by_side.show(pairs, refit=entering)
        else:
            self.side_by_side.end()

    def title(self) -> str:
        """What the canvas shows while comparing, for the dock's title."""
        return f"{self.baseline.currentText()} → {self.followup.currentText()} · comparing"

    def swap(self) -> None:
        """Exchange baseline and follow-up."""
        baseline, followup = self.baseline.currentText(), self.followup.currentText()
        self.baseline.setCurrentText(followup)
        self.followup.setCurrentText(baseline)

    def run(self) -> Comparison | None:
        """Compare the chosen layers; show the result, or the reason it cannot be computed."""
        self.result.setRowCount(0)
        self.comparison = None
        baseline, followup = self.baseline.currentText(), self.followup.currentText()
        why_not = compare.problem(self.viewer, baseline, followup)
        if why_not is not None:
            if baseline and followup and baseline != followup:
                self.refresh_layers()  # a chosen layer was renamed or removed
            self.message.setText(why_not)
            return None
        try:
            comparison = compare.compare_layers(
                self.viewer, baseline, followup, self.threshold.value(), self.method.currentData()
            )
        except OnfhError as exc:
            self.message.setText(f"Cannot compare: {exc}")
            return None
        self.result.setRowCount(len(comparison.hips))
        for row, hip in enumerate(comparison.hips):
            change = hip.change.change_pct
            for column, text in enumerate(
                (
                    hip.side,
                    cm3(hip.change.baseline_cm3),
                    cm3(hip.change.followup_cm3),
                    "–" if change is None else f"{change:+.1f} %",
                    hip.change.category,
                )
            ):
                self.result.setItem(row, column, QTableWidgetItem(text))
        self.message.setText("\n".join(f"⚠ {w}" for w in comparison.warnings))
        self.comparison = comparison
        return comparison
