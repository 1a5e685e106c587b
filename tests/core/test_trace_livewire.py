"""Live wire: the path between clicks follows the band, and the closed wire fills the lesion."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import circle_perimeter
from skimage.measure import find_contours

from onfh_volume.errors import TracingError
from onfh_volume.testing.phantom_set import small_phantom
from onfh_volume.trace.livewire import live_wire, live_wire_fill


def test_the_path_follows_a_dark_arc_not_the_straight_line() -> None:
    plane = np.random.default_rng(0).normal(800, 30, (60, 60))
    rr, cc = circle_perimeter(30, 30, 20)
    upper = rr <= 30
    plane[rr[upper], cc[upper]] = 150.0  # the upper half of a dark circle
    outline = live_wire(plane, [(30, 10), (30, 50)], (1.0, 1.0), closed=False)
    on_arc = np.zeros_like(outline)
    on_arc[rr[upper], cc[upper]] = True
    assert outline[on_arc].mean() > 0.9
    assert not outline[30, 25:36].any()  # the straight chord is not taken


def test_closed_wire_along_the_lesion_outline_fills_the_lesion() -> None:
    phantom = small_phantom()
    truth = phantom.labels == 1
    k = int(np.argmax(truth.sum(axis=(1, 2))))
    contour = max(find_contours(truth[k].astype(float), 0.5), key=len)
    clicks = np.rint(contour[:: max(len(contour) // 8, 1)]).astype(int)
    area = live_wire_fill(phantom.scan.voxels[k], clicks, phantom.scan.pixel_spacing)
    overlap = 2 * np.count_nonzero(area & truth[k]) / (area.sum() + truth[k].sum())
    assert overlap > 0.85


def test_bad_clicks_are_refused() -> None:
    plane = np.full((10, 10), 500.0)
    with pytest.raises(TracingError, match="at least two points"):
        live_wire(plane, [(1, 1)], (1.0, 1.0))
    with pytest.raises(TracingError, match="outside the slice"):
        live_wire(plane, [(1, 1), (12, 3)], (1.0, 1.0))
    with pytest.raises(TracingError, match="encloses nothing"):
        live_wire_fill(plane, [(1, 1), (1, 8)], (1.0, 1.0))


def test_non_finite_input_is_refused_and_points_are_rounded() -> None:
    plane = np.full((10, 10), 500.0)
    with pytest.raises(TracingError, match="not a number"):
        live_wire(plane, [(1, 1), (np.nan, 3)], (1.0, 1.0))
    with pytest.raises(TracingError, match="not a positive length"):
        live_wire(plane, [(1, 1), (5, 3)], (0.0, 1.0))
    holed = plane.copy()
    holed[0, 0] = np.nan
    with pytest.raises(TracingError, match="NaN or infinite"):
        live_wire(holed, [(1, 1), (5, 3)], (1.0, 1.0))
    # A click at 4.6 is on pixel 5, not 4: the path ends where the reader clicked.
    assert live_wire(plane, [(1, 1), (4.6, 4.6)], (1.0, 1.0), closed=False)[5, 5]
