"""The side rule: the patient's midline in the scanner frame, a bilateral field's centre, stated laterality."""

from __future__ import annotations

import numpy as np
import pytest

from onfh_volume.scan import LPS_TO_RAS, Scan
from onfh_volume.side import side_of, stated_sides
from onfh_volume.testing.dicom_series import CORONAL


def coronal_scan(centre_lps_x: float, width_mm: float, laterality: dict[str, str] | None = None) -> Scan:
    """A coronal geometry-only scan of 1 mm pixels whose field is ``width_mm`` wide, centred at LPS x."""
    columns = int(width_mm)
    affine = np.eye(4)
    affine[:3, 0] = 4.0 * np.cross(CORONAL[:3], CORONAL[3:])
    affine[:3, 1] = CORONAL[3:]
    affine[:3, 2] = CORONAL[:3]
    affine[:3, 3] = (centre_lps_x - (columns - 1) / 2, 0.0, 50.0)
    return Scan(
        voxels=None,
        grid=(5, 100, columns),
        pixel_spacing=(1.0, 1.0),
        slice_thickness=4.0,
        slice_spacing=4.0,
        affine=LPS_TO_RAS @ affine,
        source="scan",
        laterality=laterality or {},
    )


def lesion_at(scan: Scan, lps_x: float) -> np.ndarray:
    """Voxel indices of a small lesion centred at LPS x (RAS x = -lps_x)."""
    column = round(lps_x - (scan.affine[0, 3] * -1))
    return np.array([[2, 50, c] for c in range(column - 3, column + 4)])


@pytest.mark.parametrize(("lps_x", "side"), [(-90.0, "right"), (90.0, "left")])
def test_a_one_hip_field_centred_on_the_hip_gets_the_hip_s_side(lps_x: float, side: str) -> None:
    """A 150 mm field centred 100 mm off the midline: the old rule (field centre) said the opposite
    side for a lesion on the medial half of the field; the scanner frame gets it right."""
    scan = coronal_scan(np.sign(lps_x) * 100.0, 150.0)
    decision = side_of(scan, lesion_at(scan, lps_x), 1)  # medial of the field's centre
    assert decision.side == side
    assert decision.warnings == []
    assert decision.centroid[0] == pytest.approx(-lps_x, abs=0.5)


def test_a_stated_laterality_that_disagrees_is_a_warning_and_the_position_wins() -> None:
    scan = coronal_scan(-100.0, 150.0, {"Laterality": "L", "SeriesDescription": "COR T1 RIGHT HIP"})
    decision = side_of(scan, lesion_at(scan, -90.0), 1)
    assert decision.side == "right"
    assert len(decision.warnings) == 1
    assert "Laterality (0020,0060) says left" in decision.warnings[0]
    assert "taken from its position (right)" in decision.warnings[0]


def test_near_the_midline_of_a_one_hip_field_the_stated_laterality_decides() -> None:
    scan = coronal_scan(-10.0, 150.0, {"ImageLaterality": "L"})
    decision = side_of(scan, lesion_at(scan, -12.0), 1)  # 12 mm right of x = 0
    assert decision.side == "left"
    assert "taken from Image Laterality (0020,0062) (left)" in decision.warnings[0]


def test_a_bilateral_field_off_the_table_centre_uses_its_own_centre() -> None:
    """Both hips in a 360 mm field centred at LPS x = 100: the patient lies 100 mm off the isocentre,
    so the right head (LPS x = 10) is left of x = 0."""
    scan = coronal_scan(100.0, 360.0)
    right_hip = side_of(scan, lesion_at(scan, 100.0 - 90.0), 1)
    left_hip = side_of(scan, lesion_at(scan, 100.0 + 90.0), 2)
    assert (right_hip.side, left_hip.side) == ("right", "left")
    assert "centred at x = -100 mm" in right_hip.warnings[0]
    assert left_hip.warnings == []


def test_a_centred_bilateral_field_needs_no_warning() -> None:
    scan = coronal_scan(0.0, 360.0, {"Laterality": "B", "SeriesDescription": "COR T1 BOTH HIPS"})
    assert [side_of(scan, lesion_at(scan, x), 1).warnings for x in (-90.0, 90.0)] == [[], []]


@pytest.mark.parametrize(
    ("description", "stated"),
    [
        ("COR T1 RT", {"SeriesDescription": "right"}),
        ("t1_tse_cor_left", {"SeriesDescription": "left"}),
        ("COR T1 L HIP", {"SeriesDescription": "left"}),
        ("COR T1 R-FEMUR", {"SeriesDescription": "right"}),
        ("COR T1 LEFT AND RIGHT", {}),
        ("CORONAL T1 TRIPLANAR", {}),  # no side hidden inside other words
    ],
)
def test_a_side_named_in_the_series_description(description: str, stated: dict[str, str]) -> None:
    assert stated_sides({"SeriesDescription": description}) == stated


def test_a_one_hip_series_stating_the_other_side_is_measured_by_position_with_a_warning(tmp_path) -> None:
    """A 150 mm field of the right hip whose Laterality (and description) say left: read from the
    files by the fast header reader, checked against the position, and reported."""
    from onfh_volume import load_scan, measure
    from onfh_volume.testing.dicom_series import dicom_slices, stack_positions, write_series

    voxels = np.zeros((3, 20, 150), np.int16)
    datasets = dicom_slices(
        voxels,
        pixel_spacing=(1.0, 1.0),
        slice_thickness=4.0,
        positions=stack_positions((-174.5, -4.0, 50.0), CORONAL, 4.0, 3),  # LPS x -174.5 to -25.5
        series_description="COR T1 LT HIP",
    )
    for ds in datasets:
        ds.Laterality = "L"
    write_series(tmp_path / "series", datasets)
    scan = load_scan(tmp_path / "series", pixels=False)
    assert scan.laterality == {"Laterality": "L", "SeriesDescription": "COR T1 LT HIP"}
    labels = np.zeros(scan.shape, np.uint8)
    labels[1, 8:12, 80:90] = 1  # LPS x about -90: the right hip
    measurement = measure(scan, labels)
    assert [lesion.side for lesion in measurement.lesions] == ["right"]
    said = [w for w in measurement.warnings if "label 1:" in w]
    assert len(said) == 2
    assert "Laterality (0020,0060) says left" in said[0] and "the series description says left" in said[1]
