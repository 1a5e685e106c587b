"""Where the lesion meets the articular surface: the dark layer under it is thicker than healthy plate.

Under healthy marrow, the subchondral plate is a thin dark layer with bright marrow beneath it.
Under a lesion, the band runs into the plate: near the band's ends, and on the slices where the band
is cut obliquely, the two fuse into one dark layer, thicker than the plate elsewhere on that slice,
with little or no marrow inside to grow from. Along rays from the head's centre, the depth of the
dark layer (down to where the signal is half-way back to marrow) is read on each slice; the rays
where it is ``thick_mm`` thicker than the slice's healthy plate, next to the lesion, belong to it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

RAYS = 360
STEP_MM = 0.2  # along each ray: a fraction of the finest pixel
DEPTHS_MM = np.arange(0.0, 12.0, STEP_MM)  # deep enough for plate, band and partial volume together
BRIGHT_MM = 2.5  # marrow beneath the layer: at least this deep, not a sliver between plate and band
AHEAD = round(BRIGHT_MM / STEP_MM)
WIDEN_RAYS = 4  # a lesion's footprint on the next slice: its rays, this many either way


@dataclass(frozen=True)
class SurfaceLayer:
    """One slice's dark layer under the head's surface: its depth (mm) on each ray, and its pixels' rays."""

    depth_mm: np.ndarray  # per ray
    ray: np.ndarray  # per pixel of the window: the ray it lies on
    below_mm: np.ndarray  # per pixel of the window: its depth under the head's surface
    healthy_mm: float  # the plate's depth away from the lesion, on this slice

    def pixels(self, rays: np.ndarray) -> np.ndarray:
        """The window's pixels within the dark layer of ``rays`` (a boolean per ray)."""
        return rays[self.ray] & (self.below_mm >= -0.5) & (self.below_mm <= self.depth_mm[self.ray])

    def thick(self, thick_mm: float) -> np.ndarray:
        """Rays whose dark layer is ``thick_mm`` deeper than the healthy plate."""
        return self.depth_mm > self.healthy_mm + thick_mm

    def footprint(self, region: np.ndarray, within_mm: float) -> np.ndarray:
        """The rays on which ``region`` (pixels) comes within ``within_mm`` of the surface."""
        rays = np.zeros(RAYS, dtype=bool)
        rays[self.ray[region & (self.below_mm <= within_mm)]] = True
        return rays

    def away_from(self, rays: np.ndarray) -> SurfaceLayer:
        """The layer with its healthy plate read away from ``rays`` (a lesion's), widened by 30 degrees."""
        away = (self.depth_mm > 0) & ~_widened(rays, RAYS // 12)
        healthy = float(np.median(self.depth_mm[away])) if away.any() else self.healthy_mm
        return replace(self, healthy_mm=healthy)


def surface_layer(
    signal: np.ndarray,
    centre: tuple[float, float],
    radius_mm: float,
    pixel_spacing: tuple[float, float],
    edge: float,
) -> SurfaceLayer:
    """Read the dark layer under the surface of a head's cross-section on one slice.

    ``signal`` is the slice in marrow units (marrow about 1); ``centre`` (row, column) and
    ``radius_mm`` give the cross-section; ``edge`` is the signal where dark turns back to marrow.
    The healthy plate's depth is the median over the rays that have a plate at all (the neck has
    none); :meth:`SurfaceLayer.away_from` reads it away from a lesion.

    Examples
    --------
    A disc of marrow with a 1 mm plate, 4 mm deep over a quarter of its rim:

    >>> rows, columns = np.mgrid[:80, :80] - 40.0
    >>> radius, angle = np.hypot(rows, columns), np.arctan2(rows, columns)
    >>> plate = np.where((angle > 0) & (angle < np.pi / 2), 4.0, 1.0)
    >>> signal = np.where(radius > 30 - plate, 0.2, 1.0)
    >>> layer = surface_layer(signal, (40.0, 40.0), 30.0, (1.0, 1.0), 0.65)
    >>> 1.0 <= layer.healthy_mm <= 1.5  # 1 mm, and the pixel the edge is blurred over
    True
    >>> 80 <= int(layer.thick(1.0).sum()) <= 95  # a quarter of 360 rays, less the pixel steps
    True
    """
    angles = 2 * np.pi * np.arange(RAYS) / RAYS
    along = radius_mm - DEPTHS_MM[None, :]
    row_mm, column_mm = pixel_spacing
    rows = centre[0] + along * np.sin(angles)[:, None] / row_mm
    columns = centre[1] + along * np.cos(angles)[:, None] / column_mm
    profiles = ndimage.map_coordinates(signal, [rows, columns], order=1, mode="nearest")
    # Back in marrow where the next BRIGHT_MM are all bright: a sliver of marrow between plate and
    # band (a thin lesion's) is part of the layer, as the reader's outline holds it.
    ahead = np.pad(profiles, ((0, 0), (0, AHEAD - 1)), mode="edge")
    back = np.lib.stride_tricks.sliding_window_view(ahead, AHEAD, axis=1).min(axis=2) > edge
    # Depth of the first sample back in marrow; a ray dark all the way is as deep as it was read.
    depth = np.where(back.any(axis=1), DEPTHS_MM[np.argmax(back, axis=1)], DEPTHS_MM[-1])
    r = (np.arange(signal.shape[0])[:, None] - centre[0]) * row_mm
    c = (np.arange(signal.shape[1])[None, :] - centre[1]) * column_mm
    ray = np.rint(np.arctan2(r, c) / (2 * np.pi) * RAYS).astype(int) % RAYS
    healthy = float(np.median(depth[depth > 0])) if np.any(depth > 0) else 0.0
    return SurfaceLayer(depth, ray, radius_mm - np.hypot(r, c), healthy)


def _widened(rays: np.ndarray, by: int) -> np.ndarray:
    """``rays`` grown ``by`` rays either way, round the circle."""
    return np.any([np.roll(rays, shift) for shift in range(-by, by + 1)], axis=0)


def joined(rays: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The runs of ``candidates`` (round the circle) that touch ``rays``, with ``rays`` themselves.

    Examples
    --------
    >>> rays = np.zeros(12, bool); rays[5] = True
    >>> candidates = np.zeros(12, bool); candidates[[0, 3, 4, 6, 9, 10, 11]] = True
    >>> np.nonzero(joined(rays, candidates))[0].tolist()
    [3, 4, 5, 6]
    """
    either = rays | candidates
    labels, _ = ndimage.label(np.concatenate([either, either]))
    # Tiled twice, a run across the end of the circle is whole in the second copy's labels.
    touched = np.unique(labels[np.concatenate([rays, rays])])
    keep = np.isin(labels, touched[touched > 0])
    return keep[: len(rays)] | keep[len(rays) :]


def widen(rays: np.ndarray) -> np.ndarray:
    """A footprint carried to the next slice: the surface curves and the lesion's edge moves."""
    return _widened(rays, WIDEN_RAYS)
