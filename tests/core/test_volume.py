"""Volumes equal pixel count x pixel area x thickness (or spacing), checked with an independent reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers import bilateral_labels, oblique, sitk_series, write_dicom_series, write_sitk_mask

from onfh_volume import GeometryError, load_mask, load_scan, measure
from onfh_volume.testing.dicom_series import dicom_slices, write_series


def independent_volume(folder: Path, count: int, use: str) -> float:
    """count x pixel area x (thickness from the DICOM tag | spacing from SimpleITK), in cm³."""
    image = sitk_series(folder)
    column_spacing, row_spacing, slice_spacing = image.GetSpacing()
    thickness = float(pydicom.dcmread(next(folder.iterdir())).SliceThickness)
    depth = thickness if use == "thickness" else slice_spacing
    return count * row_spacing * column_spacing * depth / 1000


@pytest.mark.parametrize(
    ("name", "thickness", "spacing", "orientation", "pixel_spacing"),
    [
        ("gap", 4.0, 5.0, oblique(0), (0.8, 0.9)),
        ("overlap", 5.0, 4.0, oblique(0), (0.8, 0.9)),
        ("contiguous", 3.0, 3.0, oblique(0), (0.75, 0.75)),
        ("oblique", 4.0, 4.4, oblique(20), (0.8, 0.9)),
        ("anisotropic", 4.0, 4.4, oblique(0), (0.6, 1.1)),
    ],
)
def test_volumes_match_independent_arithmetic_on_sitk_masks(
    tmp_path: Path, name: str, thickness: float, spacing: float, orientation: tuple, pixel_spacing: tuple
) -> None:
    folder = write_dicom_series(
        tmp_path / name,
        thickness=thickness,
        spacing=spacing,
        orientation=orientation,
        pixel_spacing=pixel_spacing,
    )
    labels = bilateral_labels((6, 40, 320))
    mask = write_sitk_mask(sitk_series(folder), labels, tmp_path / "mask.nii.gz")

    scan = load_scan(folder)
    result = measure(scan, load_mask(mask, scan))

    assert [(lesion.label, lesion.side) for lesion in result.lesions] == [(1, "right"), (2, "left")]
    for lesion in result.lesions:
        count = int((labels == lesion.label).sum())
        assert lesion.voxel_count == count
        assert lesion.volume_thickness_cm3 == pytest.approx(
            independent_volume(folder, count, "thickness"), rel=1e-12
        )
        assert lesion.volume_cavalieri_cm3 == pytest.approx(
            independent_volume(folder, count, "spacing"), rel=1e-9
        )
        expected_areas = (labels == lesion.label).sum(axis=(1, 2)) * pixel_spacing[0] * pixel_spacing[1]
        assert np.allclose(lesion.slice_areas_mm2, expected_areas, rtol=1e-12, atol=0)


def test_gap_makes_area_times_thickness_exactly_twenty_percent_smaller(tmp_path: Path) -> None:
    folder = write_dicom_series(tmp_path / "s", thickness=4.0, spacing=5.0)
    scan = load_scan(folder)
    labels = bilateral_labels(scan.shape)
    lesion = measure(scan, labels).lesions[0]
    assert lesion.volume_thickness_cm3 / lesion.volume_cavalieri_cm3 == pytest.approx(0.8, rel=1e-12)
    # 1 lesion: 3 slices x 10 x 15 pixels minus a 3 x 2 hole = 444 pixels of 0.8 x 0.9 mm.
    assert lesion.voxel_count == 444
    assert lesion.volume_thickness_cm3 == pytest.approx(444 * 0.72 * 4.0 / 1000, rel=1e-12)
    assert lesion.volume_cavalieri_cm3 == pytest.approx(444 * 0.72 * 5.0 / 1000, rel=1e-12)
    assert lesion.traced_slices() == [
        (1, pytest.approx(150 * 0.72)),
        (2, pytest.approx(144 * 0.72)),
        (3, pytest.approx(150 * 0.72)),
    ]


def test_spacing_method_makes_the_cavalieri_volume_the_volume(tmp_path: Path) -> None:
    scan = load_scan(write_dicom_series(tmp_path / "s", thickness=4.0, spacing=5.0))
    lesion = measure(scan, bilateral_labels(scan.shape), method="spacing").lesions[0]
    assert lesion.volume("spacing") == pytest.approx(444 * 0.72 * 5.0 / 1000, rel=1e-12)
    assert lesion.volume("thickness") == pytest.approx(444 * 0.72 * 4.0 / 1000, rel=1e-12)


def test_unknown_thickness_is_refused_for_the_thickness_method_never_defaulted(tmp_path: Path) -> None:
    scan = load_scan(write_dicom_series(tmp_path / "s", thickness=None, spacing=5.0))
    labels = bilateral_labels(scan.shape)
    with pytest.raises(GeometryError, match="slice thickness unknown"):
        measure(scan, labels)
    lesion = measure(scan, labels, method="spacing").lesions[0]
    assert lesion.volume_thickness_cm3 is None
    assert lesion.volume_cavalieri_cm3 == pytest.approx(444 * 0.72 * 5.0 / 1000, rel=1e-12)


def test_side_follows_patient_coordinates_not_array_position(tmp_path: Path) -> None:
    """The same right-hip lesion is 'right' whether columns run to the patient's left or right."""
    flipped = (-1.0, 0.0, 0.0, 0.0, 0.0, -1.0)  # columns now run towards the patient's right
    scan = load_scan(write_dicom_series(tmp_path / "s", orientation=flipped))
    labels = bilateral_labels(scan.shape)
    assert [(lesion.label, lesion.side) for lesion in measure(scan, labels).lesions] == [
        (1, "left"),
        (2, "right"),
    ]


def test_one_label_over_both_hips_is_flagged(series: Path) -> None:
    scan = load_scan(series)
    labels = np.zeros(scan.shape, dtype=np.uint8)
    labels[2, 10:20, 30:50] = 1
    labels[2, 10:20, 260:300] = 1
    result = measure(scan, labels)
    assert len(result.lesions) == 1
    assert any("label 1 extends across the scan's left-right centre" in w for w in result.warnings)


def test_narrow_field_of_view_makes_the_side_doubtful(tmp_path: Path) -> None:
    scan = load_scan(write_dicom_series(tmp_path / "s", shape=(3, 30, 100), pixel_spacing=(0.8, 0.8)))
    labels = np.zeros(scan.shape, dtype=np.uint8)
    labels[1, 5:9, 5:9] = 1
    warnings = measure(scan, labels).warnings
    assert any("field of view is only 80 mm wide" in w for w in warnings)


def test_empty_mask_has_no_lesions(series: Path) -> None:
    scan = load_scan(series)
    assert measure(scan, np.zeros(scan.shape, dtype=np.uint8)).lesions == []


def test_large_label_values_are_counted_without_a_huge_table(series: Path) -> None:
    scan = load_scan(series)
    labels = np.zeros(scan.shape, dtype=np.int64)
    labels[1, 0:3, 0:4] = 2**31 - 1
    labels[2, 5, 300:305] = 70000
    counts = {lesion.label: lesion.voxel_count for lesion in measure(scan, labels).lesions}
    assert counts == {70000: 5, 2**31 - 1: 12}


@pytest.mark.parametrize("stated", [-4.0, 0.0])
def test_a_non_positive_spacing_tag_states_no_spacing(tmp_path: Path, stated: float) -> None:
    voxels = np.zeros((1, 30, 320), np.int16)
    write_series(
        tmp_path / "one",
        dicom_slices(
            voxels,
            pixel_spacing=(0.8, 0.9),
            slice_thickness=4.0,
            positions=[(-143.6, -40.0, 60.0)],
            spacing_between_slices=stated,
        ),
    )
    scan = load_scan(tmp_path / "one")
    assert scan.slice_spacing is None
    labels = np.zeros(scan.shape, np.uint8)
    labels[0, 1:3, 1:6] = 1
    assert measure(scan, labels).lesions[0].volume_cavalieri_cm3 is None
    with pytest.raises(GeometryError, match="slice spacing unknown"):
        measure(scan, labels, method="spacing")
