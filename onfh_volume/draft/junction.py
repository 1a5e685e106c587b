"""The head-neck junction: whether a dark line seals the head's marrow off from the neck's.

On a healthy hip the head's marrow runs on into the neck's marrow with no dark line between them
(oedema of the neck darkens the neck as a region, not as a line). A necrotic segment reaching the
junction is outlined there by its reactive band, along the head's surface: the head's marrow is
then sealed off from the neck's. The band fill's own test (marrow enclosed away from the head's
far side, across from the dome) misses such a lesion when it fills most of the head, since it
reaches that far side; the neck's marrow is a healthy reference the lesion never reaches.

The neck's marrow, on a slice, is the light marrow (``NECK_BRIGHT`` of the head's marrow or
brighter, off the barrier) ``NECK_MM`` beyond the head's surface, within ``NECK_DEG`` of the
direction lateral and ``NECK_TILT_DEG`` inferior; a slice shows the neck when that holds
``NECK_MM2``. On those slices, the head's marrow deeper than the subchondral plate that the
closed barrier cuts off from the neck's marrow is **sealed**. The lesion's marrow is then shared
out in 3-D, over the slices that cut the head steeply, between the sealed marrow and the neck's by
a watershed on the dark-ridge image (as band fill shares a slice between lesion and far side): the
two meet on the band, also on the slices with no neck and across the band's gaps. The draft is
the head within its sphere less the healthy marrow and the subchondral plate over it, where
joined to the sealed marrow's flood, on every slice through the head (its end slices, which cut
the head obliquely, as the nearest steep slice). The sizes were chosen on the draft set's
development seeds (:mod:`onfh_volume.testing.draft_set`).

Examples
--------
The neck runs lateral and inferior: on a coronal scan of a right hip whose columns run to the
patient's left, down the rows and back along the columns.

>>> from onfh_volume.scan import Scan
>>> coronal = np.array([[0, 0, -0.7, 0], [-4.0, 0, 0, 0], [0, -0.7, 0, 0], [0, 0, 0, 1]])
>>> scan = Scan(None, (0.7, 0.7), 4.0, 4.0, coronal, "scan", grid=(20, 200, 200))
>>> np.round(lateral_direction(scan, "right", NECK_TILT_DEG), 2).tolist()
[0.71, -0.71]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed

from ..scan import Scan
from ..trace.barrier import HeadWindow, Settings, head_window
from ..trace.head import Head
from .pockets import across_slices, deepest
from .whole_head import lateral_direction

NECK_MM = (1.5, 6.0)  # beyond the head's surface: the junction, short of the acetabulum's rim
NECK_TILT_DEG = 45.0  # the neck-shaft angle of about 130 degrees, seen from the head's centre
NECK_DEG = 50.0
NECK_BRIGHT = 0.55  # an oedematous neck keeps about two thirds of fatty marrow's signal
NECK_MM2 = 15.0
OUTSIDE_MM = 8.0  # the window reaches this far beyond the head's surface, over the junction
PLATE_MM = 3.0
STEEP = 0.5  # slices whose cross-section of the head is at least this share of its radius
CORE_MM = 1.5  # the sealed marrow, eroded this much, seeds the lesion's side of the watershed


@dataclass
class Junction:
    """What the neck tells of one head: the slices it shows on, the marrow it does not reach.

    Arrays are on the scan grid. ``sealed``: the head's marrow on the neck's slices that a dark
    line cuts off from the neck's marrow. ``lesion``: the draft outlined by it (empty when nothing
    is sealed). Volumes are the slice spacing times the area.
    """

    neck_slices: list[int]
    sealed: np.ndarray
    marrow_mm3: float  # the head's marrow deeper than the plate on the neck's slices
    lesion: np.ndarray
    voxel_mm3: float
    seed: tuple[int, int, int] | None  # the sealed marrow's deepest voxel, on the scan grid

    @property
    def sealed_mm3(self) -> float:
        """The sealed marrow's volume."""
        return float(np.count_nonzero(self.sealed)) * self.voxel_mm3

    @property
    def sealed_share(self) -> float:
        """The sealed share of the head's marrow on the neck's slices."""
        return self.sealed_mm3 / self.marrow_mm3 if self.marrow_mm3 else 0.0

    @property
    def sealed_slices(self) -> int:
        """How many slices hold sealed marrow."""
        return int(np.count_nonzero(self.sealed.any(axis=(1, 2))))


def junction(scan: Scan, head: Head, side: str, seed: tuple[int, int, int], settings: Settings) -> Junction:
    """The head's marrow sealed off from its neck, and the lesion it outlines (see the module)."""
    window = head_window(scan, Head(head.centre, head.radius_mm + OUTSIDE_MM), seed, settings)
    r, c = _offsets_mm(scan, head, window)
    distance = np.hypot(r, c)
    radii = np.array([head.disc_radius_mm(scan, k) for k in range(scan.shape[0])])[:, None, None]
    steep = radii[:, 0, 0] >= STEEP * head.radius_mm
    neck = _neck_marrow(scan, side, window, r, c, radii, steep)
    deep = window.free & (distance <= radii - PLATE_MM)
    reached = np.zeros(window.free.shape, dtype=bool)
    slices = [int(k) for k in np.nonzero(neck.any(axis=(1, 2)))[0]]
    for k in slices:
        parts, _ = ndimage.label(window.free[k])
        labels = np.unique(parts[neck[k]])
        reached[k] = np.isin(parts, labels[labels > 0])
    sealed = deep & ~reached
    sealed[[k for k in range(scan.shape[0]) if k not in slices]] = False
    voxel_mm3 = float(np.prod(scan.pixel_spacing)) * float(scan.slice_spacing or scan.slice_thickness or 1.0)
    lesion = np.zeros(scan.shape, dtype=bool)
    if sealed.any():
        flooded = _shared_out(
            window, reached, sealed, steep[:, None, None] & (distance <= radii + NECK_MM[1])
        )
        inside = distance <= radii
        shell = inside & (distance > radii - PLATE_MM)
        lesion[:, window.rows, window.columns] = _draft(window, flooded, inside, shell, steep)
    full = np.zeros(scan.shape, dtype=bool)
    full[:, window.rows, window.columns] = sealed
    marrow_mm3 = float(np.count_nonzero(deep[slices])) * voxel_mm3
    return Junction(
        slices, full, marrow_mm3, lesion, voxel_mm3, deepest(window, sealed) if sealed.any() else None
    )


def _offsets_mm(scan: Scan, head: Head, window: HeadWindow) -> tuple[np.ndarray, np.ndarray]:
    """Row and column offsets (mm) of the window's pixels from the head's centre, broadcastable."""
    row_mm, column_mm = scan.pixel_spacing
    r = (np.arange(window.rows.start, window.rows.stop)[:, None] - head.centre[1]) * row_mm
    c = (np.arange(window.columns.start, window.columns.stop)[None, :] - head.centre[2]) * column_mm
    return r, c


def _neck_marrow(
    scan: Scan,
    side: str,
    window: HeadWindow,
    r: np.ndarray,
    c: np.ndarray,
    radii: np.ndarray,
    steep: np.ndarray,
) -> np.ndarray:
    """The neck's light marrow just beyond the head's surface, on the ``steep`` slices that show
    ``NECK_MM2`` of it (beyond the head's oblique end slices, the ring runs through soft tissue)."""
    distance = np.hypot(r, c)
    towards = lateral_direction(scan, side, NECK_TILT_DEG)
    cone = (r * towards[0] + c * towards[1]) >= distance * np.cos(np.radians(NECK_DEG))
    ring = (distance >= radii + NECK_MM[0]) & (distance <= radii + NECK_MM[1]) & cone
    neck = ring & steep[:, None, None] & window.free & (window.signal >= NECK_BRIGHT)
    shown = neck.sum(axis=(1, 2)) * float(np.prod(scan.pixel_spacing)) >= NECK_MM2
    return neck & shown[:, None, None]


def _shared_out(
    window: HeadWindow, reached: np.ndarray, sealed: np.ndarray, within: np.ndarray
) -> np.ndarray:
    """The marrow the sealed marrow's flood reaches first (1) and the neck's (2): a 3-D watershed on
    the dark ridges.

    The seeds are both regions eroded by ``CORE_MM``, off the closing's edge, and off what the
    other one holds on the next slices (a band's gap joins a lesion's marrow to the neck's on a
    slice): the watershed shares that out, the slices without a neck and the band's gaps.
    """
    markers = np.zeros(window.free.shape, dtype=np.int32)
    for label, region, other in ((2, reached & within, sealed), (1, sealed, reached & within)):
        beside = ndimage.binary_dilation(other, structure=np.array([[[1]], [[0]], [[1]]], dtype=bool))
        for k in np.nonzero(region.any(axis=(1, 2)))[0]:
            core = ndimage.distance_transform_edt(region[k], sampling=window.pixel_spacing) > CORE_MM
            markers[k][core & ~beside[k]] = label
    light = within & ~window.barrier
    return watershed(window.ridges, markers, connectivity=across_slices(), mask=light | (markers > 0))


def _draft(
    window: HeadWindow, flooded: np.ndarray, inside: np.ndarray, shell: np.ndarray, steep: np.ndarray
) -> np.ndarray:
    """The head less its healthy marrow and the plate (``shell``) over it, where joined to the lesion's
    marrow (not the specks and partial volume nothing floods); end slices as the nearest steep one."""
    lesion = np.zeros(inside.shape, dtype=bool)
    for k in np.nonzero(steep)[0]:
        marrow = ndimage.binary_fill_holes((flooded[k] == 2) & inside[k])
        near = ndimage.distance_transform_edt(~marrow, sampling=window.pixel_spacing) <= PLATE_MM + 0.5
        lesion[k] = inside[k] & ~marrow & ~(shell[k] & near)
    parts, _ = ndimage.label(lesion, structure=across_slices())
    joined = np.unique(parts[(flooded == 1) & lesion])
    lesion = np.isin(parts, joined[joined > 0])
    steep_slices = np.nonzero(steep)[0]
    for k in np.nonzero(inside.any(axis=(1, 2)) & ~steep)[0] if steep_slices.size else ():
        nearest = steep_slices[np.argmin(np.abs(steep_slices - k))]
        lesion[k] = inside[k] & lesion[nearest]
    return lesion
