"""Find the femoral head in the image from a point inside it: the one image head finder of the project.

The band fill gives it the reader's click; the head measures give it the deepest point of a traced
lesion and the lesion itself. Two steps:

1. **Where**: on coronal T1 the head's cortex and subchondral plate draw a nearly complete dark
   circle on every slice through the head. A circular Hough transform of the dark ridges (Sato
   filter) finds the circle that encloses the point on its slice and on the slice either side;
   the circles' radii across slices give a first sphere by linear least squares.
2. **The surface**: the outer bone surface is read along rays from that sphere's centre on every
   steep slice (:func:`onfh_volume.head.edges.surface_points`, sub-voxel) and a sphere fitted to
   the points with a robust loss (:func:`onfh_volume.head.sphere.fit_sphere`), twice; the fit is
   checked for plausibility (radius, residual, share of points kept) before it is returned.
   With a traced lesion, the sphere is fitted to the intact surface (the points not over the
   lesion, and those over it not pushed in: a collapse must not pull it) when the points off the
   lesion number MIN_IMAGE_POINTS and half of those found,
   else to the surface over the lesion too, and the head says so; the depth of the surface over
   the lesion below the sphere is the collapse, and :mod:`onfh_volume.head.quality` and
   :mod:`onfh_volume.head.spread` (the fit's spread over its slices, and against the surface
   off the lesion) give the reasons to review the head.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage
from skimage.filters import sato
from skimage.transform import hough_circle

from ..errors import HeadNotFoundError
from ..scan import Scan
from .edges import RAYS, STEEP_SHARE, Surface, surface_points
from .fit import ADULT_RADIUS_MM, MIN_IMAGE_POINTS, MIN_KEPT_SHARE, HeadSphere, checked
from .quality import COLLAPSE_FLOOR_MM, collapse_depth_mm, detection_limit_mm, review_reasons
from .sphere import SphereFit, fit_sphere
from .spread import apart_reasons, fit_spread, spread_reasons

RADIUS_MM = (17.0, 32.0)  # adult femoral heads, with room: the Hough search's radii
WINDOW_MM = 48.0  # half-width of the in-plane window searched around the point
#: In-plane pixel of the isotropic grid the circles are searched on: only a start for the surface
#: step, which places the surface to a fraction of a scan pixel, so a coarse grid is enough.
STEP_MM = 1.5
SLICES_EACH_WAY = 1  # circles on this many slices before and after the point's fit the first sphere
#: Surface search passes: the second reads the rays from the first fit's centre.
PASSES = 2
#: The image's dark and bright levels are read within this margin (mm) around the first sphere.
CONTRAST_MARGIN_MM = 10.0
#: The sphere is fitted to the intact surface when it holds at least this share of the points found.
MIN_INTACT_SHARE = 0.5

Circle = tuple[float, float, float, float]  # row, column, radius mm, share of the circle on a ridge


def slice_circle(
    plane: np.ndarray,
    pixel_spacing: tuple[float, float],
    seed_rc: tuple[float, float],
    radius_range_mm: tuple[float, float] = (0.6 * RADIUS_MM[0], RADIUS_MM[1]),
) -> Circle | None:
    """The dark circle around ``seed_rc`` on one slice: (row, column, radius mm, ridge fraction).

    The slice is resampled to isotropic ``STEP_MM`` pixels in a window around the seed; the dark
    ridges (Sato filter) above their 85th percentile vote in a circular Hough transform; the
    strongest circle that contains the seed wins. ``None`` when no circle contains the seed.

    Examples
    --------
    >>> from skimage.draw import circle_perimeter
    >>> plane = np.full((120, 120), 100.0)
    >>> plane[circle_perimeter(60, 55, 32)] = 0.0  # a ring of radius 32 pixels of 0.75 mm: 24 mm
    >>> row, column, radius, fraction = slice_circle(plane, (0.75, 0.75), (50.0, 50.0))
    >>> bool(abs(row - 60) <= 2), bool(abs(column - 55) <= 2), bool(abs(radius - 24.0) <= STEP_MM)
    (True, True, True)
    """
    row_mm, column_mm = pixel_spacing
    half = (WINDOW_MM / row_mm, WINDOW_MM / column_mm)
    r0 = max(int(seed_rc[0] - half[0]), 0)
    c0 = max(int(seed_rc[1] - half[1]), 0)
    window = plane[r0 : int(seed_rc[0] + half[0]) + 1, c0 : int(seed_rc[1] + half[1]) + 1].astype(float)
    zoom = (row_mm / STEP_MM, column_mm / STEP_MM)
    iso = ndimage.zoom(window, zoom, order=1)
    ridges = sato(iso, sigmas=[1.0, 1.5], black_ridges=True)
    edges = ridges > np.percentile(ridges, 85)
    radii = np.arange(*radius_range_mm, STEP_MM) / STEP_MM
    # Normalised, each vote count is the fraction of that circle lying on a dark ridge.
    fraction = hough_circle(edges, radii, normalize=True)
    seed_iso = ((seed_rc[0] - r0) * zoom[0], (seed_rc[1] - c0) * zoom[1])
    yy, xx = np.ogrid[: iso.shape[0], : iso.shape[1]]
    around_seed = np.hypot(yy - seed_iso[0], xx - seed_iso[1])[None] < radii[:, None, None] - 1
    # The longest well-supported ring that encloses the seed: the head's, not the ring a lesion's
    # band and subchondral plate draw inside it, nor the acetabulum's partial one around it.
    everywhere = fraction**2 * radii[:, None, None]
    score = np.where(around_seed, everywhere, 0.0)
    i, y, x = np.unravel_index(np.argmax(score), score.shape)
    if fraction[i, y, x] < 0.5 or not around_seed[i, y, x]:
        return None
    # A better ring nearby that leaves the point out: the point is outside that head (in the
    # acetabulum or the pelvis), and the ring around it is the acetabulum's, not a head's.
    if everywhere.max() > score[i, y, x] and not around_seed.ravel()[np.argmax(everywhere)]:
        return None
    return (r0 + y / zoom[0], c0 + x / zoom[1], float(radii[i] * STEP_MM), float(fraction[i, y, x]))


def _circles(scan: Scan, seed: tuple[int, int, int]) -> dict[int, Circle]:
    """The head's circle on the seed's slice and on up to SLICES_EACH_WAY slices either side.

    Each neighbour is searched around the previous circle's centre, at a radius near its own;
    empty when no ring encloses the seed.
    """
    assert scan.voxels is not None
    circle = slice_circle(scan.voxels[seed[0]], scan.pixel_spacing, seed[1:])
    if circle is None:
        return {}
    circles = {seed[0]: circle}
    for step in (-1, 1):
        k, previous = seed[0] + step, circle
        while 0 <= k < scan.shape[0] and abs(k - seed[0]) <= SLICES_EACH_WAY:
            radii = (max(previous[2] - 6.0, 5.0), previous[2] + 3.0)
            found = slice_circle(scan.voxels[k], scan.pixel_spacing, previous[:2], radii)
            if found is None or np.hypot(*np.subtract(found[:2], previous[:2])) > 6:
                break
            circles[k], previous, k = found, found, k + step
    return circles


def _first_sphere(scan: Scan, circles: dict[int, Circle]) -> tuple[np.ndarray, float]:
    """Centre (RAS mm) and radius of the sphere through the circles of several slices.

    Radii r_k at depths y_k fit r_k² + y_k² = (R² - y0²) + 2 y0 y_k; with fewer than three slices,
    the sphere is centred on the largest circle.
    """
    ks = np.array(sorted(circles))
    rows, columns, radii, _ = np.array([circles[k] for k in ks]).T
    spacing = float(np.linalg.norm(scan.affine[:3, 0]))
    y = ks * spacing
    if len(ks) >= 3:
        (a, b), *_ = np.linalg.lstsq(np.stack([np.ones_like(y), 2 * y], axis=1), radii**2 + y**2, rcond=None)
        y0 = float(np.clip(b, y.min() - RADIUS_MM[1], y.max() + RADIUS_MM[1]))
        radius = float(np.sqrt(max(a + y0**2, radii.max() ** 2)))
    else:
        y0, radius = float(y[np.argmax(radii)]), float(radii.max())
    weights = np.where(np.abs(y - y0) < 0.5 * radius, 1.0, 0.1)
    centre = (y0 / spacing, np.average(rows, weights=weights), np.average(columns, weights=weights))
    return scan.index_to_patient(np.array([centre]))[0], radius


def contrast_levels(scan: Scan, image: np.ndarray, centre: np.ndarray, radius: float) -> tuple[float, float]:
    """Dark and bright levels around the head (5th and 95th percentiles of a box around the sphere)."""
    inverse = np.linalg.inv(scan.affine)
    middle = inverse[:3, :3] @ centre + inverse[:3, 3]
    reach = (radius + CONTRAST_MARGIN_MM) / np.linalg.norm(scan.affine[:3, :3], axis=0)
    low = np.clip(np.floor(middle - reach).astype(int), 0, scan.shape)
    high = np.clip(np.ceil(middle + reach).astype(int) + 1, 0, scan.shape)
    box = image[low[0] : high[0], low[1] : high[1], low[2] : high[2]]
    dark, bright = np.percentile(box, [5, 95]) if box.size else (0.0, 0.0)
    return float(dark), float(bright)


def find_head(
    scan: Scan, inside: tuple[int, int, int], region: np.ndarray | None = None, where: str | None = None
) -> HeadSphere:
    """The femoral head around the voxel ``inside`` (slice, row, column), found in the scan's pixels.

    ``region`` (a boolean volume on the scan grid, e.g. a traced lesion holding ``inside``) reads as
    bright marrow on the rays, so that a lesion's dark band does not pass for the head's shell.

    Raises
    ------
    HeadNotFoundError
        When no dark cortical ring encloses the voxel, or too few surface points are found.
    HeadFitError
        When the sphere is implausible (radius, residual, share of points kept).

    Examples
    --------
    >>> from onfh_volume.testing.phantom_set import small_phantom
    >>> phantom = small_phantom()
    >>> head = find_head(phantom.scan, tuple(np.argwhere(phantom.inside)[0]))
    >>> (truth,) = phantom.heads
    >>> bool(np.linalg.norm(np.subtract(head.centre_ras, truth.centre_ras)) < 1.0)
    True
    >>> bool(abs(head.radius_mm - truth.radius_mm) < 0.5), head.source
    (True, 'image')
    """
    if scan.voxels is None:
        raise ValueError("the head is found in the pixels: load the scan with pixels=True")
    circles = _circles(scan, inside)
    if not circles:
        raise HeadNotFoundError(
            where, "no femoral head outline near the lesion (no dark cortical ring around it)"
        )
    image = np.asarray(scan.voxels, dtype=np.float32)  # once: every pass samples it
    centre, radius = _first_sphere(scan, circles)
    contrast = contrast_levels(scan, image, centre, radius)
    for _ in range(PASSES):
        surface = surface_points(scan, image, region, centre, radius, contrast)
        points, fitted_to = _fitted_points(surface, where)
        fit = fit_sphere(points)
        centre, radius = fit.centre, fit.radius
        if not ADULT_RADIUS_MM[0] / 2 < radius < ADULT_RADIUS_MM[1] * 2:
            break  # far off already: refused below, without searching at an absurd radius
    head = checked(fit, "image", where, max(MIN_IMAGE_POINTS, round(MIN_KEPT_SHARE * len(points))))
    if region is None:
        return head
    collapse = collapse_depth_mm(surface, fit)
    spread = fit_spread(surface, points, fit, _slice_of(scan, points))
    reasons = (
        *review_reasons(surface, fit, RAYS * _steep_slices(scan, fit), fitted_to, collapse),
        *spread_reasons(spread, fit, collapse, detection_limit_mm(scan.pixel_spacing)),
        *apart_reasons(surface, fit, fitted_to),
    )
    return dataclasses.replace(
        head,
        fitted_to=fitted_to,
        reasons=reasons,
        collapse_depth_mm=collapse,
        radius_spread_mm=None if spread is None else spread.radius_mm,
    )


def _fitted_points(surface: Surface, where: str | None) -> tuple[np.ndarray, str]:
    """The points the sphere is fitted to, and which: the intact surface when it is enough.

    The intact surface is the surface off the lesion and the surface over it that is not pushed
    in: not COLLAPSE_FLOOR_MM or more below the whole surface's sphere, then below the sphere of
    what that leaves. A collapse is left out, the dome kept: without it the sphere rests on the
    sides and the neck's edge, and on the phantom family's development hips it dropped by up to
    1.1 mm or grew by up to 0.5 mm.
    When the lesion lies under most of the surface found, the few points off it are mostly not
    the head's (the neck's, the acetabulum's): the whole surface found is fitted instead.
    """
    off_lesion = ~surface.over_lesion
    if off_lesion.all() and len(off_lesion) >= MIN_IMAGE_POINTS:
        return surface.points, "intact surface"
    if np.count_nonzero(off_lesion) >= MIN_IMAGE_POINTS and np.mean(off_lesion) >= MIN_INTACT_SHARE:
        intact = surface.points
        for _ in range(2):  # the second time against a sphere the collapse no longer pulls
            fit = fit_sphere(intact)
            below = fit.radius - np.linalg.norm(surface.points - fit.centre, axis=1)
            intact = surface.points[off_lesion | (below < COLLAPSE_FLOOR_MM)]
        return intact, "intact surface"
    if len(surface.points) < MIN_IMAGE_POINTS:
        raise HeadNotFoundError(
            where,
            f"no femoral head outline near the lesion (only {len(surface.points)} surface points, need "
            f"{MIN_IMAGE_POINTS})",
        )
    return surface.points, "surface over the lesion"


def _slice_of(scan: Scan, points: np.ndarray) -> np.ndarray:
    """The slice each surface point was read on (the rays run within their slice)."""
    inverse = np.linalg.inv(scan.affine)
    return np.round(points @ inverse[0, :3] + inverse[0, 3]).astype(int)


def _steep_slices(scan: Scan, fit: SphereFit) -> int:
    """Slices the surface was read on (see :func:`onfh_volume.head.edges.surface_points`)."""
    normal = scan.affine[:3, 0] / np.linalg.norm(scan.affine[:3, 0])
    origins = scan.index_to_patient(np.c_[np.arange(scan.shape[0]), np.zeros((scan.shape[0], 2))])
    return int(np.count_nonzero(np.abs((origins - fit.centre) @ normal) < STEEP_SHARE * fit.radius))


def deepest_voxel(scan: Scan, region: np.ndarray) -> tuple[int, int, int]:
    """The voxel of ``region`` (boolean volume) farthest, in mm, from the region's outline.

    Examples
    --------
    >>> from onfh_volume.scan import Scan
    >>> region = np.zeros((5, 9, 9), dtype=bool); region[1:4, 1:8, 1:8] = True
    >>> scan = Scan(None, (1.0, 1.0), 3.0, 3.0, np.diag([3.0, 1.0, 1.0, 1.0]), "scan", grid=region.shape)
    >>> deepest_voxel(scan, region)
    (2, 4, 4)
    """
    found = np.argwhere(region)
    low, high = found.min(axis=0), found.max(axis=0) + 1
    box = np.pad(region[tuple(slice(a, b) for a, b in zip(low, high, strict=True))], 1)
    steps = np.linalg.norm(scan.affine[:3, :3], axis=0)
    depth = ndimage.distance_transform_edt(box, sampling=steps)
    s, r, c = (int(v) for v in np.array(np.unravel_index(np.argmax(depth), depth.shape)) - 1 + low)
    return s, r, c


def head_from_image(scan: Scan, lesion: np.ndarray) -> HeadSphere:
    """Find the femoral head around ``lesion`` (boolean volume on the scan grid) in the scan's pixels.

    The head is found from the lesion's deepest voxel (:func:`find_head`), the lesion reading as
    bright marrow on the rays.

    Raises
    ------
    HeadNotFoundError
        When no femoral head outline is found around the lesion (or the lesion is empty).
    HeadFitError
        When the sphere is implausible (radius, residual, share of points kept).
    """
    if not lesion.any():
        raise HeadNotFoundError(scan.source, "no femoral head outline near an empty lesion")
    return find_head(scan, deepest_voxel(scan, lesion), lesion, scan.source)
