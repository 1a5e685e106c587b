"""``detect`` and ``propagate`` as the command line and ``batch --draft-masks`` run them.

Their inputs checked first (:mod:`onfh_volume.draft.inputs`), and what the scanned field does to a
draft told (:mod:`onfh_volume.draft.field_edge`): one home, so a drafted row of a cohort is refused
and flagged exactly as the same scan given to ``detect`` or ``propagate`` is.
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from ..scan import Scan
from .detect import HipDraft, detect
from .field_edge import missing_sides
from .inputs import (
    check_hip_labels,
    check_label_sides,
    measured,
    refuse_non_finite,
    refuse_other_patient,
    refuse_same_scan,
    require_orientation,
)
from .propagate import HipCarry, propagate


def checked_detect(scan: Scan) -> tuple[np.ndarray, list[HipDraft], list[str], list[str]]:
    """:func:`~onfh_volume.draft.detect.detect` with the field's limits and the scan's warnings told.

    ``detect`` itself refuses pixels that are not finite and a scan without left and right, and
    makes a lesion reaching the field's border ``uncertain``.

    Returns
    -------
    labels, hips
        As :func:`~onfh_volume.draft.detect.detect` gives them.
    missing
        The sides whose head the field reaches but which were not found (:func:`missing_sides`).
    warnings
        The scan's, and the side rule's about each drafted lesion, as ``measure`` gives them.

    Examples
    --------
    >>> from onfh_volume.testing.phantom_set import small_bilateral_phantom
    >>> labels, hips, missing, warnings = checked_detect(small_bilateral_phantom().scan)
    >>> [(hip.side, hip.status) for hip in hips], missing
    ([('right', 'lesion'), ('left', 'lesion')], [])
    >>> warnings  # the scan's own: its slices have gaps
    ['slice gap of 0.4 mm: slices are 4 mm thick every 4.4 mm, so the area x thickness volume is 9.1% below the Cavalieri (area x spacing) volume']
    """
    labels, hips = detect(scan)
    missing = missing_sides(scan, [hip.side for hip in hips])
    return labels, hips, missing, [str(note) for note in measured(scan, labels).warnings]


def checked_propagate(
    baseline: Scan,
    baseline_labels: np.ndarray,
    mask_path: str | PathLike[str],
    followup: Scan,
    *,
    other_patient: bool = False,
) -> tuple[np.ndarray, list[HipCarry], list[str]]:
    """:func:`~onfh_volume.draft.propagate.propagate` with its inputs checked and the field's limits told.

    Refused: a follow-up that is the baseline scan or (unless ``other_patient``) another patient's
    by its DICOM PatientID, a scan without left and right or with pixels that are not finite, a
    mask ``mask_path`` with labels other than 1 and 2 or a label on the other hip's side. A lesion
    reaching the field's border at either timepoint is for ``review`` (``propagate`` itself says so). The warnings are the scans' and
    the side rule's about the baseline mask, as ``measure`` gives them.
    """
    refuse_same_scan(baseline, followup)
    for scan in (baseline, followup):
        require_orientation(scan)
        refuse_non_finite(scan)
    check_hip_labels(baseline_labels, mask_path)
    warnings = [f"baseline: {note}" for note in check_label_sides(baseline, baseline_labels, mask_path)]
    refuse_other_patient(baseline, followup, other_patient)
    labels, hips = propagate(baseline, baseline_labels, followup)
    warnings += [f"follow-up: {note}" for note in followup.warnings]
    return labels, hips, warnings
