"""The femoral head's outer bone surface in the image, as points, around a first guess of its sphere.

On coronal T1 the head is bright fatty marrow inside a thin dark shell, the cortex and the
subchondral plate; the articular (outer bone) surface is the outer edge of that shell. The
intensity is read along rays from the head's centre on every slice that cuts the head steeply
enough and the surface put where the profile, past the shell's darkest point, has risen halfway
back to the tissue outside (cartilage, capsule, muscle). Halfway between two plateaus is where a blurred step edge
lies, so the point is sub-voxel and does not depend on the pixel size or the contrast.

A traced lesion reads as bright marrow on the rays, so that its dark band does not pass for the
shell, except for its outer KEEP_MM where it reaches the surface and the tracing holds the
subchondral plate: there the lesion's own plate is the shell (a tracing that stops at the marrow's
edge leaves the plate outside it, and the lesion reads as marrow throughout). Points where the
lesion reaches the surface are marked as lying over it (the surface a collapse pushes in, left
out of the intact surface's sphere). Joint fluid against thin cartilage merges with the cortex
into one wide dark shell: where a ray's shell is wider than its slice's typical one, its surface
is put the typical width outside the marrow's edge.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

from ..scan import Scan

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
#: A lesion whose outer end on a ray lies within REACH_MM of the expected surface reaches the
#: surface: its outer KEEP_MM (the subchondral plate and a little marrow) is read as imaged.
REACH_MM, KEEP_MM = 4.0, 3.0
#: Where, beyond the lesion's end, the image tells whether the tracing holds the plate (mm), and
#: the share of the contrast above the dark level that cartilage or fluid there exceeds (the plate
#: itself, 0.06-0.10 on the sample scans, traced to the marrow's edge; 0.13-0.37 beyond the plate
#: on the phantom family's development hips).
PLATE_PROBE_MM = (0.8, 2.0)
PLATE_SHARE = 0.11
#: A point lies over the lesion when the lesion ends within this distance inside it (a tracing
#: that stops at the marrow's edge ends a plate's width, ~2 mm, inside).
OVER_LESION_MM = 3.5
#: A ray's shell wider than the slice's typical one (its TYPICAL_PERCENTILE) by this much has a dark
#: layer on it (joint fluid against thin cartilage): its surface is put the typical shell's width
#: outside the marrow's edge instead. Only slices with MIN_SLICE_RAYS points have a typical shell.
THICK_SHELL_MM = 0.8
TYPICAL_PERCENTILE = 25
MIN_SLICE_RAYS = 8


class Surface(NamedTuple):
    """Surface points (N, 3, RAS mm), whether each lies over the traced lesion, whether its shell
    was wider than the slice's typical one by THICK_SHELL_MM (a dark layer on it: fluid), and how
    deep (mm) the lesion reaches under it along the ray (0 off the lesion; shallow at its rim)."""

    points: np.ndarray
    over_lesion: np.ndarray
    thick: np.ndarray
    lesion_depth_mm: np.ndarray


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
    lesion: np.ndarray | None,
    centre: np.ndarray,
    radius: float,
    contrast: tuple[float, float],
) -> Surface:
    """The outer bone surface of the head near the sphere (``centre``, ``radius``), as points.

    Each ray from the in-plane centre of a steep slice is sampled (linear interpolation on the
    slice) across the expected surface; rays where no dark shell stands out (into the neck, off
    the image) give no point. Samples in the traced ``lesion`` (a boolean volume, or ``None``) read
    as bright marrow, but for its outer KEEP_MM where it reaches the surface: the necrotic zone's
    dark band must not pass for the head's shell, and its subchondral plate is the shell.
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
    lesion_end, lesion_start = np.full(len(rho), -np.inf), np.full(len(rho), -np.inf)
    if lesion is not None:
        in_lesion = ndimage.map_coordinates(lesion, index.reshape(-1, 3).T, order=0, mode="constant")
        in_lesion = in_lesion.reshape(rho.shape).astype(bool)
        lesion_start, lesion_end = _lesion_runs(in_lesion, offsets)
        reaches = lesion_end >= -REACH_MM
        if _plate_traced(profiles[reaches], offsets, lesion_end[reaches], contrast):
            cutoff = np.where(reaches, lesion_end - KEEP_MM, np.inf)
            profiles[in_lesion & (offsets[None, :] <= cutoff[:, None])] = contrast[1]
        else:
            profiles[in_lesion] = contrast[1]
    on_image = np.isfinite(profiles).all(axis=1)
    profiles = ndimage.gaussian_filter1d(profiles[on_image], 0.4 / STEP_MM, axis=1)
    lowest, valley = _valleys(profiles, offsets, SHELL_CONTRAST * (contrast[1] - contrast[0]))
    if not valley.any():
        return Surface(np.empty((0, 3)), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), np.empty(0))
    edge = _outer_edges(profiles, offsets, lowest)
    good = valley & np.isfinite(edge)
    found = np.flatnonzero(on_image)[good]
    inner = _inner_edges(profiles, offsets, lowest)[good]
    over_lesion = lesion_end[found] >= edge[good] - OVER_LESION_MM
    typical = _typical_shells(np.where(over_lesion, np.nan, edge[good] - inner), found // RAYS)
    # Over the lesion the marrow's edge is the necrotic marrow's, no guide to the plate's width.
    thick = ~over_lesion & (edge[good] - inner > typical + THICK_SHELL_MM)  # False where NaN
    outer = np.where(thick, inner + typical, edge[good])
    depth = np.where(over_lesion, outer - lesion_start[found], 0.0)
    return Surface(
        starts[found] + (expected[found] + outer)[:, None] * directions[found], over_lesion, thick, depth
    )


def _typical_shells(shell: np.ndarray, slices: np.ndarray) -> np.ndarray:
    """Each ray's slice's typical shell width (its TYPICAL_PERCENTILE; NaN on a slice of few rays).

    Per slice, because a slice cut obliquely through the surface shows a wider shell.
    """
    typical = np.full(len(shell), np.nan)
    for k in np.unique(slices):
        on = slices == k
        widths = shell[on & np.isfinite(shell)]
        if len(widths) >= MIN_SLICE_RAYS:
            typical[on] = np.percentile(widths, TYPICAL_PERCENTILE)
    return typical


def _lesion_runs(in_lesion: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (mm) where each ray's outermost run of lesion samples starts and ends (-inf: none).

    A run that starts before the window starts at the window's start.
    """
    any_lesion = in_lesion.any(axis=1)
    last = len(offsets) - 1 - np.argmax(in_lesion[:, ::-1], axis=1)
    outside_before = ~in_lesion & (np.arange(len(offsets))[None, :] < last[:, None])
    first = np.where(outside_before.any(axis=1), len(offsets) - np.argmax(outside_before[:, ::-1], axis=1), 0)
    start = np.where(any_lesion, offsets[np.minimum(first, len(offsets) - 1)], -np.inf)
    return start, np.where(any_lesion, offsets[last], -np.inf)


def _plate_traced(
    profiles: np.ndarray, offsets: np.ndarray, ends: np.ndarray, contrast: tuple[float, float]
) -> bool:
    """Whether the tracing includes the subchondral plate where the lesion reaches the surface.

    Just beyond the lesion's end (PLATE_PROBE_MM) lies cartilage or fluid when the plate is in the
    tracing, and the dark plate itself when the tracing stops at the marrow's edge; the lesion's
    rays decide by their median, as a reader traces one way throughout.
    """
    low, high = PLATE_PROBE_MM
    window = (offsets[None, :] >= ends[:, None] + low) & (offsets[None, :] <= ends[:, None] + high)
    beyond = np.where(window & np.isfinite(profiles), profiles, np.inf).min(axis=1)
    beyond = beyond[np.isfinite(beyond)]
    if not len(beyond):
        return True
    return float(np.median(beyond)) > contrast[0] + PLATE_SHARE * (contrast[1] - contrast[0])


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


def _inner_edges(profiles: np.ndarray, offsets: np.ndarray, lowest: np.ndarray) -> np.ndarray:
    """Offset (mm) of each profile's inner shell edge: halfway from the marrow inside down to the shell.

    The marrow is the brightest sample within INSIDE_MM inside the darkest; NaN where the profile
    never comes back up that far inwards.
    """
    rows = np.arange(len(profiles))
    index = np.arange(len(offsets))[None, :]
    before = (index <= lowest[:, None]) & (index >= lowest[:, None] - round(INSIDE_MM / STEP_MM))
    marrow = np.where(before, profiles, -np.inf).max(axis=1)
    half = (profiles[rows, lowest] + marrow) / 2
    # The last sample at or above halfway before the darkest, and the one after it.
    above = before & (profiles >= half[:, None])
    last = len(offsets) - 1 - np.argmax(above[:, ::-1], axis=1)
    following = np.minimum(last + 1, len(offsets) - 1)
    high, low = profiles[rows, last], profiles[rows, following]
    share = np.clip((high - half) / np.where(high > low, high - low, 1.0), 0.0, 1.0)
    edge = offsets[last] + share * (offsets[following] - offsets[last])
    return np.where(above.any(axis=1) & (last < lowest), edge, np.nan)
