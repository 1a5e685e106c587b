"""What ``detect`` and ``propagate`` refuse or tell before drafting: the checks of their inputs.

A draft is measured as any mask is, so what ``trace`` and ``measure`` refuse is refused here too,
in the same words: pixels that are not finite, a scan without left and right, a mask's labels
other than the hips' (1 right, 2 left) or on the wrong side by the side rule
(:mod:`onfh_volume.side`), a follow-up that is the baseline scan or another patient's.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from ..errors import MaskError, NonFiniteError, ScanError, SeedError
from ..scan import Scan
from ..vocabulary import LABEL_OF_SIDE, Method
from ..volume import Measurement, measure


def refuse_non_finite(scan: Scan) -> None:
    """Refuse a scan with NaN or infinite pixels, as band fill does (``trace``).

    Examples
    --------
    >>> voxels = np.ones((2, 3, 3), dtype=np.float32)
    >>> voxels[0, 1, 1] = np.nan
    >>> refuse_non_finite(Scan(voxels, (1.0, 1.0), 4.0, 4.0, np.eye(4), "s.nii.gz"))
    Traceback (most recent call last):
    ...
    onfh_volume.errors.NonFiniteError: s.nii.gz: 1 voxels are not finite (NaN or inf): band fill needs finite pixels
    """
    voxels = scan.voxels
    if voxels is not None and voxels.dtype.kind in "fc" and not np.isfinite(voxels).all():
        count = int(np.count_nonzero(~np.isfinite(voxels)))
        raise NonFiniteError(
            scan.source, f"{count} voxels are not finite (NaN or inf): band fill needs finite pixels"
        )


def require_orientation(scan: Scan) -> None:
    """Refuse a scan whose header states no orientation: no hip could be labelled right or left."""
    if not scan.orientation_known:
        raise SeedError(
            scan.source,
            "the scan does not say where the patient's left and right are: no hip can be labelled",
        )


def check_hip_labels(labels: np.ndarray, mask_path: str | PathLike[str]) -> None:
    """Refuse a mask holding labels other than 0, 1 (right hip) and 2 (left hip), naming them.

    A label carried silently as another (a 0/255 mask) or dropped (a reader's own label for the
    band) would make a volume of the wrong lesion.

    Examples
    --------
    >>> check_hip_labels(np.array([0, 1, 2]), "m.nii.gz")
    >>> check_hip_labels(np.array([0, 255]), "m.nii.gz")
    Traceback (most recent call last):
    ...
    onfh_volume.errors.MaskError: m.nii.gz: holds label 255: a lesion mask to carry holds 1 (right hip lesion) and 2 (left hip lesion) only: relabel it first
    """
    others = sorted(set(np.unique(labels).tolist()) - {0, *LABEL_OF_SIDE.values()})
    if others:
        named = ", ".join(str(label) for label in others)
        raise MaskError(
            mask_path,
            f"holds label{'s' if len(others) > 1 else ''} {named}: a lesion mask to carry holds 1 (right hip "
            "lesion) and 2 (left hip lesion) only: relabel it first",
        )


def measured(scan: Scan, labels: np.ndarray, mask_source: str | PathLike[str] | None = None) -> Measurement:
    """``labels`` measured as ``measure`` does, by the method the scan states a slice length for.

    Its warnings are the scan's and the side rule's (:mod:`onfh_volume.side`) about each lesion.
    """
    method: Method = "spacing" if scan.slice_thickness is None else "thickness"
    return measure(scan, labels, method, mask_source=None if mask_source is None else str(mask_source))


def check_label_sides(scan: Scan, labels: np.ndarray, mask_path: str | PathLike[str]) -> list[str]:
    """Refuse a hip label whose lesion lies in the other hip by the side rule; the rule's warnings.

    The side rule is applied as ``measure`` applies it (:func:`measured`): label 1 must lie in the
    right hip, 2 in the left. Swapped labels would carry each lesion across the pelvis.

    Returns
    -------
    list of str
        The scan's and the side rule's warnings about the mask, as ``measure`` gives them.
    """
    measurement = measured(scan, labels, mask_path)
    for lesion in measurement.lesions:
        expected = next(side for side, label in LABEL_OF_SIDE.items() if label == lesion.label)
        if lesion.side != expected:
            raise MaskError(
                mask_path,
                f"label {lesion.label} is the {expected} hip's, but its lesion lies in the {lesion.side} hip "
                f"(x = {lesion.centroid_ras[0]:.0f} mm, by the side rule): are the labels swapped?",
            )
    return [str(note) for note in measurement.warnings]


def refuse_same_scan(baseline: Scan, followup: Scan) -> None:
    """Refuse the baseline scan given as its own follow-up (``batch`` refuses the same in a manifest).

    Its change would be 0 by construction, whatever the lesion did.
    """
    same_file = Path(baseline.source).resolve() == Path(followup.source).resolve()
    if same_file and baseline.series_uid == followup.series_uid:
        raise ScanError(
            followup.source, "the follow-up scan is the baseline scan: give the follow-up's own scan"
        )


def patient_id(scan: Scan) -> str | None:
    """The DICOM PatientID of a classic DICOM series; None for NIfTI or when not stated."""
    from ..dicom_mask.source import source_headers

    headers = source_headers(scan, whole=True)
    value = None if not headers else str(headers[0].get("PatientID") or "").strip()
    return value or None


def refuse_other_patient(baseline: Scan, followup: Scan, allowed: bool) -> None:
    """Refuse a follow-up whose DICOM PatientID is not the baseline's, unless ``allowed``.

    A lesion carried to another patient's hip is no follow-up; a PatientID changed between visits
    (a merged record, an anonymisation) is the user's to confirm (``--other-patient``).
    """
    if allowed:
        return
    before, after = patient_id(baseline), patient_id(followup)
    if before and after and before != after:
        raise ScanError(
            followup.source,
            f"its PatientID is {after}, the baseline's is {before}: another patient's scan? (if the "
            "same patient's ID changed, say so with --other-patient)",
        )
