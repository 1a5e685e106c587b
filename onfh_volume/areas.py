"""Step 3 of the pipeline: traced area of each lesion on each slice."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def pixel_counts(slice_index: np.ndarray, values: np.ndarray, slices: int) -> dict[int, np.ndarray]:
    """Count each label's pixels on each slice, from the lesion pixels alone.

    Lesions fill a small part of the grid, so the caller finds their pixels once (``np.argwhere``)
    and only those are counted, instead of passing over every voxel of the scan per label.

    Parameters
    ----------
    slice_index
        Slice of each lesion pixel.
    values
        Label of each lesion pixel (0 = background is ignored, as are negative values).
    slices
        Number of slices of the scan.

    Returns
    -------
    dict
        ``{label: counts}`` for every positive label present, ``counts[k]`` being its number of
        pixels on slice ``k`` (an int64 array of length ``slices``).

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((2, 3, 3), dtype=int); labels[1, :2, :2] = 1
    >>> voxels = np.argwhere(labels)
    >>> pixel_counts(voxels[:, 0], labels[tuple(voxels.T)], 2)[1].tolist()
    [0, 4]
    """
    found, number = np.unique(values, return_inverse=True)
    # One bincount over (label, slice) pairs counts every label on every slice in a single pass;
    # numbering the labels first keeps the table small whatever their values (a label 70000).
    table = np.bincount(
        number.ravel().astype(np.int64) * slices + slice_index, minlength=len(found) * slices
    ).reshape(len(found), slices)
    return {int(value): table[k] for k, value in enumerate(found) if value > 0}


def slice_areas_mm2(counts: np.ndarray, pixel_spacing: tuple[float, float]) -> np.ndarray:
    """Area per slice in mm²: pixel count x row spacing x column spacing."""
    return np.asarray(counts) * (pixel_spacing[0] * pixel_spacing[1])


def _label_counts(labels: np.ndarray) -> dict[int, np.ndarray]:
    """:func:`pixel_counts` of a whole (slice, row, column) label array."""
    where = np.nonzero(labels)
    return pixel_counts(where[0], labels[where], labels.shape[0])


class SliceCounts:
    """Per-slice pixel counts of every label of a mask that is being traced, kept current slice by slice.

    Counting a whole 512 x 512 x 40 mask takes tens of milliseconds; recounting the one slice a
    brush stroke touched takes about one, which keeps a live readout live.

    Parameters
    ----------
    labels
        The (slice, row, column) labels being edited. The object keeps a reference: call
        :meth:`update` with the slices that changed after each edit.

    Examples
    --------
    >>> labels = np.zeros((3, 4, 4), dtype=np.uint8)
    >>> counts = SliceCounts(labels)
    >>> labels[2, :2, :] = 1
    >>> counts.update(labels, [2])
    >>> counts.counts(1).tolist()
    [0, 0, 8]
    """

    def __init__(self, labels: np.ndarray) -> None:
        self._slices = labels.shape[0]
        self._shape = labels.shape
        self._counts: dict[int, np.ndarray] = {}
        self.update(labels)

    def update(self, labels: np.ndarray, slices: Iterable[int] | None = None) -> None:
        """Recount ``slices`` of ``labels`` (every slice when None, or when the grid changed)."""
        if slices is None or labels.shape != self._shape:
            self._slices, self._shape = labels.shape[0], labels.shape
            self._counts = _label_counts(labels)
            return
        for k in sorted(set(slices)):
            plane = _label_counts(labels[k : k + 1])
            for label, counts in self._counts.items():
                counts[k] = plane.pop(label, np.zeros(1, dtype=np.int64))[0]
            for label, counts in plane.items():
                self._counts[label] = np.zeros(self._slices, dtype=np.int64)
                self._counts[label][k] = counts[0]
        self._counts = {label: counts for label, counts in self._counts.items() if counts.any()}

    def apply(self, slices: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
        """Account for pixels on ``slices`` whose label changed from ``before`` to ``after``.

        Cheaper than :meth:`update` for an edit that lists its pixels (an undo record), and
        independent of whether the array already holds the new values.
        """
        slices = np.asarray(slices, dtype=np.int64).ravel()
        for values, sign in ((before, -1), (after, 1)):
            values = np.asarray(values, dtype=np.int64)
            values = values.ravel() if values.size == slices.size else np.broadcast_to(values, slices.shape)
            # One key per (label, slice) pair: a single 1-D unique counts them all.
            keys, counts = np.unique(values * self._slices + slices, return_counts=True)
            labels, where = np.divmod(keys, self._slices)
            for label in np.unique(labels[labels != 0]).tolist():
                chosen = labels == label
                target = self._counts.setdefault(label, np.zeros(self._slices, dtype=np.int64))
                np.add.at(target, where[chosen], sign * counts[chosen])
        self._counts = {label: counts for label, counts in self._counts.items() if counts.any()}

    def labels(self) -> list[int]:
        """The labels present, in increasing order."""
        return sorted(self._counts)

    def counts(self, label: int) -> np.ndarray:
        """Pixels of ``label`` on each slice (zeros when the label is absent)."""
        return self._counts.get(label, np.zeros(self._slices, dtype=np.int64)).copy()
