"""Live readout of a lesion layer: per-slice areas and both volumes, kept current as the reader traces.

Qt-free model of the dock widget's readout. It listens to the labels layer: a brush stroke,
polygon, fill or tracing aid (napari's ``paint`` event, which lists the edited pixels) updates
the counts from the pixels it changed; undo, redo or a replaced array recount everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from onfh_volume.areas import SliceCounts, slice_areas_mm2
from onfh_volume.scan import Scan
from onfh_volume.vocabulary import LABEL_NAMES
from onfh_volume.volume import both_volumes_cm3


@dataclass(frozen=True)
class LesionReadout:
    """One label's per-slice areas and volumes, as the widget shows them."""

    label: int
    name: str
    pixel_counts: np.ndarray
    slice_areas_mm2: np.ndarray
    volume_thickness_cm3: float | None
    volume_cavalieri_cm3: float | None

    @property
    def traced_slices(self) -> int:
        return int(np.count_nonzero(self.pixel_counts))


def lesion_readout(scan: Scan, label: int, counts: np.ndarray) -> LesionReadout:
    """Areas and volumes of ``label`` from its per-slice pixel counts on ``scan``'s grid."""
    thickness_cm3, cavalieri_cm3 = both_volumes_cm3(scan, int(counts.sum()))
    return LesionReadout(
        label=label,
        name=LABEL_NAMES.get(label, f"label {label}"),
        pixel_counts=counts,
        slice_areas_mm2=slice_areas_mm2(counts, scan.pixel_spacing),
        volume_thickness_cm3=thickness_cm3,
        volume_cavalieri_cm3=cavalieri_cm3,
    )


def changed_pixels(history_item: Iterable) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(slice index, label before, label after) of the pixels one napari undo-history item changed.

    napari records an edit before it writes it, so the readout works from this record rather
    than from the array, which may not hold the new values yet when the paint event fires.
    """
    for atom in history_item:
        key = getattr(atom, "slice_key", None)
        if key is None:  # data_setitem's (indices, values before, values after)
            indices, before, after = atom
            yield np.asarray(indices[0]), np.asarray(before), np.asarray(after)
        elif atom.mask is None:  # a bounding box that changed as a whole
            before = np.asarray(atom.old_values)
            slices = np.arange(key[0].start or 0, key[0].stop)
            yield (
                np.broadcast_to(slices.reshape(-1, *([1] * (before.ndim - 1))), before.shape),
                before,
                atom.new_value,
            )
        else:
            where = np.nonzero(atom.mask)
            yield (key[0].start or 0) + where[0], np.asarray(atom.old_values), atom.new_value


class LiveReadout:
    """Per-slice counts of a lesion layer, updated from the layer's events.

    Parameters
    ----------
    layer
        A napari Labels layer on ``scan``'s grid.
    scan
        Its scan geometry.
    changed
        Called with the set of recounted slices (None: all) after every update.
    """

    def __init__(self, layer, scan: Scan, changed: Callable[[set[int] | None], None] | None = None) -> None:
        self.layer = layer
        self.scan = scan
        self.changed = changed
        self.edits = 0
        self._counts = SliceCounts(np.asarray(layer.data))
        self._history = self._history_lengths()
        layer.events.paint.connect(self._on_paint)
        layer.events.data.connect(self._on_data)
        layer.events.set_data.connect(self._on_set_data)

    def disconnect(self) -> None:
        """Stop listening to the layer."""
        self.layer.events.paint.disconnect(self._on_paint)
        self.layer.events.data.disconnect(self._on_data)
        self.layer.events.set_data.disconnect(self._on_set_data)

    def lesions(self) -> list[LesionReadout]:
        """Every label present plus the two named ones, in label order."""
        labels = sorted(set(self._counts.labels()) | set(LABEL_NAMES))
        return [lesion_readout(self.scan, label, self._counts.counts(label)) for label in labels]

    def _history_lengths(self) -> tuple[int, int]:
        # napari keeps no public undo event; the lengths of its history queues tell an undo or redo.
        return len(getattr(self.layer, "_undo_history", ())), len(getattr(self.layer, "_redo_history", ()))

    def _changed(self, slices: set[int] | None) -> None:
        self._history = self._history_lengths()
        self.edits += 1
        if self.changed is not None:
            self.changed(slices)

    def _recount(self) -> None:
        self._counts.update(np.asarray(self.layer.data))
        self._changed(None)

    def _on_paint(self, event) -> None:
        # A stroke is many small records (one per mouse move): count them in one go.
        changes = list(changed_pixels(event.value))
        if not changes:
            return
        slices = np.concatenate([np.ravel(k) for k, _before, _after in changes])
        before = np.concatenate([np.ravel(b) for _k, b, _after in changes])
        after = np.concatenate([np.broadcast_to(a, np.shape(k)).ravel() for k, _before, a in changes])
        self._counts.apply(slices, before, after)
        self._changed(set(np.unique(slices).tolist()))

    def _on_data(self, _event) -> None:
        self._recount()

    def _on_set_data(self, _event) -> None:
        # set_data also fires on every slice step and in the middle of a stroke (whose pixels the
        # paint event will bring): only an undo (redo queue grows) or a redo (undo queue grows
        # without a paint event) changed the data behind the readout's back.
        if getattr(self.layer, "_staged_history", None):
            return
        undo, redo = self._history_lengths()
        if redo > self._history[1] or (undo > self._history[0] and redo < self._history[1]):
            self._recount()
        else:
            self._history = (undo, redo)
