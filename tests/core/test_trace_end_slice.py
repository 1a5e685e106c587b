"""A click on a lesion's missed end slice that is only band and plate joins it (issue 18, friction).

Truth is the phantom's: its lesion labels and the femoral head's sphere (centre and radius), from
which the depth of a voxel under the articular surface is measured.
"""

from __future__ import annotations

import numpy as np
import pytest

from onfh_volume.errors import SeedError
from onfh_volume.testing.phantom_set import small_bilateral_phantom
from onfh_volume.trace.lesions import trace_lesions

PLATE_MM = 3.0  # the subchondral plate: the head's outer 3 mm


@pytest.fixture(scope="module")
def end():
    """The right hip lesion traced from one click, and the slice of it that tracing missed."""
    phantom = small_bilateral_phantom()
    truth = phantom.labels == 1
    first, _ = trace_lesions(phantom.scan, [phantom.central_click(1)])
    [missed] = [k for k in np.flatnonzero(truth.any(axis=(1, 2))) if not first[k].any()]
    return phantom, truth, first, int(missed)


def depth_mm(phantom, k: int, pixels: np.ndarray) -> np.ndarray:
    """How deep under the right femoral head's surface (mm) the (row, column) ``pixels`` of slice ``k`` lie."""
    head = next(h for h in phantom.heads if h.side == "right")
    points = phantom.scan.index_to_patient(np.column_stack([np.full(len(pixels), k), pixels]))
    return head.radius_mm - np.linalg.norm(points - np.asarray(head.centre_ras), axis=1)


def test_the_missed_end_slice_holds_only_band_and_plate(end) -> None:
    phantom, truth, _first, k = end
    assert k == max(np.flatnonzero(truth.any(axis=(1, 2))))  # the lesion's last slice
    assert depth_mm(phantom, k, np.argwhere(truth[k])).max() < PLATE_MM


def test_a_second_click_there_adds_that_slice_s_band_and_plate_only(end) -> None:
    phantom, truth, first, k = end
    pixels = np.argwhere(truth[k])
    click = (k, *(int(v) for v in pixels[len(pixels) // 2]))
    with pytest.raises(SeedError):
        trace_lesions(phantom.scan, [click])  # alone, it is refused
    labels, _ = trace_lesions(phantom.scan, [phantom.central_click(1), click])
    added = labels[k] == 1
    assert np.all(added[truth[k]])  # the lesion's end there, all of it
    assert depth_mm(phantom, k, np.argwhere(added)).max() < PLATE_MM  # no marrow, nothing outside
    assert depth_mm(phantom, k, np.argwhere(added)).min() > -1.0
    np.testing.assert_array_equal(np.delete(labels, k, axis=0), np.delete(first, k, axis=0))


@pytest.mark.parametrize(
    ("offset", "why"),
    [((0, 12, 0), "no lesion found"), ((2, 0, 0), "not inside a femoral head"), ((0, 0, 40), "femoral head")],
)
def test_clicks_away_from_the_lesion_s_end_keep_their_refusal(end, offset, why) -> None:
    """In the healthy marrow below, two slices beyond, in the acetabulum beside: refused as before."""
    phantom, truth, _first, k = end
    pixels = np.argwhere(truth[k])
    click = tuple(int(a + b) for a, b in zip((k, *pixels[len(pixels) // 2]), offset, strict=True))
    with pytest.raises(SeedError, match=why):
        trace_lesions(phantom.scan, [phantom.central_click(1), click])
