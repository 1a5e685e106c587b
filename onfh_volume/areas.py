"""Step 3 of the pipeline: traced area of each lesion on each slice."""

from __future__ import annotations

import numpy as np

#: Label values up to this are counted with a dense table, larger ones are renumbered first.
DENSE_LABELS = 1 << 16


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
    if top < DENSE_LABELS:
        values = np.arange(top + 1)
    else:
        # Sparse large label values (a label 70000): number them 0..n-1 first, so the table below
        # stays small; below the bound, skipping this sort keeps counting a single pass.
        values, labels = np.unique(labels, return_inverse=True)
        labels = labels.reshape(slices, -1)
    width = len(values)
    # One bincount over (slice, label) pairs counts every label on every slice in a single pass.
    keys = labels.reshape(slices, -1).astype(np.int64, copy=False) + width * np.arange(slices)[:, None]
    table = np.bincount(keys.ravel(), minlength=slices * width).reshape(slices, width)
    return {int(value): table[:, k] for k, value in enumerate(values) if value > 0 and table[:, k].any()}


def slice_areas_mm2(counts: np.ndarray, pixel_spacing: tuple[float, float]) -> np.ndarray:
    """Area per slice in mm²: pixel count x row spacing x column spacing."""
    return np.asarray(counts) * (pixel_spacing[0] * pixel_spacing[1])
