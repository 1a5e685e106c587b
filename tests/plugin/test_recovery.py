"""Crash recovery through real events: what was filled between slices or by band fill stays marked
(issue 18, bug 7), and quitting the viewer asks nothing (issue 18, friction).

The autosave is written by the widget itself when the viewer closes (as when it quits); the second
viewer's question is answered with a mouse click on the real dialog's Yes button.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
from gui import button, hover_canvas, key, main_window
from helpers import click_voxel, copy_sample
from qtpy.QtCore import Qt, QTimer
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QApplication, QMessageBox
from test_hip_warning import stroke

from napari_onfh_volume import recovery
from napari_onfh_volume.layers import scan_layer
from napari_onfh_volume.view import set_up
from onfh_volume import load_mask, load_scan
from onfh_volume.testing.phantom_set import small_bilateral_phantom


def square(layer, k: int, row: int, column: int, label: int) -> None:
    """A 5 x 5 square of ``label`` drawn with the polygon tool's call, centred on (row, column)."""
    r, c = row, column
    layer.paint_polygon([(k, r - 2, c - 2), (k, r - 2, c + 2), (k, r + 2, c + 2), (k, r + 2, c - 2)], label)


def click_yes_when_asked(questions: list[str]) -> None:
    """When a question box is up, note its text and click its Yes button with the mouse."""

    def look() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            questions.append(box.text())
            QTest.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
        else:
            QTimer.singleShot(50, look)

    QTimer.singleShot(50, look)


def marked(table, column: int, mark: str) -> list[int]:
    return [
        row
        for row in range(table.rowCount())
        if table.item(row, column) is not None and table.item(row, column).text().endswith(f"({mark})")
    ]


def test_recovered_tracing_keeps_its_filled_and_band_fill_marks(
    make_napari_viewer, qtbot, tmp_path: Path, monkeypatch
) -> None:
    phantom = small_bilateral_phantom()
    scan = dataclasses.replace(phantom.scan, source=str(tmp_path / "phantom.nii.gz"))  # autosaves go there
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    _dock, band = viewer.window.add_plugin_dock_widget("onfh-volume", "Band fill")
    data, kwargs, _ = scan_layer(scan)
    image = viewer.add_image(data, **kwargs)
    qtbot.mouseClick(button(widget, "Create lesion layer"), Qt.MouseButton.LeftButton)
    lesions = widget.lesions

    # Band fill of the left hip lesion: a click on the canvas, then Accept.
    qtbot.mouseClick(band.arm_button, Qt.MouseButton.LeftButton)
    viewer.layers.selection.active = image  # the brush of the lesion layer would paint the click too
    click_voxel(viewer, image, phantom.central_click(2))
    qtbot.waitUntil(lambda: band.proposal is not None, timeout=120_000)
    band_filled = list(band.proposal.slices)
    qtbot.mouseClick(band.accept_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(band.arm_button, Qt.MouseButton.LeftButton)  # disarmed

    # The right hip lesion traced on two slices, the three between filled with Shift+I.
    k, r, c = phantom.central_click(1)
    for traced in (k - 2, k + 2):
        square(lesions, traced, r, c, 1)
    viewer.layers.selection.active = lesions
    main_window(widget).activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_I, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: widget.tools[1].worker is None, timeout=30_000)
    qtbot.waitUntil(lambda: "Filled" in widget.trace_panel.message.text(), timeout=5000)
    filled = [k - 1, k, k + 1]
    assert marked(widget.slice_table, 1, "filled") == filled
    assert marked(widget.slice_table, 2, "band fill") == band_filled
    traced = np.array(lesions.data, copy=True)

    viewer.close()  # as when the viewer quits or crashes after an autosave: the tracing is autosaved
    saved = recovery.find_recovery(scan)
    assert saved is not None

    monkeypatch.undo()  # the real question box, answered below with a click
    again = make_napari_viewer(show=True)
    _dock, widget = again.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    questions: list[str] = []
    click_yes_when_asked(questions)
    data, kwargs, _ = scan_layer(scan)
    again.add_image(data, **kwargs)
    assert len(questions) == 1 and "Restore it?" in questions[0]

    np.testing.assert_array_equal(widget.lesions.data, traced)
    assert marked(widget.slice_table, 1, "filled") == filled
    assert marked(widget.slice_table, 2, "band fill") == band_filled
    again.dims.set_current_step(0, k)
    assert "right hip lesion filled between slices" in again.canvas.overlays.text.text

    widget.save_panel.reader.setText("AB")
    paths = widget.save_to(tmp_path / "out" / "phantom_lesions.nii.gz")
    record = {lesion["label"]: lesion for lesion in json.loads(paths.json.read_text())["lesions"]}
    assert record[1]["interpolated_slices"] == filled
    assert record[2]["band_fill_slices"] == band_filled
    assert recovery.find_recovery(scan) is None
    assert not list(tmp_path.glob("*.onfh-autosave.*"))  # the marks went with the recovery file


def test_quitting_asks_no_recovery_question_and_keeps_the_edits(make_napari_viewer, qtbot, tmp_path) -> None:
    """Started as ``napari-onfh-volume SCAN MASK``, a stroke painted, then the viewer quits."""
    folder, mask = copy_sample(tmp_path, "sub-02", "baseline")
    scan = load_scan(folder)
    viewer = make_napari_viewer(show=True)
    widget = set_up(viewer, scan, load_mask(mask, scan))
    questions: list[str] = []
    widget.ask = lambda title, question: questions.append(title) or False
    main_window(widget).activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)
    qtbot.wait(50)
    layer = widget.lesions
    viewer.layers.selection.active = layer
    layer.mode = "paint"
    stroke(viewer, layer, 5, 60, (40, 50))
    edited = np.array(layer.data, copy=True)
    assert edited.sum() > load_mask(mask, scan).sum()

    viewer.close()  # napari's quit closes each viewer this way: its layers go one by one
    assert questions == []
    found = recovery.find_recovery(scan)
    assert found is not None
    np.testing.assert_array_equal(load_mask(found[0], scan), edited)
