"""Find the femoral head around a seed: a sphere fitted to the dark cortical ring seen on each slice.

On coronal T1 the head's cortex and subchondral plate draw a nearly complete dark circle on every
slice through the head. A circular Hough transform of the dark ridges finds that circle on the slices
near the seed; the circles' radii across slices give the sphere (centre and radius) by linear least
squares, and radial intensity profiles place its outer bone surface to a fraction of a pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.filters import sato
from skimage.measure import CircleModel, ransac
from skimage.transform import hough_circle

from ..scan import Scan

RADIUS_MM = (17.0, 32.0)  # adult femoral heads
WINDOW_MM = 48.0  # half-width of the in-plane window searched around the seed
STEP_MM = 0.75  # in-plane pixel of the isotropic grid the circles are searched on
SLICES_EACH_WAY = 2  # circles on this many slices before and after the seed's fit the sphere


@dataclass(frozen=True)
class Head:
    """A femoral head on a scan grid: centre as a fractional index (slice, row, column), radius in mm.

    ``radius_mm`` is that of the outer bone surface (the articular surface of the subchondral plate).
    """

    centre: tuple[float, float, float]
    radius_mm: float
    score: float  # fraction of the fitted circle on the seed's slice that lies on a dark ridge

    def centre_ras(self, scan: Scan) -> np.ndarray:
        """The centre in patient RAS millimetres."""
        return scan.index_to_patient(np.array([self.centre]))[0]

    def disc_radius_mm(self, scan: Scan, k: int) -> float:
        """Radius of the head's cross-section on slice ``k`` (0 where the slice misses the head)."""
        depth = (k - self.centre[0]) * _spacing(scan)
        return float(np.sqrt(max(self.radius_mm**2 - depth**2, 0.0)))

    def disc(self, scan: Scan, k: int, rows: slice, columns: slice, margin_mm: float = 0.0) -> np.ndarray:
        """Pixels of ``rows`` x ``columns`` of slice ``k`` whose centre lies inside the head."""
        r, c = _in_plane_mm(scan, self.centre, rows, columns)
        return np.hypot(r, c) <= self.disc_radius_mm(scan, k) + margin_mm


def _spacing(scan: Scan) -> float:
    return float(scan.slice_spacing or scan.slice_thickness or 1.0)


def _in_plane_mm(
    scan: Scan, centre: tuple[float, float, float], rows: slice, columns: slice
) -> tuple[np.ndarray, np.ndarray]:
    """Row and column offsets (mm) of a window's pixels from ``centre``, broadcastable."""
    row_mm, column_mm = scan.pixel_spacing
    r = (np.arange(rows.start, rows.stop)[:, None] - centre[1]) * row_mm
    c = (np.arange(columns.start, columns.stop)[None, :] - centre[2]) * column_mm
    return r, c


def slice_circle(
    plane: np.ndarray,
    pixel_spacing: tuple[float, float],
    seed_rc: tuple[float, float],
    radius_range_mm: tuple[float, float] = (0.6 * RADIUS_MM[0], RADIUS_MM[1]),
) -> tuple[float, float, float, float] | None:
    """The dark circle around ``seed_rc`` on one slice: (row, column, radius mm, ridge fraction).

    The slice is resampled to isotropic ``STEP_MM`` pixels in a window around the seed; the dark
    ridges (Sato filter) above their 85th percentile vote in a circular Hough transform; the
    strongest circle that contains the seed wins. ``None`` when no circle contains the seed.
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
    score = np.where(around_seed, fraction**2 * radii[:, None, None], 0.0)
    i, y, x = np.unravel_index(np.argmax(score), score.shape)
    if fraction[i, y, x] < 0.5 or not around_seed[i, y, x]:
        return None
    return (r0 + y / zoom[0], c0 + x / zoom[1], float(radii[i] * STEP_MM), float(fraction[i, y, x]))


def find_head(scan: Scan, seed: tuple[int, int, int]) -> Head | None:
    """The femoral head whose cortical ring encloses ``seed`` (slice, row, column), or ``None``.

    Circles are found on the seed's slice, then on the slices before and after it, each searched
    around the previous circle's centre; their radii r_k at depths y_k fit the sphere through
    r_k² + y_k² = (R² - y0²) + 2 y0 y_k. The outer bone surface then comes from radial profiles.
    """
    assert scan.voxels is not None
    circle = slice_circle(scan.voxels[seed[0]], scan.pixel_spacing, seed[1:])
    if circle is None or circle[3] < 0.5:
        return None
    circles = {seed[0]: circle}
    for step in (-1, 1):
        k, previous = seed[0] + step, circle
        while 0 <= k < scan.shape[0] and abs(k - seed[0]) <= SLICES_EACH_WAY:
            radii = (max(previous[2] - 6.0, 5.0), previous[2] + 3.0)
            found = slice_circle(scan.voxels[k], scan.pixel_spacing, previous[:2], radii)
            if found is None or found[3] < 0.5 or np.hypot(*np.subtract(found[:2], previous[:2])) > 6:
                break
            circles[k], previous, k = found, found, k + step
    return _sphere(scan, circles, circle[3])


def _sphere(scan: Scan, circles: dict[int, tuple[float, float, float, float]], score: float) -> Head:
    """Least-squares sphere through the circles of several slices (one circle: a sphere centred on it)."""
    ks = np.array(sorted(circles))
    rows, columns, radii, _ = np.array([circles[k] for k in ks]).T
    y = ks * _spacing(scan)
    if len(ks) >= 3:
        (a, b), *_ = np.linalg.lstsq(np.stack([np.ones_like(y), 2 * y], axis=1), radii**2 + y**2, rcond=None)
        y0 = float(np.clip(b, y.min() - RADIUS_MM[1], y.max() + RADIUS_MM[1]))
        radius = float(np.sqrt(max(a + y0**2, radii.max() ** 2)))
    else:
        y0, radius = float(y[np.argmax(radii)]), float(radii.max())
    central = np.abs(y - y0) < 0.5 * radius
    weights = np.where(central, 1.0, 0.1)
    centre = (
        y0 / _spacing(scan),
        float(np.average(rows, weights=weights)),
        float(np.average(columns, weights=weights)),
    )
    return _outer_surface(scan, Head(centre, radius, score))


def _outer_surface(scan: Scan, head: Head) -> Head:
    """The head refined to its outer bone surface: a circle fitted to edge points on radial profiles.

    On each ray the ring is the darkest point near the fitted circle; the surface is where the
    signal climbs back half-way to the tissue just outside (cartilage, fat or muscle), as partial
    volume puts it. Rays along the neck, with no dark ring, are left out.
    """
    assert scan.voxels is not None
    k = round(head.centre[0])
    radius = head.disc_radius_mm(scan, k)
    angles = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    rho = np.arange(-4.0, 5.0, 0.1)
    row_mm, column_mm = scan.pixel_spacing
    along = radius + rho[None, :]
    rows = head.centre[1] + along * np.sin(angles)[:, None] / row_mm
    columns = head.centre[2] + along * np.cos(angles)[:, None] / column_mm
    profiles = ndimage.map_coordinates(scan.voxels[k].astype(float), [rows, columns], order=1)
    profiles = ndimage.gaussian_filter1d(profiles, 2.0, axis=1)
    inside = np.median(profiles[:, :10])
    edges = []
    for angle, profile in zip(angles, profiles, strict=True):
        low = int(np.argmin(profile[10:60])) + 10
        outside = profile[low + 15 : low + 35].max(initial=profile[-1])
        if profile[low] > 0.5 * inside or outside - profile[low] < 0.15 * inside:
            continue  # the neck, or no ring: no surface to place
        above = np.nonzero(profile[low:] >= (profile[low] + outside) / 2)[0]
        if len(above):
            edges.append((radius + rho[low + above[0]]) * np.array([np.sin(angle), np.cos(angle)]))
    if len(edges) < 20:
        return head
    # The head-neck junction bulges out of the sphere: a robust fit leaves that arc out.
    circle, _ = ransac(
        np.array(edges), CircleModel, min_samples=3, residual_threshold=0.4, max_trials=200, rng=0
    )
    if circle is None:
        return head
    depth = (k - head.centre[0]) * _spacing(scan)
    centre = (
        head.centre[0],
        head.centre[1] + circle.center[0] / row_mm,
        head.centre[2] + circle.center[1] / column_mm,
    )
    return Head(centre, float(np.hypot(circle.radius, depth)), head.score)
