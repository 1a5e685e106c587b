"""Where the femoral head is in the image: a coarse ball near the lesion, then its outer bone surface.

On coronal T1 the head is bright fatty marrow inside a thin dark shell, the cortex and the
subchondral plate; the articular (outer bone) surface is the outer edge of that shell. The coarse
step finds the largest ball of bright marrow near the lesion; the fine step reads the intensity
along rays from the head's centre on every slice that cuts the head steeply enough and puts the
surface where the profile, past the shell's darkest point, has risen halfway back to the tissue
outside (cartilage, capsule, muscle). Halfway between two plateaus is where a blurred step edge
lies, so the point is sub-voxel and does not depend on the pixel size or the contrast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..scan import Scan

#: The coarse search looks this far (mm) around the lesion for the head's marrow.
SEARCH_MM = 40.0
#: The coarse search reads the image on a grid about this fine in-plane (mm).
COARSE_MM = 1.5
#: Slices farther from the centre than this share of the radius cut the surface too obliquely:
#: across a 4 mm slab the edge smears over several millimetres.
STEEP_SHARE = 0.8
#: Rays per slice and sampling step along a ray (mm).
RAYS = 96
STEP_MM = 0.2
#: Where the shell's darkest point is looked for, relative to the expected radius (mm).
INWARD_MM, OUTWARD_MM = 5.0, 4.0
#: The tissue outside the shell is read within this distance of its darkest point (mm); the
#: marrow inside within INSIDE_MM (room for a lesion's dark band against the plate).
OUTSIDE_MM, INSIDE_MM = 3.0, 7.0
#: A ray counts only where the shell is darker than the marrow inside by this share of the image's
#: contrast, and darker than the tissue outside by CLIMB_SHARE of that: thin cartilage between the
#: head's shell and the acetabulum's, blurred by the pixel, does not rise far.
SHELL_CONTRAST = 0.2
CLIMB_SHARE = 0.5


@dataclass(frozen=True)
class CoarseHead:
    """The largest ball of bright marrow near a lesion: a start for the surface search."""

    centre: np.ndarray  # RAS mm
    marrow_radius: float  # mm
    contrast: tuple[float, float]  # dark and bright intensity levels around the head


def _crop(scan: Scan, lesion: np.ndarray) -> tuple[slice, ...]:
    """Index box around the lesion's voxels, SEARCH_MM wider on every side, every COARSE_MM in-plane.

    The coarse ball needs no fine pixels: a 0.5 mm grid is read every third pixel.
    """
    steps = np.linalg.norm(scan.affine[:3, :3], axis=0)
    reach = np.ceil(SEARCH_MM / steps).astype(int)
    low = np.maximum(lesion.min(axis=0) - reach, 0)
    high = np.minimum(lesion.max(axis=0) + reach + 1, scan.shape)
    stride = [1, *(max(1, int(COARSE_MM // step)) for step in steps[1:])]
    return tuple(slice(int(a), int(b), k) for a, b, k in zip(low, high, stride, strict=True))


def coarse_head(scan: Scan, voxels: np.ndarray, lesion: np.ndarray) -> CoarseHead | None:
    """The centre and marrow radius of the largest bright ball within reach of ``lesion`` (voxel indices).

    Bright marrow is what lies above the midpoint of the dark and bright levels around the lesion
    (5th and 95th percentiles); the lesion's own voxels count as marrow and each slice's holes are
    filled, so a dark necrotic zone does not split the head. ``None`` when nothing near is bright.
    """
    box = _crop(scan, lesion)
    roi = np.asarray(voxels[box], dtype=np.float32)
    dark, bright = (float(v) for v in np.percentile(roi, [5, 95]))
    if bright <= dark:
        return None  # a flat image: no marrow, no shell
    offset = np.array([b.start for b in box])
    stride = np.array([b.step for b in box])
    inside = (lesion - offset) // stride
    marrow = roi > (dark + bright) / 2
    marrow[tuple(inside.T)] = True
    marrow = np.stack([ndimage.binary_fill_holes(plane) for plane in marrow])
    steps = np.linalg.norm(scan.affine[:3, :3], axis=0) * stride
    # Zero padding: marrow cut by the box's edge must not look deeper than it is.
    depth = ndimage.distance_transform_edt(np.pad(marrow, 1), sampling=steps)[1:-1, 1:-1, 1:-1]
    middle = inside.mean(axis=0)
    from_lesion = sum(
        ((np.arange(n) - m) * step).reshape([-1 if k == axis else 1 for k in range(3)]) ** 2
        for axis, (n, m, step) in enumerate(zip(roi.shape, middle, steps, strict=True))
    )
    depth[from_lesion > (SEARCH_MM * 0.75) ** 2] = 0
    best = np.unravel_index(int(np.argmax(depth)), depth.shape)
    if depth[best] <= 0:
        return None
    centre = scan.index_to_patient((np.array(best) * stride + offset)[None, :])[0]
    return CoarseHead(centre=centre, marrow_radius=float(depth[best]), contrast=(dark, bright))


def _rays(scan: Scan, centre: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ray origins (in-plane centres), directions and expected radii on each steep slice."""
    normal, row, column = (scan.affine[:3, k] / np.linalg.norm(scan.affine[:3, k]) for k in range(3))
    origins = scan.index_to_patient(np.c_[np.arange(scan.shape[0]), np.zeros((scan.shape[0], 2))])
    depth = (origins - centre) @ normal
    steep = np.abs(depth) < STEEP_SHARE * radius
    angles = np.linspace(0, 2 * np.pi, RAYS, endpoint=False)
    directions = np.cos(angles)[:, None] * column + np.sin(angles)[:, None] * row
    starts = centre + depth[steep, None] * normal
    expected = np.sqrt(radius**2 - depth[steep] ** 2)
    return (
        np.repeat(starts, RAYS, axis=0),
        np.tile(directions, (int(steep.sum()), 1)),
        np.repeat(expected, RAYS),
    )


def surface_points(
    scan: Scan,
    voxels: np.ndarray,
    lesion: np.ndarray,
    centre: np.ndarray,
    radius: float,
    contrast: tuple[float, float],
) -> np.ndarray:
    """Points (N, 3, RAS mm) of the outer bone surface of the head near the sphere (``centre``, ``radius``).

    Each ray from the in-plane centre of a steep slice is sampled (linear interpolation on the
    slice) across the expected surface; rays where no dark shell stands out (into the neck, off
    the image) give no point. Samples in the traced ``lesion`` (a boolean volume) read as bright
    marrow: the necrotic zone's dark band must not pass for the head's shell.
    """
    starts, directions, expected = _rays(scan, centre, radius)
    offsets = np.arange(-INWARD_MM - INSIDE_MM, OUTWARD_MM + OUTSIDE_MM + STEP_MM / 2, STEP_MM)
    rho = np.clip(expected[:, None] + offsets[None, :], 0.0, None)
    points = starts[:, None, :] + rho[..., None] * directions[:, None, :]
    inverse = np.linalg.inv(scan.affine)
    index = points @ inverse[:3, :3].T + inverse[:3, 3]
    profiles = ndimage.map_coordinates(
        np.asarray(voxels, dtype=np.float32), index.reshape(-1, 3).T, order=1, mode="constant", cval=np.nan
    ).reshape(rho.shape)
    in_lesion = ndimage.map_coordinates(lesion, index.reshape(-1, 3).T, order=0, mode="constant")
    profiles[in_lesion.reshape(rho.shape)] = contrast[1]
    on_image = np.isfinite(profiles).all(axis=1)
    profiles = ndimage.gaussian_filter1d(profiles[on_image], 0.4 / STEP_MM, axis=1)
    lowest, valley = _valleys(profiles, offsets, SHELL_CONTRAST * (contrast[1] - contrast[0]))
    if not valley.any():
        return np.empty((0, 3))
    edge = _outer_edges(profiles, offsets, lowest)
    found = np.flatnonzero(on_image)[valley & np.isfinite(edge)]
    rho_edge = expected[found] + edge[valley & np.isfinite(edge)]
    return starts[found] + rho_edge[:, None] * directions[found]


def _valleys(profiles: np.ndarray, offsets: np.ndarray, needed: float) -> tuple[np.ndarray, np.ndarray]:
    """Darkest sample of each profile's shell, and whether the profile has one.

    The shell is the innermost valley of the searched window: the profile falls ``needed`` below
    the brightest value inside it, then rises CLIMB_SHARE of that above the valley's floor. The
    innermost, because the acetabulum's own dark cortex lies a few millimetres outside the head's.
    """
    window = (offsets >= -INWARD_MM) & (offsets <= OUTWARD_MM)
    fallen = (profiles <= np.maximum.accumulate(profiles, axis=1) - needed) & window[None, :]
    entered = np.argmax(fallen, axis=1)
    index = np.arange(len(offsets))[None, :]
    in_valley = index >= entered[:, None]
    floor_so_far = np.minimum.accumulate(np.where(in_valley, profiles, np.inf), axis=1)
    rising = in_valley & (profiles >= floor_so_far + needed * CLIMB_SHARE)
    left = np.argmax(rising, axis=1)
    lowest = np.argmin(np.where(in_valley & (index <= left[:, None]), profiles, np.inf), axis=1)
    found = fallen.any(axis=1) & rising.any(axis=1) & (offsets[lowest] <= OUTWARD_MM)
    return lowest, found


def _outer_edges(profiles: np.ndarray, offsets: np.ndarray, lowest: np.ndarray) -> np.ndarray:
    """Offset (mm, from the expected radius) of each profile's outer shell edge, past its darkest sample.

    The edge is where the profile has risen halfway from the shell's darkness to the tissue
    outside (the brightest within OUTSIDE_MM). Where the shell is thinner than two pixels no sample
    reaches its true darkness, and halfway up from that raised floor lies outside the edge: the
    darkness is taken as the deepest valleys of this head show it (their 10th percentile).
    """
    rows = np.arange(len(profiles))
    index = np.arange(len(offsets))[None, :]
    after = (index >= lowest[:, None]) & (index <= lowest[:, None] + round(OUTSIDE_MM / STEP_MM))
    minimum = profiles[rows, lowest]
    outside = np.where(after, profiles, -np.inf).max(axis=1)
    half = (np.minimum(minimum, np.percentile(minimum, 10)) + outside) / 2
    first = np.argmax(after & (profiles >= half[:, None]), axis=1)
    previous = np.maximum(first - 1, 0)
    low, high = profiles[rows, previous], profiles[rows, first]
    share = np.clip((half - low) / np.where(high > low, high - low, 1.0), 0.0, 1.0)
    edge = offsets[previous] + share * (offsets[first] - offsets[previous])
    return np.where(first > lowest, edge, np.nan)
