"""Tracing aids (onfh_volume.outline_fill) and the live per-slice counts (onfh_volume.areas.SliceCounts).

What is tested:

* ``fill_outline``: closed rectangular and circular outlines fill to their interior; gaps in the
  outline are bridged up to ``max_gap_px`` and refused beyond; other labels, the outline itself and
  an empty slice; an outline on the image border.
* ``traced_slices`` and ``interpolate_between_slices``: discs on two slices give discs in between,
  never on traced slices, outside the traced range or over another label; growing discs give growing
  areas; too few traced slices and adjacent traced slices.
* ``SliceCounts``: incremental recounts after random edits against an independent count.

Where expected values come from: rectangle interiors are (rows - 2) x (columns - 2) of the drawn
perimeter, written as explicit index ranges; circle interiors are counted here row by row between
the outline's leftmost and rightmost pixel; disc areas come from ``skimage.draw.disk`` (and are
checked against pi r^2); per-slice counts come from ``np.bincount`` of each slice, written in the
test. None is taken from the output of the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import circle_perimeter, disk, polygon_perimeter

from onfh_volume.areas import SliceCounts
from onfh_volume.errors import TracingError
from onfh_volume.outline_fill import (
    DEFAULT_MAX_GAP_PX,
    fill_outline,
    interpolate_between_slices,
    traced_slices,
)

# ---------------------------------------------------------------------------------------------
# fill_outline
# ---------------------------------------------------------------------------------------------

# A rectangle outline: rows 4..14 and columns 5..16 (inclusive), one pixel wide.
TOP, BOTTOM, LEFT, RIGHT = 4, 14, 5, 16


def rectangle_outline(thickness: int = 1, shape: tuple[int, int] = (22, 24), label: int = 1) -> np.ndarray:
    """A closed rectangular outline of ``thickness`` pixels whose outer edge is TOP..BOTTOM x LEFT..RIGHT."""
    plane = np.zeros(shape, dtype=np.uint8)
    for inset in range(thickness):
        rr, cc = polygon_perimeter(
            [TOP + inset, TOP + inset, BOTTOM - inset, BOTTOM - inset],
            [LEFT + inset, RIGHT - inset, RIGHT - inset, LEFT + inset],
            shape=shape,
        )
        plane[rr, cc] = label
    return plane


def rectangle_inside(thickness: int = 1, shape: tuple[int, int] = (22, 24)) -> np.ndarray:
    """The pixels strictly inside rectangle_outline(thickness)."""
    inside = np.zeros(shape, dtype=bool)
    inside[TOP + thickness : BOTTOM - thickness + 1, LEFT + thickness : RIGHT - thickness + 1] = True
    return inside


def test_rectangle_outline_fills_its_interior() -> None:
    plane = rectangle_outline()
    filled = fill_outline(plane, 1)
    assert filled.dtype == bool
    assert filled.shape == plane.shape
    # 11 x 12 outline → 9 x 10 inside.
    assert int(filled.sum()) == (BOTTOM - TOP - 1) * (RIGHT - LEFT - 1) == 90
    np.testing.assert_array_equal(filled, rectangle_inside())


def test_two_pixel_band_fills_its_interior() -> None:
    """The reader's band is two pixels wide (sample_scans/README.md): the inside is 7 x 8."""
    plane = rectangle_outline(thickness=2)
    filled = fill_outline(plane, 1)
    assert int(filled.sum()) == (BOTTOM - TOP - 3) * (RIGHT - LEFT - 3) == 56
    np.testing.assert_array_equal(filled, rectangle_inside(thickness=2))


def test_docstring_ring_fills_three_by_three() -> None:
    ring = np.zeros((9, 9), dtype=np.uint8)
    ring[2, 2:7] = ring[6, 2:7] = ring[2:7, 2] = ring[2:7, 6] = 1
    filled = fill_outline(ring, 1)
    expected = np.zeros((9, 9), dtype=bool)
    expected[3:6, 3:6] = True
    np.testing.assert_array_equal(filled, expected)


def scanline_inside(ring: np.ndarray) -> np.ndarray:
    """Inside of a convex closed outline: on each row, the pixels strictly between its leftmost and
    rightmost outline pixel that are not outline themselves."""
    inside = np.zeros_like(ring)
    for row in range(ring.shape[0]):
        columns = np.flatnonzero(ring[row])
        if len(columns):
            inside[row, columns.min() : columns.max() + 1] = True
    return inside & ~ring


@pytest.mark.parametrize("radius", [5, 10, 17])
def test_circle_outline_fills_its_interior(radius: int) -> None:
    plane = np.zeros((48, 48), dtype=np.uint8)
    rr, cc = circle_perimeter(24, 23, radius, shape=plane.shape)
    plane[rr, cc] = 3
    expected = scanline_inside(plane == 3)
    filled = fill_outline(plane, 3)
    np.testing.assert_array_equal(filled, expected)
    # And about the disc's area: pi r^2 minus the one-pixel outline, give or take a ring's worth.
    assert abs(int(filled.sum()) - np.pi * (radius - 0.5) ** 2) < 2 * np.pi * radius


def _gapped_rectangle(gap: int, thickness: int) -> tuple[np.ndarray, np.ndarray]:
    """rectangle_outline with its top edge cut through its whole thickness over ``gap`` columns."""
    plane = rectangle_outline(thickness)
    gap_pixels = np.zeros(plane.shape, dtype=bool)
    gap_pixels[TOP : TOP + thickness, 8 : 8 + gap] = True
    plane[gap_pixels] = 0
    return plane, gap_pixels


@pytest.mark.parametrize(
    ("gap", "thickness"),
    [
        (1, 1),
        (1, 2),
        (2, 1),
        (3, 2),
        (DEFAULT_MAX_GAP_PX, 2),
        (3, 1),
        (DEFAULT_MAX_GAP_PX, 1),
    ],
)
def test_gap_up_to_max_is_bridged(gap: int, thickness: int) -> None:
    plane, gap_pixels = _gapped_rectangle(gap, thickness)
    filled = fill_outline(plane, 1)
    inside = rectangle_inside(thickness)
    # The whole inside is filled; the gap itself may or may not be; nothing else is.
    assert not (filled & ~(inside | gap_pixels)).any()
    assert int(filled[inside].sum()) == int(inside.sum())


@pytest.mark.parametrize("gap", [1, 2, 3, DEFAULT_MAX_GAP_PX])
def test_gap_in_a_circle_is_bridged(gap: int) -> None:
    plane = np.zeros((40, 40), dtype=np.uint8)
    rr, cc = circle_perimeter(20, 20, 10)
    plane[rr, cc] = 1
    inside = scanline_inside(plane == 1)
    columns = slice(20 - gap // 2, 20 - gap // 2 + gap)
    gap_pixels = np.zeros(plane.shape, dtype=bool)
    gap_pixels[:15, columns] = plane[:15, columns] == 1
    plane[gap_pixels] = 0
    filled = fill_outline(plane, 1)
    assert not (filled & ~(inside | gap_pixels)).any()
    assert int(filled[inside].sum()) == int(inside.sum())


@pytest.mark.parametrize("thickness", [1, 2])
def test_gap_wider_than_max_is_refused(thickness: int) -> None:
    plane, _ = _gapped_rectangle(6, thickness)  # default max_gap_px is 4
    with pytest.raises(TracingError, match=r"encloses nothing.*gaps up to 4 pixels"):
        fill_outline(plane, 1, where="slice 7 of test")


@pytest.mark.parametrize("gap", [3, 5])
def test_gap_wider_than_a_smaller_max_is_refused_in_a_circle(gap: int) -> None:
    plane = np.zeros((40, 40), dtype=np.uint8)
    rr, cc = circle_perimeter(20, 20, 10)
    plane[rr, cc] = 1
    plane[:15, 20 - gap // 2 : 20 - gap // 2 + gap] = 0
    with pytest.raises(TracingError, match="gaps up to 2 pixels"):
        fill_outline(plane, 1, max_gap_px=2)


def test_wide_gap_refused_in_a_circle() -> None:
    """A circle open by 6 px is refused, and the message names the slice, the label and the gap limit."""
    plane = np.zeros((40, 40), dtype=np.uint8)
    rr, cc = circle_perimeter(20, 20, 10)
    plane[rr, cc] = 1
    plane[:12, 17:23] = 0  # cut 6 columns out of the top of the circle
    with pytest.raises(TracingError) as caught:
        fill_outline(plane, 1, where="slice 7 of test")
    message = str(caught.value)
    assert message.startswith("slice 7 of test")
    assert "label 1" in message
    assert "4 pixels" in message


def test_larger_max_gap_refuses_nothing_that_closes() -> None:
    """A closed outline fills the same whatever max_gap_px (the closing only adds bridges)."""
    plane = rectangle_outline()
    for max_gap in (1, 2, 6, 8):
        np.testing.assert_array_equal(fill_outline(plane, 1, max_gap_px=max_gap), rectangle_inside())


def test_other_label_inside_is_not_returned() -> None:
    plane = rectangle_outline()
    plane[7:10, 8:12] = 2  # another lesion's pixels inside the outline (12 pixels)
    filled = fill_outline(plane, 1)
    assert not filled[plane == 2].any()
    np.testing.assert_array_equal(filled, rectangle_inside() & (plane == 0))
    assert int(filled.sum()) == 90 - 12


def test_outline_pixels_are_not_returned() -> None:
    plane = rectangle_outline(thickness=2)
    filled = fill_outline(plane, 1)
    assert not filled[plane == 1].any()
    # Filling leaves the input unchanged.
    np.testing.assert_array_equal(plane, rectangle_outline(thickness=2))


def test_other_label_outline_is_ignored() -> None:
    """Only the outline of the asked label counts: another label's ring is no outline for label 1."""
    plane = rectangle_outline(label=2)
    plane[0, 0] = 1  # label 1 exists but encloses nothing
    with pytest.raises(TracingError, match="encloses nothing"):
        fill_outline(plane, 1)


@pytest.mark.parametrize("plane", [np.zeros((16, 16), dtype=np.uint8), rectangle_outline(label=2)])
def test_nothing_traced_is_refused(plane: np.ndarray) -> None:
    with pytest.raises(TracingError, match="nothing is traced with label 1") as caught:
        fill_outline(plane, 1, where="slice 3 of test")
    assert caught.value.path == "slice 3 of test"


def test_open_line_is_refused() -> None:
    plane = np.zeros((16, 16), dtype=np.uint8)
    plane[8, 2:14] = 1
    with pytest.raises(TracingError, match="encloses nothing"):
        fill_outline(plane, 1)


@pytest.mark.parametrize("corner", ["top", "top-left", "bottom-right"])
def test_outline_on_the_image_border_fills(corner: str) -> None:
    """A closed outline whose edge lies on the image's first or last row/column still fills."""
    plane = np.zeros((20, 20), dtype=np.uint8)
    if corner == "top":
        top, bottom, left, right = 0, 9, 4, 13
    elif corner == "top-left":
        top, bottom, left, right = 0, 9, 0, 9
    else:
        top, bottom, left, right = 10, 19, 10, 19
    rr, cc = polygon_perimeter([top, top, bottom, bottom], [left, right, right, left], shape=plane.shape)
    plane[rr, cc] = 1
    expected = np.zeros(plane.shape, dtype=bool)
    expected[top + 1 : bottom, left + 1 : right] = True  # 8 x 8
    filled = fill_outline(plane, 1)
    assert int(filled.sum()) == 64
    np.testing.assert_array_equal(filled, expected)


# ---------------------------------------------------------------------------------------------
# traced_slices and interpolate_between_slices
# ---------------------------------------------------------------------------------------------

SHAPE = (10, 64, 64)
CENTRE = (32, 30)


def disc(radius: float, centre: tuple[int, int] = CENTRE, shape: tuple[int, int] = SHAPE[1:]) -> np.ndarray:
    plane = np.zeros(shape, dtype=bool)
    plane[disk(centre, radius, shape=shape)] = True
    return plane


def test_traced_slices() -> None:
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[2][disc(5)] = 1
    labels[6, 0, 0] = 1
    labels[4][disc(5)] = 2
    np.testing.assert_array_equal(traced_slices(labels, 1), [2, 6])
    np.testing.assert_array_equal(traced_slices(labels, 2), [4])
    assert len(traced_slices(labels, 3)) == 0


@pytest.fixture(scope="module")
def equal_discs() -> tuple[np.ndarray, np.ndarray]:
    """Label 1: discs of radius 12 on slices 2 and 6; label 2: a block on slice 4 inside the disc's area."""
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[2][disc(12)] = 1
    labels[6][disc(12)] = 1
    labels[4, 28:34, 26:30] = 2  # 24 pixels of another lesion where the interpolated disc will be
    labels[4, 5:8, 50:60] = 2  # and some far away
    before = labels.copy()
    result = interpolate_between_slices(labels, 1, where="test mask")
    np.testing.assert_array_equal(labels, before)  # the input is not changed
    return labels, result


def test_equal_discs_fill_the_slices_between(equal_discs: tuple[np.ndarray, np.ndarray]) -> None:
    labels, result = equal_discs
    assert result.shape == labels.shape
    assert result.dtype == bool
    area = int(disc(12).sum())
    assert abs(area - np.pi * 12**2) < 0.05 * np.pi * 12**2  # the drawn disc is a disc
    for k in (3, 5):
        assert int(result[k].sum()) == pytest.approx(area, rel=0.03)
        # Where the traced discs are: the interpolated disc overlaps them almost entirely.
        assert int((result[k] & disc(12)).sum()) >= 0.97 * area
    # Slice 4 holds the other lesion's 24 pixels inside the disc: those are left out.
    assert int(result[4].sum()) == pytest.approx(area - 24, rel=0.03)
    for k in (3, 4, 5):
        rows, columns = np.nonzero(result[k])
        assert rows.mean() == pytest.approx(CENTRE[0], abs=0.5)
        assert columns.mean() == pytest.approx(CENTRE[1], abs=0.5)


def test_traced_and_outside_slices_untouched(equal_discs: tuple[np.ndarray, np.ndarray]) -> None:
    _, result = equal_discs
    assert not result[2].any() and not result[6].any()
    assert not result[:2].any() and not result[7:].any()


def test_only_background_is_returned(equal_discs: tuple[np.ndarray, np.ndarray]) -> None:
    labels, result = equal_discs
    assert not result[labels != 0].any()
    assert not result[labels == 2].any()


def test_growing_discs_give_growing_areas() -> None:
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[1][disc(10)] = 1
    labels[5][disc(20)] = 1
    result = interpolate_between_slices(labels, 1)
    small, large = int(disc(10).sum()), int(disc(20).sum())
    areas = [int(result[k].sum()) for k in (2, 3, 4)]
    assert small < areas[0] < areas[1] < areas[2] < large, areas
    # Each intermediate shape lies within the larger traced disc (plus a pixel of rounding).
    assert not (result[2:5] & ~disc(21)).any()
    assert not result[[0, 1, 5, 6, 7, 8, 9]].any()


def test_several_gaps_are_all_filled_and_traced_slices_kept() -> None:
    labels = np.zeros(SHAPE, dtype=np.uint8)
    for k in (1, 3, 8):
        labels[k][disc(9)] = 1
    result = interpolate_between_slices(labels, 1)
    area = int(disc(9).sum())
    for k in (2, 4, 5, 6, 7):
        assert int(result[k].sum()) == pytest.approx(area, rel=0.05), k
    assert not result[[0, 1, 3, 8, 9]].any()


@pytest.mark.parametrize("traced_on", [[], [4]])
def test_fewer_than_two_traced_slices_refused(traced_on: list[int]) -> None:
    labels = np.zeros(SHAPE, dtype=np.uint8)
    for k in traced_on:
        labels[k][disc(8)] = 1
    labels[7][disc(8)] = 2  # another label on another slice does not count
    with pytest.raises(TracingError, match=f"traced on {len(traced_on)} slice") as caught:
        interpolate_between_slices(labels, 1, where="test mask")
    assert caught.value.path == "test mask"


def test_adjacent_traced_slices_give_nothing() -> None:
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[3][disc(8)] = 1
    labels[4][disc(12)] = 1
    labels[5][disc(4)] = 1
    result = interpolate_between_slices(labels, 1)
    assert result.shape == SHAPE
    assert result.dtype == bool
    assert not result.any()


# ---------------------------------------------------------------------------------------------
# SliceCounts
# ---------------------------------------------------------------------------------------------


def bincount_per_slice(labels: np.ndarray) -> dict[int, np.ndarray]:
    """{label: pixels on each slice} for every non-zero label present, counted slice by slice."""
    top = int(labels.max())
    per_slice = np.array([np.bincount(plane.ravel(), minlength=top + 1) for plane in labels])
    return {label: per_slice[:, label] for label in range(1, top + 1) if per_slice[:, label].any()}


def assert_counts_match(counts: SliceCounts, labels: np.ndarray) -> None:
    expected = bincount_per_slice(labels)
    assert counts.labels() == sorted(expected)
    for label, per_slice in expected.items():
        np.testing.assert_array_equal(counts.counts(label), per_slice)


def test_random_edits_on_some_slices_match_a_fresh_count() -> None:
    rng = np.random.default_rng(7)
    labels = rng.choice([0, 0, 0, 1, 2, 3], size=(12, 30, 30)).astype(np.uint8)
    counts = SliceCounts(labels)
    assert_counts_match(counts, labels)
    for _ in range(20):
        edited = rng.choice(12, size=rng.integers(1, 4), replace=False)
        for k in edited:
            r0, c0 = rng.integers(0, 25, size=2)
            labels[k, r0 : r0 + rng.integers(1, 6), c0 : c0 + rng.integers(1, 6)] = rng.integers(0, 4)
        counts.update(labels, [int(k) for k in edited])
        assert_counts_match(counts, labels)


def test_label_disappears() -> None:
    labels = np.zeros((4, 8, 8), dtype=np.uint8)
    labels[1, :2, :3] = 2
    labels[2, 4:, 4:] = 1
    counts = SliceCounts(labels)
    assert counts.labels() == [1, 2]
    labels[1] = 0
    counts.update(labels, [1])
    assert counts.labels() == [1]
    np.testing.assert_array_equal(counts.counts(2), [0, 0, 0, 0])
    np.testing.assert_array_equal(counts.counts(1), [0, 0, 16, 0])


def test_new_label_appears_on_an_edited_slice() -> None:
    labels = np.zeros((5, 8, 8), dtype=np.uint8)
    labels[0, 0, :5] = 1
    counts = SliceCounts(labels)
    labels[3, 2:5, 2:4] = 7  # 6 pixels
    labels[3, 0, 0] = 1
    counts.update(labels, iter([3]))  # any iterable of slice indices
    assert counts.labels() == [1, 7]
    np.testing.assert_array_equal(counts.counts(7), [0, 0, 0, 6, 0])
    np.testing.assert_array_equal(counts.counts(1), [5, 0, 0, 1, 0])


def test_empty_mask_and_absent_label() -> None:
    labels = np.zeros((3, 4, 4), dtype=np.uint8)
    counts = SliceCounts(labels)
    assert counts.labels() == []
    np.testing.assert_array_equal(counts.counts(1), [0, 0, 0])


def test_counts_are_copies() -> None:
    labels = np.zeros((3, 4, 4), dtype=np.uint8)
    labels[1, 0, :] = 1
    counts = SliceCounts(labels)
    counts.counts(1)[:] = 99
    np.testing.assert_array_equal(counts.counts(1), [0, 4, 0])


def test_update_without_slices_recounts_everything() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, size=(6, 10, 10)).astype(np.uint8)
    counts = SliceCounts(labels)
    labels[:] = rng.integers(0, 5, size=labels.shape)  # every slice changes, none is named
    counts.update(labels)
    assert_counts_match(counts, labels)


def test_stale_when_edited_slice_not_named() -> None:
    """Only the named slices are recounted: the object does not rescan on its own."""
    labels = np.zeros((3, 4, 4), dtype=np.uint8)
    counts = SliceCounts(labels)
    labels[0, 0, 0] = 1
    labels[2, 0, :2] = 1
    counts.update(labels, [2])
    np.testing.assert_array_equal(counts.counts(1), [0, 0, 2])


@pytest.mark.parametrize("slices", [None, [0]])
def test_grid_with_more_or_fewer_slices_is_recounted(slices: list[int] | None) -> None:
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 3, size=(4, 6, 6)).astype(np.uint8)
    counts = SliceCounts(labels)
    grown = rng.integers(0, 4, size=(9, 6, 6)).astype(np.uint8)
    counts.update(grown, slices)
    assert_counts_match(counts, grown)
    assert len(counts.counts(1)) == 9
    assert len(counts.counts(42)) == 9
    shrunk = grown[:2].copy()
    counts.update(shrunk, slices)
    assert_counts_match(counts, shrunk)


def test_grid_with_other_rows_and_columns_is_recounted() -> None:
    labels = np.ones((3, 4, 4), dtype=np.uint8)
    counts = SliceCounts(labels)
    larger = np.ones((3, 6, 6), dtype=np.uint8)
    counts.update(larger, [0])
    np.testing.assert_array_equal(counts.counts(1), [36, 36, 36])


def test_large_sparse_label_values() -> None:
    labels = np.zeros((3, 5, 5), dtype=np.int32)
    labels[0, 0, :3] = 70000
    counts = SliceCounts(labels)
    labels[2, 1, :4] = 70000
    labels[2, 2, :2] = 5
    counts.update(labels, [2])
    assert counts.labels() == [5, 70000]
    np.testing.assert_array_equal(counts.counts(70000), [3, 0, 4])
    np.testing.assert_array_equal(counts.counts(5), [0, 0, 2])


# ---------------------------------------------------------------------------------------------
# Small open strokes and filled slices (issue 10, bug 7)
# ---------------------------------------------------------------------------------------------


def test_small_open_u_stroke_is_refused_not_filled() -> None:
    plane = np.zeros((40, 40), dtype=np.uint8)
    plane[10:18, 10:13] = plane[10:18, 16:19] = 1  # two arms 3 px wide, 3 px apart
    plane[15:18, 10:19] = 1  # joined at the bottom: a U open at the top
    with pytest.raises(TracingError, match="encloses nothing"):
        fill_outline(plane, 1)


def test_filled_slice_is_said_to_be_filled() -> None:
    plane = np.zeros((40, 40), dtype=np.uint8)
    plane[disk((20, 20), 9, shape=plane.shape)] = 1
    with pytest.raises(TracingError, match="already filled"):
        fill_outline(plane, 1)


def test_interpolation_recovers_an_ellipsoid_from_every_third_slice() -> None:
    """Against known truth: an oblique ellipsoid traced on every third slice, Dice on the skipped ones."""
    z, y, x = np.mgrid[0:21, 0:80, 0:80]
    truth = ((z - 10) / 9.5) ** 2 + ((y - 40 - 0.8 * (z - 10)) / 22) ** 2 + ((x - 40) / 14) ** 2 <= 1
    traced = np.arange(1, 20, 3)
    labels = np.zeros(truth.shape, dtype=np.uint8)
    labels[traced] = truth[traced]
    result = interpolate_between_slices(labels, 1)
    skipped = np.setdiff1d(np.arange(traced[0], traced[-1] + 1), traced)
    overlap = (result[skipped] & truth[skipped]).sum()
    dice = 2 * overlap / (result[skipped].sum() + truth[skipped].sum())
    assert dice >= 0.95
