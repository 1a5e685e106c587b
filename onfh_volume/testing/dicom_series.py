"""Synthetic DICOM series with exactly known geometry, for the sample scans, tests and benchmarks.

Nothing in the measurement pipeline uses this module; it writes files that the loaders then read
like any scanner's.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, MRImageStorage, generate_uid

CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
"""ImageOrientationPatient of a standard coronal slice: rows run to the patient's left, columns down."""


def dicom_slices(
    voxels: np.ndarray,
    *,
    pixel_spacing: tuple[float, float],
    slice_thickness: float | None,
    positions: Sequence[Sequence[float]],
    orientation: Sequence[float] = CORONAL,
    series_uid: str | None = None,
    series_number: int = 1,
    series_description: str = "COR T1",
    patient_name: str = "ANONYMOUS",
    patient_id: str = "ANON",
    spacing_between_slices: float | None = None,
    uid_seed: str | None = None,
) -> list[Dataset]:
    """Build one classic MR Image Storage dataset per slice of ``voxels`` (slice, row, column).

    ``positions`` gives each slice's ImagePositionPatient (LPS, mm). Datasets are returned in slice
    order, ready to be altered by a test and written with :func:`write_series`. With ``uid_seed``
    every UID is derived from it, so generated files are byte-for-byte reproducible.
    """

    def uid(suffix: str) -> UID:
        return generate_uid(entropy_srcs=[uid_seed, suffix]) if uid_seed else generate_uid()

    series_uid = series_uid or uid("series")
    study_uid = uid("study")
    frame_of_reference = uid("frame")
    voxels = np.asarray(voxels)
    datasets = []
    for index, (plane, position) in enumerate(zip(voxels, positions, strict=True)):
        ds = _mr_image(uid(f"{series_uid}-{index}"))
        ds.Modality = "MR"
        ds.PatientName = patient_name
        ds.PatientID = patient_id
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = series_number
        ds.SeriesDescription = series_description
        ds.FrameOfReferenceUID = frame_of_reference
        ds.InstanceNumber = index + 1
        ds.ImageOrientationPatient = [f"{v:.10g}" for v in orientation]
        ds.ImagePositionPatient = [f"{v:.10g}" for v in position]
        ds.PixelSpacing = [f"{v:.10g}" for v in pixel_spacing]
        if slice_thickness is not None:
            ds.SliceThickness = f"{slice_thickness:.10g}"
        if spacing_between_slices is not None:
            ds.SpacingBetweenSlices = f"{spacing_between_slices:.10g}"
        _set_pixels(ds, plane)
        datasets.append(ds)
    return datasets


def _mr_image(instance_uid: UID) -> Dataset:
    """An empty classic MR Image Storage dataset with its file meta and SOP identity."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = instance_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = instance_uid
    return ds


def _set_pixels(ds: Dataset, plane: np.ndarray) -> None:
    """The image pixel module of one signed 16-bit greyscale slice."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = plane.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.PixelData = np.ascontiguousarray(plane, dtype="<i2").tobytes()


def stack_positions(
    first: Sequence[float] | np.ndarray, orientation: Sequence[float], spacing: float, count: int
) -> list[list[float]]:
    """Positions of ``count`` slices ``spacing`` mm apart along the normal of ``orientation``."""
    normal = np.cross(orientation[:3], orientation[3:])
    return [list(np.asarray(first, dtype=float) + k * spacing * normal) for k in range(count)]


def write_series(
    folder: str | PathLike[str], datasets: Sequence[Dataset], names: Sequence[str] | None = None
) -> list[Path]:
    """Write datasets as DICOM Part 10 files without extensions (as scanners export them)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = names or [f"IM{i + 1:04d}" for i in range(len(datasets))]
    paths = []
    for ds, name in zip(datasets, names, strict=True):
        path = folder / name
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
