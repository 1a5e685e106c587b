"""RT Structure Set (RTSTRUCT) contours filled onto the scan's slices.

Each ROI is a set of closed planar contours in patient coordinates (mm). A contour must lie in one
of the scan's slice planes; it is filled with the rule "a pixel belongs to the ROI when its centre
lies inside the contour", and the contours of one ROI on one slice combine by exclusive or, so a
contour inside another is a hole (the DICOM standard's inner and outer contours). A centre on the
contour itself counts as inside.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from ..errors import DicomMaskError
from ..load.decimal_strings import ds_values
from ..scan import Scan
from .labels import Region
from .source import patient_to_index, plane_tolerance_mm, slice_step_mm

#: Contour types that enclose an area; POINT and OPEN_* contours mark no region.
CLOSED = ("CLOSED_PLANAR", "CLOSED_PLANAR_XOR")
#: RT ROI Interpreted Types that are never a lesion: the body outline, devices and markers.
NOT_LESIONS = ("EXTERNAL", "BOLUS", "SUPPORT", "FIXATION", "MARKER", "REGISTRATION", "ISOCENTER", "CONTROL")
#: A pixel centre this close (in pixels) to a contour's edge lies on it, and counts as inside: tools
#: that outline a pixel mask (rt-utils, OpenCV) draw contours through the boundary pixels' centres.
EDGE_TOLERANCE_PX = 1e-3


def pixel_centres_inside(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Boolean image of ``shape`` whose pixels have their centre inside the polygon or on its edge.

    The polygon's vertices are given in continuous pixel indices (pixel centres at whole numbers),
    its last vertex joined to its first.

    Examples
    --------
    >>> pixel_centres_inside(np.array([0.5, 0.5, 2.5, 2.5]), np.array([0.5, 3.5, 3.5, 0.5]), (4, 5)).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    from ..extras import require

    require("rtstruct", "reading an RTSTRUCT mask")
    from matplotlib.path import Path as Polygon  # matplotlib loads only when an RTSTRUCT is read

    inside = np.zeros(shape, dtype=bool)
    margin = EDGE_TOLERANCE_PX
    top, bottom = (
        max(int(np.ceil(rows.min() - margin)), 0),
        min(int(np.floor(rows.max() + margin)), shape[0] - 1),
    )
    left = max(int(np.ceil(columns.min() - margin)), 0)
    right = min(int(np.floor(columns.max() + margin)), shape[1] - 1)
    if len(rows) < 3 or top > bottom or left > right:
        return inside
    grid_rows, grid_columns = np.mgrid[top : bottom + 1, left : right + 1]
    centres = np.column_stack([grid_rows.ravel(), grid_columns.ravel()])
    polygon = Polygon(np.column_stack([rows, columns]))
    # matplotlib widens or narrows the polygon by the radius depending on which way it turns, and
    # leaves centres exactly on an edge to chance: one of the two signs takes them all in.
    found = polygon.contains_points(centres, radius=EDGE_TOLERANCE_PX) | polygon.contains_points(
        centres, radius=-EDGE_TOLERANCE_PX
    )
    inside[top : bottom + 1, left : right + 1] = found.reshape(grid_rows.shape)
    return inside


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


def read_rtstruct(path: Path, ds: Dataset, scan: Scan, instances: dict[str, int]) -> list[Region]:
    """The ROIs of the RTSTRUCT ``ds`` as regions on the scan's grid.

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
        what = f"ROI {number} '{name}'"
        slices: dict[int, np.ndarray] = {}
        for contour in roi.get("ContourSequence", []):
            if contour.get("ContourGeometricType") not in CLOSED:
                continue
            k, vertices = _contour_slice(path, scan, what, contour, instances)
            inside = pixel_centres_inside(vertices[:, 0], vertices[:, 1], scan.shape[1:])
            slices[k] = slices[k] ^ inside if k in slices else inside
        kind = kinds.get(number, "")
        not_a_lesion = f"an RT ROI of type {kind}" if kind in NOT_LESIONS else ""
        regions.append(Region.of_slices(what, name, slices, not_a_lesion))
    return regions
