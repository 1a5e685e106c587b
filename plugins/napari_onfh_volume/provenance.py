"""Which slices of each lesion came from which tracing aid ("Fill between slices", Band fill, "Find
lesions", "Carry baseline to follow-up").

Qt-free. Decision: the marks of a lesion layer live in the layer's public ``metadata`` dict (under
:data:`SOURCES_KEY`), not in a widget nor in a registry of the plugin: an aid's dock (Band fill)
marks the slices it writes without knowing the Lesion volume widget or its session, the marks
go when the layer goes, and a session that follows the layer later (after another scan was
chosen, or a dock was reopened) finds them. A mask opened from a saved record gets the marks
the record lists.

A mark follows napari's undo history without reading it (the session following the layer
drives this from its live readout): when a marked slice no longer holds any voxel of its label (an
undone fill, an erased slice) the mark goes dormant, and a redo or undo that brings the voxels back
wakes it; an edit of that slice while the mark is dormant forgets it, so a slice traced by hand
after an undone fill is not claimed by the aid. A reader who paints more on a marked slice keeps
the mark: the aid's pixels are still there to check, as with a slice filled between slices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from onfh_volume.record import read_aided_slices
from onfh_volume.vocabulary import LABEL_NAMES

#: Key of a lesion layer's ``metadata`` holding its :class:`SliceSources`.
SOURCES_KEY = "onfh_slice_sources"
#: Key of a lesion layer's ``metadata`` naming the mask file it was opened from.
MASK_FILE_KEY = "onfh_mask_file"


@dataclass(frozen=True)
class Aid:
    """A tracing aid whose slices are marked: its field in the saved JSON and how the readout names it."""

    field: str
    mark: str
    note: str
    hint: str


FILL_BETWEEN = Aid("interpolated_slices", "filled", "filled between slices", "filled between traced slices")
BAND_FILL = Aid("band_fill_slices", "band fill", "from band fill", "proposed by band fill from a click")
#: Accepted from "Find lesions": drafted without a click, so a study can count them apart from band fill's.
DETECTED = Aid(
    "detected_slices", "detected", "found by Find lesions", "found by Find lesions without a click"
)
#: Accepted from "Carry baseline to follow-up": the baseline's tracing mapped and refined on this scan.
PROPAGATED = Aid(
    "propagated_slices", "propagated", "carried from the baseline", "carried from the baseline's tracing"
)
AIDS = (FILL_BETWEEN, BAND_FILL, DETECTED, PROPAGATED)

Marked = dict[Aid, dict[int, list[int]]]


class SliceSources:
    """Per aid and label, the slices that aid filled.

    Parameters
    ----------
    marks
        Initial marks: per JSON field of an aid (``"band_fill_slices"``), per label, slices.

    Examples
    --------
    >>> sources = SliceSources()
    >>> pixels = np.zeros((4, 2, 2), dtype=bool)
    >>> pixels[[1, 2], 0, 0] = True
    >>> sources.mark(BAND_FILL, 2, pixels)
    >>> counts = {2: np.array([0, 5, 3, 0])}
    >>> sources.marked(lambda label: counts[label])[BAND_FILL]
    {2: [1, 2]}
    >>> counts[2][2] = 0  # the fill was undone on slice 2
    >>> sources.settle(lambda label: counts[label])
    >>> sources.marked(lambda label: counts[label])[BAND_FILL]
    {2: [1]}
    """

    def __init__(self, marks: Mapping[str, Mapping[int, Iterable[int]]] | None = None) -> None:
        marks = marks or {}
        self._marks = {
            aid: {int(label): {int(k) for k in slices} for label, slices in marks.get(aid.field, {}).items()}
            for aid in AIDS
        }
        self._dormant: set[tuple[Aid, int, int]] = set()

    def mark(self, aid: Aid, label: int, pixels: np.ndarray) -> None:
        """Mark the slices that ``pixels`` (what ``aid`` is about to write with ``label``) touch.

        Called before the edit, so that the readout's update after it shows the marks.
        """
        slices = np.flatnonzero(pixels.reshape(len(pixels), -1).any(axis=1)).tolist()
        self._marks[aid].setdefault(label, set()).update(slices)
        self._dormant -= {(aid, label, k) for k in slices}

    def edited(self, slices: Iterable[int]) -> None:
        """A hand or tool edit touched ``slices``: dormant marks there are forgotten."""
        touched = set(slices)
        for aid, label, k in {entry for entry in self._dormant if entry[2] in touched}:
            self._marks[aid][label].discard(k)
            self._dormant.discard((aid, label, k))

    def settle(self, counts: Callable[[int], np.ndarray]) -> None:
        """After any change: a marked slice without voxels of its label (``counts(label)``) goes dormant."""
        self._dormant = {
            (aid, label, k)
            for aid, labels in self._marks.items()
            for label, slices in labels.items()
            for k, held in _held(slices, counts(label))
            if not held
        }

    def marked(self, counts: Callable[[int], np.ndarray]) -> Marked:
        """Per aid, per label, the marked slices that hold voxels of the label (never an empty slice)."""
        found: Marked = {}
        for aid, labels in self._marks.items():
            for label, slices in labels.items():
                if present := sorted(k for k, held in _held(slices, counts(label)) if held):
                    found.setdefault(aid, {})[label] = present
        return found


def _held(slices: Iterable[int], counts: np.ndarray) -> Iterable[tuple[int, bool]]:
    return ((k, 0 <= k < len(counts) and bool(counts[k])) for k in slices)


def slice_sources(layer) -> SliceSources:
    """The marks of a lesion layer, made on first use (from the record beside the mask it was opened from).

    Examples
    --------
    >>> from napari.layers import Labels
    >>> layer = Labels(np.zeros((2, 3, 3), dtype=np.uint8))
    >>> slice_sources(layer) is slice_sources(layer)
    True
    """
    found = layer.metadata.get(SOURCES_KEY)
    if not isinstance(found, SliceSources):
        source = layer.metadata.get(MASK_FILE_KEY)
        found = SliceSources(read_aided_slices(source) if source else None)
        layer.metadata = {**layer.metadata, SOURCES_KEY: found}
    return found


def by_field(marked: Marked) -> dict[str, dict[int, list[int]]]:
    """Marks as the saved record lists them: per JSON field of each aid."""
    return {aid.field: slices for aid, slices in marked.items()}


def slice_note(k: int, marked: Marked) -> str:
    """The line shown on the canvas for slice ``k`` ("" when no aid filled it).

    Examples
    --------
    >>> slice_note(5, {FILL_BETWEEN: {1: [5]}, BAND_FILL: {2: [4, 5]}})
    'slice 5: right hip lesion filled between slices, left hip lesion from band fill: check it'
    >>> slice_note(3, {BAND_FILL: {2: [4, 5]}})
    ''
    """
    parts = [
        f"{LABEL_NAMES.get(label, f'label {label}')} {aid.note}"
        for aid in AIDS
        for label, slices in sorted(marked.get(aid, {}).items())
        if k in slices
    ]
    return f"slice {k}: {', '.join(parts)}: check it" if parts else ""
