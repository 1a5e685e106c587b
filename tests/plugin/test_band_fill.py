"""Band fill in a real viewer: a mouse click on the canvas → preview → Accept → Ctrl+Z."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import canvas_of, click_voxel
from qtpy.QtCore import Qt
from qtpy.QtTest import QTest
from scipy import ndimage

from napari_onfh_volume import band_fill
from napari_onfh_volume._qt.band_fill import PREVIEW_NAME, BandFillWidget
from napari_onfh_volume.layers import is_lesion_layer, lesion_layer, scan_layer
from onfh_volume.testing.phantom_set import small_bilateral_phantom


def central_click(phantom, label: int) -> tuple[int, int, int]:
    inside = phantom.inside & (phantom.labels == label)
    depth = np.stack([ndimage.distance_transform_edt(p, sampling=phantom.scan.pixel_spacing) for p in inside])
    return tuple(int(v) for v in np.unravel_index(np.argmax(depth), depth.shape))


@pytest.fixture
def viewer_with_scan(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    phantom = small_bilateral_phantom()
    data, kwargs, _ = scan_layer(phantom.scan)
    layer = viewer.add_image(data, **kwargs)
    widget = BandFillWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return viewer, layer, widget, phantom


def test_click_preview_accept_undo(viewer_with_scan, qtbot) -> None:
    viewer, layer, widget, phantom = viewer_with_scan
    seed = central_click(phantom, 2)
    qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
    click_voxel(viewer, layer, seed)
    qtbot.waitUntil(lambda: widget.proposal is not None, timeout=120_000)
    assert widget.seed == seed
    truth = phantom.labels == 2
    preview = np.asarray(viewer.layers[PREVIEW_NAME].data) == 2
    assert 2 * np.count_nonzero(preview & truth) / (preview.sum() + truth.sum()) > 0.85
    assert widget.accept_button.isEnabled()

    qtbot.mouseClick(widget.accept_button, Qt.MouseButton.LeftButton)
    lesions = next(layer for layer in viewer.layers if is_lesion_layer(layer))
    assert PREVIEW_NAME not in viewer.layers
    assert np.array_equal(np.asarray(lesions.data) == 2, preview)
    viewer.layers.selection.active = lesions
    QTest.keyClick(canvas_of(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo step
    assert not np.asarray(lesions.data).any()


def test_a_traced_slice_is_kept_and_a_bad_click_says_why(viewer_with_scan, qtbot) -> None:
    viewer, layer, widget, phantom = viewer_with_scan
    seed = central_click(phantom, 2)
    proposal = band_fill.propose(phantom.scan, seed)
    data, kwargs, _ = lesion_layer(phantom.scan)
    data[seed[0], 10:13, 10:13] = 2  # the reader traced this slice already
    lesions = viewer.add_labels(data, **kwargs)
    band_fill.accept(lesions, proposal)
    assert np.count_nonzero(np.asarray(lesions.data)[seed[0]]) == 9
    assert np.asarray(lesions.data)[[k for k in proposal.slices if k != seed[0]]].any()

    qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
    click_voxel(viewer, layer, (seed[0], 80, 155))  # the pelvis between the hips
    qtbot.waitUntil(lambda: "not inside a femoral head" in widget.status.text(), timeout=120_000)
    assert widget.proposal is None
