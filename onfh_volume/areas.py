"""Step 3 of the pipeline: traced area of each lesion on each slice."""

from __future__ import annotations

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
