"""RT Structure Sets written by hand from known polygons, as a planning system writes them.

Contours are given in pixel indices of the images they are drawn on and turned into patient
coordinates by DICOM's own formula, independently of onfh-volume's geometry code.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

RTSTRUCT_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"


def pixel_to_lps(ds: Dataset, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Patient coordinates (LPS, mm) of continuous pixel indices on one image, by DICOM's own formula
    (PS3.3 C.7.6.2.1.1), for contours drawn on that image."""
    orientation = np.array(ds.ImageOrientationPatient, dtype=float)
    row_spacing, column_spacing = (float(v) for v in ds.PixelSpacing)
    return (
        np.array(ds.ImagePositionPatient, dtype=float)
        + np.outer(columns * column_spacing, orientation[:3])
        + np.outer(rows * row_spacing, orientation[3:])
    )


def write_rtstruct(
    path: str | PathLike[str],
    images: list[Dataset],
    rois: dict[str, list[tuple[int, np.ndarray]]],
    interpreted_types: dict[str, str] | None = None,
) -> Path:
    """An RT Structure Set written by hand with pydicom, as a planning system writes one.

    ``rois`` maps each ROI name to its contours: (index into ``images``, (N, 3) LPS points);
    ``interpreted_types`` gives some ROIs an RT ROI Interpreted Type (``"EXTERNAL"``...).
    """
    first = images[0]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(RTSTRUCT_STORAGE)
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = RTSTRUCT_STORAGE, ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "RTSTRUCT"
    for keyword in ("PatientName", "PatientID", "StudyInstanceUID", "FrameOfReferenceUID"):
        setattr(ds, keyword, getattr(first, keyword))
    ds.SeriesInstanceUID = generate_uid()
    ds.StructureSetLabel = "lesions"
    series = Dataset()
    series.SeriesInstanceUID = first.SeriesInstanceUID
    series.ContourImageSequence = [_image_reference(image) for image in images]
    study = Dataset()
    study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    study.ReferencedSOPInstanceUID = first.StudyInstanceUID
    study.RTReferencedSeriesSequence = [series]
    frame = Dataset()
    frame.FrameOfReferenceUID = first.FrameOfReferenceUID
    frame.RTReferencedStudySequence = [study]
    ds.ReferencedFrameOfReferenceSequence = [frame]
    ds.StructureSetROISequence, ds.ROIContourSequence, ds.RTROIObservationsSequence = [], [], []
    for number, (name, contours) in enumerate(rois.items(), start=1):
        roi = Dataset()
        roi.ROINumber, roi.ROIName, roi.ROIGenerationAlgorithm = number, name, "MANUAL"
        roi.ReferencedFrameOfReferenceUID = first.FrameOfReferenceUID
        ds.StructureSetROISequence.append(roi)
        observation = Dataset()
        observation.ObservationNumber, observation.ReferencedROINumber = number, number
        observation.RTROIInterpretedType = (interpreted_types or {}).get(name, "")
        observation.ROIInterpreter = ""
        ds.RTROIObservationsSequence.append(observation)
        items = []
        for image, points in contours:
            contour = Dataset()
            contour.ContourImageSequence = [_image_reference(images[image])]
            contour.ContourGeometricType = "CLOSED_PLANAR"
            contour.NumberOfContourPoints = len(points)
            contour.ContourData = [f"{v:.10g}" for v in np.asarray(points).ravel()]
            items.append(contour)
        roi_contour = Dataset()
        roi_contour.ReferencedROINumber = number
        roi_contour.ROIDisplayColor = [255, 0, 0]
        roi_contour.ContourSequence = items
        ds.ROIContourSequence.append(roi_contour)
    ds.save_as(path, enforce_file_format=True)
    return Path(path)


def _image_reference(image: Dataset) -> Dataset:
    reference = Dataset()
    reference.ReferencedSOPClassUID = image.SOPClassUID
    reference.ReferencedSOPInstanceUID = image.SOPInstanceUID
    return reference
