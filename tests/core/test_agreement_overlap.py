"""Dice and HD95 on shapes whose answer is known, and HD95 against an independent computation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree
from skimage.segmentation import find_boundaries

from onfh_volume.analysis.overlap import dice, hd95, surface


def ball(shape: tuple[int, int, int], centre: tuple[float, ...], radius_mm: float, spacing) -> np.ndarray:
    grids = np.meshgrid(*(np.arange(n) * s for n, s in zip(shape, spacing, strict=True)), indexing="ij")
    return sum((g - c) ** 2 for g, c in zip(grids, centre, strict=True)) <= radius_mm**2


def test_parallel_plates_are_exactly_their_gap_apart_in_mm() -> None:
    a = np.zeros((6, 10, 10), bool)
    b = np.zeros((6, 10, 10), bool)
    a[1, 2:8, 2:8] = True
    b[4, 2:8, 2:8] = True  # 3 slices further
    assert hd95(a, b, (4.4, 1.6, 1.6)) == pytest.approx(3 * 4.4, abs=1e-12)
    assert hd95(a, b, (1.0, 0.5, 0.5)) == pytest.approx(3.0, abs=1e-12)
    assert dice(a, b) == 0.0


def test_identical_masks() -> None:
    a = ball((12, 20, 20), (22.0, 16.0, 16.0), 12.0, (4.0, 1.6, 1.6))
    assert dice(a, a) == 1.0
    assert hd95(a, a, (4.0, 1.6, 1.6)) == 0.0


def test_offset_cubes_dice() -> None:
    a = np.zeros((20, 20, 20), bool)
    b = np.zeros((20, 20, 20), bool)
    a[5:15, 5:15, 5:15] = True
    b[7:17, 5:15, 5:15] = True  # 8 of 10 slices overlap
    assert dice(a, b) == pytest.approx(2 * 800 / 2000)


@pytest.mark.parametrize(("inner", "outer"), [(8.0, 12.0), (10.0, 20.0)])
def test_concentric_spheres_are_their_radii_apart(inner: float, outer: float) -> None:
    spacing = (1.0, 1.0, 1.0)
    shape = (52, 52, 52)
    centre = (25.3, 25.6, 25.1)  # off the grid, so no symmetry favours a direction
    a, b = ball(shape, centre, inner, spacing), ball(shape, centre, outer, spacing)
    # Boundary voxel centres lie up to one voxel inside each true surface.
    assert hd95(a, b, spacing) == pytest.approx(outer - inner, abs=1.0)


def test_surface_is_the_face_connected_boundary() -> None:
    cube = np.zeros((7, 7, 7), bool)
    cube[1:6, 1:6, 1:6] = True
    assert surface(cube).sum() == 125 - 27  # every voxel but the 3 x 3 x 3 core


@pytest.mark.parametrize("seed", range(4))
def test_hd95_equals_an_independent_computation(seed: int) -> None:
    """skimage's inner boundary (face connectivity) and a k-d tree give the same pooled 95th percentile."""
    rng = np.random.default_rng(seed)
    spacing = (4.4, 1.6, 1.6)
    shape = (12, 40, 40)
    a = ball(shape, (24.0, 32.0, 30.0), rng.uniform(9, 14), spacing)
    b = ball(shape, (24.0 + rng.uniform(-4, 4), 32.0 + rng.uniform(-3, 3), 30.0), rng.uniform(9, 14), spacing)
    b &= rng.random(shape) > 0.05  # ragged: a tracing is never a perfect ball
    points = []
    for mask in (a, b):
        padded = np.pad(mask, 1)
        edge = find_boundaries(padded, connectivity=1, mode="inner")[1:-1, 1:-1, 1:-1] & mask
        points.append(np.argwhere(edge) * np.array(spacing))
    a_to_b, _ = cKDTree(points[1]).query(points[0])
    b_to_a, _ = cKDTree(points[0]).query(points[1])
    expected = np.percentile(np.concatenate([a_to_b, b_to_a]), 95)
    assert hd95(a, b, spacing) == pytest.approx(expected, rel=1e-12)


def test_empty_masks_are_refused() -> None:
    empty = np.zeros((3, 4, 4), bool)
    full = np.ones((3, 4, 4), bool)
    with pytest.raises(ValueError, match="empty"):
        hd95(empty, full, (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="two empty masks"):
        dice(empty, empty)
    assert dice(empty, full) == 0.0
