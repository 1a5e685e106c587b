"""The fit's spread (:mod:`onfh_volume.head.spread`): the leave-one-slice-out jackknife against the
least-squares covariance worked out by hand, the review reasons it gives; and the development hips
whose heads were outside the bounds and passed as ``ok`` (silent misses): now within the bounds,
and marked ``review`` where the surface off the lesion disagrees."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import family_hip as hip
from helpers import family_lesion_in_head as measured
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from onfh_volume.head import HeadSphere
from onfh_volume.head.edges import Surface
from onfh_volume.head.quality import detection_limit_mm
from onfh_volume.head.sphere import fit_sphere
from onfh_volume.head.spread import FitSpread, fit_spread, jackknife_half_width, ratio_reasons, spread_reasons
from onfh_volume.testing.head_truth import necrotic_ratio_truth
from onfh_volume.testing.hip_family import DEVELOPMENT_SEEDS, HELD_OUT_SEEDS, collapse_truth_mm

RADIUS, SIGMA = 24.0, 0.3


def sliced_sphere(slices: int, rays: int, cap_deg: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Directions of rays cast on coronal slices through a unit sphere (as the finder casts them),
    and each one's slice; with ``cap_deg``, those within it of superior (+z) left out."""
    depth = np.linspace(-0.75, 0.75, slices)
    angles = np.linspace(0, 2 * np.pi, rays, endpoint=False)
    y = np.repeat(depth, rays)
    ring = np.sqrt(1 - y**2)
    directions = np.c_[ring * np.tile(np.cos(angles), slices), y, ring * np.tile(np.sin(angles), slices)]
    keep = np.ones(len(y), dtype=bool) if cap_deg is None else directions[:, 2] < np.cos(np.radians(cap_deg))
    return directions[keep], np.repeat(np.arange(slices), rays)[keep]


def least_squares_covariance(directions: np.ndarray) -> np.ndarray:
    """σ² (JᵀJ)⁻¹ of (centre, radius) for points on a sphere with radial noise SIGMA: the residual
    |p - c| - r has the derivatives -u (centre) and -1 (radius) at a point in direction u."""
    jacobian = np.c_[-directions, -np.ones(len(directions))]
    return SIGMA**2 * np.linalg.inv(jacobian.T @ jacobian)


def spreads(
    directions: np.ndarray, slices: np.ndarray, over: np.ndarray, dimple_mm: float, seed: int
) -> FitSpread:
    """The spread of a noisy sphere fitted to its points off the lesion (``over``)."""
    rng = np.random.default_rng(seed)
    rho = RADIUS + rng.normal(0.0, SIGMA, len(directions)) - dimple_mm * over
    points = rho[:, None] * directions
    surface = Surface(points, over, np.zeros(len(points), dtype=bool), np.where(over, 9.0, 0.0))
    intact = ~over
    spread = fit_spread(surface, points[intact], fit_sphere(points[intact]), slices[intact])
    assert spread is not None
    return spread


def test_jackknife_spread_of_a_noisy_sphere_matches_least_squares() -> None:
    """A whole sphere (24 slices of 48 rays) with 0.3 mm of radial noise: the jackknife's ± on the
    radius and the centre, averaged over 20 draws, is t x the standard error that σ² (JᵀJ)⁻¹ gives."""
    directions, slices = sliced_sphere(24, 48)
    covariance = least_squares_covariance(directions)
    t = stats.t.ppf(0.975, 23)
    draws = [spreads(directions, slices, np.zeros(len(slices), dtype=bool), 0.0, seed) for seed in range(20)]
    radius = np.sqrt(np.mean([(draw.radius_mm / t) ** 2 for draw in draws]))
    centre = np.sqrt(np.mean([(draw.centre_mm / t) ** 2 for draw in draws]))
    assert radius == pytest.approx(np.sqrt(covariance[3, 3]), rel=0.2)
    assert centre == pytest.approx(np.sqrt(np.trace(covariance[:3, :3])), rel=0.2)


def test_collapse_spread_is_that_of_the_sphere_at_the_dimple() -> None:
    """A 2 mm dimple under the top of the head (the lesion's 30° cap, left out of the fit): the
    collapse's ± is that of r - c_z, the sphere's reach straight up, as σ² (JᵀJ)⁻¹ of the points
    below the cap gives it: the dimple's own points are the same for every refit."""
    directions, slices = sliced_sphere(24, 48)
    over = directions[:, 2] >= np.cos(np.radians(30.0))
    covariance = least_squares_covariance(directions[~over])
    up = np.array([0.0, 0.0, -1.0, 1.0])  # d(r - c_z)
    t = stats.t.ppf(0.975, len(np.unique(slices[~over])) - 1)
    draws = [spreads(directions, slices, over, 2.0, seed) for seed in range(20)]
    assert all(draw.collapse_mm is not None for draw in draws)
    collapse = np.sqrt(np.mean([(draw.collapse_mm / t) ** 2 for draw in draws]))  # type: ignore[operator]
    assert collapse == pytest.approx(np.sqrt(up @ covariance @ up), rel=0.25)


def test_a_head_on_two_slices_has_no_spread_and_says_so() -> None:
    """Two refits say nothing of a spread: none is given, and the head is marked for review."""
    directions, slices = sliced_sphere(2, 96)
    points = RADIUS * directions
    surface = Surface(
        points, np.zeros(len(points), dtype=bool), np.zeros(len(points), dtype=bool), np.zeros(len(points))
    )
    fit = fit_sphere(points)
    assert fit_spread(surface, points, fit, slices) is None
    assert spread_reasons(None, fit, None, 1.2) == [
        "fit spread unknown: the surface lies on fewer than 3 slices"
    ]


@settings(deadline=None, max_examples=25)
@given(
    st.integers(3, 12),
    st.floats(0.0, 1.0),
    st.floats(10.0, 60.0),
    st.floats(0.0, 4.0),
    st.integers(0, 2**16),
)
def test_the_spread_is_finite_whatever_the_surface(
    slices: int, sigma: float, cap_deg: float, dimple_mm: float, seed: int
) -> None:
    """Any number of slices from 3, any noise, any lesion cap and dimple: every ± is a finite
    number, not negative, and the reasons show no non-finite one."""
    directions, on_slice = sliced_sphere(slices, 32)
    rng = np.random.default_rng(seed)
    over = directions[:, 2] >= np.cos(np.radians(cap_deg))
    points = (RADIUS + rng.normal(0.0, sigma, len(directions)) - dimple_mm * over)[:, None] * directions
    surface = Surface(points, over, np.zeros(len(points), dtype=bool), np.where(over, 9.0, 0.0))
    fit = fit_sphere(points[~over])
    spread = fit_spread(surface, points[~over], fit, on_slice[~over])
    assert spread is not None
    values = [spread.radius_mm, spread.centre_mm] + (
        [] if spread.collapse_mm is None else [spread.collapse_mm]
    )
    assert all(math.isfinite(value) and value >= 0 for value in values)
    text = " ".join(spread_reasons(spread, fit, 1.0, 1.2) + ratio_reasons(30.0, fit.radius, spread.radius_mm))
    assert "nan" not in text and "inf" not in text


finite = st.floats(-50.0, 50.0, allow_nan=False)


@given(st.lists(finite, min_size=2, max_size=30), finite)
def test_jackknife_half_width_is_finite_and_ignores_a_shift(values: list[float], shift: float) -> None:
    """For any values the ± is finite and not negative, and the same when all are shifted."""
    width = jackknife_half_width(np.array(values))
    assert math.isfinite(width) and width >= 0
    assert jackknife_half_width(np.array(values) + shift) == pytest.approx(width, abs=1e-6)


@given(
    st.floats(0.0, 6.0),
    st.floats(0.0, 3.0),
    st.floats(0.6, 2.0),
    st.floats(0.0, 2.0),
    st.floats(0.0, 3.0),
)
def test_collapse_reasons_follow_its_interval(
    collapse: float, spread: float, limit: float, radius_spread: float, centre_spread: float
) -> None:
    """Whatever the numbers: "near the detection limit" exactly when the collapse's interval holds
    the limit, "near 2 mm" when it holds 2 mm, "uncertain" when the ± is over 0.5 mm; no reason
    shows a non-finite number; a head with any reason is never ``ok``."""
    fit = fit_sphere(RADIUS * sliced_sphere(5, 24)[0])
    reasons = spread_reasons(FitSpread(radius_spread, centre_spread, spread, 5), fit, collapse, limit)
    text = " ".join(reasons)
    assert ("near the detection limit" in text) == (collapse - spread < limit <= collapse + spread)
    assert ("near 2 mm" in text) == (collapse - spread < 2.0 < collapse + spread)
    assert ("collapse depth uncertain" in text) == (spread > 0.5)
    assert ("radius uncertain" in text) == (radius_spread > 0.7)
    assert ("centre uncertain" in text) == (centre_spread > 1.0)
    assert "nan" not in text and "inf" not in text
    head = HeadSphere((0.0, 0.0, 0.0), fit.radius, fit.rms, "image", 100, reasons=tuple(reasons))
    assert head.quality == ("review" if reasons else "ok")


@given(st.floats(0.0, 100.0), st.floats(18.0, 30.0), st.floats(0.0, 2.0))
def test_ratio_reason_when_its_spread_passes_two_points(ratio: float, radius: float, spread: float) -> None:
    """The ratio goes as 1/r³: its ± is 3 x ratio x ±r / r, a reason when over 2 points."""
    reasons = ratio_reasons(ratio, radius, spread)
    assert bool(reasons) == (3 * ratio * spread / radius > 2.0)
    assert all("nan" not in reason and "inf" not in reason for reason in reasons)


def test_held_out_seeds_are_apart_from_the_development_ones() -> None:
    """The held-out hips were declared before the spread was tuned and share no seed with it."""
    assert not set(HELD_OUT_SEEDS) & set(DEVELOPMENT_SEEDS)
    assert {609, 616, 618} <= set(DEVELOPMENT_SEEDS)


@pytest.mark.parametrize(
    ("seed", "what"),
    [
        (609, "centre 1.10 mm off (the sphere dropped on the surface off the lesion)"),
        (616, "no collapse read as 1.3 mm (radius +0.28 mm)"),
        (618, "radius +0.45 mm, ratio -2.1 points, a 2.5 mm collapse read as 3.5 mm"),
    ],
)
def test_the_silent_misses_are_now_measured_within_the_bounds(seed: int, what: str) -> None:
    """Three development hips were outside the bounds and passed as ``ok``. Fitted to the dome over
    the lesion as well (where it is not pushed in), each is now within every bound of its drawn
    truth: radius 0.7 mm, centre 1 mm, ratio 2 points, collapse 0.5 mm (or both under the limit)."""
    phantom, result = hip(seed), measured(seed)
    (truth,) = phantom.heads
    label = phantom.spec.lesions[0].label
    assert result.head is not None and result.necrotic_ratio_pct is not None, result.failure
    assert abs(result.head.radius_mm - truth.radius_mm) <= 0.7, what
    assert np.linalg.norm(np.subtract(result.head.centre_ras, truth.centre_ras)) <= 1.0, what
    assert abs(result.necrotic_ratio_pct - necrotic_ratio_truth(phantom, label)) <= 2.0, what
    depth, drawn = result.collapse_depth_mm or 0.0, collapse_truth_mm(phantom.spec)
    assert abs(depth - drawn) <= 0.5 or max(depth, drawn) < detection_limit_mm(phantom.scan.pixel_spacing), (
        what
    )


@pytest.mark.parametrize("seed", [609, 618])
def test_a_head_whose_surface_off_the_lesion_disagrees_is_marked_for_review(seed: int) -> None:
    """On these hips the surface off the lesion alone gives a sphere about 1 mm from the one fitted
    (it was the silent miss's): which is right a reader decides, so the head is ``review``."""
    head = measured(seed).head
    assert head is not None
    assert head.quality == "review"
    assert any(
        reason.startswith("the sphere fitted and that of the surface off the lesion lie up to")
        for reason in head.reasons
    ), head.reasons


def test_a_head_within_every_bound_stays_ok() -> None:
    """Not every head is marked: a development hip within every bound, its fit steady over its
    slices, stays ``ok``, and its radius carries a finite ±."""
    head = measured(604).head
    assert head is not None
    assert head.quality == "ok", head.reasons
    assert head.radius_spread_mm is not None and 0 < head.radius_spread_mm < 0.7
