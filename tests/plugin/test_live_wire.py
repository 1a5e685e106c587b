"""Live wire: points clicked along the band → path → closed and filled → accepted as one undo step."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import click_voxel
from napari.layers import Labels
from qtpy.QtCore import Qt
from skimage.draw import disk

from napari_onfh_volume._qt.live_wire_widget import PREVIEW_NAME, LiveWireWidget
from napari_onfh_volume.layers import lesion_layer, scan_layer
from napari_onfh_volume.live_wire import LiveWire
from onfh_volume.testing.phantom_set import small_bilateral_phantom


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def test_clicks_on_a_dark_ring_fill_its_interior_and_one_undo_removes_it() -> None:
    rng = np.random.default_rng(3)
    plane = 800 + 40 * rng.standard_normal((90, 100))  # bright marrow
    centre, radius = (44, 52), 25
    ring = np.zeros(plane.shape, dtype=bool)
    ring[disk(centre, radius + 1.5, shape=plane.shape)] = True
    ring[disk(centre, radius - 1.5, shape=plane.shape)] = False
    plane[ring] = 150  # the dark band
    wire = LiveWire(plane, (1.0, 1.0), slice_index=1)
    for angle in np.deg2rad([10, 75, 140, 200, 260, 320]):
        wire.add((round(centre[0] + radius * np.sin(angle)), round(centre[1] + radius * np.cos(angle))))
    assert wire.path().sum() > 0.7 * 2 * np.pi * radius  # five of six arcs so far

    truth = np.zeros(plane.shape, dtype=bool)
    truth[disk(centre, radius + 0.5, shape=plane.shape)] = True  # independent: up to the band's middle
    filled = wire.close()
    assert abs(int(filled.sum()) - int(truth.sum())) < 2 * np.pi * radius * 0.5  # within half a pixel of rim
    assert dice(filled, truth) > 0.97

    lesions = Labels(np.zeros((3, *plane.shape), dtype=np.uint8))
    other = np.zeros(plane.shape, dtype=bool)
    other[0:5, 0:5] = other[centre] = True  # another label, one pixel inside the ring: never taken over
    lesions.data[1][other] = 1
    count = wire.accept(lesions, 2)
    assert count == filled.sum() - 1
    assert np.array_equal(lesions.data[1] == 2, filled & ~other)
    assert np.count_nonzero(lesions.data == 1) == 26
    lesions.undo()
    assert not np.any(lesions.data == 2) and np.count_nonzero(lesions.data == 1) == 26


def test_a_refusal_comes_back_as_its_reason() -> None:
    wire = LiveWire(np.full((20, 20), 800.0), (1.0, 1.0), slice_index=0)
    wire.add((5, 5))
    assert "at least two points" in wire.close_or_refusal()
    with pytest.raises(Exception, match="outside the slice"):
        wire.add((25, 5))


def band_points(phantom, label: int, count: int) -> tuple[int, list[tuple[int, int]]]:
    """The slice with the most of the lesion, and ``count`` band pixels spread around the lesion."""
    k = int(np.argmax((phantom.labels == label).sum(axis=(1, 2))))
    lesion = phantom.labels[k] == label
    rows, columns = np.nonzero(phantom.band[k] & lesion)
    centre_row, centre_column = np.argwhere(lesion).mean(axis=0)
    angles = np.arctan2(rows - centre_row, columns - centre_column)
    points = []
    for target in np.linspace(-np.pi, np.pi, count, endpoint=False):
        i = int(np.argmin(np.abs(np.angle(np.exp(1j * (angles - target))))))
        points.append((int(rows[i]), int(columns[i])))
    return k, list(dict.fromkeys(points))


def wire_along_the_band(viewer, qtbot, brush: bool) -> tuple:
    """The bilateral phantom with its tracing (selected; in brush mode if ``brush``) and the Live wire dock,
    armed by its button and clicked at six band points around the left lesion's largest slice."""
    phantom = small_bilateral_phantom()
    data, kwargs, _ = scan_layer(phantom.scan)
    layer = viewer.add_image(data, **kwargs)
    data, kwargs, _ = lesion_layer(phantom.scan)
    lesions = viewer.add_labels(data, **kwargs)
    if brush:
        lesions.selected_label = 2
        lesions.mode = "paint"  # the reader was tracing with the brush
    viewer.layers.selection.active = lesions
    widget = LiveWireWidget(viewer)
    viewer.window.add_dock_widget(widget)
    k, points = band_points(phantom, 2, 6)
    qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
    for point in points:
        click_voxel(viewer, layer, (k, *point))
        qtbot.waitUntil(lambda: not widget.busy(), timeout=60_000)
    return phantom, lesions, widget, k, points


def test_clicks_on_the_canvas_close_accept_undo(make_napari_viewer, qtbot) -> None:
    viewer = make_napari_viewer(show=True)
    phantom, lesions, widget, k, points = wire_along_the_band(viewer, qtbot, brush=True)
    assert widget.wire is not None and widget.wire.slice_index == k
    assert len(widget.wire.points) == len(points)
    qtbot.waitUntil(lambda: PREVIEW_NAME in viewer.layers, timeout=60_000)

    qtbot.mouseClick(widget.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: widget.wire.filled is not None, timeout=60_000)
    qtbot.waitUntil(lambda: not widget.busy(), timeout=60_000)
    assert not np.asarray(lesions.data).any()  # the clicks for the wire painted no brush dab
    qtbot.mouseClick(widget.accept_button, Qt.MouseButton.LeftButton)
    # Disarmed after Accept: the tracing is selected and paints again.
    assert not widget.arm_button.isChecked()
    assert viewer.layers.selection.active is lesions and lesions.mode == "paint"
    traced = np.asarray(lesions.data)
    assert not np.delete(traced, k, axis=0).any()
    score = dice(traced[k] == 2, phantom.labels[k] == 2)
    print(f"live wire on slice {k} through {len(points)} band points: Dice {score:.3f}")
    assert score > 0.8
    assert PREVIEW_NAME not in viewer.layers

    lesions.undo()
    assert not np.asarray(lesions.data).any()


def test_a_fill_that_comes_back_after_clear_is_dropped(make_napari_viewer, qtbot) -> None:
    """Close, then Clear at once: the fill the worker still computes belongs to no wire when it comes back."""
    viewer = make_napari_viewer(show=True)
    _, _, widget, _, _ = wire_along_the_band(viewer, qtbot, brush=False)
    qtbot.mouseClick(widget.close_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(widget.clear_button, Qt.MouseButton.LeftButton)  # before the fill is back
    qtbot.waitUntil(lambda: not widget.busy(), timeout=60_000)
    qtbot.wait(200)  # the worker's result, queued to the event loop, is delivered (and dropped)
    assert widget.wire is None
    assert PREVIEW_NAME not in viewer.layers
