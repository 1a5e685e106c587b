"""The scan's DICOM source instances, and patient coordinates mapped onto its voxel grid.

A DICOM SEG or RTSTRUCT states where it lies in patient coordinates (mm, LPS) and which source
images it was drawn on. Both are checked against the scan here: positions through the scan's
affine, referenced images through the SOPInstanceUID of each of the scan's slices.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from ..load.dicom_files import is_dicom_file
from ..load.dicom_header import Converted, Header, read_header
from ..scan import LPS_TO_RAS, Scan, tolerance

#: Attributes needed to match a scan's files to its slices; the rest of each file is not read.
MATCHING_TAGS = ("SOPInstanceUID", "SeriesInstanceUID", "ImagePositionPatient", "NumberOfFrames")


def patient_to_index(scan: Scan, points_lps: np.ndarray) -> np.ndarray:
    """Map (N, 3) DICOM patient coordinates (LPS, mm) to continuous (slice, row, column) indices.

    Examples
    --------
    >>> scan = Scan(None, (0.5, 0.5), 4.0, 4.0, np.diag([-0.5, 0.5, 4.0, 1.0]), "s", grid=(2, 3, 3))
    >>> patient_to_index(scan, np.array([[1.0, -1.0, 4.0]])).round(6).tolist()  # LPS x = -RAS x
    [[2.0, 2.0, 1.0]]
    """
    ras = np.asarray(points_lps, dtype=float) @ LPS_TO_RAS[:3, :3].T
    return np.linalg.solve(scan.affine[:3, :3], (ras - scan.affine[:3, 3]).T).T


def plane_tolerance_mm(scan: Scan) -> float:
    """How far (mm) a point may lie from a slice plane and still be on it: 0.1 mm or 1% of the step."""
    return tolerance(scan.slice_spacing or scan.slice_thickness or 0.0)


def slice_step_mm(scan: Scan) -> float:
    """Length (mm) of one step along the scan's slice axis (1 for a single slice without spacing)."""
    return float(np.linalg.norm(scan.affine[:3, 0]))


def source_headers(scan: Scan, *, whole: bool = False) -> list[Header | Dataset] | None:
    """The headers of the scan's classic single-frame DICOM files, in the scan's slice order.

    ``whole`` reads every attribute but the pixel data (a SEG copies the patient and study from
    them); otherwise only what matches files to slices. None when the scan is not a classic DICOM
    series (a NIfTI file or an Enhanced multi-frame file) or its files no longer match its slices.
    """
    if not scan.series_uid:
        return None
    source = Path(scan.source)
    files = (
        sorted(Path(root) / name for root, _, names in os.walk(source) for name in names)
        if source.is_dir()
        else [source]
    )
    headers = []
    converted: Converted = {}
    for file in files:
        if not is_dicom_file(file):
            continue
        # The loader's fast header reader when only matching is needed (its file meta holds the
        # SOP Instance UID), pydicom otherwise.
        ds: Header | Dataset | None = None if whole else read_header(file, converted)
        if ds is None:
            ds = pydicom.dcmread(
                file, stop_before_pixels=True, specific_tags=None if whole else list(MATCHING_TAGS)
            )
        if ds.get("SeriesInstanceUID") == scan.series_uid and "ImagePositionPatient" in ds:
            headers.append(ds)
    if len(headers) != scan.shape[0] or any(int(ds.get("NumberOfFrames", 1) or 1) > 1 for ds in headers):
        return None
    slices = patient_to_index(scan, np.array([[float(v) for v in ds.ImagePositionPatient] for ds in headers]))
    order = np.round(slices[:, 0]).astype(int)
    if sorted(order.tolist()) != list(range(scan.shape[0])):
        return None
    return [headers[k] for k in np.argsort(order)]


def instance_slices(scan: Scan) -> dict[str, int]:
    """SOPInstanceUID -> slice index of each of the scan's files (empty when not a classic series)."""
    headers = source_headers(scan) or []
    return {
        str(ds.get("SOPInstanceUID") or ds.file_meta.get("MediaStorageSOPInstanceUID")): k
        for k, ds in enumerate(headers)
    }
