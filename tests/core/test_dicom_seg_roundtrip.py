"""NIfTI mask -> DICOM SEG (ours) -> read by us and by highdicom: the same voxels, the same volumes."""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from helpers import SAMPLES, bilateral_labels, oblique, sitk_series, write_dicom_series, write_sitk_mask

from onfh_volume import OutputExistsError, load_mask, load_scan
from onfh_volume.errors import OutputIsInputError, SegExportError
from onfh_volume.export_seg import export_seg
from onfh_volume.mask import load_mask_with_warnings
from onfh_volume.measure_files import measure_file

pytestmark = pytest.mark.filterwarnings("ignore:The string .* person name:UserWarning")

SIDE_VALUES = {"right hip lesion": 1, "left hip lesion": 2}


def highdicom_labels(seg_path: Path, folder: Path) -> np.ndarray:
    """The SEG read by highdicom onto the series' images in SimpleITK's slice order (1 right, 2 left)."""
    seg = hd.seg.segread(seg_path)
    files = sitk.ImageSeriesReader().GetGDCMSeriesFileNames(str(folder))
    uids = [pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in files]
    numbers = [int(s.SegmentNumber) for s in seg.SegmentSequence]
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=uids, segment_numbers=numbers, combine_segments=False
    )
    labels = np.zeros(pixels.shape[:3], dtype=np.int32)
    for channel, segment in enumerate(seg.SegmentSequence):
        labels[pixels[..., channel] > 0] = SIDE_VALUES[segment.SegmentLabel]
    return labels


def sitk_mask_on_series(mask: Path, folder: Path) -> np.ndarray:
    """The NIfTI mask on the series' grid by SimpleITK (nearest neighbour on coinciding grids)."""
    reference = sitk_series(folder)
    resampled = sitk.Resample(
        sitk.ReadImage(str(mask)), reference, sitk.Transform(), sitk.sitkNearestNeighbor
    )
    return sitk.GetArrayFromImage(resampled).astype(np.int32)


@pytest.mark.parametrize(
    ("patient", "timepoint"),
    [("sub-01", "baseline"), ("sub-01", "followup"), ("sub-02", "followup"), ("sub-03", "followup")],
)
def test_sample_mask_round_trips_through_seg(tmp_path: Path, patient: str, timepoint: str) -> None:
    folder = SAMPLES / "dicom" / patient / timepoint
    nifti = SAMPLES / "masks" / f"{patient}_{timepoint}_lesions.nii.gz"
    seg = export_seg(folder, nifti, tmp_path / "lesions.dcm", reader="Test^Reader")
    scan = load_scan(folder, pixels=False)
    truth = sitk_mask_on_series(nifti, folder)
    assert truth.any()
    assert np.array_equal(highdicom_labels(seg, folder), truth)
    assert np.array_equal(load_mask(seg, scan), truth)
    from_seg, from_nifti = measure_file(scan, seg), measure_file(scan, nifti)
    assert [(x.side, x.volume_thickness_cm3, x.volume_cavalieri_cm3) for x in from_seg.lesions] == [
        (x.side, x.volume_thickness_cm3, x.volume_cavalieri_cm3) for x in from_nifti.lesions
    ]


@pytest.mark.parametrize("degrees", [0, 20, -35])
def test_oblique_series_round_trips_through_seg(tmp_path: Path, degrees: float) -> None:
    folder = write_dicom_series(tmp_path / "series", orientation=oblique(degrees))
    labels = bilateral_labels((6, 40, 320))
    nifti = write_sitk_mask(sitk_series(folder), labels, tmp_path / "mask.nii.gz")
    seg = export_seg(folder, nifti, tmp_path / "lesions.dcm")
    assert np.array_equal(highdicom_labels(seg, folder), labels)
    assert np.array_equal(load_mask(seg, load_scan(folder, pixels=False)), labels)


def test_seg_carries_codes_creator_version_and_only_the_source_patient(tmp_path: Path) -> None:
    folder = SAMPLES / "dicom" / "sub-01" / "baseline"
    seg_path = export_seg(
        folder, SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", tmp_path / "s.dcm", reader="JD"
    )
    seg = pydicom.dcmread(seg_path)
    source = pydicom.dcmread(next(folder.iterdir()), stop_before_pixels=True)
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4" and seg.SegmentationType == "BINARY"
    assert (seg.PatientName, seg.PatientID, seg.StudyInstanceUID) == (
        source.PatientName,
        source.PatientID,
        source.StudyInstanceUID,
    )
    assert seg.PatientBirthDate == "" and "OtherPatientIDsSequence" not in seg
    assert seg.ContentCreatorName == "JD^" and seg.SoftwareVersions == version("onfh-volume")
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == source.SeriesInstanceUID
    assert len(seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence) == 14
    segments = {s.SegmentLabel: s for s in seg.SegmentSequence}
    assert set(segments) == {"right hip lesion", "left hip lesion"}
    right = segments["right hip lesion"]
    assert right.SegmentedPropertyTypeCodeSequence[0].CodeValue == "6574001"  # SCT Necrosis
    assert right.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "49755003"
    region = right.AnatomicRegionSequence[0]
    assert region.CodeValue == "2812003" and region.AnatomicRegionModifierSequence[0].CodeValue == "24028007"
    # Frames only where a lesion is: 8 slices with a right lesion, 8 with a left one in sub-01.
    traced = sitk_mask_on_series(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", folder)
    expected_frames = sum(int((traced == v).any(axis=(1, 2)).sum()) for v in (1, 2))
    assert int(seg.NumberOfFrames) == expected_frames


def test_export_refuses_nifti_scan_empty_mask_and_inputs(tmp_path: Path) -> None:
    folder = SAMPLES / "dicom" / "sub-01" / "baseline"
    mask = SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz"
    with pytest.raises(SegExportError, match="DICOM images"):
        export_seg(SAMPLES / "nifti" / "sub-01_baseline.nii.gz", mask, tmp_path / "a.dcm")
    with pytest.raises(SegExportError, match="no lesion"):
        export_seg(
            SAMPLES / "dicom" / "sub-03" / "baseline",
            SAMPLES / "masks" / "sub-03_baseline_lesions.nii.gz",
            tmp_path / "b.dcm",
        )
    with pytest.raises(OutputIsInputError, match="input"):
        export_seg(folder, mask, folder / "seg.dcm")
    with pytest.raises(OutputIsInputError, match="input"):
        export_seg(folder, mask, mask)
    out = export_seg(folder, mask, tmp_path / "c.dcm")
    before = out.read_bytes()
    with pytest.raises(OutputExistsError):
        export_seg(folder, mask, out)
    assert out.read_bytes() == before
    export_seg(folder, mask, out, overwrite=True)
    assert out.read_bytes() != before  # new UIDs: really rewritten
    assert not list(tmp_path.glob(".*part*"))


def test_export_seg_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from onfh_volume.cli import main

    folder = SAMPLES / "dicom" / "sub-02" / "baseline"
    mask = SAMPLES / "masks" / "sub-02_baseline_lesions.nii.gz"
    out = tmp_path / "lesions.dcm"
    assert main(["export-seg", str(folder), str(mask), "-o", str(out), "--reader", "AB"]) == 0
    assert "right hip lesion" in capsys.readouterr().out
    assert pydicom.dcmread(out).ContentCreatorName == "AB^"
    assert main(["export-seg", str(folder), str(mask), "-o", str(out)]) == 2
    assert "file exists" in capsys.readouterr().err
    assert main(["export-seg", str(folder), str(mask), "-o", str(out), "--force"]) == 0
    assert "warning: slice gap of 0.4 mm" in capsys.readouterr().err  # the scan's own, as measure says it
    nifti_scan = SAMPLES / "nifti" / "sub-02_baseline.nii.gz"
    assert main(["export-seg", str(nifti_scan), str(mask), "-o", str(tmp_path / "n.dcm")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a DICOM SEG references the scan's DICOM images" in err
    assert not (tmp_path / "n.dcm").exists()


def test_batch_with_seg_masks_reports_what_it_reports_with_nifti(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample cohort with its masks as SEGs (sub-03's follow-up SEG measured on the NIfTI scan).

    sub-03's baseline has no lesion, hence no SEG: it keeps its NIfTI mask, copied beside the
    manifest under the same relative name, so that the warnings naming it read the same.
    """
    import csv

    from onfh_volume.cli import main

    (tmp_path / "masks").mkdir()
    shutil.copy(SAMPLES / "masks" / "sub-03_baseline_lesions.nii.gz", tmp_path / "masks")
    with open(SAMPLES / "cohort.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["scan"] = str(SAMPLES / row["scan"])
        if (row["patient_id"], row["timepoint"]) != ("sub-03", "baseline"):
            folder = SAMPLES / "dicom" / row["patient_id"] / row["timepoint"]
            out = tmp_path / f"{row['patient_id']}_{row['timepoint']}.dcm"
            row["mask"] = str(export_seg(folder, SAMPLES / row["mask"], out))
    with open(tmp_path / "cohort.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["batch", str(SAMPLES / "cohort.csv"), "-o", str(tmp_path / "nifti.csv"), "--jobs", "1"]) == 0
    assert main(["batch", str(tmp_path / "cohort.csv"), "-o", str(tmp_path / "seg.csv"), "--jobs", "1"]) == 0
    capsys.readouterr()
    results = []
    for name in ("nifti.csv", "seg.csv"):
        with open(tmp_path / name, newline="") as f:
            results.append(list(csv.DictReader(f)))
    assert len(results[0]) == len(results[1]) == 5
    for nifti_row, seg_row in zip(*results, strict=True):
        for column, value in nifti_row.items():
            if "mask" not in column and "scan" not in column:
                assert seg_row[column] == value, column


def test_our_seg_is_read_right_by_dcmqi(tmp_path: Path) -> None:
    """dcmqi's segimage2itkimage (3D Slicer's reader) puts each segment where the NIfTI mask has it."""
    import json
    import subprocess
    import sys

    folder = SAMPLES / "dicom" / "sub-01" / "followup"
    nifti = SAMPLES / "masks" / "sub-01_followup_lesions.nii.gz"
    seg = export_seg(folder, nifti, tmp_path / "lesions.dcm")
    tool = Path(sys.executable).with_name("segimage2itkimage")
    result = subprocess.run(
        [str(tool), "--inputDICOM", str(seg), "--outputDirectory", str(tmp_path), "--outputType", "nifti"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    groups = json.loads((tmp_path / "meta.json").read_text())["segmentAttributes"]
    segments = [segment for group in groups for segment in group]
    assert sorted(s["SegmentLabel"] for s in segments) == ["left hip lesion", "right hip lesion"]
    truth = sitk_mask_on_series(nifti, folder)
    for segment in segments:
        voxels = sitk_mask_on_series(tmp_path / f"{segment['labelID']}.nii.gz", folder) > 0
        assert np.array_equal(voxels, truth == SIDE_VALUES[segment["SegmentLabel"]])


def test_segments_are_named_by_the_hip_they_lie_in(tmp_path: Path) -> None:
    from onfh_volume.dicom_mask.write_seg import write_seg

    folder = write_dicom_series(tmp_path / "series")
    scan = load_scan(folder, pixels=False)
    labels = np.zeros(scan.shape, np.uint8)
    labels[1:3, 10:20, 30:45] = 2  # the right hip, with the left hip's label
    labels[4, 10:20, 60:70] = 7  # a second lesion in the right hip
    labels[2:5, 5:12, 250:270] = 1  # the left hip, with the right hip's label
    path = write_seg(tmp_path / "seg.dcm", labels, scan)
    names = {s.SegmentNumber: s.SegmentLabel for s in pydicom.dcmread(path).SegmentSequence}
    assert names == {1: "left hip lesion", 2: "right hip lesion", 3: "right hip lesion 2"}
    read, warnings = load_mask_with_warnings(path, scan)
    assert np.array_equal(read, np.select([np.isin(labels, (2, 7)), labels == 1], [1, 2], 0))
    assert any("all lie in the right hip" in w for w in warnings)
