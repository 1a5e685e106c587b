"""The "Femoral head" box in a real viewer: fitted heads as outlines, measures in words, clicked points, saved."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from napari_onfh_volume.head import HEADS
from napari_onfh_volume.layers import scale, scan_of

#: sub-02's right femoral head as sample_scans/generate.py draws it: RAS (88, 0, 0), radius 23.5 mm.
CENTRE, RADIUS = np.array([88.0, 0.0, 0.0]), 23.5


@pytest.fixture
def sample(make_napari_viewer):
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    viewer.open_sample("onfh-volume", "sub-02-baseline")
    return viewer, widget


def test_fitted_heads_are_outlined_and_measured(sample) -> None:
    viewer, widget = sample
    heads = widget.head_panel.fit()
    head = heads[1].head
    assert head.source == "image"
    assert head.radius_mm == pytest.approx(RADIUS, abs=1.0)
    assert np.linalg.norm(np.subtract(head.centre_ras, CENTRE)) < 1.5
    outlines = next(layer for layer in viewer.layers if layer.metadata.get("onfh_role") == HEADS)
    assert outlines.shape_type and set(outlines.shape_type) == {"ellipse"}
    # One circle per slice the sphere crosses: its section there, on the scan's grid (1.6 mm pixels).
    scan = scan_of(widget.lesions)
    assert tuple(outlines.scale) == pytest.approx(scale(scan))
    centre_slice = np.linalg.solve(scan.affine[:3, :3], np.array(head.centre_ras) - scan.affine[:3, 3])[0]
    depths = (np.arange(scan.shape[0]) - centre_slice) * 4.4
    assert len(outlines.data) == int(np.sum(np.abs(depths) < head.radius_mm))
    widest = max(np.ptp(box[:, 1]) / 2 for box in outlines.data) * 1.6
    assert widest == pytest.approx(np.sqrt(head.radius_mm**2 - np.min(np.abs(depths)) ** 2), rel=1e-6)
    assert viewer.dims.range[0].step == pytest.approx(4.4)  # the slider still steps slice by slice
    text = widget.head_panel.result.text()
    assert "Right hip lesion: head r" in text and "(Steinberg B)" in text and "Kerboul" in text
    widget.head_panel.fit()  # again: the outline is replaced, not added
    assert sum(layer.metadata.get("onfh_role") == HEADS for layer in viewer.layers) == 1


def test_clicked_surface_points_replace_the_image_s_head(sample) -> None:
    viewer, widget = sample
    widget.head_panel.click_points("right")
    points = viewer.layers.selection.active
    assert points.mode == "add"
    scan = scan_of(widget.lesions)
    t = np.radians(np.arange(0, 360, 45))
    on_sphere = (
        np.r_[
            np.c_[RADIUS * np.cos(t), np.zeros(8), RADIUS * np.sin(t)],
            np.c_[RADIUS / 2 * np.cos(t), np.full(8, RADIUS * np.sqrt(0.75)), RADIUS / 2 * np.sin(t)],
        ]
        + CENTRE
    )
    # The points layer lies on the scan's grid: a click's data coordinates are voxel indices.
    assert tuple(points.scale) == pytest.approx(scale(scan))
    points.data = (on_sphere - scan.affine[:3, 3]) @ np.linalg.inv(scan.affine[:3, :3]).T
    head = widget.head_panel.fit()[1].head
    assert head.source == "points"
    assert head.radius_mm == pytest.approx(RADIUS, abs=1e-6)
    assert np.allclose(head.centre_ras, CENTRE, atol=1e-6)


def test_the_saved_record_carries_the_head_measures(sample, tmp_path: Path) -> None:
    _viewer, widget = sample
    target = tmp_path / "sub-02_baseline_lesions.nii.gz"
    widget.save_panel.reader.setText("AB")  # no question about a missing reader
    assert widget.save_to(target) is not None
    (lesion,) = json.loads(target.with_name("sub-02_baseline_lesions.json").read_text())["lesions"]
    assert lesion["head"]["source"] == "image"
    assert lesion["steinberg_extent"] == "B"
    truth = 100 * 1000 * 1.6 * 1.6 * 4.4 / (4 / 3 * np.pi * RADIUS**3)
    assert lesion["necrotic_ratio_pct"] == pytest.approx(truth, abs=3.0)
