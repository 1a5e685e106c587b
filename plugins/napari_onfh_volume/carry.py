"""Carry baseline to follow-up: the baseline's lesions registered, mapped and refined on the follow-up.

Qt-free: the widget (``_qt/carry_widget.py``) only wires events to these functions. The work is
:func:`onfh_volume.draft.propagate.propagate`; each carried hip becomes a band fill
:class:`~napari_onfh_volume.band_fill.Proposal` on the follow-up grid, accepted through
:func:`napari_onfh_volume.band_fill.accept` (one undo step per hip, its slices marked "(propagated)"
in the readout and ``propagated_slices`` in the saved record).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from onfh_volume.draft.propagate import propagate
from onfh_volume.draft.refine import voxel_cm3
from onfh_volume.errors import OnfhError
from onfh_volume.scan import Scan

from .band_fill import Proposal


@dataclass
class CarriedHip:
    """One hip carried: side, ``propagated`` or ``review`` with the reasons, and the proposal."""

    side: str
    status: str
    reasons: list[str] = field(default_factory=list)
    proposal: Proposal | None = None
    gained_cm3: float = 0.0
    lost_cm3: float = 0.0

    def line(self) -> str:
        """The hip in one line, as the widget lists it."""
        why = f": {'; '.join(self.reasons)}" if self.reasons else ""
        change = (
            f" ({self.gained_cm3:+.2f} cm³ gained, {-self.lost_cm3:.2f} cm³ lost)" if self.proposal else ""
        )
        return f"{self.side} hip: {self.status}{change}{why}"


def carry(baseline: Scan, baseline_labels: np.ndarray, followup: Scan) -> list[CarriedHip] | str:
    """Each baseline lesion carried to ``followup`` (both scans with their pixels); a refusal as one line."""
    try:
        labels, hips = propagate(baseline, baseline_labels, followup)
    except OnfhError as error:
        return error.problem
    carried = []
    for hip in hips:
        proposal = None
        if hip.lesion is not None and hip.mapped is not None and hip.change is not None:
            mask = labels == hip.label
            proposal = Proposal(mask, hip.label, [int(k) for k in np.nonzero(mask.any(axis=(1, 2)))[0]])
            voxel = voxel_cm3(followup, hip.change.method)
            gained = np.count_nonzero(mask & ~hip.mapped) * voxel
            lost = np.count_nonzero(hip.mapped & ~mask) * voxel
        else:
            gained = lost = 0.0
        carried.append(CarriedHip(hip.side, hip.status, list(hip.reasons), proposal, gained, lost))
    return carried
