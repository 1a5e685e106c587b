"""Band fill: a Shift+click on the lesion's missed end slice, only band and plate there, adds it
(issue 18, friction), with real clicks on the canvas. The slice and its voxels are the phantom's truth."""

from __future__ import annotations

import numpy as np
from helpers import click_voxel
from qtpy.QtCore import Qt

from napari_onfh_volume._qt.band_fill_widget import BandFillWidget
from napari_onfh_volume.layers import scan_layer
from onfh_volume.testing.phantom_set import small_bilateral_phantom


def test_shift_click_on_a_missed_end_slice_of_band_and_plate_adds_it(make_napari_viewer, qtbot) -> None:
    viewer = make_napari_viewer(show=True)
    phantom = small_bilateral_phantom()
    data, kwargs, _ = scan_layer(phantom.scan)
    layer = viewer.add_image(data, **kwargs)
    widget = BandFillWidget(viewer)
    viewer.window.add_dock_widget(widget)
    truth = phantom.labels == 1
    last = int(np.flatnonzero(truth.any(axis=(1, 2)))[-1])

    qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
    click_voxel(viewer, layer, phantom.central_click(1))
    qtbot.waitUntil(lambda: widget.proposal is not None, timeout=120_000)
    assert last not in widget.proposal.slices  # the tracing stopped a slice short
    first = widget.proposal.slices

    pixels = np.argwhere(truth[last])
    click_voxel(viewer, layer, (last, *pixels[len(pixels) // 2]), shift=True)
    qtbot.waitUntil(
        lambda: widget.proposal.slices != first or "Not traced" in widget.status.text(), timeout=120_000
    )
    assert "Not traced" not in widget.status.text(), widget.status.text()
    assert widget.proposal.slices == [*first, last]
    assert f"slices {first[0]}-{last}" in widget.status.text()
    assert np.all(widget.proposal.mask[last][truth[last]])
