"""How far the lesion's band moved between the timepoints, read off the images near the mapped outline.

A lesion that grew or shrank keeps its band a few millimetres from where the mapped baseline
lesion puts it. So the band is searched for along each in-plane normal of the outline where it
runs through the head's marrow (not along the articular surface, where the lesion ends at the
bone's surface): the darkest point of the profile across the outline is the band's middle.

* At baseline, along the reader's own outline, that gives where a reader puts the outline against
  the band (about half the band's width outside its middle): the **offset**.
* At follow-up, along the mapped outline, the band's middle less that offset is how far the outline
  moved there (mm along the outline's normal, positive outwards): the **shift**.

The shifts, measured on many points, are smoothed over the outline (a Gaussian of ``SMOOTH_MM``,
points far off their neighbours dropped), so one point's wrong dip (a gap in the band, a vessel)
does not move the outline. The follow-up lesion is the mapped one with its outline moved by the
smoothed shift, within the follow-up's femoral head.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..scan import Scan

PROFILE_MM = np.arange(-7.0, 7.01, 0.25)  # sample positions across the outline, along its normal
BASELINE_WINDOW_MM = (-4.0, 2.0)  # the reader's outline is traced along the band's outer edge
SHIFT_WINDOW_MM = (-6.0, 6.0)  # a lesion grown or shrunk by 40% moves its band by up to ~5 mm
MIN_CONTRAST = 0.2  # a dip shallower than this (share of the marrow beside it) is no band
PLATE_MM = 3.0  # outline points nearer the head's surface than this run along the articular surface
MIN_IN_PLANE = 0.6  # an outline point whose normal leaves the slice more than this is cut obliquely
EDGE_MM = 1.5  # the band's outer edge: the steepest rise in brightness over this length, outwards
SMOOTH_MM = 6.0
FAR_MM = 1e6  # outside the head and far from the lesion: never in it
OUTLIER_MM = 1.5  # a point's shift this far off its neighbours' is a wrong dip


@dataclass(frozen=True)
class BandPoints:
    """Outline points where the band was found: where (RAS mm), on which slice, and (mm along the
    outline's normal, outwards) the band's middle and its outer edge against the marrow beside it."""

    ras: np.ndarray
    slices: np.ndarray
    middle_mm: np.ndarray
    edge_mm: np.ndarray

    def __len__(self) -> int:
        return len(self.middle_mm)

    def subset(self, keep: np.ndarray) -> BandPoints:
        """The points where ``keep`` holds."""
        return BandPoints(self.ras[keep], self.slices[keep], self.middle_mm[keep], self.edge_mm[keep])


def steps(scan: Scan) -> np.ndarray:
    """Voxel size along (slice, row, column), mm."""
    return np.linalg.norm(scan.affine[:3, :3], axis=0)


def signed_distance(scan: Scan, mask: np.ndarray) -> np.ndarray:
    """Signed distance to ``mask``'s outline (mm, negative inside), on ``scan``'s grid."""
    sampling = steps(scan)
    return ndimage.distance_transform_edt(~mask, sampling=sampling) - ndimage.distance_transform_edt(
        mask, sampling=sampling
    )


def band_points(
    scan: Scan, signed: np.ndarray, centre_ras: np.ndarray, radius_mm: float, window: tuple[float, float]
) -> BandPoints:
    """The band's middle along the in-plane normal of the outline ``signed < 0``, where it runs in marrow.

    Only outline points deeper than ``PLATE_MM`` inside the head's sphere are searched, and only where
    the outline's normal lies mostly in the slice; the middle is kept where the profile dips by
    ``MIN_CONTRAST`` or more within ``window`` (mm along the normal; converted to mm along the
    outline's 3-D normal, so obliquely cut points read the same as square ones).
    """
    assert scan.voxels is not None
    size = steps(scan)
    inside = signed < 0
    in_plane = np.zeros((3, 3, 3), dtype=bool)
    in_plane[1] = ndimage.generate_binary_structure(2, 1)
    outline = inside & ~ndimage.binary_erosion(inside, in_plane)
    at = np.argwhere(outline)
    gradient = np.stack([g[outline] for g in np.gradient(signed, *size)], axis=1)
    planar = np.hypot(gradient[:, 1], gradient[:, 2])
    square = planar / np.maximum(np.linalg.norm(gradient, axis=1), 1e-9)
    ras = scan.index_to_patient(at)
    deep = np.linalg.norm(ras - centre_ras, axis=1) < radius_mm - PLATE_MM
    keep = deep & (square > MIN_IN_PLANE)
    at, ras, square = at[keep], ras[keep], square[keep]
    normal = gradient[keep][:, 1:] / planar[keep][:, None]
    profiles = _profiles(scan.voxels, at, normal / size[1:])
    middle, dip = _dips(profiles, window)
    edge, rise = _edges(profiles, window)
    found = (dip >= MIN_CONTRAST) & (rise >= MIN_CONTRAST)
    return BandPoints(ras[found], at[found, 0], middle[found] * square[found], edge[found] * square[found])


def _profiles(voxels: np.ndarray, at: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Intensity profiles along in-plane directions (``step``: pixels per mm), lightly smoothed."""
    coords = np.empty((3, len(at), len(PROFILE_MM)))
    coords[0] = at[:, :1]
    coords[1] = at[:, 1:2] + PROFILE_MM[None] * step[:, :1]
    coords[2] = at[:, 2:3] + PROFILE_MM[None] * step[:, 1:2]
    sampled = ndimage.map_coordinates(
        np.asarray(voxels, dtype=np.float32), coords.reshape(3, -1), order=1, mode="nearest"
    )
    return ndimage.uniform_filter1d(sampled.reshape(len(at), len(PROFILE_MM)), 3, axis=1)


def _dips(profiles: np.ndarray, window: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Each profile's darkest point in ``window`` (mm) and how deep its dip is.

    The depth is the dip below the lower of the brightest points on either side, as a share of it.
    """
    searched = (window[0] <= PROFILE_MM) & (window[1] >= PROFILE_MM)
    darkest = np.argmin(np.where(searched[None], profiles, np.inf), axis=1)
    rows = np.arange(len(profiles))
    low = profiles[rows, darkest]
    before = np.where(np.arange(len(PROFILE_MM))[None] <= darkest[:, None], profiles, -np.inf).max(axis=1)
    after = np.where(np.arange(len(PROFILE_MM))[None] >= darkest[:, None], profiles, -np.inf).max(axis=1)
    beside = np.minimum(before, after)
    return PROFILE_MM[darkest], (beside - low) / np.maximum(beside, 1e-6)


def _edges(profiles: np.ndarray, window: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Each profile's steepest rise outwards over ``EDGE_MM`` in ``window`` (mm): where it is, and how
    much brighter it gets, as a share of the bright side."""
    n = round(EDGE_MM / (PROFILE_MM[1] - PROFILE_MM[0]))
    rise = profiles[:, n:] - profiles[:, :-n]
    where = PROFILE_MM[:-n] + EDGE_MM / 2
    searched = (where >= window[0]) & (where <= window[1])
    steepest = np.argmax(np.where(searched[None], rise, -np.inf), axis=1)
    rows = np.arange(len(profiles))
    return where[steepest], rise[rows, steepest] / np.maximum(profiles[rows, steepest + n], 1e-6)


def smoothed(points: BandPoints, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values`` at ``points``, averaged under a Gaussian of ``SMOOTH_MM`` at RAS points ``at``.

    Points off their neighbours' average by more than ``OUTLIER_MM`` are dropped first. Far from
    every point the nearest ones still decide (the weights are taken relative to the largest).
    """
    keep = np.ones(len(values), dtype=bool)
    for _ in range(2):
        fitted = _kernel(points.ras[keep], values[keep], points.ras)
        keep = np.abs(values - fitted) <= OUTLIER_MM
        if keep.sum() < 3:
            keep[:] = True
            break
    return _kernel(points.ras[keep], values[keep], at)


def _kernel(ras: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Nadaraya-Watson average of ``values`` at ``at``, in blocks to bound the memory used."""
    out = np.empty(len(at))
    for start in range(0, len(at), 4096):
        block = at[start : start + 4096]
        squared = ((block[:, None, :] - ras[None]) ** 2).sum(axis=2) / (2 * SMOOTH_MM**2)
        weights = np.exp(-(squared - squared.min(axis=1, keepdims=True)))
        out[start : start + 4096] = weights @ values / weights.sum(axis=1)
    return out


def moved_outline(
    followup: Scan, field: np.ndarray, depth: np.ndarray, points: BandPoints, shifts: np.ndarray
) -> np.ndarray:
    """The mapped lesion's distance (``field``, mm) less the smoothed ``shifts`` of its outline in the marrow.

    At or below 0 is the follow-up lesion; at or below ``e``, the lesion had its outline in the marrow
    moved ``e`` mm further out. ``depth`` is each voxel's depth in the follow-up's head sphere (mm,
    negative outside). The outline along the articular surface (within ``PLATE_MM`` of the head's
    surface) does not move: the lesion ends at the bone's surface whatever its size. Near it the
    distance is to the outline in the marrow, so where the band meets the surface the lesion spreads
    along it or draws back, as the band moves. What the lesion gains lies in the head.
    """
    size = steps(followup)
    reach = SHIFT_WINDOW_MM[1] + 2.0
    mapped = field <= 0
    shell = (np.abs(field) <= reach) & (mapped | (depth >= 0))
    outline = mapped & ~ndimage.binary_erosion(mapped)
    nearest = ndimage.distance_transform_edt(
        ~outline, sampling=size, return_distances=False, return_indices=True
    )
    in_marrow = depth[tuple(nearest[:, shell])] > PLATE_MM
    to_marrow = ndimage.distance_transform_edt(~(outline & (depth > PLATE_MM)), sampling=size)[shell]
    at = np.argwhere(shell)
    shift = smoothed(points, shifts, followup.index_to_patient(at))
    excess = np.where(field <= -reach, field, np.float32(FAR_MM)).astype(np.float32)
    excess[shell] = np.where(in_marrow, field[shell], np.where(mapped[shell], -to_marrow, to_marrow)) - shift
    return excess
