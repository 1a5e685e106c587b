"""The follow-up lesion from the band fill at both timepoints, where it traces the lesion well.

The band fill does not trace as a reader does: it takes the band and plate by its own rule, so its
volume differs from a reader's tracing of the same lesion by a share of its own. So it traces
**both** timepoints, seeded alike (the deepest voxels of the baseline lesion at baseline, of the
mapped lesion at follow-up), and only where the two tracings differ does the follow-up lesion
differ from the mapped baseline lesion: the mapped lesion, less what the baseline tracing (mapped)
holds and the follow-up tracing does not, plus the reverse. What both tracings hold, or neither, is
the reader's outline, carried. Where it traces the lesion well at both timepoints, the band fill
follows the band's own shape closer than the outline's shift (:mod:`onfh_volume.draft.band_shift`)
does; often it does not (a lesion over most of the head, a band open to the neck).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

from ..errors import OnfhError
from ..scan import Scan
from ..trace.segment import trace_lesion
from .refine import dice

SEEDS = 4  # the lesion's deepest voxels (on different slices) tried as band fill seeds
MAX_LEAK = 2.0  # a tracing larger than this many times the lesion it was seeded from leaked
FOLLOWUP_TRACINGS = 2  # seeds that must trace at follow-up (at baseline, the reader's mask checks it)
MIN_REPRODUCED = 0.8  # the band fill's Dice with the baseline mask below this: it is not trusted here
MIN_AGREEMENT = 0.5  # Dice of the two timepoints' tracings below this: one went astray


def traced_lesion(
    baseline: Scan,
    lesion: np.ndarray,
    followup: Scan,
    mapped: np.ndarray,
    to_followup: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray | None:
    """The follow-up lesion from the band fill's change; ``None`` where the band fill is not trusted.

    It is not when it traces nothing at baseline or from fewer than ``FOLLOWUP_TRACINGS`` seeds at
    follow-up, does not reproduce the baseline mask (Dice under ``MIN_REPRODUCED``), or its two
    tracings overlap little (Dice under ``MIN_AGREEMENT``). ``to_followup`` maps a baseline mask
    onto the follow-up grid.
    """
    before = band_fill(baseline, lesion)
    if before is None or dice(before, lesion) < MIN_REPRODUCED:
        return None
    after = band_fill(followup, mapped, FOLLOWUP_TRACINGS)
    if after is None:
        return None
    before = to_followup(before)
    if dice(before, after) < MIN_AGREEMENT:
        return None
    return carried_change(mapped, before, after)


def band_fill(scan: Scan, lesion: np.ndarray, tracings_needed: int = 1) -> np.ndarray | None:
    """The band fill's lesion on ``scan`` from ``lesion``'s deepest voxels; ``None`` unless enough trace.

    The deepest voxel (in-plane distance to the lesion's outline) of each of the ``SEEDS`` slices
    where the lesion is thickest seeds a tracing; the tracings are joined, so one that stopped
    early is completed by another. A tracing more than ``MAX_LEAK`` times ``lesion``'s size ran
    out of the lesion through an open band, and is left out. Fewer than ``tracings_needed``
    tracings give ``None``: on a follow-up, where no reader's mask checks it, a lesion that one seed
    alone traces is often the part of it that one slice's gap in the band cut off.
    """
    if not lesion.any():
        return None
    depth = np.stack([ndimage.distance_transform_edt(plane, sampling=scan.pixel_spacing) for plane in lesion])
    deepest = np.argsort(depth.max(axis=(1, 2)))[::-1][:SEEDS]
    traced = np.zeros(scan.shape, dtype=bool)
    tracings = 0
    for k in deepest:
        if depth[k].max() <= 0:
            break
        row, column = np.unravel_index(np.argmax(depth[k]), depth[k].shape)
        try:
            mask = trace_lesion(scan, (int(k), int(row), int(column))).mask
        except OnfhError:
            continue
        if 0 < np.count_nonzero(mask) <= MAX_LEAK * np.count_nonzero(lesion):
            traced |= mask
            tracings += 1
    return traced if tracings >= max(tracings_needed, 1) else None


def carried_change(
    mapped: np.ndarray, traced_baseline: np.ndarray, traced_followup: np.ndarray
) -> np.ndarray:
    """The mapped lesion with the tracings' change applied (see the module's description).

    Examples
    --------
    A lesion of 10 voxels the band fill traces with one voxel more at each timepoint; at follow-up
    it grew by 3 voxels:

    >>> mapped = np.zeros(20, dtype=bool); mapped[0:10] = True
    >>> before = np.zeros(20, dtype=bool); before[0:11] = True
    >>> after = np.zeros(20, dtype=bool); after[0:14] = True
    >>> int(carried_change(mapped, before, after).sum())
    13
    """
    lost = traced_baseline & ~traced_followup
    gained = traced_followup & ~traced_baseline
    return (mapped & ~lost) | gained
