"""Tracing aids on a lesion mask: fill a traced outline, fill the slices between traced ones.

Readers trace the band-like hypointense outline of the necrotic lesion; these functions turn that
outline into the traced area, and interpolate the lesion on slices the reader skipped. Both return
the pixels to set and never change a pixel of another label, nor a slice the reader traced.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.draw import line
from skimage.morphology import skeletonize

from .errors import TracingError

#: Gaps in a traced outline up to this many pixels wide are bridged before filling its inside.
DEFAULT_MAX_GAP_PX = 4


def fill_outline(
    plane: np.ndarray, label: int, *, max_gap_px: int = DEFAULT_MAX_GAP_PX, where: str | None = None
) -> np.ndarray:
    """Pixels inside the outline traced with ``label`` on one slice.

    The outline may be closed or nearly closed: loose ends up to ``max_gap_px`` pixels apart are
    joined by a straight segment first. Only background pixels (0) inside the outline are
    returned, so another lesion's pixels are never taken over.

    Parameters
    ----------
    plane
        2-D labels of one slice (row, column).
    label
        The label the outline was traced with.
    max_gap_px
        Widest gap in the outline, in pixels, that is still bridged.
    where
        Names the slice in error messages (e.g. ``"slice 7 of sub-01 baseline lesions"``).

    Returns
    -------
    numpy.ndarray
        Boolean (row, column) array: the pixels to set to ``label``.

    Raises
    ------
    TracingError
        When nothing is traced with ``label`` on the slice, or the outline encloses nothing
        (it is open by more than ``max_gap_px`` pixels).

    Examples
    --------
    >>> ring = np.zeros((9, 9), dtype=np.uint8)
    >>> ring[2, 2:7] = ring[6, 2:7] = ring[2:7, 2] = ring[2:7, 6] = 1
    >>> int(fill_outline(ring, 1).sum())  # the 3 x 3 inside
    9
    """
    outline = plane == label
    if not outline.any():
        raise TracingError(where, f"nothing is traced with label {label} on this slice")
    bridged = outline | _gap_bridges(outline, max_gap_px)
    inside = ndimage.binary_fill_holes(bridged) & ~outline & (plane == 0)
    if not inside.any():
        raise TracingError(
            where,
            f"the outline traced with label {label} encloses nothing: close it (gaps up to {max_gap_px} "
            "pixels are bridged) and fill again",
        )
    return inside


def _gap_bridges(outline: np.ndarray, max_gap_px: int) -> np.ndarray:
    """Straight segments closing the gaps of at most ``max_gap_px`` pixels in a traced outline.

    The loose ends are the end points of the outline's skeleton (one neighbour). A skeleton's end
    lies about half a stroke width short of the stroke's end, so each gap is measured, and bridged,
    between the stroke pixels around the two ends. The narrowest gaps are closed first, each end
    once, as a reader closing the outline with a ruler would.
    """
    skeleton = skeletonize(outline)
    neighbours = ndimage.convolve(skeleton.astype(np.uint8), np.ones((3, 3), dtype=np.uint8), mode="constant")
    ends = np.argwhere(skeleton & (neighbours == 2))
    half_width = ndimage.distance_transform_edt(outline)
    strokes = np.argwhere(outline)
    around = [
        strokes[np.abs(strokes - end).max(axis=1) <= 2 * int(np.ceil(half_width[tuple(end)])) + 1]
        for end in ends
    ]
    gaps = []
    for i in range(len(ends)):
        for j in range(i + 1, len(ends)):
            # Each end's side: its stroke pixels nearer to it than to the other end.
            side_i, side_j = (_nearer(around[k], ends[k], ends[m]) for k, m in ((i, j), (j, i)))
            if not len(side_i) or not len(side_j):
                continue
            # Chebyshev distance between the two sides, less one: the pixels missing in between.
            distance = np.abs(side_i[:, None, :] - side_j[None, :, :]).max(axis=2)
            a, b = np.unravel_index(int(np.argmin(distance)), distance.shape)
            gaps.append((int(distance[a, b]) - 1, i, j, side_i[a], side_j[b]))
    bridges = np.zeros(outline.shape, dtype=bool)
    joined: set[int] = set()
    for gap, i, j, start, stop in sorted(gaps, key=lambda g: g[:3]):
        if gap > max_gap_px:
            break
        if gap > 0 and not joined & {i, j}:
            joined.update((i, j))
            bridges[line(*start, *stop)] = True
    return bridges


def _nearer(pixels: np.ndarray, end: np.ndarray, other: np.ndarray) -> np.ndarray:
    return pixels[np.abs(pixels - end).max(axis=1) < np.abs(pixels - other).max(axis=1)]


def traced_slices(labels: np.ndarray, label: int) -> np.ndarray:
    """Indices of the slices (axis 0) on which ``label`` is traced."""
    return np.flatnonzero((labels == label).reshape(labels.shape[0], -1).any(axis=1))


def interpolate_between_slices(labels: np.ndarray, label: int, *, where: str | None = None) -> np.ndarray:
    """Pixels of ``label`` on the untraced slices between traced ones (morphological contour interpolation).

    The interpolation is ITK's MorphologicalContourInterpolator (Albu et al. 2008; Zukić et al.
    2016), the method behind 3D Slicer's and ITK-SNAP's "fill between slices". It is run on the
    lesion's bounding box only. Slices on which ``label`` is traced are never changed, and only
    background pixels are returned.

    Parameters
    ----------
    labels
        (slice, row, column) labels.
    label
        The lesion to interpolate.
    where
        Names the mask in error messages.

    Returns
    -------
    numpy.ndarray
        Boolean array of ``labels``'s shape: the pixels to set to ``label`` (all False when no
        untraced slice lies between traced ones).

    Raises
    ------
    TracingError
        When ``label`` is traced on fewer than two slices.
    """
    traced = traced_slices(labels, label)
    if len(traced) < 2:
        raise TracingError(
            where,
            f"label {label} is traced on {len(traced)} slice(s): trace it on at least two slices to fill between them",
        )
    result = np.zeros(labels.shape, dtype=bool)
    first, last = int(traced[0]), int(traced[-1])
    gaps = np.setdiff1d(np.arange(first, last + 1), traced)
    if not len(gaps):
        return result
    rows = np.flatnonzero((labels[first : last + 1] == label).any(axis=(0, 2)))
    columns = np.flatnonzero((labels[first : last + 1] == label).any(axis=(0, 1)))
    # One pixel of margin: the interpolated shape lies within the traced ones' bounding box.
    box = (
        slice(first, last + 1),
        slice(max(rows[0] - 1, 0), rows[-1] + 2),
        slice(max(columns[0] - 1, 0), columns[-1] + 2),
    )
    crop = labels[box]
    interpolated = _morphological_contour_interpolation((crop == label).astype(np.uint8))
    fill = interpolated.astype(bool) & (crop == 0)
    fill[traced - first] = False
    result[box] = fill
    return result


def _morphological_contour_interpolation(binary: np.ndarray) -> np.ndarray:
    """ITK's interpolation of a binary (slice, row, column) volume along its slice axis."""
    import itk  # imported here: loading ITK takes seconds, and only this aid needs it

    # ITK's default TBB threader aborted the interpreter at exit in about one run in three here
    # (heap corruption reported by glibc); its own platform threads did not, in the same runs.
    itk.MultiThreaderBase.SetGlobalDefaultThreader(itk.MultiThreaderBase.ThreaderTypeFromString("Platform"))
    image = itk.image_from_array(np.ascontiguousarray(binary))
    interpolator = itk.MorphologicalContourInterpolator.New(image)
    # ITK orders axes (column, row, slice): index 2 is numpy's axis 0.
    interpolator.SetAxis(2)
    interpolator.SetLabel(1)
    interpolator.Update()
    return itk.array_from_image(interpolator.GetOutput()).copy()
