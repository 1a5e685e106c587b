"""The dock in the hand (issue 18, friction): orientation letters on the canvas however the dock was
opened, nothing of the dock left on the canvas once it is closed, help and tables in view.

Real clicks on napari's own dock title bar and menu, real keys on the canvas. Expected letters come
from the sample series' DICOM header (ImageOrientationPatient [1, 0, 0, 0, 0, -1]: columns run to the
patient's left, rows down), not from the code under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui import canvas, hover_canvas, key, main_window
from helpers import SAMPLES, copy_sample
from qtpy.QtCore import QPoint, QRect, Qt
from qtpy.QtOpenGLWidgets import QOpenGLWidget
from qtpy.QtWidgets import QApplication, QLabel, QPushButton, QScrollArea, QWidget
from test_reading_room import menu_entry

from napari_onfh_volume._qt.lesion_widget import LesionVolumeWidget
from napari_onfh_volume.view import set_up
from onfh_volume import load_scan

#: Coronal slices, columns towards the patient's left: R on the left edge, S at the top.
CORONAL_LETTERS = {"left": "R", "right": "L", "top": "S", "bottom": "I"}


def letters_on_canvas(widget) -> dict[str, str]:
    """The orientation letters shown inside the canvas of ``widget``'s window (or that canvas), by edge."""
    target = widget if isinstance(widget, QOpenGLWidget) else canvas(widget)
    shown = {}
    for label in target.findChildren(QLabel):
        if label.isVisible() and label.text() in ("R", "L", "S", "I"):
            centre = label.geometry().center()
            edge = min(
                {
                    "left": centre.x(),
                    "right": target.width() - centre.x(),
                    "top": centre.y(),
                    "bottom": target.height() - centre.y(),
                }.items(),
                key=lambda item: item[1],
            )[0]
            shown[edge] = label.text()
    return shown


def stray_windows() -> list[QLabel]:
    """Labels shown as top-level windows (the letters, when they had no canvas to live on)."""
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QLabel) and w.isVisible()]


def test_letters_are_on_the_canvas_when_started_with_a_scan(make_napari_viewer, qtbot) -> None:
    """``napari-onfh-volume SCAN``: the dock is built with the scan open, before it is docked."""
    viewer = make_napari_viewer(show=True)
    widget = set_up(viewer, load_scan(SAMPLES / "dicom/sub-01/baseline"))
    qtbot.wait(50)
    assert letters_on_canvas(widget) == CORONAL_LETTERS
    assert stray_windows() == []


def close_button(widget) -> QPushButton:
    """The close (x) button of the title bar of the dock holding ``widget``."""
    dock = widget.parentWidget()
    [found] = [b for b in dock.findChildren(QPushButton) if b.objectName() == "QTitleBarCloseButton"]
    return found


def test_closing_the_dock_clears_the_canvas_and_reopening_brings_the_letters_back(
    make_napari_viewer, qtbot, tmp_path: Path
) -> None:
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    folder, _mask = copy_sample(tmp_path, "sub-02", "baseline")
    viewer.open(str(folder), plugin="onfh-volume")
    assert letters_on_canvas(widget) == CORONAL_LETTERS
    assert viewer.canvas.overlays.text.text.startswith("W ")
    target = canvas(widget)

    qtbot.mouseClick(close_button(widget), Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    text = viewer.canvas.overlays.text
    assert not (text.visible and text.text)  # no window, level or slice note left behind
    assert not viewer.canvas.overlays.scale_bar.visible  # napari's own state again
    assert letters_on_canvas(target) == {}
    assert stray_windows() == []

    window = main_window(target)
    plugins = next(a for a in window.menuBar().actions() if a.text().replace("&", "") == "Plugins")
    menu_entry(plugins.menu(), "Lesion volume").trigger()
    QApplication.processEvents()
    [reopened] = [w for w in window.findChildren(LesionVolumeWidget) if w.isVisible()]
    assert letters_on_canvas(reopened) == CORONAL_LETTERS
    assert stray_windows() == []
    assert viewer.canvas.overlays.text.visible and viewer.canvas.overlays.text.text.startswith("W ")
    assert viewer.canvas.overlays.scale_bar.visible


@pytest.fixture
def traced(make_napari_viewer, tmp_path: Path, qtbot):
    """sub-01 baseline and its mask as ``napari-onfh-volume SCAN MASK`` opens them, in a shown window."""
    from onfh_volume import load_mask

    folder, mask = copy_sample(tmp_path, "sub-01", "baseline")
    scan = load_scan(folder)
    viewer = make_napari_viewer(show=True)
    widget = set_up(viewer, scan, load_mask(mask, scan))
    main_window(widget).activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)
    qtbot.wait(50)
    return viewer, widget


def test_shift_h_shows_the_help_in_view(traced, qtbot) -> None:
    _viewer, widget = traced
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)
    QApplication.processEvents()
    assert widget.help.isVisible()
    qtbot.wait(50)
    shown = widget.help.visibleRegion().boundingRect()
    assert shown.height() >= min(widget.help.height(), 200), (shown, widget.help.height())


def test_the_tables_show_every_column_whole(traced) -> None:
    _viewer, widget = traced
    scroll = widget.findChild(QScrollArea)
    content = scroll.widget()
    assert content.width() <= scroll.viewport().width()  # no box cut off at the right
    for table in (widget.summary, widget.slice_table):
        header = table.horizontalHeader()
        for column in range(header.count()):
            needed = max(header.sectionSizeHint(column), table.sizeHintForColumn(column))
            assert header.sectionSize(column) >= needed, (type(table).__name__, column)
        end = header.sectionViewportPosition(header.count() - 1) + header.sectionSize(header.count() - 1)
        assert end <= table.viewport().width()
        assert table.mapTo(content, table.rect().topRight()).x() <= scroll.viewport().width()


def notifications(target: QWidget) -> list[QWidget]:
    """napari's notifications shown over the canvas (found by Qt class name: napari's is private)."""
    return [
        w
        for w in target.findChildren(QWidget)
        if type(w).__name__ == "NapariQtNotification" and w.isVisible()
    ]


def bright_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the bright pixels of an RGBA screenshot."""
    rows, columns = np.nonzero(image[..., :3].min(axis=-1) > 200)
    return int(columns.min()), int(rows.min()), int(columns.max()), int(rows.max())


def test_the_slice_gap_notification_leaves_the_scale_bar_in_view(make_napari_viewer, qtbot) -> None:
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    viewer.open(str(SAMPLES / "dicom/sub-01/baseline"), plugin="onfh-volume")  # 4 mm slices every 4.4 mm
    target = canvas(widget)
    qtbot.waitUntil(lambda: bool(notifications(target)), timeout=5000)
    [note] = notifications(target)
    assert any("slice gap" in label.text() for label in note.findChildren(QLabel))
    qtbot.wait(400)  # its slide-in animation ends

    for layer in viewer.layers:  # only the overlays drawn: the scale bar's white line and length
        layer.visible = False
    viewer.canvas.overlays.text.visible = False
    left, top, right, bottom = bright_box(viewer.screenshot(canvas_only=True, flash=False))
    scale = viewer.screenshot(canvas_only=True, flash=False).shape[1] / target.width()
    bar = QRect(
        QPoint(round(left / scale), round(top / scale)), QPoint(round(right / scale), round(bottom / scale))
    )
    assert bar.width() > 20  # the scale bar was found
    assert not bar.intersects(note.geometry()), (bar, note.geometry())
