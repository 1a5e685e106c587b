"""Write a tracing aid's pixels into a napari labels layer as one undoable edit.

The pixels come from :mod:`onfh_volume.outline_fill`; they are written through the layer's own
``data_setitem``, so napari records them in its undo history and emits its paint event (which
keeps the live readout current).
"""

from __future__ import annotations

import numpy as np


def set_pixels(
    layer, pixels: np.ndarray, label: int, slice_index: int | None = None, clear: np.ndarray | None = None
) -> int:
    """Set ``pixels`` (boolean; 2-D for one slice) to ``label`` as one undo step; return how many.

    ``clear`` (boolean, the layer's shape) names voxels set back to background in the same step.

    Examples
    --------
    >>> from napari.layers import Labels
    >>> layer = Labels(np.zeros((2, 3, 3), dtype=np.uint8))
    >>> set_pixels(layer, np.eye(3, dtype=bool), 1, slice_index=1)
    3
    >>> int(layer.data[1].sum())
    3
    >>> set_pixels(layer, np.zeros((2, 3, 3), bool), 1, clear=layer.data == 1)
    0
    >>> int(layer.data.sum())
    0
    """
    where = np.nonzero(pixels)
    if slice_index is not None:
        where = (np.full(len(where[0]), slice_index), *where)
    values = np.full(len(where[0]), label)
    if clear is not None:
        cleared = np.nonzero(clear & ~pixels)
        where = tuple(np.concatenate(pair) for pair in zip(where, cleared, strict=True))
        values = np.concatenate([values, np.zeros(len(cleared[0]), dtype=values.dtype)])
    if len(where[0]):
        layer.data_setitem(where, values)
    return int(np.count_nonzero(values))
