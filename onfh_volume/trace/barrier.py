"""Band enhancement: what separates a lesion from healthy marrow on coronal T1, around one femoral head.

The band, the subchondral plate and the cortex are dark relative to the head's own marrow, and thin:
a pixel belongs to the barrier when its lightly smoothed signal is below ``dark`` times the marrow
level, or when a dark ridge filter (Sato, ``black_ridges=True``, at the band's 1.5-3 mm widths) is
stronger than ``ridge``. A closing of the barrier bridges the band's gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.filters import sato
from skimage.morphology import ellipse

from ..scan import Scan
from .head import Head
from .surface import SurfaceLayer, surface_layer

#: The head's far side, across from the seed, where healthy marrow lies: within this of the far edge.
FAR_EDGE_MM = 8.0


@dataclass(frozen=True)
class Settings:
    """What counts as the band, and how far the tracing may reach.

    ``dark``: barrier below this fraction of the head's marrow signal. ``edge``: the band's and
    plate's outer edge, where the signal is half-way back to marrow (partial volume). ``ridge``: barrier where the
    dark ridge filter exceeds this (in marrow units). ``bridge_mm``: radius of the closing that
    bridges gaps in the band (gaps up to about twice as wide). ``rim_mm``: how far outside the
    lesion's marrow its band is taken. ``plate_mm``: depth under the head's surface that is the
    subchondral plate (and its partial volume), taken where the lesion lies under it. ``growth``: a slice's lesion larger than this many
    times the previous slice's has run out through the band; the lesion ends before it.
    ``thick_mm``: where the dark layer under the articular surface is this much deeper than the
    healthy plate of its slice, next to the lesion, band and plate have fused: lesion
    (:mod:`onfh_volume.trace.surface`).
    """

    dark: float = 0.5
    edge: float = 0.65
    ridge: float = 0.1
    bridge_mm: float = 1.5
    rim_mm: float = 3.5
    plate_mm: float = 3.0
    growth: float = 1.8
    thick_mm: float = 1.0


@dataclass
class HeadWindow:
    """The head's bounding box on the scan grid, and its band enhancement (arrays: slices, rows, columns)."""

    rows: slice
    columns: slice
    signal: np.ndarray  # lightly smoothed, in marrow units
    ridges: np.ndarray  # dark ridge strength, in marrow units
    discs: np.ndarray  # inside the head's sphere
    barrier: np.ndarray  # dark or on a dark ridge
    rim: np.ndarray  # the barrier out to its half-way edge
    free: np.ndarray  # inside the head, outside the closed barrier
    far: np.ndarray  # the part of the head across from the seed: healthy marrow
    far_edge: np.ndarray  # the far side by the far edge of each slice's cross-section
    depth: np.ndarray  # mm under the head's surface
    centre: tuple[float, float]  # the head's centre (row, column) in the window
    radii: np.ndarray  # mm, of the head's cross-section on each slice
    pixel_spacing: tuple[float, float]

    def surface(self, k: int, settings: Settings) -> SurfaceLayer:
        """The dark layer under the head's surface on slice ``k``."""
        return surface_layer(self.signal[k], self.centre, self.radii[k], self.pixel_spacing, settings.edge)

    def local(self, index: tuple[int, int, int]) -> tuple[int, int, int]:
        """A scan voxel index in window coordinates."""
        return (index[0], index[1] - self.rows.start, index[2] - self.columns.start)


def head_window(scan: Scan, head: Head, seed: tuple[int, int, int], settings: Settings) -> HeadWindow:
    """Cut the head's box out of the scan, normalise it to the head's marrow and find the barrier."""
    assert scan.voxels is not None
    row_mm, column_mm = scan.pixel_spacing
    reach = head.radius_mm + 2.0
    rows = span(head.centre[1], reach / row_mm, scan.shape[1])
    columns = span(head.centre[2], reach / column_mm, scan.shape[2])
    image = scan.voxels[:, rows, columns].astype(np.float32)
    smooth = ndimage.gaussian_filter(image, sigma=(0, 0.5 / row_mm, 0.5 / column_mm))
    discs = np.stack([head.disc(scan, k, rows, columns) for k in range(scan.shape[0])])
    # Bias fields vary over centimetres: the head's own bright marrow is the reference.
    smooth /= np.percentile(smooth[seed[0]][discs[seed[0]]], 80)
    pixel_mm = float(np.sqrt(row_mm * column_mm))
    sigmas = [0.7 / pixel_mm, 1.0 / pixel_mm, 1.4 / pixel_mm]
    ridges = np.zeros_like(smooth)
    for k in np.nonzero(discs.any(axis=(1, 2)))[0]:  # only the slices through the head
        ridges[k] = sato(smooth[k], sigmas=sigmas, black_ridges=True)
    barrier = (smooth < settings.dark) | (ridges > settings.ridge)
    footprint = ellipse(round(settings.bridge_mm / column_mm), round(settings.bridge_mm / row_mm))
    closed = ndimage.binary_closing(barrier, structure=footprint[None].astype(bool))
    far = _far_side(scan, head, seed, rows, columns) & discs
    far_edge = _far_edge(scan, head, seed, rows, columns) & discs
    rim = barrier | (smooth < settings.edge)
    depth = np.stack([ndimage.distance_transform_edt(disc, sampling=scan.pixel_spacing) for disc in discs])
    centre = (head.centre[1] - rows.start, head.centre[2] - columns.start)
    radii = np.array([head.disc_radius_mm(scan, k) for k in range(scan.shape[0])])
    return HeadWindow(
        rows,
        columns,
        smooth,
        ridges,
        discs,
        barrier,
        rim,
        discs & ~closed,
        far,
        far_edge,
        depth,
        centre,
        radii,
        scan.pixel_spacing,
    )


def span(centre: float, half: float, size: int) -> slice:
    """Indices within ``half`` of ``centre`` (fractional), clipped to ``0..size``."""
    return slice(max(int(centre - half), 0), min(int(centre + half) + 2, size))


def _far_side(scan: Scan, head: Head, seed: tuple[int, int, int], rows: slice, columns: slice) -> np.ndarray:
    """Head pixels well across the centre from the seed: a lesion under the dome never reaches them."""
    return _across(scan, head, seed, rows, columns)[None] > 0.25 * head.radius_mm


def _far_edge(scan: Scan, head: Head, seed: tuple[int, int, int], rows: slice, columns: slice) -> np.ndarray:
    """The far side's pixels within ``FAR_EDGE_MM`` of the far edge of each slice's cross-section.

    Healthy marrow runs on to the head's far edge and the neck; a lesion over most of the head,
    its band crossing below the head's centre, stops short of it.
    """
    radii = np.array([head.disc_radius_mm(scan, k) for k in range(scan.shape[0])])
    beyond = np.maximum(0.25 * head.radius_mm, radii - FAR_EDGE_MM)
    return _across(scan, head, seed, rows, columns)[None] > beyond[:, None, None]


def _across(scan: Scan, head: Head, seed: tuple[int, int, int], rows: slice, columns: slice) -> np.ndarray:
    """How far (mm) each pixel of the window lies past the head's centre, away from the seed."""
    row_mm, column_mm = scan.pixel_spacing
    towards = np.array([(seed[1] - head.centre[1]) * row_mm, (seed[2] - head.centre[2]) * column_mm])
    if np.hypot(*towards) < 0.2 * head.radius_mm:
        towards = np.array([-1.0, 0.0])  # a seed at the centre: the lesion lies under the dome, above
    towards /= np.hypot(*towards)
    r = (np.arange(rows.start, rows.stop)[:, None] - head.centre[1]) * row_mm
    c = (np.arange(columns.start, columns.stop)[None, :] - head.centre[2]) * column_mm
    return -(r * towards[0] + c * towards[1])
