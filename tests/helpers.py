"""Shared builders of real files for the tests: synthetic DICOM series and masks written by SimpleITK.

Test modules import these by name (``from helpers import ...``; pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

import highdicom as hd
import nibabel as nib
import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.codedict import codes
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from onfh_volume import measure
from onfh_volume.head import LesionInHead, lesion_in_head
from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series
from onfh_volume.testing.hip_family import family_spec
from onfh_volume.testing.phantom import Phantom, make_phantom

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_scans"


def oblique(degrees: float) -> tuple[float, ...]:
    """A coronal orientation rotated about the antero-posterior axis."""
    a = np.radians(degrees)
    row = (np.cos(a), 0.0, np.sin(a))
    column = (np.sin(a), 0.0, -np.cos(a))
    return (*row, *column)


def write_dicom_series(
    folder: Path,
    *,
    shape: tuple[int, int, int] = (6, 40, 320),
    pixel_spacing: tuple[float, float] = (0.8, 0.9),
    thickness: float | None = 4.0,
    spacing: float = 4.4,
    orientation: tuple[float, ...] = CORONAL,
    first: tuple[float, float, float] | None = None,
    seed: int = 0,
) -> Path:
    """Write a coronal-like series whose grid is centred left-right on x = 0 (the patient's midline)."""
    slices, rows, cols = shape
    if first is None:
        # Put the grid's left-right centre on x = 0 so the side rule has a known midline.
        row_direction = np.array(orientation[:3])
        column_direction = np.array(orientation[3:])
        centre_offset = (
            row_direction * (cols - 1) / 2 * pixel_spacing[1]
            + column_direction * (rows - 1) / 2 * pixel_spacing[0]
        )
        first = tuple(np.array([0.0, -40.0, 60.0]) - centre_offset)
    voxels = np.random.default_rng(seed).integers(0, 1000, shape).astype(np.int16)
    write_series(
        folder,
        dicom_slices(
            voxels,
            pixel_spacing=pixel_spacing,
            slice_thickness=thickness,
            positions=stack_positions(first, orientation, spacing, slices),
            orientation=orientation,
        ),
    )
    return folder


def philips_mprage(folder: Path) -> Path:
    """nibabel's Enhanced MR test file (Philips, 176 oblique frames), unzipped into ``folder``."""
    path = folder / "philips_mprage.dcm"
    with gzip.open(Path(nib.__file__).parent / "nicom/tests/data/philips_mprage.dcm.gz") as f:
        path.write_bytes(f.read())
    return path


def sitk_series(folder: Path) -> sitk.Image:
    """The series as SimpleITK (an independent DICOM reader) sees it."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def write_sitk_mask(reference: sitk.Image, labels_zyx: np.ndarray, path: Path) -> Path:
    """Write labels (SimpleITK's z, y, x = slice, row, column order) on ``reference``'s grid, as ITK-SNAP does."""
    mask = sitk.GetImageFromArray(labels_zyx.astype(np.uint8))
    mask.CopyInformation(reference)
    sitk.WriteImage(mask, str(path))
    return path


def copy_sample(tmp_path: Path, patient: str, timepoint: str) -> tuple[Path, Path]:
    """A writable copy of a sample DICOM series and its mask (autosave writes beside the scan)."""
    folder = shutil.copytree(SAMPLES / "dicom" / patient / timepoint, tmp_path / patient / timepoint)
    mask = shutil.copy(SAMPLES / "masks" / f"{patient}_{timepoint}_lesions.nii.gz", tmp_path)
    return Path(folder), Path(mask)


GRAYSCALE_PRESENTATION_STATE = "1.2.840.10008.5.1.4.1.1.11.1"
"""A SOP class that is not an image: loaders skip it in a folder."""

# sample_scans/README.md: (patient, timepoint) -> {side: lesion pixels}
COUNTS = {
    ("sub-01", "baseline"): {"right": 1400, "left": 800},
    ("sub-01", "followup"): {"right": 1120, "left": 760},
    ("sub-02", "baseline"): {"right": 1000},
    ("sub-02", "followup"): {"right": 1150},
    ("sub-03", "baseline"): {},
    ("sub-03", "followup"): {"left": 600},
}


def bilateral_labels(shape: tuple[int, int, int]) -> np.ndarray:
    """Label 1 in the patient's right hip (low columns: columns run to the left), label 2 in the left."""
    labels = np.zeros(shape, dtype=np.uint8)
    labels[1:4, 10:20, 30:45] = 1
    labels[2, 12:15, 40:42] = 0  # a hole, so the count is not a plain box
    labels[2:6, 5:12, 250:270] = 2
    return labels


def with_geometry(source: str, target: Path, pixel_spacing: tuple[float, float] | None = None) -> Path:
    """Copy a DICOM file, adding the coronal geometry it lacks (pixel data left compressed as it is)."""
    ds = pydicom.dcmread(source)
    ds.ImageOrientationPatient = list(CORONAL)
    ds.ImagePositionPatient = [0.0, 0.0, 0.0]
    if pixel_spacing is not None:
        ds.PixelSpacing = list(pixel_spacing)
    ds.save_as(target, enforce_file_format=True)
    return target


def dataset_of_class(sop_class: str) -> Dataset:
    """An empty DICOM dataset with the file meta and SOP identity of ``sop_class``."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    return ds


def series_datasets(folder: Path) -> list[pydicom.Dataset]:
    """The series' files in SimpleITK's (GDCM's) slice order, with the empty patient and study
    attributes a scanner writes (DICOM type 2) that the synthetic writer leaves out: highdicom needs them."""
    reader = sitk.ImageSeriesReader()
    datasets = [pydicom.dcmread(name) for name in reader.GetGDCMSeriesFileNames(str(folder))]
    for ds in datasets:
        for keyword in (
            "PatientBirthDate",
            "PatientSex",
            "AccessionNumber",
            "StudyID",
            "StudyDate",
            "StudyTime",
        ):
            setattr(ds, keyword, getattr(ds, keyword, None))
    return datasets


def two_reader_manifest(
    path: Path,
    keep: Callable[[dict[str, str]], bool] = lambda row: True,
    change: Callable[[dict[str, str]], None] | None = None,
) -> Path:
    """sample_scans/cohort-two-readers.csv at ``path`` with absolute paths: only the rows ``keep``
    accepts, each passed through ``change`` (which edits the row in place) first."""
    with open(SAMPLES / "cohort-two-readers.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["scan"], row["mask"] = str(SAMPLES / row["scan"]), str(SAMPLES / row["mask"])
        if change is not None:
            change(row)
    rows = [row for row in rows if keep(row)]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def hd_seg(
    images: list[pydicom.Dataset], pixels: np.ndarray, names: list[str], **options
) -> hd.seg.Segmentation:
    """A SEG written by highdicom itself, one segment per name (pixel value i+1 or channel i)."""
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=name,
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Necrosis,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for number, name in enumerate(names, start=1)
    ]
    options.setdefault("segmentation_type", hd.seg.SegmentationTypeValues.BINARY)
    return hd.seg.Segmentation(
        source_images=images,
        pixel_array=pixels,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=99,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="test",
        manufacturer_model_name="test",
        software_versions="1",
        device_serial_number="1",
        **options,
    )


def canvas_of():
    """The viewer's drawing surface, found through Qt's own widget tree (plugin tests only)."""
    from qtpy.QtWidgets import QApplication, QWidget

    widgets = [w for top in QApplication.topLevelWidgets() for w in top.findChildren(QWidget)]
    return next(w for w in widgets if type(w).__name__ == "CanvasBackendDesktop")


def click_voxel(viewer, layer, voxel: tuple[int, int, int], shift: bool = False) -> None:
    """A real left click (``shift``: Shift+click) on the canvas over ``voxel`` of ``layer``, on its slice."""
    from qtpy.QtCore import QPoint, Qt
    from qtpy.QtTest import QTest

    viewer.dims.set_current_step(0, voxel[0])
    canvas = canvas_of()
    world = np.asarray(layer.data_to_world(voxel), dtype=float)  # layers sit in patient mm
    centre = np.asarray(viewer.scene.camera.center)[-2:]
    zoom = viewer.scene.camera.zoom
    x = (world[2] - centre[1]) * zoom + canvas.width() / 2
    y = (world[1] - centre[0]) * zoom + canvas.height() / 2
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, modifier, QPoint(round(x), round(y)))


#: dcmqi's description of a necrosis segment (SNOMED CT); each segment adds its labelID and SegmentLabel.
DCMQI_NECROSIS = {
    "SegmentedPropertyCategoryCodeSequence": {
        "CodeValue": "49755003",
        "CodingSchemeDesignator": "SCT",
        "CodeMeaning": "Morphologically Abnormal Structure",
    },
    "SegmentedPropertyTypeCodeSequence": {
        "CodeValue": "6574001",
        "CodingSchemeDesignator": "SCT",
        "CodeMeaning": "Necrosis",
    },
    "SegmentAlgorithmType": "MANUAL",
}


def dcmqi_seg(
    folder: Path, images: list[Path], segments: list[list[dict]], out: Path, *options: str, **metadata: str
) -> Path:
    """``out``: a SEG written by dcmqi's itkimage2segimage (3D Slicer's converter) from label images
    (``images``, one per list of ``segments``) on the DICOM series in ``folder``."""
    described = {
        "ContentCreatorName": "Reader^Test",
        "ClinicalTrialSeriesID": "1",
        "ClinicalTrialTimePointID": "1",
        "SeriesDescription": "lesions",
        "SeriesNumber": "300",
        "InstanceNumber": "1",
        "segmentAttributes": segments,
        "ContentLabel": "LESIONS",
        "ContentDescription": "lesions",
        **metadata,
    }
    meta = out.with_name(out.stem + "-meta.json")
    meta.write_text(json.dumps(described))
    tool = Path(sys.executable).with_name("itkimage2segimage")
    result = subprocess.run(
        [str(tool), "--inputImageList", ",".join(map(str, images)), "--inputDICOMDirectory", str(folder),
         "--inputMetadata", str(meta), "--outputDICOM", str(out), *options],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@cache
def family_hip(seed: int) -> Phantom:
    """A hip of the phantom family, rendered once per test run."""
    return make_phantom(family_spec(seed))


@cache
def family_lesion_in_head(seed: int) -> LesionInHead:
    """The family hip's lesion against the head found in the image."""
    phantom = family_hip(seed)
    label = phantom.spec.lesions[0].label
    return lesion_in_head(measure(phantom.scan, phantom.labels, "spacing"), phantom.labels == label, label)
