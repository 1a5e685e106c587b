"""The band fill's own band test over a whole head: marrow a closed dark band encloses, and dark lines.

The head's barrier (:func:`onfh_volume.trace.barrier.head_window`: dark, or on a dark ridge,
relative to the head's marrow, closed over the band's gaps) cuts the head's marrow into parts; a
part that does not reach the head's far side from the dome (the neck's side) is marrow enclosed by
a closed dark band: a pocket. Only the slices that cut the head steeply (``STEEP``) count: on the
head's first and last slices partial volume darkens the whole cross-section.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..scan import Scan
from ..trace.barrier import HeadWindow
from ..trace.head import Head

STEEP = 0.5  # slices whose cross-section of the head is at least this share of its radius
MIN_POCKET_MM2 = 20.0  # smaller enclosed marrow on a slice is noise or a vessel's ring
DARK_LINE_DEPTH_MM = 5.0  # deeper than the subchondral plate and its partial volume


def dome(scan: Scan, head: Head) -> tuple[int, int, int]:
    """A voxel halfway up from the head's centre to its dome, on the centre's slice: the lesion's side."""
    row = head.centre[1] - 0.5 * head.radius_mm / scan.pixel_spacing[0]
    index = np.clip(np.rint([head.centre[0], row, head.centre[2]]), 0, np.array(scan.shape) - 1)
    return tuple(int(v) for v in index)  # type: ignore[return-value]


def largest_pocket(window: HeadWindow, head: Head) -> tuple[np.ndarray | None, int]:
    """The largest marrow enclosed by the closed barrier (window coordinates) and its slice count."""
    pockets = np.zeros(window.free.shape, dtype=bool)
    area = float(np.prod(window.pixel_spacing))
    for k in np.nonzero(window.radii >= STEEP * head.radius_mm)[0]:
        parts, _ = ndimage.label(window.free[k])
        healthy = np.unique(parts[window.far[k] & window.free[k]])
        enclosed = window.free[k] & ~np.isin(parts, healthy[healthy > 0])
        pieces, count = ndimage.label(enclosed)
        sizes = ndimage.sum(enclosed, pieces, range(1, count + 1)) * area
        pockets[k] = np.isin(pieces, 1 + np.flatnonzero(sizes >= MIN_POCKET_MM2))
    parts, count = ndimage.label(pockets, structure=across_slices())
    if count == 0:
        return None, 0
    largest = parts == 1 + int(np.argmax(ndimage.sum(pockets, parts, range(1, count + 1))))
    return largest, int(largest.any(axis=(1, 2)).sum())


def across_slices() -> np.ndarray:
    """Connectivity: 8 neighbours in the slice, and the same pixel on the next slices."""
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True
    structure[0, 1, 1] = structure[2, 1, 1] = True
    return structure


def deepest(window: HeadWindow, pocket: np.ndarray) -> tuple[int, int, int]:
    """The pocket's voxel farthest in-plane from its edge, on the scan grid."""
    depth = np.stack(
        [ndimage.distance_transform_edt(plane, sampling=window.pixel_spacing) for plane in pocket]
    )
    k, row, column = np.unravel_index(np.argmax(depth), depth.shape)
    return (int(k), int(row) + window.rows.start, int(column) + window.columns.start)


def dark_line_mm2(window: HeadWindow, head: Head, thickness_mm: float) -> float:
    """The largest dark (barrier) patch deeper than ``DARK_LINE_DEPTH_MM`` in the head on a steep slice, mm².

    The cortex and subchondral plate lie at the surface; healthy marrow has no dark line inside.
    Depth is counted from the smallest cross-section the slice takes in (its face nearer the head's
    pole, ``thickness_mm`` wide slices): towards the pole, partial volume shows the cortex of that
    face as a ring well inside the cross-section at the slice's centre.
    """
    largest = 0.0
    area = float(np.prod(window.pixel_spacing))
    for k in np.nonzero(window.radii >= STEEP * head.radius_mm)[0]:
        inset = slab_inset_mm(head.radius_mm, float(window.radii[k]), thickness_mm)
        dark = window.barrier[k] & (window.depth[k] > DARK_LINE_DEPTH_MM + inset)
        parts, count = ndimage.label(dark)
        if count:
            largest = max(largest, float(ndimage.sum(dark, parts, range(1, count + 1)).max()) * area)
    return largest


def slab_inset_mm(radius_mm: float, section_mm: float, thickness_mm: float) -> float:
    """How far inside a slice's central cross-section of a sphere (radius ``section_mm``) its
    smaller face's cross-section lies, the slice ``thickness_mm`` thick.

    Examples
    --------
    A slice 20 mm from the centre of a 25 mm sphere has a 15 mm section; 4 mm thick, its far face,
    22 mm from the centre, a sqrt(25² - 22²) = 11.87 mm one:

    >>> round(slab_inset_mm(25.0, 15.0, 4.0), 2)
    3.13
    """
    offset = np.sqrt(max(radius_mm**2 - section_mm**2, 0.0)) + thickness_mm / 2
    return section_mm - float(np.sqrt(max(radius_mm**2 - offset**2, 0.0)))
