"""How far an automatic head can be trusted, and the collapse of its surface over the lesion.

The head found in the image is a sphere through the intact articular surface. Where that surface
is scarce (a lesion over most of it), strays from one sphere (a collapsed or oval head), or wears a
dark layer (joint fluid) that can pass for the cortex, the sphere may be off by more than the
measures allow: the head is then marked ``review`` with the reasons, never silently passed on.

Collapse (ARCO 2019, Yoon et al., J Arthroplasty 2020;35:933-940): the depth of the articular
surface over the lesion below the sphere of the intact surface; stage IIIA up to 2 mm, IIIB beyond.
Below the detection limit (the scan's in-plane pixel, at least :data:`COLLAPSE_FLOOR_MM`) it is
read as "no collapse seen", not as 0. The floor is 1.2 mm, not the pixel's 0.7: on the phantom
family's development hips without collapse the reading reaches 1.1 mm (the deepest of many noisy
patches of the surface over the lesion, or a lesion's surface read a little low as a whole).

The depth is read over small patches of the surface (NEIGHBOUR_DEG), where a small dimple's flat
bottom is not diluted by its shoulder, and again over wide ones (WIDE_DEG): a dimple wider than
both reads the same; a narrow one, a noisy patch or a surface too scarce over the lesion does not,
and the head is marked for review with both readings rather than passed on.
"""

from __future__ import annotations

import numpy as np

from .edges import Surface
from .sphere import SphereFit

#: Review when the kept surface points lie farther than this (RMS, mm) from their sphere.
REVIEW_RMS_MM = 0.8
#: Review when fewer of the surface's rays than this share give a kept point.
MIN_SURFACE_SHARE = 0.35
#: Review when the median distance from the sphere differs this much between regions of the surface.
MAX_ASPHERICITY_MM = 1.0
#: Review when more than this share of the surface points lie over the lesion.
MAX_LESION_SHARE = 0.5
#: Review when this share of the surface shows a dark layer on the cortex (``Surface.thick``).
MAX_FLUID_SHARE = 0.3
#: The collapse's depth: the deepest median depth over the points within NEIGHBOUR_DEG of a point
#: over the lesion (at least NEIGHBOURS of them): a dimple, not a single stray ray at the lesion's rim.
#: 8 degrees (3.4 mm on a 24 mm head) holds two slices' rays; a 15-degree dimple's flat bottom is 7.5.
NEIGHBOUR_DEG = 8.0
#: The same over patches this wide; review when the two readings differ by more than MAX_SPREAD_MM.
WIDE_DEG = 14.0
MAX_SPREAD_MM = 0.5
#: Review when fewer surface points than this lie over the lesion on the dome: a development hip
#: with 33 read its 3.1 mm collapse as 0.5 mm over both patch sizes (about 3 slices' worth of rays).
MIN_DOME_POINTS = 60
NEIGHBOURS = 5
INNER_SHARE = 0.95
MIN_LESION_DEPTH_MM = 6.0
#: The dome: directions within this angle of superior (RAS +z).
DOME_DEG = 70.0
COLLAPSE_FLOOR_MM = 1.2
ARCO_IIIB_MM = 2.0
#: Steinberg boundaries (%), and how near one a ratio is marked as near it (points).
STEINBERG_BOUNDARIES = (15.0, 30.0)
NEAR_BOUNDARY_POINTS = 1.0


def dome_over_lesion(surface: Surface, fit: SphereFit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each surface point's depth (mm) below the sphere ``fit``, its direction from the centre, and
    whether it is one the collapse is read on: over the lesion, on the dome."""
    offsets = surface.points - fit.centre
    distance = np.linalg.norm(offsets, axis=1)
    directions = offsets / distance[:, None]
    # Only on the weight-bearing dome (the head-neck junction is no sphere), and where the lesion
    # runs deep under the surface (at its rim the band meets the plate).
    over = surface.over_lesion & (surface.lesion_depth_mm >= MIN_LESION_DEPTH_MM)
    over &= directions[:, 2] >= np.cos(np.radians(DOME_DEG))
    return fit.radius - distance, directions, over


def deepest_patch(
    surface: Surface, fit: SphereFit, neighbour_deg: float = NEIGHBOUR_DEG
) -> np.ndarray | None:
    """The surface points (a boolean mask) of the patch of ``neighbour_deg`` over the lesion whose
    median depth below the sphere ``fit`` is the deepest; None when no patch lies wholly over the
    lesion (it reaches the dome's surface on too few rays)."""
    depth, directions, over = dome_over_lesion(surface, fit)
    if np.count_nonzero(over) < NEIGHBOURS:
        return None
    near = directions[over] @ directions.T >= np.cos(np.radians(neighbour_deg))
    # Only patches wholly over the lesion: at its rim the band meets the plate and reads as a dent.
    inner = near.sum(axis=1) >= NEIGHBOURS
    inner &= (near & over).sum(axis=1) >= INNER_SHARE * near.sum(axis=1)
    if not inner.any():
        return None
    patches = near[inner] & over
    return patches[int(np.argmax([np.median(depth[patch]) for patch in patches]))]


def collapse_depth_mm(surface: Surface, fit: SphereFit, neighbour_deg: float = NEIGHBOUR_DEG) -> float | None:
    """Depth (mm) of the surface over the lesion below the sphere ``fit``, the deepest median over
    patches of ``neighbour_deg`` (:func:`deepest_patch`); None when it cannot be read (the lesion
    reaches the dome's surface on too few rays).

    Examples
    --------
    A dimple 2.5 mm deep under the top of a sphere of radius 24 mm, and one stray point 4 mm deep:

    >>> d = np.array([[0, 0, 1.0], [0, 0.05, 1], [0, -0.05, 1], [0.05, 0, 1], [-0.05, 0, 1], [0, 1, 1]])
    >>> d /= np.linalg.norm(d, axis=1, keepdims=True)
    >>> points = d * np.array([[21.5], [21.5], [21.5], [21.5], [21.5], [20.0]])
    >>> fit = SphereFit(np.zeros(3), 24.0, 0.3, np.ones(6, dtype=bool))
    >>> round(collapse_depth_mm(Surface(points, np.ones(6, dtype=bool), np.zeros(6, dtype=bool), np.full(6, 9.0)), fit), 2)
    2.5
    """
    patch = deepest_patch(surface, fit, neighbour_deg)
    if patch is None:
        return None
    return depth_below_mm(surface.points[patch], fit.centre, fit.radius)


def depth_below_mm(points: np.ndarray, centre: np.ndarray, radius: float) -> float:
    """The median depth (mm, not below 0) of ``points`` under the sphere (``centre``, ``radius``).

    Examples
    --------
    >>> depth_below_mm(np.array([[0, 0, 21.5], [0, 21.0, 0], [22.0, 0, 0]]), np.zeros(3), 24.0)
    2.5
    """
    return float(max(np.median(radius - np.linalg.norm(points - centre, axis=1)), 0.0))


def collapse_uncertainty(narrow: float, wide: float | None, points: int) -> list[str]:
    """The reasons to review a collapse read as ``narrow`` (mm) over NEIGHBOUR_DEG patches and
    ``wide`` over WIDE_DEG ones (None: no patch that wide lies over the lesion), on ``points``
    surface points over the lesion on the dome.

    Examples
    --------
    >>> collapse_uncertainty(2.4, 2.2, 200), collapse_uncertainty(3.4, 0.8, 200)
    ([], ['collapse depth uncertain: 3.4 mm over 8° patches of the surface, 0.8 mm over 14°'])
    >>> collapse_uncertainty(0.5, 0.5, 33)
    ['collapse depth uncertain: only 33 surface points over the lesion on the dome (under 60)']
    """
    reasons = []
    if points < MIN_DOME_POINTS:
        reasons.append(
            f"collapse depth uncertain: only {points} surface points over the lesion on the dome "
            f"(under {MIN_DOME_POINTS})"
        )
    if wide is None:
        reasons.append(
            f"collapse depth uncertain: the surface over the lesion is too small for {WIDE_DEG:g}° patches"
        )
    elif abs(narrow - wide) > MAX_SPREAD_MM:
        reasons.append(
            f"collapse depth uncertain: {narrow:.1f} mm over {NEIGHBOUR_DEG:g}° patches of the surface, "
            f"{wide:.1f} mm over {WIDE_DEG:g}°"
        )
    return reasons


def collapse_reading(depth_mm: float | None, limit_mm: float) -> str | None:
    """The ARCO 2019 reading of a collapse depth: "no collapse seen" below ``limit_mm``.

    Examples
    --------
    >>> collapse_reading(0.4, 1.0), collapse_reading(1.6, 1.0), collapse_reading(2.5, 1.0)
    ('no collapse seen (< 1.0 mm)', 'IIIA (≤ 2 mm)', 'IIIB (> 2 mm)')
    """
    if depth_mm is None:
        return None
    if depth_mm < limit_mm:
        return f"no collapse seen (< {limit_mm:.1f} mm)"
    return "IIIA (≤ 2 mm)" if depth_mm <= ARCO_IIIB_MM else "IIIB (> 2 mm)"


def detection_limit_mm(pixel_spacing: tuple[float, float]) -> float:
    """The smallest collapse read as one: the larger in-plane pixel side, at least COLLAPSE_FLOOR_MM."""
    return max(COLLAPSE_FLOOR_MM, *pixel_spacing)


def asphericity_mm(points: np.ndarray, fit: SphereFit) -> float:
    """Spread (mm) of the median distance from the sphere between the six regions of the surface
    that face ±x, ±y, ±z (those with at least 20 points): an oval or flattened head's signature."""
    offsets = points - fit.centre
    residual = np.linalg.norm(offsets, axis=1) - fit.radius
    axis = np.argmax(np.abs(offsets), axis=1)
    sign = np.sign(offsets[np.arange(len(offsets)), axis])
    medians = [
        float(np.median(residual[(axis == a) & (sign == s)]))
        for a in range(3)
        for s in (-1, 1)
        if np.count_nonzero((axis == a) & (sign == s)) >= 20
    ]
    return max(medians) - min(medians) if len(medians) >= 2 else 0.0


def review_reasons(
    surface: Surface, fit: SphereFit, rays: int, fitted_to: str, collapse: float | None
) -> tuple[str, ...]:
    """Why an automatic head needs a reader's review (empty: it does not).

    ``surface`` holds every surface point found, ``fit`` the sphere fitted (to ``fitted_to``:
    "intact surface" or "surface over the lesion"), ``rays`` the number of rays cast, ``collapse``
    the depth read over the lesion (None: not readable).
    """
    reasons = []
    if collapse is None and surface.over_lesion.any():
        reasons.append("collapse not readable: the lesion reaches the dome's surface on too few rays")
    if collapse is not None:
        points = int(np.count_nonzero(dome_over_lesion(surface, fit)[2]))
        reasons += collapse_uncertainty(collapse, collapse_depth_mm(surface, fit, WIDE_DEG), points)
    if fit.rms > REVIEW_RMS_MM:
        reasons.append(f"fit residual {fit.rms:.2f} mm RMS (over {REVIEW_RMS_MM:g})")
    used = int(fit.kept.sum()) / max(rays, 1)
    if used < MIN_SURFACE_SHARE:
        reasons.append(f"{100 * used:.0f}% of the surface used (under {100 * MIN_SURFACE_SHARE:.0f}%)")
    over = float(np.mean(surface.over_lesion)) if len(surface.over_lesion) else 0.0
    if over > MAX_LESION_SHARE or fitted_to != "intact surface":
        reasons.append(
            f"the lesion covers {100 * over:.0f}% of the surface found (head fitted to the {fitted_to})"
        )
    intact = surface.points[~surface.over_lesion] if fitted_to == "intact surface" else surface.points
    aspherical = asphericity_mm(intact, fit)
    if aspherical > MAX_ASPHERICITY_MM:
        reasons.append(f"not a sphere: regions of the surface differ by {aspherical:.1f} mm")
    thick = float(np.mean(surface.thick)) if len(surface.thick) else 0.0
    if thick > MAX_FLUID_SHARE:
        reasons.append(f"a dark layer on the cortex over {100 * thick:.0f}% of the surface (joint fluid?)")
    return tuple(reasons)


def near_steinberg_boundary(ratio_pct: float | None) -> float | None:
    """The Steinberg boundary (15 or 30 %) within NEAR_BOUNDARY_POINTS of ``ratio_pct``, else None.

    Examples
    --------
    >>> near_steinberg_boundary(29.2), near_steinberg_boundary(22.0), near_steinberg_boundary(None)
    (30.0, None, None)
    """
    if ratio_pct is None:
        return None
    return next((b for b in STEINBERG_BOUNDARIES if abs(ratio_pct - b) <= NEAR_BOUNDARY_POINTS), None)
