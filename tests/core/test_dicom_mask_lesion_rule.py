"""Only segments and ROIs that are lesions are measured; the reader may name the one to measure.

RTSTRUCTs are written by hand with pydicom (``onfh_volume.testing.rtstruct``), SEGs by highdicom;
the expected voxel counts are the polygons' and boxes' own (scikit-image's fill, numpy boxes).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers import SAMPLES, bilateral_labels, hd_seg, series_datasets, write_dicom_series
from pydicom.data import get_testdata_file
from pydicom.dataelem import DataElement
from pydicom.uid import CTImageStorage, VLWholeSlideMicroscopyImageStorage, generate_uid
from skimage.draw import polygon

from onfh_volume import load_mask, load_scan
from onfh_volume.cli import main
from onfh_volume.errors import DicomMaskError, MaskError, ScanError
from onfh_volume.mask import load_mask_with_warnings
from onfh_volume.measure_files import measure_file
from onfh_volume.testing.rtstruct import pixel_to_lps, write_rtstruct

pytestmark = pytest.mark.filterwarnings("ignore:The string .* person name:UserWarning")

SHAPE = (6, 40, 320)
LESION = np.array([[10.3, 40.2], [12.6, 61.7], [25.3, 58.8], [24.7, 42.5]])
HEAD = np.array([[2.2, 25.1], [2.4, 80.3], [37.6, 80.9], [37.3, 25.4]])  # around the lesion


def filled(outline: np.ndarray) -> int:
    return len(polygon(outline[:, 0], outline[:, 1], SHAPE[1:])[0])


@pytest.fixture
def images(tmp_path: Path) -> list[pydicom.Dataset]:
    return series_datasets(write_dicom_series(tmp_path / "series"))


def rtstruct(tmp_path: Path, images, rois: dict[str, np.ndarray], types: dict[str, str]) -> Path:
    return write_rtstruct(
        tmp_path / "rs.dcm",
        images,
        {name: [(2, pixel_to_lps(images[2], o[:, 0], o[:, 1]))] for name, o in rois.items()},
        interpreted_types=types,
    )


def test_an_organ_roi_beside_the_lesion_is_not_measured(tmp_path: Path, images) -> None:
    path = rtstruct(tmp_path, images, {"Femoral head R": HEAD, "lesion": LESION}, {"Femoral head R": "ORGAN"})
    labels, warnings = load_mask_with_warnings(path, load_scan(tmp_path / "series", pixels=False))
    assert (labels == 1).sum() == filled(LESION) and labels.max() == 1
    assert warnings == [
        f"{path}: ROI 1 'Femoral head R' is an RT ROI of type ORGAN, not a lesion: not measured "
        "(--roi NAME would measure it)"
    ]


@pytest.mark.parametrize(
    ("name", "kind", "measured"),
    [
        ("Femur L", "", False),  # uncoded: the name says normal anatomy
        ("AVOID bladder", "AVOIDANCE", False),
        ("PTV hip", "PTV", False),
        ("necrosis R", "ORGAN", True),  # a tool's default type on a region the reader named a lesion
        ("ROI-1", "", True),  # uncoded and a neutral name: as before, a lesion
        ("GTV", "GTV", True),
    ],
)
def test_the_rule_for_each_coding_and_name(
    tmp_path: Path, images, name: str, kind: str, measured: bool
) -> None:
    path = rtstruct(tmp_path, images, {name: HEAD, "lesion": LESION}, {name: kind})
    labels = load_mask(path, load_scan(tmp_path / "series", pixels=False))
    assert (labels == 1).sum() == (filled(HEAD) if measured else filled(LESION))


def test_a_file_holding_only_anatomy_is_refused_and_the_reader_can_name_it(
    tmp_path: Path, images, capsys: pytest.CaptureFixture[str]
) -> None:
    path = rtstruct(tmp_path, images, {"Femoral head R": HEAD}, {"Femoral head R": "ORGAN"})
    folder = str(tmp_path / "series")
    with pytest.raises(
        DicomMaskError, match=r"no segment or ROI is a lesion \(ROI 1 'Femoral head R' is an RT"
    ):
        load_mask(path, load_scan(folder, pixels=False))
    assert main(["measure", folder, str(path), "--no-head"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "name the one to measure with --roi NAME" in err
    assert main(["measure", folder, str(path), "--no-head", "--roi", "femoral head r", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [lesion["voxel_count"] for lesion in json.loads(out)["lesions"]] == [filled(HEAD)]
    assert main(["measure", folder, str(path), "--no-head", "--roi", "lesion"]) == 2
    assert "no segment or ROI named 'lesion' (its names: 'Femoral head R')" in capsys.readouterr().err


def test_compare_measures_the_named_roi_at_both_timepoints(
    tmp_path: Path, images, capsys: pytest.CaptureFixture[str]
) -> None:
    path = rtstruct(tmp_path, images, {"Femoral head R": HEAD, "lesion": LESION}, {"Femoral head R": "ORGAN"})
    folder = str(tmp_path / "series")
    arguments = ["compare", folder, str(path), folder, str(path), "--no-head", "--json"]
    assert main([*arguments, "--roi", "Femoral head R"]) == 0
    data = json.loads(capsys.readouterr().out)
    for when in ("baseline", "followup"):
        assert [lesion["voxel_count"] for lesion in data[when]["lesions"]] == [filled(HEAD)]
    assert main(arguments) == 0  # without --roi: the lesion only
    data = json.loads(capsys.readouterr().out)
    assert [lesion["voxel_count"] for lesion in data["baseline"]["lesions"]] == [filled(LESION)]


def test_roi_on_a_nifti_mask_is_refused() -> None:
    scan = load_scan(SAMPLES / "dicom" / "sub-01" / "baseline", pixels=False)
    with pytest.raises(MaskError, match="--roi names a segment or ROI of a DICOM SEG or RTSTRUCT"):
        load_mask(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", scan, roi=["lesion"])


def test_seg_segments_by_category(series: Path, tmp_path: Path) -> None:
    labels = bilateral_labels(SHAPE)
    seg = hd_seg(series_datasets(series), labels, ["Segment_1", "marker"])
    tissue, device = (item.SegmentedPropertyCategoryCodeSequence[0] for item in seg.SegmentSequence)
    tissue.CodeValue, tissue.CodeMeaning = "85756007", "Tissue"  # 3D Slicer's default: the name decides
    device.CodeValue, device.CodeMeaning = "260787004", "Physical object"
    seg.save_as(tmp_path / "seg.dcm")
    read, warnings = load_mask_with_warnings(tmp_path / "seg.dcm", load_scan(series, pixels=False))
    assert np.array_equal(read, np.where(labels == 1, 1, 0))
    assert warnings == [
        f"{tmp_path / 'seg.dcm'}: segment 2 'marker' is coded as category Physical object, not a lesion: "
        "not measured (--roi NAME would measure it)"
    ]


def test_a_seg_in_another_frame_of_reference_is_warned_about(series: Path, tmp_path: Path) -> None:
    labels = bilateral_labels(SHAPE)
    seg = hd_seg(series_datasets(series), labels, ["right", "left"])
    seg.FrameOfReferenceUID = generate_uid()
    seg.save_as(tmp_path / "seg.dcm")
    read, warnings = load_mask_with_warnings(tmp_path / "seg.dcm", load_scan(series, pixels=False))
    assert np.array_equal(read, labels)
    assert (
        len(warnings) == 1
        and "its frame of reference" in warnings[0]
        and seg.FrameOfReferenceUID in warnings[0]
    )


def test_a_mask_on_a_ct_scan_is_measured_with_a_warning(tmp_path: Path) -> None:
    folder = write_dicom_series(tmp_path / "ct")
    for ds in series_datasets(folder):
        ds.Modality, ds.SOPClassUID = "CT", CTImageStorage
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.save_as(ds.filename)
    images = series_datasets(folder)
    path = rtstruct(tmp_path, images, {"lesion": LESION}, {})
    measurement = measure_file(load_scan(folder, pixels=False), path)
    assert measurement.lesions[0].voxel_count == filled(LESION)
    assert any("is CT Image Storage (Modality CT), not MR" in w for w in measurement.warnings)


def test_a_huge_malformed_contour_is_refused_in_a_short_line(
    tmp_path: Path, images, capsys: pytest.CaptureFixture[str]
) -> None:
    path = rtstruct(tmp_path, images, {"lesion": LESION}, {})
    ds = pydicom.dcmread(path)
    contour = ds.ROIContourSequence[0].ContourSequence[0]
    # 2 MB that are no numbers, stored raw (as a broken writer would) so pydicom keeps them as they are.
    contour["ContourData"] = DataElement(0x30060050, "UN", b"1.5_" * 500_000)
    ds.save_as(path)
    assert main(["measure", str(tmp_path / "series"), str(path), "--no-head"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 400 and "characters)" in err and "malformed ContourData" in err


def test_a_folder_of_two_series_is_read_as_the_series_the_seg_references(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study"
    write_dicom_series(study / "a")
    write_dicom_series(study / "b", seed=1)  # another series of the same study, the same grid
    images = series_datasets(study / "b")
    seg = hd_seg(images, bilateral_labels(SHAPE), ["right", "left"])
    seg.save_as(tmp_path / "seg.dcm")
    assert main(["measure", str(study), str(tmp_path / "seg.dcm"), "--no-head", "--json"]) == 0
    out, err = capsys.readouterr()
    counts = [lesion["voxel_count"] for lesion in json.loads(out)["lesions"]]
    assert counts == [int((bilateral_labels(SHAPE) == v).sum()) for v in (1, 2)]
    assert "another timepoint" not in err and "its frame of reference" not in err
    # A NIfTI mask names no series: the folder is refused as before, listing both.
    nifti = SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz"
    assert main(["measure", str(study), str(nifti), "--no-head"]) == 2
    assert "2 series in one folder" in capsys.readouterr().err


def test_a_slide_microscopy_image_is_refused_by_what_it_is(tmp_path: Path) -> None:
    ds = pydicom.dcmread(get_testdata_file("emri_small.dcm"))
    ds.Modality, ds.SOPClassUID = "SM", VLWholeSlideMicroscopyImageStorage
    ds.file_meta.MediaStorageSOPClassUID = VLWholeSlideMicroscopyImageStorage
    ds.save_as(tmp_path / "slide.dcm")
    with pytest.raises(ScanError, match=r"VL Whole Slide Microscopy Image Storage: not a cross-sectional"):
        load_scan(tmp_path / "slide.dcm")
