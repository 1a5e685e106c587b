"""Right-drag is window and level only (issue 18, bug 1), through real Qt mouse events on the canvas.

napari 0.9 starts an encircle-and-fill brush stroke on a right press in a labels layer's paint mode
(and the camera zooms on a right-drag): a reader's window/level habit painted lesion voxels that the
readout did not count but the autosave and the saved mask held.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui import button, hover_canvas, key, main_window, move, right_drag
from helpers import copy_sample
from qtpy.QtCore import QPoint
from qtpy.QtWidgets import QApplication


@pytest.fixture
def traced(make_napari_viewer, tmp_path: Path, qtbot):
    """sub-01 follow-up (a copy) with its tracing, on slice 6, the lesion layer in brush mode."""
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    folder, mask = copy_sample(tmp_path, "sub-01", "followup")
    viewer.open(str(folder), plugin="onfh-volume")
    widget.load_mask_file(mask)
    main_window(widget).activateWindow()  # Xvfb has no window manager to do it
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)
    viewer.dims.set_current_step(0, 6)
    return viewer, widget


@pytest.mark.parametrize("mode_key", ["2", "4"])  # brush, fill bucket
def test_right_drag_on_the_tracing_sets_the_window_and_paints_nothing(traced, qtbot, mode_key) -> None:
    viewer, widget = traced
    lesions, scan = widget.lesions, viewer.layers["sub-01 followup"]
    target = hover_canvas(qtbot, widget)
    key(qtbot, mode_key)
    assert viewer.layers.selection.active is lesions and lesions.mode in ("paint", "fill")
    before, limits, zoom = np.array(lesions.data), scan.contrast_limits, viewer.scene.camera.zoom
    right_drag(target, dx=60, dy=-30)
    # After the release the pointer wanders with no button held, and comes back near the start.
    for x, y in ((80, 40), (20, 60), (-30, 10), (2, 2), (0, 0)):
        move(target, QPoint(x, y))
    assert np.array_equal(np.asarray(lesions.data), before)
    assert scan.contrast_limits != limits
    assert viewer.scene.camera.zoom == pytest.approx(zoom)
    for label in (1, 2):  # what the readout counts is what a save would write
        counted = widget.readout.pixel_counts(label)
        assert np.array_equal(counted, (np.asarray(lesions.data) == label).sum(axis=(1, 2)))


def test_right_drag_on_the_scan_layer_does_not_zoom(traced, qtbot) -> None:
    viewer, widget = traced
    scan = viewer.layers["sub-01 followup"]
    viewer.layers.selection.active = scan  # as right after opening a scan
    target = hover_canvas(qtbot, widget)
    limits, zoom = scan.contrast_limits, viewer.scene.camera.zoom
    right_drag(target, dx=0, dy=80)
    assert viewer.scene.camera.zoom == pytest.approx(zoom)
    assert sum(scan.contrast_limits) / 2 < sum(limits) / 2  # dragging down lowers the level
    assert button(widget, "Save tracing").isEnabled()
