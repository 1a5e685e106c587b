"""Step 3 of the pipeline: traced area of each lesion on each slice."""

from __future__ import annotations

import numpy as np


def pixel_counts(labels: np.ndarray) -> dict[int, np.ndarray]:
    """Count each label's pixels on each slice.

    Parameters
    ----------
    labels
        (slice, row, column) integer labels, 0 = background.

    Returns
    -------
    dict
        ``{label: counts}`` for every non-zero label present, ``counts[k]`` being its number of
        pixels on slice ``k`` (an int64 array of length ``labels.shape[0]``).

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((2, 3, 3), dtype=int); labels[1, :2, :2] = 1
    >>> pixel_counts(labels)[1].tolist()
    [0, 4]
    """
    labels = np.asarray(labels)
    slices = labels.shape[0]
    top = int(labels.max()) if labels.size else 0
    if top == 0:
        return {}
    # One bincount over (slice, label) pairs counts every label on every slice in a single pass.
    per_slice = labels.reshape(slices, -1).astype(np.int64, copy=False)
    keys = per_slice + (top + 1) * np.arange(slices, dtype=np.int64)[:, None]
    table = np.bincount(keys.ravel(), minlength=slices * (top + 1)).reshape(slices, top + 1)
    return {label: table[:, label] for label in range(1, top + 1) if table[:, label].any()}


def slice_areas_mm2(counts: np.ndarray, pixel_spacing: tuple[float, float]) -> np.ndarray:
    """Area per slice in mm²: pixel count x row spacing x column spacing."""
    return np.asarray(counts) * (pixel_spacing[0] * pixel_spacing[1])
