"""A preview of proposed lesions: one labels layer drawn over the scan they were traced on.

Find lesions and Carry baseline show their proposals this way. A preview is to look at: adding or
removing it keeps the reader's selected layer (the tracing, where the brush paints and Ctrl+Z
undoes), and it is never a lesion layer, so no tool writes into it and no readout counts it. It
names the scan it lies over, so that side by side it is drawn in that scan's panel (see
:func:`napari_onfh_volume.compare.pairs`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from ..band_fill import Proposal
from ..layers import PREVIEW_OVER_KEY, PREVIEW_SHOWN_KEY, placed_like, scan_of
from ..timepoint import selection_kept

OPACITY = 0.45


def show_preview(viewer, name: str, proposals: Sequence[Proposal], over) -> None:
    """Draw ``proposals`` (each with its label) as the layer ``name`` over the scan layer ``over``.

    An earlier preview of that name is replaced; with no proposal, none is left.
    """
    with selection_kept(viewer):
        if name in viewer.layers:  # perhaps over another scan: placed afresh
            viewer.layers.remove(name)
        if not proposals:
            return
        data = np.zeros(proposals[0].mask.shape, dtype=np.uint8)
        for proposal in proposals:
            data[proposal.mask] = proposal.label
        # The compare view draws the latest preview over a scan in that scan's panel.
        metadata = {PREVIEW_OVER_KEY: scan_of(over).source, PREVIEW_SHOWN_KEY: time.monotonic()}
        viewer.add_labels(data, name=name, opacity=OPACITY, metadata=metadata, **placed_like(over))
        if viewer.layers.selection.active is not None and viewer.layers.selection.active.name == name:
            viewer.layers.selection.active = over  # nothing was selected: the scan, never the preview


def drop_preview(viewer, name: str) -> None:
    """Remove the preview ``name`` (if shown), the reader's selection kept."""
    if name in viewer.layers:
        with selection_kept(viewer):
            viewer.layers.remove(name)
