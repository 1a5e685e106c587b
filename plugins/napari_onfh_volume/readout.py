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

from .hips import HipCheck


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


def changed_pixels(history_item: Iterable) -> Iterator[tuple[tuple[np.ndarray, ...], np.ndarray]]:
    """(index, label after) of the pixels one edit changed, from the value of napari's ``paint`` event.

    The event lists the edit's records: ``(indices, values before, values after)`` written by
    ``Labels.data_setitem``, or a masked record (``slice_key``, ``mask``, ``new_value``) written by
    the brush, polygon and fill. napari emits the event of a ``data_setitem`` before it writes the
    array, so the new values are taken from the record, not from the array.
    """
    for atom in history_item:
        key = getattr(atom, "slice_key", None)
        if key is None:
            indices, _before, after = atom
            yield tuple(np.asarray(i).ravel() for i in indices), np.asarray(after)
            continue
        starts = [k.start or 0 for k in key]
        if atom.mask is None:  # the whole bounding box changed
            box = np.shape(atom.old_values)
            where = tuple(axis.ravel() for axis in np.indices(box))
            after = np.broadcast_to(atom.new_value, box).ravel()
        else:
            where, after = np.nonzero(atom.mask), np.asarray(atom.new_value)
        yield tuple(axis + start for axis, start in zip(where, starts, strict=True)), after


class LiveReadout:
    """Per-slice counts of a lesion layer, updated from the layer's public events.

    The readout keeps a mirror of the array its counts describe. A ``paint`` event (stroke,
    polygon, fill, tracing aid) lists the pixels it set; ``set_data`` (undo, redo, and every
    redraw) is checked against the mirror slice by slice; ``data`` (a replaced array) recounts
    everything. Each change is counted once whichever events report it. The slices recounted are
    checked for voxels of a hip's label in the other hip (:attr:`hips`).

    Parameters
    ----------
    layer
        A napari Labels layer on ``scan``'s grid.
    scan
        Its scan geometry.
    changed
        Called with the set of recounted slices (None: all) after every update.
    edited
        Called with the slices an edit (a ``paint`` event: stroke, polygon, fill, tracing aid)
        changed, before ``changed``; undo and redo are not edits.
    """

    def __init__(
        self,
        layer,
        scan: Scan,
        changed: Callable[[set[int] | None], None] | None = None,
        edited: Callable[[set[int]], None] | None = None,
    ) -> None:
        self.layer = layer
        self.scan = scan
        self.changed = changed
        self.edited = edited
        self._mirror = np.array(layer.data, copy=True)
        self._counts = SliceCounts(self._mirror)
        self.hips = HipCheck(scan)
        self.hips.update(self._mirror)
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

    def pixel_counts(self, label: int) -> np.ndarray:
        """Pixels of ``label`` on each slice, as counted now."""
        return self._counts.counts(label)

    def recount(self) -> None:
        """Recount the slices where the layer differs from what was counted (pixels written with no event)."""
        self._on_set_data(None)

    def _notify(self, slices: set[int] | None) -> None:
        self.hips.update(self._mirror, slices)
        if self.changed is not None:
            self.changed(slices)

    def _on_paint(self, event) -> None:
        touched: set[int] = set()
        for index, after in changed_pixels(event.value):
            before = self._mirror[index]
            after = np.broadcast_to(after, before.shape)
            moved = before != after
            if moved.any():
                where = tuple(axis[moved] for axis in index)
                self._counts.apply(where[0], before[moved], after[moved])
                self._mirror[where] = after[moved]
                touched.update(np.unique(where[0]).tolist())
        if touched:
            if self.edited is not None:
                self.edited(touched)
            self._notify(touched)

    def _on_data(self, _event) -> None:
        self._mirror = np.array(self.layer.data, copy=True)
        self._counts.update(self._mirror)
        self._notify(None)

    def _on_set_data(self, _event) -> None:
        data = np.asarray(self.layer.data)
        if data.shape != self._mirror.shape:
            self._on_data(None)
            return
        # About 3 ms on a 40 x 512 x 512 mask; a redraw that changed nothing ends here.
        stale = np.flatnonzero((data != self._mirror).reshape(len(data), -1).any(axis=1))
        if len(stale):
            self._mirror[stale] = data[stale]
            self._counts.update(self._mirror, stale.tolist())
            self._notify(set(stale.tolist()))
