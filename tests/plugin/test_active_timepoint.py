"""One active timepoint (issue 18, bugs 2, 3, 4, 6): every tool acts on the scan on screen, and only on it.

Each test drives a shown napari window under Xvfb with real Qt key and mouse events and checks
what a reader sees against what changed: which layer is on top, which layer's voxels moved, where
each timepoint is in the side-by-side grid, where the head outlines lie.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from gui import button, canvas, drag, hover_canvas, key, main_window, open_timepoints
from helpers import click_voxel
from qtpy.QtCore import QPoint, Qt, QTimer
from qtpy.QtWidgets import QApplication

from napari_onfh_volume._qt.band_fill_widget import BandFillWidget
from napari_onfh_volume.head import HEADS
from napari_onfh_volume.layers import is_lesion_layer, is_scan_layer, lesion_layer, scan_layer, scan_of
from onfh_volume import load_mask
from onfh_volume.testing.phantom_set import small_bilateral_phantom

SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def two_timepoints(make_napari_viewer, tmp_path: Path, qtbot):
    """sub-01 baseline and follow-up (copies), each with its tracing, in a shown window."""
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    open_timepoints(qtbot, viewer, widget, tmp_path)
    return viewer, widget


def top_visible(viewer, kind) -> str:
    return next(layer.name for layer in reversed(viewer.layers) if kind(layer) and layer.visible)


def choose_scan(qtbot, widget, name: str) -> None:
    """Pick ``name`` in the Scan box with the keyboard, as a reader does."""
    box = widget.scan_panel.scan_box
    box.setFocus()
    while box.currentText() != name:
        qtbot.keyClick(box, Qt.Key.Key_Up if box.currentIndex() > box.findText(name) else Qt.Key.Key_Down)


def test_after_compare_the_brush_edits_the_timepoint_on_screen(two_timepoints, qtbot) -> None:
    """Bug 2: after Shift+C, Shift+T the baseline was on top while the brush edited the follow-up."""
    viewer, widget = two_timepoints
    choose_scan(qtbot, widget, "sub-01 baseline")
    choose_scan(qtbot, widget, "sub-01 followup")
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_C, SHIFT)
    key(qtbot, Qt.Key.Key_T, SHIFT)
    before = {layer.name: np.array(layer.data) for layer in viewer.layers if is_lesion_layer(layer)}
    drag(canvas(widget), 40, 0, Qt.MouseButton.LeftButton, at=QPoint(-20, 30))  # a brush stroke
    changed = [name for name, data in before.items() if not np.array_equal(viewer.layers[name].data, data)]
    assert changed == ["sub-01 followup lesions"]
    assert top_visible(viewer, is_lesion_layer) == "sub-01 followup lesions"
    assert top_visible(viewer, is_scan_layer) == "sub-01 followup"
    assert viewer.layers["sub-01 followup lesions"].name_overlay.visible  # named on the canvas
    assert widget.title.text() == "sub-01 followup · tracing"


def test_side_by_side_puts_the_baseline_left_captioned_and_fitted(two_timepoints, qtbot) -> None:
    """Bug 3: the follow-up was on the left, with no captions, half a pelvis per panel."""
    viewer, widget = two_timepoints
    viewer.scene.camera.zoom *= 3  # the reader had zoomed in on one hip
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_C, SHIFT)
    grid, layers = viewer.canvas.grid, viewer.layers
    for name, panel in (("sub-01 baseline", (0, 0)), ("sub-01 followup", (0, 1))):
        for layer in (name, f"{name} lesions"):
            assert grid.position(layers.index(layer), layers) == panel, layer
        assert layers[f"{name} lesions"].name_overlay.visible
    scan = scan_of(layers["sub-01 baseline"])
    panel_mm = canvas(widget).width() / 2 / viewer.scene.camera.zoom
    assert panel_mm >= scan.shape[2] * scan.pixel_spacing[1]  # both hips in each panel
    assert "comparing" in widget.title.text()


def test_band_fill_traces_the_scan_on_screen(make_napari_viewer, qtbot) -> None:
    """Bug 4: with a second scan opened on top, Band fill traced the bottom scan and wrote into its tracing."""
    viewer = make_napari_viewer(show=True)
    phantom = small_bilateral_phantom()
    data, kwargs, _ = scan_layer(phantom.scan)
    viewer.add_image(data, **kwargs)
    data, kwargs, _ = lesion_layer(phantom.scan)
    first_tracing = viewer.add_labels(data, **kwargs)
    # A later scan of the same patient, same grid, the lesions two slices further back.
    later = dataclasses.replace(
        phantom.scan, voxels=np.roll(phantom.scan.voxels, 2, axis=0), source=phantom.scan.source + "-later"
    )
    data, kwargs, _ = scan_layer(later)
    on_screen = viewer.add_image(data, **kwargs)
    widget = BandFillWidget(viewer)
    viewer.window.add_dock_widget(widget)
    main_window(widget).activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)

    seed = phantom.central_click(2)
    qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
    click_voxel(viewer, on_screen, (seed[0] + 2, *seed[1:]))
    qtbot.waitUntil(lambda: widget.proposal is not None, timeout=120_000)
    qtbot.mouseClick(widget.accept_button, Qt.MouseButton.LeftButton)
    assert not np.asarray(first_tracing.data).any()
    [traced] = [
        layer for layer in viewer.layers if is_lesion_layer(layer) and scan_of(layer).source == later.source
    ]
    truth = np.roll(phantom.labels == 2, 2, axis=0)
    accepted = np.asarray(traced.data) == 2
    assert 2 * np.count_nonzero(accepted & truth) / (accepted.sum() + truth.sum()) > 0.85


def test_head_outlines_lie_on_the_scan_and_leave_the_tools_on_the_tracing(
    make_napari_viewer, qtbot, tmp_path: Path
) -> None:
    """Bug 6: outlines beyond the last slice (no offset), and Fit and Save made them the active layer."""
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    viewer.open_sample("onfh-volume", "sub-02-baseline")
    lesions, scan = widget.lesions, viewer.layers["sub-02 baseline"]
    main_window(widget).activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)
    slider = viewer.dims.range[0]
    qtbot.mouseClick(button(widget, "Fit femoral heads"), Qt.MouseButton.LeftButton)
    outlines = next(layer for layer in viewer.layers if layer.metadata.get("onfh_role") == HEADS)
    np.testing.assert_allclose(outlines.translate, scan.translate)
    assert viewer.dims.range[0] == slider  # no slices added to the slider
    last_slice_mm = scan.data_to_world((scan.data.shape[0] - 1, 0, 0))[0]
    assert all(outlines.data_to_world(box[0])[0] <= last_slice_mm + 1e-6 for box in outlines.data)
    assert viewer.layers.selection.active is lesions
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_L, SHIFT)  # the left hip lesion label, not the outline layer's polyline
    assert lesions.selected_label == 2 and outlines.mode != "add_polyline"
    widget.save_panel.reader.setText("AB")
    assert widget.save_to(tmp_path / "saved.nii.gz") is not None
    assert viewer.layers.selection.active is lesions


def test_save_fits_and_writes_in_the_background_with_a_note(
    make_napari_viewer, qtbot, tmp_path: Path
) -> None:
    """Save took 2 s with no repaint: the window now goes on processing events, showing a note."""
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    viewer.open_sample("onfh-volume", "sub-01-baseline")
    widget.save_panel.reader.setText("AB")
    seen: list[str] = []
    timer = QTimer()
    timer.timeout.connect(lambda: seen.append(widget.save_panel.message.text()))
    timer.start(5)
    paths = widget.save_to(tmp_path / "saved.nii.gz")
    timer.stop()
    assert seen and all(text.startswith("Saving") for text in seen)  # events ran during the save
    assert widget.save_panel.message.text().startswith("Saved ")
    scan = scan_of(widget.lesions)
    np.testing.assert_array_equal(load_mask(paths.mask, scan), np.asarray(widget.lesions.data))
    lesions = json.loads(paths.json.read_text())["lesions"]
    assert all(lesion["head"]["radius_mm"] > 15 for lesion in lesions)  # the heads were fitted
    assert not widget.session.unsaved


def test_closing_band_fill_and_live_wire_docks_takes_their_clicks_off_the_canvas(make_napari_viewer) -> None:
    viewer = make_napari_viewer(show=True)
    before = list(viewer.mouse_drag_callbacks)
    docks = [
        viewer.window.add_plugin_dock_widget("onfh-volume", name)[0] for name in ("Band fill", "Live wire")
    ]
    assert len(viewer.mouse_drag_callbacks) == len(before) + 2
    for dock in docks:
        viewer.window.remove_dock_widget(dock)
    QApplication.processEvents()
    assert viewer.mouse_drag_callbacks == before
