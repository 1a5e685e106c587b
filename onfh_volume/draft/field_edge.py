"""What the scanned field does to a draft: a lesion cut by the field's border, a head not in the field.

A lesion that touches the border of the field may go on beyond it: its volume is then too small,
and a change measured from it is the field's, not the lesion's. ``trace`` warns of the first and
last slice (:func:`onfh_volume.trace.lesions.edge_notes`); a draft is flagged for the reader
instead, with one reason per border it touches, as detect's and propagate's other reasons read.
A hip whose head is not found at all (a prosthesis, a head outside the field) is never a healthy
hip: :func:`missing_sides` names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from ..scan import Scan, box_corners
from ..vocabulary import LEFT, RIGHT
from ..volume import both_volumes_cm3


class Drafted(Protocol):
    """A detected hip (:class:`~onfh_volume.draft.detect.HipDraft`), as flagging reads and sets it."""

    status: str
    reasons: list[str]
    mask: np.ndarray | None


class Carried(Protocol):
    """A carried hip (:class:`~onfh_volume.draft.propagate.HipCarry`), as flagging reads and sets it."""

    status: str
    reasons: list[str]
    label: int
    mapped: np.ndarray | None
    lesion: np.ndarray | None


#: The grid's borders by axis (slice, row, column), as the reasons name them.
#: Femoral heads' centres lie 80-100 mm from the patient's midline: a field reaching this far on a
#: side shows that side's head.
HEAD_FROM_MIDLINE_MM = 90.0
BORDERS = (("first slice", "last slice"), ("first row", "last row"), ("first column", "last column"))


def field_edge_reasons(scan: Scan, mask: np.ndarray | None) -> list[str]:
    """One reason per border of the field that the lesion ``mask`` (on ``scan``'s grid) reaches.

    Examples
    --------
    >>> scan = Scan(None, (1.0, 1.0), 4.0, 4.0, np.eye(4), "s.nii.gz", grid=(6, 8, 8))
    >>> mask = np.zeros((6, 8, 8), dtype=bool)
    >>> mask[0:2, 3:5, 3:5] = True
    >>> field_edge_reasons(scan, mask)
    ["the lesion has 4 voxels (0.02 cm³) on the field's first slice: it may go on beyond the field, and its volume be too small"]
    >>> mask[0] = False
    >>> field_edge_reasons(scan, mask)
    []
    """
    if mask is None or not mask.any():
        return []
    reasons = []
    for axis, names in enumerate(BORDERS):
        for name, index in zip(names, (0, mask.shape[axis] - 1), strict=True):
            count = int(np.count_nonzero(np.take(mask, index, axis=axis)))
            if count:
                cm3 = both_volumes_cm3(scan, count)[0]
                size = f" ({cm3:.2f} cm³)" if cm3 is not None else ""
                reasons.append(
                    f"the lesion has {count} voxels{size} on the field's {name}: it may go on beyond the "
                    "field, and its volume be too small"
                )
    return reasons


def flag_detected(scan: Scan, hips: Sequence[Drafted]) -> None:
    """Make each detected lesion that reaches the field's border ``uncertain``, saying where; its mask kept.

    Its volume may be too small: the reader looks, with the traced lesion in the mask to start from.
    A reason ``detect`` already gives is not given twice.
    """
    for hip in hips:
        new = [reason for reason in field_edge_reasons(scan, hip.mask) if reason not in hip.reasons]
        if new:
            hip.status, hip.reasons = "uncertain", [*hip.reasons, *new]


def flag_carried(
    baseline: Scan, baseline_labels: np.ndarray, followup: Scan, hips: Sequence[Carried]
) -> None:
    """Put each hip whose lesion reaches the field's border, at either timepoint, up for ``review``.

    The field, not the lesion, would then make the change (a follow-up whose field cuts the head,
    or a baseline lesion traced to the edge of its field). A reason already given is not repeated.
    """
    for hip in hips:
        lesion = hip.lesion if hip.lesion is not None else hip.mapped
        reasons = [f"baseline: {r}" for r in field_edge_reasons(baseline, baseline_labels == hip.label)]
        reasons += [f"follow-up: {r}" for r in field_edge_reasons(followup, lesion)]
        new = [reason for reason in reasons if reason not in hip.reasons]
        if new:
            hip.status, hip.reasons = "review", [*hip.reasons, *new]


def missing_sides(scan: Scan, found: Iterable[str], side: str = "") -> list[str]:
    """The hips whose femoral head should be in the field but was not found, right first.

    ``side`` is the hip asked for (a manifest row's); without one, a hip is expected where the field
    reaches :data:`HEAD_FROM_MIDLINE_MM` on its side of the scanner's midline (x = 0), where its
    head's centre lies: both on a field of both hips, one on a field of one hip.

    Examples
    --------
    >>> columns_left_right = np.eye(4)[[2, 0, 1, 3]]  # 400 columns of 1 mm, x = 0 to the right
    >>> scan = Scan(None, (1.0, 1.0), 4.0, 4.0, columns_left_right, "s.nii.gz", grid=(6, 400, 400))
    >>> missing_sides(scan, [])
    ['right']
    >>> missing_sides(scan, [], side="left")
    ['left']
    """
    if side:
        wanted = [side]
    else:
        corners = box_corners(-0.5, np.array(scan.shape) - 0.5)
        x = scan.index_to_patient(corners)[:, 0]
        wanted = [
            hip for hip, reached in ((RIGHT, x.max()), (LEFT, -x.min())) if reached >= HEAD_FROM_MIDLINE_MM
        ]
    return [hip for hip in wanted if hip not in set(found)]


def not_found(side: str) -> str:
    """The reason given for a hip whose head the field should show but was not found."""
    return f"no {side} femoral head found: a prosthesis, or the head out of the field?"
