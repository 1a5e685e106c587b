"""RT Structure Set (RTSTRUCT) contours filled onto the scan's slices.

Each ROI is a set of closed planar contours in patient coordinates (mm). A contour must lie in one
of the scan's slice planes; the contours of one ROI on one slice are filled together by
:func:`onfh_volume.dicom_mask.contour_fill.fill_contours` (a pixel is in when its centre lies on a
contour, or inside an odd number of them: a contour inside another is a hole).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from ..errors import DicomMaskError, shown
from ..load.decimal_strings import ds_values
from ..scan import Scan
from .contour_fill import fill_contours
from .labels import Region
from .lesion_rule import RT_TYPES, UNCODED
from .source import patient_to_index, plane_tolerance_mm, slice_step_mm

#: Contour types that enclose an area; POINT and OPEN_* contours mark no region.
CLOSED = ("CLOSED_PLANAR", "CLOSED_PLANAR_XOR")


def _contour_slice(
    path: Path, scan: Scan, what: str, contour: Dataset, instances: dict[str, int]
) -> tuple[int, np.ndarray]:
    """The slice a contour lies in and its vertices in (row, column) pixel indices; refuse it off-plane."""
    points = ds_values(path, what, "ContourData", contour.get("ContourData"), None, DicomMaskError)
    if points.size % 3:
        raise DicomMaskError(
            path, f"{what}: a contour's ContourData holds {points.size} numbers, not (x, y, z) triples"
        )
    points = points.reshape(-1, 3)
    index = patient_to_index(scan, points)
    k = round(float(np.median(index[:, 0])))
    distance = float(np.abs(index[:, 0] - k).max() * slice_step_mm(scan))
    if distance > plane_tolerance_mm(scan):
        raise DicomMaskError(
            path,
            f"{what}: a contour lies up to {distance:.2f} mm off the scan's slice planes (allowed "
            f"{plane_tolerance_mm(scan):.2g} mm): it was not drawn on the scan {scan.source}'s slices",
        )
    if not 0 <= k < scan.shape[0]:
        raise DicomMaskError(
            path, f"{what}: a contour lies at slice {k + 1}, outside the scan's slices 1 to {scan.shape[0]}"
        )
    limits = np.array(scan.shape[1:]) - 0.5
    if np.any(index[:, 1:] < -0.5 - 1e-6) or np.any(index[:, 1:] > limits + 1e-6):
        raise DicomMaskError(
            path, f"{what}: a contour on slice {k + 1} extends beyond the scan {scan.source}'s field of view"
        )
    referenced = {
        instances[str(image.ReferencedSOPInstanceUID)]
        for image in contour.get("ContourImageSequence", [])
        if str(image.get("ReferencedSOPInstanceUID", "")) in instances
    }
    if referenced and referenced != {k}:
        raise DicomMaskError(
            path,
            f"{what}: a contour lies on slice {k + 1} but references the image of slice "
            f"{min(referenced) + 1}: its coordinates and its referenced image disagree",
        )
    return k, index[:, 1:]


def read_rtstruct(
    path: Path, ds: Dataset, scan: Scan, instances: dict[str, int]
) -> tuple[list[Region], list[str]]:
    """The ROIs of the RTSTRUCT ``ds`` as regions on the scan's grid, and warnings (none yet).

    ``instances`` maps the scan's SOPInstanceUIDs to slices (empty when they cannot be checked).

    Raises
    ------
    DicomMaskError
        A contour off the scan's slice planes or field of view, or referencing another slice's image.
    """
    names = {
        int(roi.ROINumber): str(roi.get("ROIName", "") or "") for roi in ds.get("StructureSetROISequence", [])
    }
    kinds = {
        int(item.ReferencedROINumber): str(item.get("RTROIInterpretedType", "") or "")
        for item in ds.get("RTROIObservationsSequence", [])
    }
    regions = []
    for roi in ds.get("ROIContourSequence", []):
        number = int(roi.ReferencedROINumber)
        name = names.get(number, "")
        what = f"ROI {number} '{shown(name)}'"
        contours: dict[int, list[np.ndarray]] = {}
        for contour in roi.get("ContourSequence", []):
            if contour.get("ContourGeometricType") not in CLOSED:
                continue
            k, vertices = _contour_slice(path, scan, what, contour, instances)
            contours.setdefault(k, []).append(vertices)
        slices = {k: fill_contours(outlines, scan.shape[1:]) for k, outlines in contours.items()}
        kind = kinds.get(number, "").strip().upper()
        coded_as = f"an RT ROI of type {shown(kind)}" if kind else ""
        regions.append(Region.of_slices(what, name, slices, RT_TYPES.get(kind, UNCODED), coded_as))
    return regions, []
