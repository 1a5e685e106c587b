"""How far an automatic head could be from the one its surface gives: the fit's own spread.

Two checks on the surface points the sphere was fitted to, each a reason to review in a reader's
words, with its numbers:

1. **Leave-one-slice-out jackknife** (Efron and Tibshirani, An Introduction to the Bootstrap, 1993,
   ch. 11; by slice, as a slice's rays share its position and partial volume): the sphere is
   refitted with each slice's points left out, and the refits' spread gives a ± (95%, Student's t
   with slices - 1 degrees of freedom) on the radius, the centre, the collapse depth read against
   the sphere and (:func:`ratio_reasons`) the necrotic ratio. Review when a ± exceeds the bound
   the measure is held to (radius 0.7 mm, centre 1 mm, collapse 0.5 mm, ratio 2 points), or when
   the collapse's interval holds the detection limit (collapse seen or not is uncertain) or 2 mm
   (ARCO IIIA or IIIB). The jackknife sees what differs between slices, not an error every slice
   shares: it is a lower bound of the uncertainty (on the phantom family's development hips the
   errors ran 2-6 times its standard error), so the head-to-head check below stands beside it.
2. **Against the surface off the lesion**: a sphere fitted to the intact surface (the surface off
   the lesion and the part over it not pushed in) is fitted again to the surface off the lesion
   alone. Where the two spheres' surfaces lie more than MAX_APART_MM apart (the radius's bound)
   somewhere, the surface over the lesion changes the head by more than the head may be off: the
   dome over the lesion or the sides and the neck's edge mislead, and a reader decides which. On
   the development hips the heads within every bound lay up to 0.67 mm apart, and those fitted
   then to the surface off the lesion alone (centre 1.1 mm off, radius 0.45 mm over) 1.0-1.1 mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .edges import Surface
from .quality import ARCO_IIIB_MM, deepest_patch, depth_below_mm
from .sphere import SphereFit, fit_sphere, jackknife_spheres

#: The bounds each measure is held to: a ± beyond one is a reason to review.
RADIUS_BOUND_MM = 0.7
CENTRE_BOUND_MM = 1.0
RATIO_BOUND_POINTS = 2.0
COLLAPSE_BOUND_MM = 0.5
#: Review when the intact surface's and the whole surface's spheres lie farther apart than this (mm).
MAX_APART_MM = RADIUS_BOUND_MM
CONFIDENCE = 0.95
#: Slices needed for a spread (two refits, each on one slice, say nothing).
MIN_SLICES = 3


@dataclass(frozen=True)
class FitSpread:
    """The ± (95%, mm) of a head's radius, centre (its position, over x, y and z together) and
    collapse depth (None: not read), and the slices left out in turn."""

    radius_mm: float
    centre_mm: float
    collapse_mm: float | None
    slices: int


def jackknife_half_width(values: np.ndarray) -> float:
    """The 95% half-width of the jackknife: t(n - 1) x sqrt((n - 1) / n x Σ (v_i - v̄)²), summed
    over the columns of a (n, k) ``values`` (the squared standard errors of a position add).

    Examples
    --------
    The leave-one-out means of 1, 2, 3, 4 give the mean's textbook ± (t(3) x s / √4):

    >>> values = np.array([3.0, 8.0 / 3, 7.0 / 3, 2.0])
    >>> t, s = float(stats.t.ppf(0.975, 3)), float(np.std([1, 2, 3, 4], ddof=1))
    >>> round(jackknife_half_width(values), 3), round(t * s / 2, 3)
    (2.054, 2.054)
    """
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    n = len(values)
    variance = (n - 1) / n * float(((values - values.mean(axis=0)) ** 2).sum())
    return float(stats.t.ppf((1 + CONFIDENCE) / 2, n - 1) * np.sqrt(variance))


def fit_spread(surface: Surface, points: np.ndarray, fit: SphereFit, slices: np.ndarray) -> FitSpread | None:
    """The spread of ``fit`` (to ``points``, lying on ``slices``) over its leave-one-slice-out refits;
    the collapse's is that of the depth of ``surface``'s deepest patch over the lesion (the one the
    collapse is read on) below each refit. None on fewer than MIN_SLICES slices."""
    if len(np.unique(slices[fit.kept])) < MIN_SLICES:
        return None
    refits = jackknife_spheres(points, fit, slices)
    patch = deepest_patch(surface, fit)
    depths = None if patch is None else [depth_below_mm(surface.points[patch], r[:3], r[3]) for r in refits]
    return FitSpread(
        radius_mm=jackknife_half_width(refits[:, 3]),
        centre_mm=jackknife_half_width(refits[:, :3]),
        collapse_mm=None if depths is None else jackknife_half_width(np.array(depths)),
        slices=len(refits),
    )


def spread_reasons(
    spread: FitSpread | None, fit: SphereFit, collapse: float | None, limit_mm: float
) -> list[str]:
    """The reasons to review a head of ``fit`` whose spread is ``spread``, with ``collapse`` (mm)
    read against the detection limit ``limit_mm``.

    Examples
    --------
    >>> fit = SphereFit(np.zeros(3), 23.1, 0.4, np.ones(3, dtype=bool))
    >>> spread_reasons(FitSpread(0.3, 0.5, 0.9, 8), fit, 1.3, 1.2)  # doctest: +NORMALIZE_WHITESPACE
    ['collapse near the detection limit: 1.3 ± 0.9 mm (limit 1.2 mm)',
     'collapse near 2 mm (ARCO IIIA or IIIB): 1.3 ± 0.9 mm',
     'collapse depth uncertain: 1.3 ± 0.9 mm (over ±0.5)']
    >>> spread_reasons(FitSpread(0.8, 0.2, None, 8), fit, None, 1.2)
    ['head radius uncertain: 23.1 ± 0.8 mm (over ±0.7)']
    >>> spread_reasons(None, fit, 2.5, 1.2)
    ['fit spread unknown: the surface lies on fewer than 3 slices']
    """
    if spread is None:
        return [f"fit spread unknown: the surface lies on fewer than {MIN_SLICES} slices"]
    reasons = []
    if spread.radius_mm > RADIUS_BOUND_MM:
        reasons.append(
            f"head radius uncertain: {fit.radius:.1f} ± {spread.radius_mm:.1f} mm (over ±{RADIUS_BOUND_MM:g})"
        )
    if spread.centre_mm > CENTRE_BOUND_MM:
        reasons.append(f"head centre uncertain: ± {spread.centre_mm:.1f} mm (over {CENTRE_BOUND_MM:g})")
    if collapse is None or spread.collapse_mm is None:
        return reasons
    low, high, reading = (
        collapse - spread.collapse_mm,
        collapse + spread.collapse_mm,
        f"{collapse:.1f} ± {spread.collapse_mm:.1f} mm",
    )
    if low < limit_mm <= high:
        reasons.append(f"collapse near the detection limit: {reading} (limit {limit_mm:.1f} mm)")
    if low < ARCO_IIIB_MM < high:
        reasons.append(f"collapse near 2 mm (ARCO IIIA or IIIB): {reading}")
    if spread.collapse_mm > COLLAPSE_BOUND_MM:
        reasons.append(f"collapse depth uncertain: {reading} (over ±{COLLAPSE_BOUND_MM:g})")
    return reasons


def surfaces_apart_mm(points: np.ndarray, fit: SphereFit) -> float:
    """How far apart (mm, at most, over every direction) the surfaces of ``fit`` and of the sphere
    of ``points`` lie: |Δcentre| + |Δradius|.

    Examples
    --------
    >>> d = np.random.default_rng(1).normal(size=(300, 3))
    >>> d /= np.linalg.norm(d, axis=1, keepdims=True)
    >>> fit = SphereFit(np.array([0.3, 0.0, 0.4]), 23.8, 0.3, np.ones(300, dtype=bool))
    >>> round(surfaces_apart_mm(24.0 * d, fit), 3)
    0.7
    """
    other = fit_sphere(points)
    return float(np.linalg.norm(other.centre - fit.centre) + abs(other.radius - fit.radius))


def apart_reasons(surface: Surface, fit: SphereFit, fitted_to: str) -> list[str]:
    """The reason to review a head fitted to its intact surface whose sphere and that of the
    surface off the lesion lie more than MAX_APART_MM apart (none for a head fitted to the whole
    surface: too little lies off the lesion)."""
    if fitted_to != "intact surface" or surface.over_lesion.all():
        return []
    apart = surfaces_apart_mm(surface.points[~surface.over_lesion], fit)
    if apart <= MAX_APART_MM:
        return []
    return [
        f"the sphere fitted and that of the surface off the lesion lie up to {apart:.1f} mm apart "
        f"(over {MAX_APART_MM:g})"
    ]


def ratio_reasons(ratio_pct: float | None, radius_mm: float, radius_spread_mm: float | None) -> list[str]:
    """The reason to review a necrotic ratio whose ± (from the radius's: the ratio goes as 1/r³,
    so ± 3 x ratio x ±r / r) exceeds RATIO_BOUND_POINTS.

    Examples
    --------
    >>> ratio_reasons(40.0, 24.0, 0.5), ratio_reasons(40.0, 24.0, 0.3), ratio_reasons(None, 24.0, 0.5)
    (['necrotic ratio uncertain: 40.0 ± 2.5 points (over ±2)'], [], [])
    """
    if ratio_pct is None or radius_spread_mm is None:
        return []
    spread = 3 * ratio_pct * radius_spread_mm / radius_mm
    if spread <= RATIO_BOUND_POINTS:
        return []
    return [f"necrotic ratio uncertain: {ratio_pct:.1f} ± {spread:.1f} points (over ±{RATIO_BOUND_POINTS:g})"]
