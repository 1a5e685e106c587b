"""RTSTRUCT contours fill exactly: centres on an edge or a vertex are in, holes by even-odd.

The truths are independent of the fill: Pick's theorem for polygons with whole-pixel vertices
(every centre inside or on the edge, counted from the area and the edges' lattice points),
matplotlib's point-in-polygon for centres away from the edges, and rt-utils' own contours of a
pixel mask with holes, which must give the mask back.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np
import pytest
from helpers import series_datasets, write_dicom_series
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.path import Path as Polygon
from rt_utils import RTStructBuilder
from skimage.draw import disk

from onfh_volume import load_mask, load_scan
from onfh_volume.dicom_mask.contour_fill import fill_contours
from onfh_volume.errors import DicomMaskError
from onfh_volume.testing.rtstruct import pixel_to_lps, write_rtstruct

pytestmark = pytest.mark.filterwarnings("ignore:'FileDataset.is_:DeprecationWarning")

SHAPE = (40, 48)


def lattice_points(polygon: np.ndarray) -> int:
    """Whole-number points inside or on a simple polygon with whole-number vertices (Pick's theorem)."""
    y, x = polygon.T.astype(int)
    y2, x2 = np.roll(y, -1), np.roll(x, -1)
    twice_area = abs(int(np.sum(y * x2 - y2 * x)))
    boundary = sum(gcd(abs(int(a)), abs(int(b))) for a, b in zip(y2 - y, x2 - x, strict=True))
    return (twice_area - boundary + 2) // 2 + boundary


def star(centre: tuple[int, int], radii: list[int]) -> np.ndarray:
    """A simple polygon: whole-pixel vertices at increasing angles around ``centre``."""
    angles = np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    points = np.column_stack(
        [centre[0] + np.round(np.sin(angles) * radii), centre[1] + np.round(np.cos(angles) * radii)]
    )
    return points


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 39), min_size=6, max_size=6))
def test_lattice_triangles_hold_their_picks_theorem_count(numbers: list[int]) -> None:
    triangle = np.array(numbers, dtype=float).reshape(3, 2)
    a, b, c = triangle
    if (b - a)[0] * (c - a)[1] - (b - a)[1] * (c - a)[0] == 0:
        return  # a flat triangle: its count is its edges' points, tested below
    assert fill_contours([triangle], SHAPE).sum() == lattice_points(triangle)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(3, 15), min_size=3, max_size=12),
    st.integers(0, 1),
    st.lists(st.floats(-4e-4, 4e-4), min_size=24, max_size=24),
    st.lists(st.integers(1, 2), min_size=12, max_size=12),
)
def test_star_polygons_hold_their_picks_theorem_count(
    radii: list[int], reverse: int, nudges: list[float], repeats: list[int]
) -> None:
    """Also with each vertex a few ten-thousandths of a pixel off (ContourData written with 3 decimals
    in mm, as MIM writes it) and repeated (as some planning systems write a corner twice)."""
    polygon = star((20, 22), radii)
    if reverse:
        polygon = polygon[::-1]  # the winding direction must not matter
    area = 0.5 * abs(
        np.sum(polygon[:, 0] * np.roll(polygon[:, 1], -1) - np.roll(polygon[:, 0], -1) * polygon[:, 1])
    )
    simple = (
        Polygon(polygon).contains_point((20, 22))
        and area > 0
        and len(np.unique(polygon, axis=0)) == len(polygon)
    )
    if not simple:
        return
    nudged = polygon + np.array(nudges[: 2 * len(polygon)]).reshape(-1, 2)
    nudged = np.repeat(nudged, repeats[: len(polygon)], axis=0)
    assert fill_contours([nudged], SHAPE).sum() == lattice_points(polygon)


def test_a_centre_on_a_vertex_or_an_edge_is_in_and_one_just_outside_is_not() -> None:
    diamond = np.array([[5.0, 10.0], [10.0, 15.0], [15.0, 10.0], [10.0, 5.0]])
    filled = fill_contours([diamond], SHAPE)
    assert filled[5, 10] and filled[10, 15] and filled[7, 8]  # two vertices, a centre on an edge
    assert not filled[5, 9] and not filled[4, 10]
    assert filled.sum() == lattice_points(diamond) == 61
    # A point 1e-4 pixel off the edge (a decimal string's rounding) still counts as on it.
    nudged = diamond + np.array([[1e-4, 0.0], [0.0, -1e-4], [-1e-4, 0.0], [0.0, 1e-4]])
    assert np.array_equal(fill_contours([nudged], SHAPE), filled)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(2.0, 17.0), min_size=3, max_size=16),
    st.floats(14.0, 25.0),
    st.floats(17.0, 30.0),
)
def test_centres_away_from_the_edges_are_in_as_matplotlib_says(
    radii: list[float], row: float, column: float
) -> None:
    """Star-shaped polygons at arbitrary (not whole-pixel) places, against matplotlib's point-in-polygon."""
    angles = np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    polygon = np.column_stack([row + np.sin(angles) * radii, column + np.cos(angles) * radii])
    rows, columns = np.mgrid[: SHAPE[0], : SHAPE[1]]
    centres = np.column_stack([rows.ravel(), columns.ravel()]).astype(float)
    edges = zip(polygon, np.roll(polygon, -1, axis=0), strict=True)
    away = np.min([_distance(centres, a, b) for a, b in edges], axis=0) > 0.01
    truth = Polygon(polygon).contains_points(centres)
    filled = fill_contours([polygon], SHAPE).ravel()
    assert np.array_equal(filled[away], truth[away])


def _distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = b - a
    t = np.clip(((points - a) @ d) / max(d @ d, 1e-12), 0, 1)
    return np.linalg.norm(points - (a + t[:, None] * d), axis=1)


def test_rt_utils_contours_with_holes_give_the_mask_back(tmp_path: Path) -> None:
    """rt-utils outlines a ring (a lesion with a hole) through its boundary pixels' centres."""
    folder = write_dicom_series(tmp_path / "series", pixel_spacing=(0.9, 0.9))
    for ds in series_datasets(folder):
        ds.save_as(ds.filename)  # with the study attributes rt-utils copies
    mask = np.zeros((6, 40, 320), dtype=bool)
    for k, (outer, inner) in {1: (12, 5), 2: (15, 7), 3: (10, 3)}.items():
        mask[k][disk((20, 60), outer, shape=(40, 320))] = True
        mask[k][disk((20, 60), inner, shape=(40, 320))] = False
    mask[2, 18:23, 58:63] = True  # an island inside the hole: a contour inside a hole inside a contour
    builder = RTStructBuilder.create_new(dicom_series_path=str(folder))
    builder.add_roi(mask=np.moveaxis(mask, 0, -1), name="right hip lesion")
    builder.save(str(tmp_path / "rs.dcm"))
    labels = load_mask(tmp_path / "rs.dcm", load_scan(folder, pixels=False))
    assert np.array_equal(labels == 1, mask)


@pytest.fixture(scope="module")
def coronal_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dicom_series(tmp_path_factory.mktemp("rtstruct") / "series")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(2, 12), min_size=3, max_size=9),  # radii of a star polygon
            st.integers(14, 26),  # its centre row
            st.integers(20, 120),  # its centre column (the right hip)
            st.sampled_from([0.0, 0.0, 0.05, 0.5, 2.2]),  # mm off the slice plane
            st.integers(-1, 1),  # its Contour Image Sequence: this slice, or a neighbour's
            st.booleans(),  # a 2 x 2 pixel hole around its centre, outlined through pixel centres
        ),
        min_size=1,
        max_size=4,
    ),
    st.permutations(range(6)),
    st.booleans(),
)
def test_rtstruct_contours_on_random_slices_read_as_picks_theorem_or_refused(
    coronal_series: Path, tmp_path: Path, contours, slices, three_decimals: bool
) -> None:
    """One outline per slice, whole-pixel vertices: the right hip holds the sum of their Pick counts
    (less the one centre strictly inside a hole, whose edge pixels stay in), unless a contour lies off
    its slice plane by more than 0.1 mm or references another slice's image. Points are written in
    full or, as MIM writes them, with 3 decimals (mm) and each corner twice."""
    images = series_datasets(coronal_series)
    normal = np.cross(*np.array(images[0].ImageOrientationPatient, dtype=float).reshape(2, 3))
    drawn, expected, refused = {}, 0, False
    for (radii, row, column, off, image_shift, hole), k in zip(contours, slices, strict=False):
        outline = star((row, column), radii)
        around = Polygon(outline)
        if len(np.unique(outline, axis=0)) != len(outline) or not around.contains_point((row, column)):
            continue  # not a simple polygon around its centre
        referenced = k + image_shift
        if not 0 <= referenced < 6:
            continue
        square = np.array(
            [[row - 1, column - 1], [row - 1, column + 1], [row + 1, column + 1], [row + 1, column - 1]]
        )
        edges = zip(outline, np.roll(outline, -1, axis=0), strict=True)
        hole &= bool(around.contains_points(square).all()) and (
            min(_distance(square.astype(float), a, b).min() for a, b in edges) > 0.5
        )
        drawn[f"lesion {k}"] = []
        for polygon in [outline, square] if hole else [outline]:
            points = pixel_to_lps(images[k], polygon[:, 0], polygon[:, 1]) + off * normal
            if three_decimals:
                points = np.repeat(np.round(points, 3), 2, axis=0)
            drawn[f"lesion {k}"].append((referenced, points))
        expected += lattice_points(outline) - hole
        refused |= off > 0.1 or referenced != k
    if not drawn:
        return
    path = write_rtstruct(tmp_path / f"rs{len(drawn)}{slices[0]}.dcm", images, drawn)
    scan = load_scan(coronal_series, pixels=False)
    if refused:
        with pytest.raises(DicomMaskError):
            load_mask(path, scan)
    else:
        labels = load_mask(path, scan)
        assert (labels == 1).sum() == expected and labels.max() == 1
