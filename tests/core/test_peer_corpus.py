"""Masks made by other software, read as an independent reader reads them, or refused.

The third-party files come from installed PyPI packages (see tests/peer_corpus/README.md): the
SEGs ``liver.dcm`` and ``liver_expb.dcm`` of pydicom-data (a CT liver segmentation, one segment
on three slices) and the RTSTRUCT ``rtstruct.dcm`` of pydicom (a body outline and two isocentre
points). Their scans are not shipped, so each test writes the series they reference with pydicom,
placed by the files' own positions and UIDs. Cases those files lack (overlapping segments) are
written by dcmqi and read back by dcmqi. Each SEG is also written again through the export path
and read back by highdicom.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from helpers import (
    DCMQI_NECROSIS,
    dcmqi_seg,
    series_datasets,
    sitk_series,
    write_dicom_series,
    write_sitk_mask,
)
from pydicom.data import get_testdata_file
from pydicom.uid import CTImageStorage

from onfh_volume import load_mask, load_scan
from onfh_volume.cli import main
from onfh_volume.dicom_mask.write_seg import write_seg
from onfh_volume.errors import DicomMaskError, SegExportError
from onfh_volume.mask import load_mask_with_warnings
from onfh_volume.testing.dicom_series import dicom_slices, write_series

pytestmark = pytest.mark.filterwarnings("ignore:The string .* person name:UserWarning")


def referenced_ct_series(seg: pydicom.Dataset, folder: Path) -> Path:
    """The CT slices a SEG's frames were derived from, at the frames' own positions and UIDs."""
    shared = seg.SharedFunctionalGroupsSequence[0]
    frames = seg.PerFrameFunctionalGroupsSequence
    positions = [[float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient] for f in frames]
    uids = [f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID for f in frames]
    spacing = [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing]
    datasets = dicom_slices(
        np.zeros((len(frames), seg.Rows, seg.Columns), dtype=np.int16),
        pixel_spacing=tuple(spacing),
        slice_thickness=float(shared.PixelMeasuresSequence[0].SliceThickness),
        positions=positions,
        orientation=[float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient],
        series_uid=seg.ReferencedSeriesSequence[0].SeriesInstanceUID,
    )
    for ds, uid in zip(datasets, uids, strict=True):
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.Modality, ds.FrameOfReferenceUID = "CT", seg.FrameOfReferenceUID
        for keyword in (
            "StudyDate",
            "StudyTime",
            "AccessionNumber",
            "StudyID",
            "PatientBirthDate",
            "PatientSex",
        ):
            setattr(ds, keyword, None)
    write_series(folder, datasets)
    return folder


@pytest.mark.parametrize("name", ["liver.dcm", "liver_expb.dcm"])
def test_pydicom_data_liver_seg_is_refused_as_no_lesion_and_read_as_highdicom_reads_it_when_named(
    tmp_path: Path, name: str
) -> None:
    path = Path(get_testdata_file(name))
    folder = referenced_ct_series(pydicom.dcmread(path), tmp_path / "ct")
    scan = load_scan(folder, pixels=False)
    # Category Tissue, label "Liver": not coded as a lesion, and the name is an organ's.
    with pytest.raises(
        DicomMaskError, match=r"no segment or ROI is a lesion \(segment 1 'Liver' is named 'Liver'"
    ):
        load_mask(path, scan)
    labels, warnings = load_mask_with_warnings(path, scan, roi=["liver"])
    # pydicom's reading: each frame's pixels on the slice of the image it was derived from.
    seg = pydicom.dcmread(path)
    uids = [ds.SOPInstanceUID for ds in series_datasets(folder)]
    truth = np.zeros(labels.shape, dtype=bool)
    for frame, group in zip(seg.pixel_array, seg.PerFrameFunctionalGroupsSequence, strict=True):
        truth[
            uids.index(group.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID)
        ] |= frame > 0
    assert truth.sum() == 107_098
    hips = [label for label in (1, 2) if (labels == label).any()]
    assert len(hips) == 1 and np.array_equal(labels == hips[0], truth)
    assert any("(Modality CT), not MR" in w for w in warnings)
    assert any("because --roi names it" in w for w in warnings)
    # The liver crosses the patient's midline: exported as one hip's lesion it would be coded with
    # one side, so the SEG writer refuses it rather than write a wrong PACS object.
    with pytest.raises(SegExportError, match="label 1 lies on both sides of the patient's midline"):
        write_seg(tmp_path / "again.dcm", labels, scan)
    assert not (tmp_path / "again.dcm").exists()


def test_pydicom_data_liver_seg_as_highdicom_reads_it(tmp_path: Path) -> None:
    """highdicom's reading of the (little-endian) file, by source image, against onfh-volume's."""
    path = Path(get_testdata_file("liver.dcm"))
    folder = referenced_ct_series(pydicom.dcmread(path), tmp_path / "ct")
    uids = [ds.SOPInstanceUID for ds in series_datasets(folder)]
    truth = hd.seg.segread(path).get_pixels_by_source_instance(
        uids,
        segment_numbers=[1],
        ignore_spatial_locations=True,  # the file does not state it
    )[..., 0]
    labels = load_mask(path, load_scan(folder, pixels=False), roi=["Liver"])
    assert np.array_equal(labels > 0, truth > 0)


def axial_series_for_pydicom_rtstruct(rtstruct: pydicom.Dataset, folder: Path) -> Path:
    """Axial 2 mm slices at z = -200, -190, -180 mm whose pixel centres include x = +-200, y = +-150."""
    series = rtstruct.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
    datasets = dicom_slices(
        np.zeros((3, 251, 251), dtype=np.int16),
        pixel_spacing=(2.0, 2.0),
        slice_thickness=10.0,
        positions=[[-250.0, -250.0, z] for z in (-200.0, -190.0, -180.0)],
        orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
        series_uid=series.RTReferencedSeriesSequence[0].SeriesInstanceUID,
    )
    for ds in datasets:
        ds.FrameOfReferenceUID = rtstruct.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID
    write_series(folder, datasets)
    return folder


def test_pydicom_rtstruct_body_outline_and_isocentres_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bare dataset (no preamble) of an EXTERNAL outline and ISOCENTER points: no lesion in it."""
    path = Path(get_testdata_file("rtstruct.dcm"))
    folder = axial_series_for_pydicom_rtstruct(pydicom.dcmread(path, force=True), tmp_path / "s")
    assert main(["measure", str(folder), str(path), "--no-head"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no segment or ROI is a lesion (ROI 1 'patient' is an RT ROI of type EXTERNAL, not a lesion" in err
    # Named, the outline (a 400 x 300 mm rectangle on the midline) is filled, then refused for its side.
    with pytest.raises(DicomMaskError, match="'patient' is centred on the patient's midline"):
        load_mask(path, load_scan(folder, pixels=False), roi=["patient"])


def dcmqi_seg_of(folder: Path, masks: list[np.ndarray], out: Path, tmp_path: Path) -> Path:
    """A SEG written by dcmqi's itkimage2segimage, one segment per mask (overlaps allowed)."""
    reference = sitk_series(folder)
    images = [
        write_sitk_mask(reference, mask.astype(np.uint8), tmp_path / f"segment{k}.nrrd")
        for k, mask in enumerate(masks)
    ]
    segments = [
        [{**DCMQI_NECROSIS, "labelID": 1, "SegmentLabel": f"lesion {k + 1}"}] for k in range(len(masks))
    ]
    return dcmqi_seg(folder, images, segments, out)


def dcmqi_reading(seg: Path, tmp_path: Path) -> list[np.ndarray]:
    """dcmqi's own reading (segimage2itkimage): each segment's voxels, in (slice, row, column)."""
    out = tmp_path / "read"
    out.mkdir()
    tool = Path(sys.executable).with_name("segimage2itkimage")
    result = subprocess.run(
        [str(tool), "--inputDICOM", str(seg), "--outputDirectory", str(out), "--outputType", "nrrd"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    files = sorted(out.glob("*.nrrd"), key=lambda p: int(p.stem.split("-")[-1]))
    return [sitk.GetArrayFromImage(sitk.ReadImage(str(f))) > 0 for f in files]


def test_dcmqi_overlapping_segments_of_one_hip_measure_their_union(tmp_path: Path) -> None:
    folder = write_dicom_series(tmp_path / "series")
    first, second = np.zeros((2, 6, 40, 320), dtype=bool)
    first[1:4, 10:20, 30:45] = True
    second[2:5, 15:25, 40:50] = True
    seg = dcmqi_seg_of(folder, [first, second], tmp_path / "overlap.dcm", tmp_path)
    segments = dcmqi_reading(seg, tmp_path)
    # dcmqi reads back two segments of 450 and 300 voxels sharing 50 (in its own slice order).
    assert [int(x.sum()) for x in segments] == [450, 300] and (segments[0] & segments[1]).sum() == 50
    labels, warnings = load_mask_with_warnings(seg, load_scan(folder, pixels=False))
    assert np.array_equal(labels == 1, first | second) and labels.max() == 1
    assert (labels == 1).sum() == 450 + 300 - 50
    assert any("(50 voxels lie in more than one, counted once)" in w for w in warnings)


def test_dcmqi_segments_of_two_hips_sharing_voxels_are_refused(tmp_path: Path) -> None:
    folder = write_dicom_series(tmp_path / "series")
    right, left = np.zeros((2, 6, 40, 320), dtype=bool)
    right[1:4, 10:20, 30:170] = True
    left[1:4, 10:20, 165:300] = True
    seg = dcmqi_seg_of(folder, [right, left], tmp_path / "across.dcm", tmp_path)
    segments = dcmqi_reading(seg, tmp_path)
    shared = int((segments[0] & segments[1]).sum())
    with pytest.raises(DicomMaskError, match=f"share {shared} voxels: no voxel lies in both hips"):
        load_mask(seg, load_scan(folder, pixels=False))
