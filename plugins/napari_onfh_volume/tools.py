"""Tracing aids applied to a napari labels layer, each as one undoable edit.

The pixels come from :mod:`onfh_volume.tracing`; they are written through the layer's own
``data_setitem``, so napari records them in its undo history and emits its paint event (which
keeps the live readout current).
"""

from __future__ import annotations

import numpy as np

from onfh_volume.tracing import DEFAULT_MAX_GAP_PX, fill_outline, interpolate_between_slices


def _set(layer, pixels: np.ndarray, label: int, slice_index: int | None = None) -> int:
    """Set ``pixels`` (boolean; 2-D for one slice) to ``label`` as one undo step; return how many."""
    where = np.nonzero(pixels)
    if slice_index is not None:
        where = (np.full(len(where[0]), slice_index), *where)
    if not len(where[0]):
        return 0
    layer.data_setitem(where, label)
    return len(where[0])


def fill_traced_outline(layer, slice_index: int, label: int, max_gap_px: int = DEFAULT_MAX_GAP_PX) -> int:
    """Fill the inside of the outline traced with ``label`` on one slice; return the pixels filled.

    Raises
    ------
    TracingError
        When nothing is traced there, or the outline is open (see :func:`onfh_volume.tracing.fill_outline`).
    """
    plane = np.asarray(layer.data[slice_index])
    inside = fill_outline(
        plane, label, max_gap_px=max_gap_px, where=f"slice {slice_index + 1} of '{layer.name}'"
    )
    return _set(layer, inside, label, slice_index)


def fill_between_slices(layer, label: int) -> int:
    """Interpolate ``label`` on the untraced slices between traced ones; return the pixels filled.

    Raises
    ------
    TracingError
        When the lesion is traced on fewer than two slices.
    """
    pixels = interpolate_between_slices(np.asarray(layer.data), label, where=f"'{layer.name}'")
    return _set(layer, pixels, label)
