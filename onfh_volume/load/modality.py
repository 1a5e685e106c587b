"""What modality a scan is, read from its DICOM files only when its storage class does not say MR.

The study's method is for T1 MR; a mask measured on CT or PET is measured all the same, with a
warning. Loading records each DICOM scan's SOP class, so an MR scan costs nothing here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..notes import Note
from ..scan import Scan
from .dicom_files import MR_SOP_CLASSES, is_dicom_file

if TYPE_CHECKING:
    from pydicom.dataset import Dataset


def scan_header(scan: Scan) -> Dataset | None:
    """Modality, SOP class and frame of reference of one of the scan's DICOM files (None for NIfTI)."""
    import pydicom
    from pydicom.dataset import Dataset

    source = Path(scan.source)
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]

    for file in files:
        if not is_dicom_file(file):
            continue
        try:
            ds = pydicom.dcmread(
                file,
                stop_before_pixels=True,
                specific_tags=["Modality", "SOPClassUID", "FrameOfReferenceUID", "SeriesInstanceUID"],
            )
            if scan.series_uid is None or ds.get("SeriesInstanceUID") == scan.series_uid:
                return Dataset({element.tag: element for element in ds})  # every value converted here
        except Exception:
            continue  # a damaged file: the scan's loader has already said what it makes of it

    return None


#: Modalities a hip lesion is measured on without a warning.
MR = "MR"


def not_mr_warnings(scan: Scan) -> list[Note]:
    """A warning when the scan's DICOM files say it is not MR (CT, PET...): the study's measure is on MR.

    A scan of an MR storage class (:data:`~onfh_volume.load.dicom_files.MR_SOP_CLASSES`, known
    from loading) and a NIfTI scan (which states no modality) need no file read again.
    """
    if scan.sop_class_uid is None or scan.sop_class_uid in MR_SOP_CLASSES:
        return []
    header = scan_header(scan)
    if header is None:
        return []
    modality = str(header.get("Modality", "") or "")
    if modality == MR:
        return []
    what = getattr(header.get("SOPClassUID"), "name", "") or "an image"
    return [
        Note(
            f"the scan {scan.source} is {what} (Modality {modality or 'not stated'}), not MR: its lesion is "
            "measured as on a T1 MR scan, which the study's method assumes"
        )
    ]
