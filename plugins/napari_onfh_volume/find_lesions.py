"""Find lesions: every femoral head searched without a click, each hip's lesion proposed for review.

Qt-free: the widget (``_qt/find_lesions_widget.py``) only wires events to these functions. The search is
:func:`onfh_volume.draft.detect.detect`; each hip with a lesion becomes a band fill
:class:`~napari_onfh_volume.band_fill.Proposal`, accepted through
:func:`napari_onfh_volume.band_fill.accept` (one undo step per hip, its slices marked "(detected)"
in the readout and ``detected_slices`` in the saved record: drafted without a click, unlike band
fill's). Uncertain hips propose nothing: their reasons say where to look.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from onfh_volume.draft.detect import detect
from onfh_volume.errors import OnfhError
from onfh_volume.scan import Scan

from .band_fill import Proposal


@dataclass
class HipFinding:
    """One hip: its side, detect's status and reasons, and the lesion proposed (status ``lesion``)."""

    side: str
    status: str
    reasons: list[str] = field(default_factory=list)
    proposal: Proposal | None = None

    def line(self) -> str:
        """The hip in one line, as the widget lists it."""
        why = f": {'; '.join(self.reasons)}" if self.reasons else ""
        slices = f" on slices {self.proposal.slices[0]}-{self.proposal.slices[-1]}" if self.proposal else ""
        return f"{self.side} hip: {self.status}{slices}{why}"


def find(scan: Scan) -> list[HipFinding] | str:
    """Each hip of ``scan`` (with its pixels), right first; a refusal as its one-line reason.

    Examples
    --------
    >>> from onfh_volume.testing.phantom_set import small_bilateral_phantom
    >>> [(finding.side, finding.status) for finding in find(small_bilateral_phantom().scan)]
    [('right', 'lesion'), ('left', 'lesion')]
    """
    try:
        labels, hips = detect(scan)
    except OnfhError as error:
        return error.problem
    findings = []
    for hip in hips:
        proposal = None
        if hip.status == "lesion":
            mask = labels == hip.label
            proposal = Proposal(mask, hip.label, [int(k) for k in np.nonzero(mask.any(axis=(1, 2)))[0]])
        findings.append(HipFinding(hip.side, hip.status, list(hip.reasons), proposal))
    return findings
