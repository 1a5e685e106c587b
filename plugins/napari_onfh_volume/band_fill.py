"""Band fill: one click inside a lesion proposes the whole lesion; accepted, it is one undo step.

Qt-free: the widget (``_qt/band_fill_widget.py``) only wires events to these functions. The proposal is
computed by :func:`onfh_volume.trace.lesions.trace_lesions` (band and subchondral plate included,
labelled by the side rule); accepting it writes it into the lesion layer through the layer's own
``data_setitem``, so napari's undo takes it back in one step, and marks the slices it wrote as
band fill's on the layer (:mod:`~napari_onfh_volume.provenance`), for the readout. A slice the
reader already traced with that label is left as it is unless replacing is asked for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from onfh_volume.errors import OnfhError, SeedError
from onfh_volume.scan import Scan
from onfh_volume.trace.barrier import Settings
from onfh_volume.trace.lesions import edge_notes, trace_lesions

from .provenance import BAND_FILL, Aid, slice_sources
from .tools import set_pixels

DEFAULT_SENSITIVITY = 50


@dataclass
class Proposal:
    """A proposed lesion: its voxels, its label (1 right hip, 2 left), the slices it is on, and warnings."""

    mask: np.ndarray
    label: int
    slices: list[int]
    notes: list[str] = dataclasses.field(default_factory=list)


def settings_for(sensitivity: int) -> Settings:
    """Settings of a sensitivity from 0 to 100: higher sees fainter bands (a smaller, safer lesion).

    Examples
    --------
    >>> settings_for(50) == Settings()
    True
    >>> settings_for(100).ridge < settings_for(0).ridge
    True
    """
    if not 0 <= sensitivity <= 100:
        raise ValueError(f"sensitivity must be from 0 to 100, not {sensitivity}")
    shift = (sensitivity - DEFAULT_SENSITIVITY) / 50.0
    base = Settings()
    return dataclasses.replace(base, dark=base.dark + 0.1 * shift, ridge=base.ridge * (1 - 0.4 * shift))


def propose(
    scan: Scan, seeds: Sequence[tuple[int, int, int]], sensitivity: int = DEFAULT_SENSITIVITY
) -> Proposal:
    """The lesion around ``seeds`` (slice, row, column) on ``scan`` (with its pixels).

    Several seeds in one lesion give it once, joined: where the tracing from the first stopped
    short of the lesion's end, a second click on a slice it missed adds the rest, also on an end
    slice that shows only the band and plate (:mod:`onfh_volume.trace.end_slice`).

    Raises
    ------
    onfh_volume.errors.SeedError
        For a seed outside the scan, outside a femoral head, or on the band; for seeds in the two
        hips' lesions (one proposal is one lesion).
    """
    labels, tracings = trace_lesions(scan, seeds, settings_for(sensitivity))
    found = [int(label) for label in np.unique(labels) if label]
    if len(found) > 1:
        raise SeedError(
            scan.source,
            "the clicks are in both hips' lesions: accept one hip's lesion, then click in the other",
        )
    slices = sorted({k for tracing in tracings for k in tracing.slices})
    return Proposal(labels == found[0], found[0], slices, [str(note) for note in edge_notes(scan, tracings)])


def propose_or_refusal(
    scan: Scan, seeds: Sequence[tuple[int, int, int]], sensitivity: int = DEFAULT_SENSITIVITY
) -> Proposal | str:
    """:func:`propose`, with a refused seed given back as its one-line reason (for a worker thread)."""
    try:
        return propose(scan, seeds, sensitivity)
    except OnfhError as error:
        return error.problem


def accept(layer, proposal: Proposal, *, replace_traced: bool = False, aid: Aid = BAND_FILL) -> int:
    """Write ``proposal`` into the lesion layer as one undo step; return the voxels set.

    Only background voxels are set, so another lesion is never taken over; slices where the reader
    already traced ``proposal.label`` are skipped, unless ``replace_traced``: then the reader's
    tracing of that lesion on the proposal's slices becomes the proposal's. The slices written are
    marked as ``aid``'s: band fill's (:data:`~napari_onfh_volume.provenance.BAND_FILL`) unless the
    proposal came from "Find lesions" (``DETECTED``) or "Carry baseline to follow-up" (``PROPAGATED``).
    """
    data = np.asarray(layer.data)
    own = data == proposal.label
    pixels = proposal.mask & (data == 0)
    clear = None
    if replace_traced:
        clear = own & ~proposal.mask
        clear[np.setdiff1d(np.arange(len(data)), proposal.slices)] = False
        written = proposal.mask & (pixels | own)
    else:
        pixels[own.any(axis=(1, 2))] = False
        written = pixels
    slice_sources(layer).mark(aid, proposal.label, written)  # before the edit: the readout shows it
    return set_pixels(layer, pixels, proposal.label, clear=clear)


def traced_slices(proposal: Proposal, layer) -> list[int]:
    """The proposal's slices that the reader already traced with its label (left as they are)."""
    data = np.asarray(layer.data)
    return [k for k in proposal.slices if np.any(data[k] == proposal.label)]
