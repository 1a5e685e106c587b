"""DICOM SEGs written by other tools (highdicom, dcmqi) land on the scan's grid, or are refused."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from helpers import (
    DCMQI_NECROSIS,
    SAMPLES,
    bilateral_labels,
    dcmqi_seg,
    hd_seg,
    series_datasets,
    sitk_series,
    write_dicom_series,
    write_sitk_mask,
)

from onfh_volume import MaskError, load_mask, load_scan
from onfh_volume.dicom_mask.read_seg import FRACTION_THRESHOLD
from onfh_volume.errors import DicomMaskError
from onfh_volume.mask import load_mask_with_warnings
from onfh_volume.volume import measure

# highdicom's opinion of the synthetic patient name "ANONYMOUS" (one name component).
pytestmark = pytest.mark.filterwarnings("ignore:The string .* person name:UserWarning")


@pytest.fixture
def series_and_labels(series: Path) -> tuple[Path, np.ndarray]:
    return series, bilateral_labels((6, 40, 320))


def test_highdicom_binary_seg_names_do_not_decide_the_side(series_and_labels, tmp_path: Path) -> None:
    folder, labels = series_and_labels
    path = tmp_path / "seg.dcm"
    # Segment 1 (the right lesion) is named "left", segment 2 has a neutral name.
    hd_seg(series_datasets(folder), labels, ["left femoral head lesion", "lesion B"]).save_as(path)
    read, warnings = load_mask_with_warnings(path, load_scan(folder, pixels=False))
    assert np.array_equal(read, labels)
    assert len(warnings) == 1 and "'left femoral head lesion' lies in the patient's right hip" in warnings[0]


def test_two_segments_in_one_hip_are_measured_together(series: Path, tmp_path: Path) -> None:
    labels = np.zeros((6, 40, 320), np.uint8)
    labels[1:3, 10:20, 30:45] = 1
    labels[3:5, 10:20, 30:45] = 2  # both in the right hip (low columns)
    path = tmp_path / "seg.dcm"
    hd_seg(series_datasets(series), labels, ["lesion part 1", "lesion part 2"]).save_as(path)
    scan = load_scan(series, pixels=False)
    read, warnings = load_mask_with_warnings(path, scan)
    assert np.array_equal(read, (labels > 0).astype(np.int32))
    assert any("all lie in the right hip" in w for w in warnings)
    assert measure(scan, read).lesions[0].voxel_count == 2 * 2 * 10 * 15


def test_fractional_seg_is_thresholded_at_one_half(series: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    fractions = np.zeros((6, 40, 320), np.float32)
    fractions[1:4, 5:30, 10:60] = rng.choice([0.2, 0.49, 0.5, 0.51, 0.9, 1.0], size=(3, 25, 50))
    path = tmp_path / "fractional.dcm"
    hd_seg(
        series_datasets(series),
        fractions,
        ["right hip lesion"],
        segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL,
        max_fractional_value=200,  # so each fraction above is stored exactly
    ).save_as(path)
    stored = hd.seg.segread(path)
    assert stored.MaximumFractionalValue == 200
    read = load_mask(path, load_scan(series, pixels=False))
    assert FRACTION_THRESHOLD == 0.5
    assert np.array_equal(read, (fractions >= 0.5).astype(np.int32))


def test_labelmap_seg_is_read(series_and_labels, tmp_path: Path) -> None:
    folder, labels = series_and_labels
    path = tmp_path / "labelmap.dcm"
    hd_seg(
        series_datasets(folder),
        labels,
        ["right hip lesion", "left hip lesion"],
        segmentation_type=hd.seg.SegmentationTypeValues.LABELMAP,
    ).save_as(path)
    assert pydicom.dcmread(path).SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.7"
    assert np.array_equal(load_mask(path, load_scan(folder, pixels=False)), labels)


@pytest.mark.parametrize("segmentation_type", ["binary", "labelmap"])
def test_seg_written_by_dcmqi_is_read(series_and_labels, tmp_path: Path, segmentation_type: str) -> None:
    """dcmqi (3D Slicer's SEG converter): one segment per label, frames only where non-empty."""
    folder, labels = series_and_labels
    nifti = write_sitk_mask(sitk_series(folder), labels, tmp_path / "mask.nrrd")
    segments = [
        [
            {**DCMQI_NECROSIS, "labelID": 1, "SegmentLabel": "lesion R"},
            {**DCMQI_NECROSIS, "labelID": 2, "SegmentLabel": "lesion L"},
        ]
    ]
    out = dcmqi_seg(
        folder, [nifti], segments, tmp_path / "dcmqi.dcm", "--segmentationType", segmentation_type,
        BodyPartExamined="HIP",
    )  # fmt: skip
    seg = pydicom.dcmread(out)
    # dcmqi's conventions: the source series referenced, and frames only where a segment has pixels.
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == load_scan(folder, pixels=False).series_uid
    if segmentation_type == "binary":
        assert int(seg.NumberOfFrames) == sum(int((labels == v).any(axis=(1, 2)).sum()) for v in (1, 2))
    read, warnings = load_mask_with_warnings(out, load_scan(folder, pixels=False))
    assert np.array_equal(read, labels)
    assert warnings == []


def test_seg_on_another_grid_is_refused(series_and_labels, tmp_path: Path) -> None:
    folder, labels = series_and_labels
    path = tmp_path / "seg.dcm"
    hd_seg(series_datasets(folder), labels, ["right", "left"]).save_as(path)
    finer = write_dicom_series(tmp_path / "finer", pixel_spacing=(0.8, 0.8))
    with pytest.raises(DicomMaskError, match=r"pixel spacing \[0.8, 0.9\] mm vs the scan's \[0.8, 0.8\] mm"):
        load_mask(path, load_scan(finer, pixels=False))
    shifted = write_dicom_series(tmp_path / "shifted", first=(-143.55 + 0.45, -40.0, 75.6))
    with pytest.raises(DicomMaskError, match=r"shifted by -0\.5 voxel"):
        load_mask(path, load_scan(shifted, pixels=False))
    thinner = write_dicom_series(tmp_path / "thinner", shape=(6, 30, 320))
    with pytest.raises(DicomMaskError, match="not the scan's grid"):
        load_mask(path, load_scan(thinner, pixels=False))


def test_seg_whose_frames_and_references_disagree_is_refused(series_and_labels, tmp_path: Path) -> None:
    folder, labels = series_and_labels
    images = series_datasets(folder)
    seg = hd_seg(images, labels, ["right", "left"])
    frame = seg.PerFrameFunctionalGroupsSequence[0]
    source = frame.DerivationImageSequence[0].SourceImageSequence[0]
    slice_of = {ds.SOPInstanceUID: k for k, ds in enumerate(images)}
    source.ReferencedSOPInstanceUID = images[
        (slice_of[source.ReferencedSOPInstanceUID] + 2) % 6
    ].SOPInstanceUID
    seg.save_as(tmp_path / "seg.dcm")
    with pytest.raises(DicomMaskError, match="positions and its referenced images disagree"):
        load_mask(tmp_path / "seg.dcm", load_scan(folder, pixels=False))


def test_seg_of_another_series_on_the_same_grid_warns(tmp_path: Path) -> None:
    from onfh_volume.export_seg import export_seg

    baseline = SAMPLES / "dicom" / "sub-01" / "baseline"
    seg = export_seg(baseline, SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", tmp_path / "b.dcm")
    followup = load_scan(SAMPLES / "dicom" / "sub-01" / "followup", pixels=False)
    _, warnings = load_mask_with_warnings(seg, followup)
    assert len(warnings) == 1 and "is it another timepoint's mask?" in warnings[0]


def test_dicom_file_that_is_no_mask_and_unknown_file_are_refused(series: Path, tmp_path: Path) -> None:
    scan = load_scan(series, pixels=False)
    image = next(series.iterdir())
    with pytest.raises(DicomMaskError, match=r"neither a DICOM SEG nor an RTSTRUCT \(MR Image Storage\)"):
        load_mask(image, scan)
    text = tmp_path / "notes.dcm"
    text.write_text("not a mask")
    with pytest.raises(MaskError):
        load_mask(text, scan)


def test_cli_refuses_a_seg_off_the_grid_in_one_line(series_and_labels, tmp_path: Path) -> None:
    folder, labels = series_and_labels
    path = tmp_path / "seg.dcm"
    hd_seg(series_datasets(folder), labels, ["right", "left"]).save_as(path)
    other = write_dicom_series(tmp_path / "other", pixel_spacing=(0.7, 0.9))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from onfh_volume.cli import main; raise SystemExit(main())",
            "measure",
            str(other),
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "SEG grid does not coincide" in result.stderr


def test_a_seg_is_never_loaded_as_a_scan_and_a_folder_may_hold_one(tmp_path: Path) -> None:
    from onfh_volume.errors import ScanError
    from onfh_volume.export_seg import export_seg

    folder = shutil.copytree(SAMPLES / "dicom" / "sub-01" / "baseline", tmp_path / "series")
    seg = export_seg(folder, SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", tmp_path / "seg.dcm")
    with pytest.raises(ScanError, match="a DICOM SEG is a lesion mask, not a scan"):
        load_scan(seg)
    shutil.copy(seg, folder / "SEG0001")  # as a PACS exports a study: the images and their SEG
    assert load_scan(folder, pixels=False).shape == (14, 224, 224)


def test_frames_without_positions_are_placed_by_their_referenced_images(
    series_and_labels, tmp_path: Path
) -> None:
    folder, labels = series_and_labels
    seg = hd_seg(series_datasets(folder), labels, ["right", "left"])
    for frame in seg.PerFrameFunctionalGroupsSequence:
        del frame.PlanePositionSequence
    seg.save_as(tmp_path / "seg.dcm")
    assert np.array_equal(load_mask(tmp_path / "seg.dcm", load_scan(folder, pixels=False)), labels)
    other = write_dicom_series(tmp_path / "other")  # the same grid, another series: no image to go by
    with pytest.raises(DicomMaskError, match="states no position and no single image of the scan"):
        load_mask(tmp_path / "seg.dcm", load_scan(other, pixels=False))


def test_malformed_seg_is_refused_in_one_sentence(series_and_labels, tmp_path: Path) -> None:
    folder, labels = series_and_labels
    seg = hd_seg(series_datasets(folder), labels, ["right", "left"])
    seg.SegmentationType = "SURFACE"
    seg.save_as(tmp_path / "odd.dcm")
    with pytest.raises(DicomMaskError, match="SEG of type 'SURFACE'"):
        load_mask(tmp_path / "odd.dcm", load_scan(folder, pixels=False))
    seg.SegmentationType = "BINARY"
    del seg.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence
    seg.save_as(tmp_path / "no_orientation.dcm")
    with pytest.raises(DicomMaskError, match="state no orientation or pixel spacing"):
        load_mask(tmp_path / "no_orientation.dcm", load_scan(folder, pixels=False))


def test_segment_coded_as_anatomy_is_not_measured(series_and_labels, tmp_path: Path) -> None:
    folder, labels = series_and_labels
    head = np.zeros_like(labels)
    head[1:5, 2:30, 20:80] = 1  # a "femoral head" around the right lesion
    seg = hd_seg(
        series_datasets(folder),
        np.stack([labels == 1, labels == 2, head == 1], axis=-1),
        ["a", "b", "femoral head"],
    )
    seg.SegmentSequence[2].SegmentedPropertyCategoryCodeSequence[0].CodeValue = "123037004"
    seg.SegmentSequence[2].SegmentedPropertyCategoryCodeSequence[0].CodeMeaning = "Anatomical Structure"
    seg.save_as(tmp_path / "seg.dcm")
    read, warnings = load_mask_with_warnings(tmp_path / "seg.dcm", load_scan(folder, pixels=False))
    assert np.array_equal(read, labels)
    assert warnings == [
        f"{tmp_path / 'seg.dcm'}: segment 3 'femoral head' is coded as category Anatomical Structure, "
        "not a lesion: not measured (--roi NAME would measure it)"
    ]


def test_a_seg_is_recognised_by_content_not_name(tmp_path: Path) -> None:
    from onfh_volume.export_seg import export_seg

    folder = SAMPLES / "dicom" / "sub-02" / "baseline"
    nifti = SAMPLES / "masks" / "sub-02_baseline_lesions.nii.gz"
    seg = export_seg(folder, nifti, tmp_path / "seg.dcm")
    scan = load_scan(folder, pixels=False)
    disguised = shutil.copy(seg, tmp_path / "lesions.nii.gz")
    assert np.array_equal(load_mask(disguised, scan), load_mask(nifti, scan))
    assert (load_mask(disguised, scan) == 1).sum() == 1000  # sample_scans/README.md
