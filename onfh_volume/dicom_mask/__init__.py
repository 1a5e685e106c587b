"""Lesion masks as DICOM: Segmentation objects (SEG) and RT Structure Sets (RTSTRUCT) in, SEG out.

What PACS viewers, Horos/OsiriX, 3D Slicer and OHIF export. Files are recognised by their SOP
class, not their name; :func:`onfh_volume.mask.load_mask` hands DICOM files here.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pydicom

from ..errors import DicomMaskError, shown
from ..load.dicom_files import MASK_SOP_CLASSES, is_dicom_file, starts_as_nifti
from ..load.modality import scan_header
from ..notes import UID_SLOT, Note, another_series_warning, notes
from ..scan import Scan
from .labels import labels_by_side
from .lesion_rule import lesion_regions
from .read_rtstruct import read_rtstruct
from .read_seg import read_seg
from .source import instance_slices

READERS = {uid: read_rtstruct if name == "RTSTRUCT" else read_seg for uid, name in MASK_SOP_CLASSES.items()}

__all__ = ["dicom_mask_kind", "load_dicom_mask", "referenced_series"]


def dicom_mask_kind(path: str | PathLike[str]) -> str | None:
    """``"DICOM SEG"``, ``"DICOM SEG (label map)"`` or ``"RTSTRUCT"`` for such a file, else None.

    Only the file's header is read, so a GUI can tell a mask from a scan before loading either.
    A file without DICOM's 128-byte preamble and "DICM" marker (a bare dataset, as some planning
    systems and pydicom's own RTSTRUCT test file are written) is recognised by its SOP class too.

    Examples
    --------
    >>> dicom_mask_kind("sample_scans/dicom/sub-01/baseline/IM0001") is None  # an MR image
    True
    >>> from pydicom.data import get_testdata_file
    >>> dicom_mask_kind(get_testdata_file("rtstruct.dcm"))  # a bare dataset
    'RTSTRUCT'
    """
    path = Path(path)
    if not path.is_file():
        return None
    if not is_dicom_file(path) and starts_as_nifti(path):
        return None  # a (compressed) NIfTI file: not read as DICOM at all
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"], force=True)
    except Exception:
        return None  # unreadable: whoever loads it says why
    return MASK_SOP_CLASSES.get(str(ds.get("SOPClassUID", "")))


def referenced_series(path: str | PathLike[str] | pydicom.Dataset) -> set[str]:
    """SeriesInstanceUIDs a SEG (Referenced Series) or RTSTRUCT (Referenced Frame of Reference) was drawn on."""
    ds = path if isinstance(path, pydicom.Dataset) else pydicom.dcmread(path, stop_before_pixels=True)
    series = {str(item.SeriesInstanceUID) for item in ds.get("ReferencedSeriesSequence", [])}
    for frame in ds.get("ReferencedFrameOfReferenceSequence", []):
        for study in frame.get("RTReferencedStudySequence", []):
            series |= {str(item.SeriesInstanceUID) for item in study.get("RTReferencedSeriesSequence", [])}
    return series


def load_dicom_mask(path: Path, scan: Scan, roi: Sequence[str] = ()) -> tuple[np.ndarray, list[Note]]:
    """Labels (1 right hip, 2 left hip) of a DICOM SEG or RTSTRUCT file on ``scan``'s grid, and warnings.

    Only the segments or ROIs that are lesions are measured, or those named in ``roi``
    (:mod:`onfh_volume.dicom_mask.lesion_rule`).

    Raises
    ------
    DicomMaskError
        A DICOM file that is neither a SEG nor an RTSTRUCT, one that does not lie on the scan's
        grid, or one holding no lesion the rule measures.

    Examples
    --------
    >>> import tempfile
    >>> from onfh_volume import load_scan
    >>> from onfh_volume.export_seg import export_seg
    >>> scan = load_scan("sample_scans/dicom/sub-02/baseline", pixels=False)
    >>> seg = export_seg(scan.source, "sample_scans/masks/sub-02_baseline_lesions.nii.gz",
    ...                  Path(tempfile.mkdtemp()) / "lesions.dcm")
    >>> labels, warnings = load_dicom_mask(seg, scan)
    >>> int((labels == 1).sum()), warnings  # sub-02's right hip lesion: 1000 pixels
    (1000, [])
    """
    try:
        ds = pydicom.dcmread(path, force=True)  # a bare dataset too: the SOP class says what it is
    except Exception as exc:
        raise DicomMaskError(path, f"unreadable DICOM file ({shown(exc)})") from exc
    sop_class = str(ds.get("SOPClassUID", ""))
    reader = READERS.get(sop_class)
    if reader is None:
        name = getattr(ds.get("SOPClassUID"), "name", sop_class) or "no SOP class"
        raise DicomMaskError(
            path, f"a DICOM file but neither a DICOM SEG nor an RTSTRUCT ({name}): not a lesion mask"
        )
    referenced = referenced_series(ds)
    instances: dict[str, int] = {}
    if scan.series_uid and referenced and scan.series_uid not in referenced:
        # Another series is another frame of reference too, most often: one warning says it.
        warnings: list[Note] = another_series_warning(path, ", ".join(sorted(referenced)), scan.series_uid)
    else:
        warnings = _frame_of_reference_warnings(path, ds, scan)
        instances = instance_slices(scan) if scan.series_uid in referenced else {}
    try:
        regions, read_warnings = reader(path, ds, scan, instances)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise DicomMaskError(path, f"malformed DICOM attribute value ({shown(exc)})") from exc
    measured, rule_warnings = lesion_regions(path, regions, roi)
    labels, side_warnings = labels_by_side(path, scan, measured)
    return labels, notes([*warnings, *read_warnings, *rule_warnings, *side_warnings])


def _frame_of_reference_warnings(path: Path, ds: pydicom.Dataset, scan: Scan) -> list[Note]:
    """A mask in another frame of reference than the scan's: its coordinates may mean other places."""
    stated = {str(ds.FrameOfReferenceUID)} if ds.get("FrameOfReferenceUID") else set()
    stated |= {
        str(frame.FrameOfReferenceUID)
        for frame in ds.get("ReferencedFrameOfReferenceSequence", [])
        if frame.get("FrameOfReferenceUID")
    }
    header = scan_header(scan)
    own = str(header.get("FrameOfReferenceUID", "")) if header is not None else ""
    if not own or not stated or own in stated:
        return []
    return [
        Note(
            f"{path}: its frame of reference {UID_SLOT} is not the scan's ({UID_SLOT}): its positions are "
            "taken as the scan's, which holds only if both were made in one scanner session",
            uids=(sorted(stated)[0], own),
        )
    ]
