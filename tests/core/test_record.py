"""Saving a reader's tracing (onfh_volume.record): mask NIfTI + JSON + CSV, side-label warnings.

What is tested: ``RecordPaths.beside`` naming; ``save_record`` on the committed sample scan
sub-01 baseline (JSON volumes and geometry, CSV rows, reader and time, SeriesInstanceUID, no
patient name in any of the three files, the saved mask re-read by SimpleITK, refusal to overwrite
with nothing written, overwrite, refusal of a method the scan cannot support with nothing written);
``label_side_warnings`` on the sample mask and on the same mask with labels 1 and 2 swapped.

Where expected values come from: the voxel counts (right = label 1: 1400, left = label 2: 800) and
the protocol (1.6 x 1.6 mm pixels, 4.0 mm thick slices every 4.4 mm) are the generator's
specification in sample_scans/README.md; volumes are recomputed here as count x 1.6 x 1.6 x
length / 1000. Per-slice counts are taken with nibabel straight from the sample mask file, the
SeriesInstanceUID and PatientName with pydicom straight from the sample DICOM, and the saved mask is
read back with SimpleITK; none comes from the code under test.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from helpers import SAMPLES, sitk_series
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onfh_volume import GeometryError, OutputExistsError, Scan, load_mask, load_scan, measure
from onfh_volume.record import RecordPaths, label_side_warnings, read_aided_slices, save_record

SCAN_FOLDER = SAMPLES / "dicom" / "sub-01" / "baseline"
MASK = SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz"
COUNTS = {1: 1400, 2: 800}  # sample_scans/README.md
SIDES = {1: "right", 2: "left"}
PIXEL_AREA_MM2 = 1.6 * 1.6
THICKNESS_MM, SPACING_MM = 4.0, 4.4
PATIENT_NAME = "SAMPLE^SUB01"
SAVED_AT = datetime(2024, 3, 5, 14, 30, 7, 123456, tzinfo=timezone(timedelta(hours=1)))
SAVED_AT_TEXT = "2024-03-05T14:30:07+01:00"
READER = "Dr Reader"


@pytest.fixture(scope="module")
def scan() -> Scan:
    return load_scan(SCAN_FOLDER)


@pytest.fixture(scope="module")
def labels(scan: Scan) -> np.ndarray:
    return load_mask(MASK, scan)


@pytest.fixture(scope="module")
def expected_per_slice() -> dict[int, np.ndarray]:
    """Pixels of each label on each slice, from the mask file's (column, row, slice) array."""
    data = np.asarray(nib.load(MASK).dataobj)
    return {label: (data == label).sum(axis=(0, 1)) for label in COUNTS}


@pytest.fixture(scope="module")
def dicom_header() -> pydicom.Dataset:
    return pydicom.dcmread(SCAN_FOLDER / "IM0001", stop_before_pixels=True)


def saved(tmp_path: Path, scan: Scan, labels: np.ndarray, **options: object) -> RecordPaths:
    mask = tmp_path / "out" / "sub-01_baseline_lesions.nii.gz"
    save_record(mask, labels, scan, reader=READER, saved_at=SAVED_AT, **options)
    return RecordPaths.beside(mask)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def file_bytes(paths: RecordPaths) -> dict[str, bytes]:
    return {name: getattr(paths, name).read_bytes() for name in ("mask", "json", "csv")}


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "json_name", "csv_name"),
    [
        ("out/sub-01_lesions.nii.gz", "sub-01_lesions.json", "sub-01_lesions.csv"),
        ("out/sub-01_lesions.nii", "sub-01_lesions.json", "sub-01_lesions.csv"),
        ("a.b/v1.2_lesions.nii.gz", "v1.2_lesions.json", "v1.2_lesions.csv"),
    ],
)
def test_record_paths_beside(mask: str, json_name: str, csv_name: str) -> None:
    paths = RecordPaths.beside(mask)
    assert paths.mask == Path(mask)
    assert paths.json == Path(mask).parent / json_name
    assert paths.csv == Path(mask).parent / csv_name


def test_sample_is_what_the_readme_says(scan: Scan, dicom_header: pydicom.Dataset) -> None:
    """Preconditions of the tests below, from the DICOM header and the scan's geometry."""
    assert str(dicom_header.PatientName) == PATIENT_NAME
    assert float(dicom_header.SliceThickness) == THICKNESS_MM
    assert scan.pixel_spacing == (1.6, 1.6)
    assert scan.slice_spacing == pytest.approx(SPACING_MM, rel=1e-12)


def test_json_volumes_and_geometry(
    tmp_path: Path, scan: Scan, labels: np.ndarray, dicom_header: pydicom.Dataset
) -> None:
    paths = saved(tmp_path, scan, labels)
    data = json.loads(paths.json.read_text(encoding="utf-8"))
    assert data["series_instance_uid"] == str(dicom_header.SeriesInstanceUID)
    assert data["reader"] == READER
    assert data["saved_at"] == SAVED_AT_TEXT
    assert data["method"] == "thickness"
    assert data["mask"] == str(paths.mask)
    assert data["software"].startswith("onfh-volume ")
    assert data["pixel_spacing_mm"] == [1.6, 1.6]
    assert data["slice_thickness_mm"] == THICKNESS_MM
    assert data["slice_spacing_mm"] == pytest.approx(SPACING_MM, rel=1e-12)
    assert any("gap" in warning for warning in data["warnings"])  # 0.4 mm between slices
    lesions = {lesion["label"]: lesion for lesion in data["lesions"]}
    assert sorted(lesions) == [1, 2]
    for label, count in COUNTS.items():
        lesion = lesions[label]
        assert lesion["side"] == SIDES[label]
        assert lesion["voxel_count"] == count
        thickness = count * 1.6 * 1.6 * 4.0 / 1000
        cavalieri = count * 1.6 * 1.6 * 4.4 / 1000
        assert lesion["volume_thickness_cm3"] == pytest.approx(thickness, rel=1e-12)
        assert lesion["volume_cavalieri_cm3"] == pytest.approx(cavalieri, rel=1e-12)
        assert lesion["volume_cm3"] == pytest.approx(thickness, rel=1e-12)
        assert sum(s["area_mm2"] for s in lesion["slices"]) == pytest.approx(
            count * PIXEL_AREA_MM2, rel=1e-12
        )
    # README: 14.336 and 8.192 cm³ by area x thickness.
    assert lesions[1]["volume_thickness_cm3"] == pytest.approx(14.336, rel=1e-12)
    assert lesions[2]["volume_cavalieri_cm3"] == pytest.approx(9.0112, rel=1e-12)


def test_json_per_slice_areas(
    tmp_path: Path, scan: Scan, labels: np.ndarray, expected_per_slice: dict[int, np.ndarray]
) -> None:
    data = json.loads(saved(tmp_path, scan, labels).json.read_text(encoding="utf-8"))
    for lesion in data["lesions"]:
        per_slice = expected_per_slice[lesion["label"]]
        assert [s["index"] for s in lesion["slices"]] == np.flatnonzero(per_slice).tolist()
        for s in lesion["slices"]:
            assert s["area_mm2"] == pytest.approx(per_slice[s["index"]] * PIXEL_AREA_MM2, rel=1e-12)


def test_spacing_method_is_the_cavalieri_volume(tmp_path: Path, scan: Scan, labels: np.ndarray) -> None:
    paths = saved(tmp_path, scan, labels, method="spacing")
    data = json.loads(paths.json.read_text(encoding="utf-8"))
    assert data["method"] == "spacing"
    for lesion in data["lesions"]:
        assert lesion["volume_cm3"] == pytest.approx(
            COUNTS[lesion["label"]] * 1.6 * 1.6 * 4.4 / 1000, rel=1e-12
        )
    rows = read_csv(paths.csv)
    assert {row["method"] for row in rows} == {"spacing"}
    for row in rows:
        assert float(row["volume_cm3"]) == pytest.approx(float(row["volume_cavalieri_cm3"]), rel=1e-15)


def test_csv_rows(
    tmp_path: Path,
    scan: Scan,
    labels: np.ndarray,
    expected_per_slice: dict[int, np.ndarray],
    dicom_header: pydicom.Dataset,
) -> None:
    rows = read_csv(saved(tmp_path, scan, labels).csv)
    for label, count in COUNTS.items():
        mine = [row for row in rows if row["label"] == str(label)]
        per_slice = expected_per_slice[label]
        # One row per traced slice of the lesion, in slice order.
        assert [int(row["slice"]) for row in mine] == np.flatnonzero(per_slice).tolist()
        assert sum(int(row["pixels"]) for row in mine) == count
        for row in mine:
            assert int(row["pixels"]) == per_slice[int(row["slice"])]
            assert float(row["area_mm2"]) == pytest.approx(int(row["pixels"]) * 2.56, rel=1e-12)
            assert row["side"] == SIDES[label]
            assert float(row["volume_thickness_cm3"]) == pytest.approx(
                count * 1.6 * 1.6 * 4.0 / 1000, rel=1e-12
            )
            assert float(row["volume_cavalieri_cm3"]) == pytest.approx(
                count * 1.6 * 1.6 * 4.4 / 1000, rel=1e-12
            )
    assert len(rows) == sum(int(np.count_nonzero(v)) for v in expected_per_slice.values())
    for row in rows:
        assert row["reader"] == READER
        assert row["saved_at"] == SAVED_AT_TEXT
        assert row["series_instance_uid"] == str(dicom_header.SeriesInstanceUID)
        assert row["method"] == "thickness"
        assert float(row["pixel_spacing_row_mm"]) == 1.6
        assert float(row["pixel_spacing_column_mm"]) == 1.6
        assert float(row["slice_thickness_mm"]) == THICKNESS_MM
        assert float(row["slice_spacing_mm"]) == pytest.approx(SPACING_MM, rel=1e-12)


def test_no_patient_name_in_any_file(tmp_path: Path, scan: Scan, labels: np.ndarray) -> None:
    paths = saved(tmp_path, scan, labels)
    raw = paths.mask.read_bytes()
    contents = {
        "mask (gzip)": raw,
        "mask (NIfTI)": gzip.decompress(raw),
        "json": paths.json.read_bytes(),
        "csv": paths.csv.read_bytes(),
    }
    for name, content in contents.items():
        for variant in (PATIENT_NAME, "SAMPLE SUB01", "SUB01"):
            assert variant.encode().lower() not in content.lower(), (name, variant)


def test_saved_mask_read_back_by_simpleitk(tmp_path: Path, scan: Scan, labels: np.ndarray) -> None:
    paths = saved(tmp_path, scan, labels)
    image = sitk.ReadImage(str(paths.mask))
    array = sitk.GetArrayFromImage(image)  # (slice, row, column), as the DICOM series
    assert {label: int((array == label).sum()) for label in COUNTS} == COUNTS
    assert set(np.unique(array).tolist()) == {0, 1, 2}
    # On the DICOM series' grid as SimpleITK's own DICOM reader sees it, voxel for voxel.
    series = sitk_series(SCAN_FOLDER)
    assert image.GetSize() == series.GetSize()
    np.testing.assert_allclose(image.GetSpacing(), series.GetSpacing(), rtol=1e-5)
    np.testing.assert_allclose(image.GetOrigin(), series.GetOrigin(), atol=1e-3)
    np.testing.assert_allclose(image.GetDirection(), series.GetDirection(), atol=1e-6)
    original = sitk.GetArrayFromImage(
        sitk.Resample(sitk.ReadImage(str(MASK)), series, sitk.Transform(), sitk.sitkNearestNeighbor)
    )
    np.testing.assert_array_equal(array, original)


def test_nothing_else_written(tmp_path: Path, scan: Scan, labels: np.ndarray) -> None:
    paths = saved(tmp_path, scan, labels)
    assert sorted(p.name for p in paths.mask.parent.iterdir()) == sorted(
        [paths.mask.name, paths.json.name, paths.csv.name]
    )


def test_second_save_refused_and_files_unchanged(tmp_path: Path, scan: Scan, labels: np.ndarray) -> None:
    paths = saved(tmp_path, scan, labels)
    before = file_bytes(paths)
    changed = np.where(labels == 2, 0, labels)
    with pytest.raises(OutputExistsError):
        save_record(paths.mask, changed, scan, reader="someone else", saved_at=SAVED_AT + timedelta(days=1))
    assert file_bytes(paths) == before
    assert len(list(paths.mask.parent.iterdir())) == 3


@pytest.mark.parametrize("present", ["mask", "json", "csv"])
def test_any_one_existing_file_refuses_and_writes_nothing(
    tmp_path: Path, scan: Scan, labels: np.ndarray, present: str
) -> None:
    paths = RecordPaths.beside(tmp_path / "sub-01_lesions.nii.gz")
    existing = getattr(paths, present)
    existing.write_bytes(b"someone's earlier file")
    with pytest.raises(OutputExistsError):
        save_record(paths.mask, labels, scan, saved_at=SAVED_AT)
    assert existing.read_bytes() == b"someone's earlier file"
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [existing.name]


def test_overwrite_replaces_all_three(tmp_path: Path, scan: Scan, labels: np.ndarray) -> None:
    paths = saved(tmp_path, scan, labels)
    right_only = np.where(labels == 2, 0, labels)
    later = SAVED_AT + timedelta(days=1)
    measurement = save_record(paths.mask, right_only, scan, reader="second", overwrite=True, saved_at=later)
    assert [lesion.label for lesion in measurement.lesions] == [1]
    data = json.loads(paths.json.read_text(encoding="utf-8"))
    assert [lesion["label"] for lesion in data["lesions"]] == [1]
    assert data["reader"] == "second"
    assert data["saved_at"] == "2024-03-06T14:30:07+01:00"
    rows = read_csv(paths.csv)
    assert {row["label"] for row in rows} == {"1"}
    assert sum(int(row["pixels"]) for row in rows) == 1400
    array = sitk.GetArrayFromImage(sitk.ReadImage(str(paths.mask)))
    assert int((array == 1).sum()) == 1400 and not (array == 2).any()
    assert len(list(paths.mask.parent.iterdir())) == 3


def test_no_reader_is_null_in_json_blank_in_csv(tmp_path: Path, scan: Scan, labels: np.ndarray) -> None:
    mask = tmp_path / "m_lesions.nii.gz"
    save_record(mask, labels, scan, saved_at=SAVED_AT)
    paths = RecordPaths.beside(mask)
    assert json.loads(paths.json.read_text(encoding="utf-8"))["reader"] is None
    assert {row["reader"] for row in read_csv(paths.csv)} == {""}


def swapped(labels: np.ndarray) -> np.ndarray:
    return np.select([labels == 1, labels == 2], [2, 1], labels)


def test_side_warnings_none_for_sample(scan: Scan, labels: np.ndarray) -> None:
    assert label_side_warnings(measure(scan, labels)) == []


def test_side_warning_when_labels_swapped(scan: Scan, labels: np.ndarray) -> None:
    mask = swapped(labels)
    assert int((mask == 1).sum()) == 800 and int((mask == 2).sum()) == 1400
    warnings = label_side_warnings(measure(scan, mask))
    assert len(warnings) == 2
    label_1 = next(w for w in warnings if w.startswith("label 1 "))
    assert "left hip" in label_1 and "right hip lesion" in label_1
    label_2 = next(w for w in warnings if w.startswith("label 2 "))
    assert "right hip" in label_2 and "left hip lesion" in label_2


def test_only_label_1_in_the_wrong_hip_warns_once(scan: Scan, labels: np.ndarray) -> None:
    """Label 1 drawn in the left hip, no label 2: one warning, about label 1."""
    mask = np.where(labels == 2, 1, 0)
    warnings = label_side_warnings(measure(scan, mask))
    assert len(warnings) == 1
    assert warnings[0].startswith("label 1 ") and "left" in warnings[0]


def test_saved_record_carries_the_side_warning(tmp_path: Path, scan: Scan, labels: np.ndarray) -> None:
    mask = tmp_path / "swapped_lesions.nii.gz"
    measurement = save_record(mask, swapped(labels), scan, saved_at=SAVED_AT)
    side = [w for w in measurement.warnings if w.startswith("label 1 ")]
    assert len(side) == 1
    data = json.loads(RecordPaths.beside(mask).json.read_text(encoding="utf-8"))
    assert side[0] in data["warnings"]
    lesions = {lesion["label"]: lesion for lesion in data["lesions"]}
    assert lesions[1]["side"] == "left" and lesions[1]["voxel_count"] == 800


@pytest.fixture
def scan_without_thickness(tmp_path: Path) -> Scan:
    """The sample NIfTI without its BIDS sidecar: no slice thickness anywhere."""
    nifti = shutil.copy(SAMPLES / "nifti" / "sub-01_baseline.nii.gz", tmp_path / "image.nii.gz")
    scan = load_scan(nifti, pixels=False)
    assert scan.slice_thickness is None
    return scan


def test_thickness_method_without_thickness_writes_nothing(
    tmp_path: Path, scan_without_thickness: Scan
) -> None:
    out = tmp_path / "out"
    labels = load_mask(MASK, scan_without_thickness)
    with pytest.raises(GeometryError, match="thickness"):
        save_record(
            out / "x_lesions.nii.gz", labels, scan_without_thickness, method="thickness", saved_at=SAVED_AT
        )
    assert not out.exists() or not any(out.iterdir())


def test_spacing_method_without_thickness_leaves_thickness_blank(
    tmp_path: Path, scan_without_thickness: Scan
) -> None:
    labels = load_mask(MASK, scan_without_thickness)
    mask = tmp_path / "out" / "x_lesions.nii.gz"
    save_record(mask, labels, scan_without_thickness, method="spacing", saved_at=SAVED_AT)
    paths = RecordPaths.beside(mask)
    data = json.loads(paths.json.read_text(encoding="utf-8"))
    assert data["slice_thickness_mm"] is None
    assert data["series_instance_uid"] is None
    lesions = {lesion["label"]: lesion for lesion in data["lesions"]}
    assert lesions[1]["volume_thickness_cm3"] is None
    assert lesions[1]["volume_cm3"] == pytest.approx(1400 * 1.6 * 1.6 * 4.4 / 1000, rel=1e-12)
    rows = read_csv(paths.csv)
    assert {row["slice_thickness_mm"] for row in rows} == {""}
    assert {row["volume_thickness_cm3"] for row in rows} == {""}
    assert {row["series_instance_uid"] for row in rows} == {""}
    assert sum(int(row["pixels"]) for row in rows if row["label"] == "2") == 800


def test_other_labels_never_warn(scan: Scan, labels: np.ndarray) -> None:
    """Only the plugin's side labels (1 right, 2 left) have a side to contradict."""
    mask = np.select([labels == 1, labels == 2], [3, 4], 0)
    assert label_side_warnings(measure(scan, mask)) == []


def test_unknown_method_writes_nothing(tmp_path: Path, scan: Scan, labels: np.ndarray) -> None:
    with pytest.raises(ValueError, match="method"):
        save_record(tmp_path / "x_lesions.nii.gz", labels, scan, method="volume", saved_at=SAVED_AT)  # type: ignore[arg-type]
    assert not any(p.is_file() for p in tmp_path.iterdir())


def test_record_paths_are_absolute_and_numbers_rounded(
    tmp_path: Path, labels: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10: a relative scan path beside an absolute mask path, and 13.588480000000002 in the files."""
    monkeypatch.chdir(SAMPLES.parent)
    scan = load_scan(SCAN_FOLDER.relative_to(SAMPLES.parent))
    paths = saved(tmp_path, scan, labels, aided={"interpolated_slices": {1: [5, 3]}})
    data = json.loads(paths.json.read_text())
    assert data["scan"] == str(SCAN_FOLDER.resolve()) and data["mask"] == str(paths.mask.resolve())
    right = next(lesion for lesion in data["lesions"] if lesion["label"] == 1)
    assert right["interpolated_slices"] == [3, 5]
    expected = round(COUNTS[1] * PIXEL_AREA_MM2 * THICKNESS_MM / 1000, 9)
    assert right["volume_thickness_cm3"] == expected
    text = paths.json.read_text() + paths.csv.read_text()
    decimals = [len(number.split(".")[1]) for number in re.findall(r"\d+\.\d+", text)]
    assert max(decimals) <= 9


def test_slices_of_each_aid_are_listed_per_lesion_and_read_back(
    tmp_path: Path, scan: Scan, labels: np.ndarray
) -> None:
    aided = {"interpolated_slices": {1: [5, 3]}, "band_fill_slices": {1: [7], 2: [9, 8]}}
    paths = saved(tmp_path, scan, labels, aided=aided)
    lesions = {lesion["label"]: lesion for lesion in json.loads(paths.json.read_text())["lesions"]}
    assert [lesions[1]["interpolated_slices"], lesions[1]["band_fill_slices"]] == [[3, 5], [7]]
    assert [lesions[2]["interpolated_slices"], lesions[2]["band_fill_slices"]] == [[], [8, 9]]
    assert read_aided_slices(paths.mask) == {
        "interpolated_slices": {1: [3, 5], 2: []},
        "band_fill_slices": {1: [7], 2: [8, 9]},
        "detected_slices": {1: [], 2: []},
        "propagated_slices": {1: [], 2: []},
    }


def test_a_record_saved_before_band_fill_reads_with_no_band_fill_slices(
    tmp_path: Path, scan: Scan, labels: np.ndarray
) -> None:
    paths = saved(tmp_path, scan, labels, aided={"interpolated_slices": {2: [4]}})
    data = json.loads(paths.json.read_text())
    for lesion in data["lesions"]:
        del lesion["band_fill_slices"]
    paths.json.write_text(json.dumps(data))
    assert read_aided_slices(paths.mask) == {
        "interpolated_slices": {1: [], 2: [4]},
        "band_fill_slices": {1: [], 2: []},
        "detected_slices": {1: [], 2: []},
        "propagated_slices": {1: [], 2: []},
    }


def test_slices_found_by_find_lesions_and_carried_from_the_baseline_are_listed_apart_from_band_fill(
    tmp_path: Path, scan: Scan, labels: np.ndarray
) -> None:
    aided = {"detected_slices": {1: [6, 4]}, "propagated_slices": {2: [10, 9]}, "band_fill_slices": {2: [3]}}
    paths = saved(tmp_path, scan, labels, aided=aided)
    lesions = {lesion["label"]: lesion for lesion in json.loads(paths.json.read_text())["lesions"]}
    fields = ("band_fill_slices", "detected_slices", "propagated_slices")
    assert [lesions[1][field] for field in fields] == [[], [4, 6], []]
    assert [lesions[2][field] for field in fields] == [[3], [], [9, 10]]
    read = read_aided_slices(paths.mask)
    assert read["detected_slices"] == {1: [4, 6], 2: []}
    assert read["propagated_slices"] == {1: [], 2: [9, 10]}


def test_a_record_saved_before_find_lesions_and_carry_reads_with_none_of_their_slices(
    tmp_path: Path, scan: Scan, labels: np.ndarray
) -> None:
    paths = saved(tmp_path, scan, labels, aided={"band_fill_slices": {1: [7]}})
    data = json.loads(paths.json.read_text())
    for lesion in data["lesions"]:
        del lesion["detected_slices"], lesion["propagated_slices"]
    paths.json.write_text(json.dumps(data))
    read = read_aided_slices(paths.mask)
    assert read["band_fill_slices"] == {1: [7], 2: []}
    assert read["detected_slices"] == read["propagated_slices"] == {1: [], 2: []}


AID_FIELDS = ("interpolated_slices", "band_fill_slices", "detected_slices", "propagated_slices")
SLICE_SETS = st.sets(st.integers(min_value=0, max_value=39), max_size=6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.fixed_dictionaries(
        {field: st.fixed_dictionaries({1: SLICE_SETS, 2: SLICE_SETS}) for field in AID_FIELDS}
    )
)
def test_every_aid_field_reads_back_as_saved(
    tmp_path_factory: pytest.TempPathFactory, scan: Scan, labels: np.ndarray, aided: dict
) -> None:
    paths = saved(tmp_path_factory.mktemp("aided"), scan, labels, aided=aided)
    assert read_aided_slices(paths.mask) == {
        field: {label: sorted(slices) for label, slices in per_label.items()}
        for field, per_label in aided.items()
    }


def test_an_unknown_aid_field_is_refused_and_nothing_written(
    tmp_path: Path, scan: Scan, labels: np.ndarray
) -> None:
    with pytest.raises(ValueError, match="band_filled_slices"):
        saved(tmp_path, scan, labels, aided={"band_filled_slices": {1: [3]}})
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
