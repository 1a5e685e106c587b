"""The committed sample scans measure to the volumes and categories their README states.

Expected counts are the generator's specification (sample_scans/README.md), not the code's output;
volumes are recomputed here from counts and the 1.6 x 1.6 mm, 4.0 mm / 4.4 mm protocol.
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from helpers import COUNTS, SAMPLES, sitk_series

from onfh_volume import load_mask, load_scan, measure
from onfh_volume.cli import main

# (patient, timepoint) -> {side: voxel count}
CATEGORIES = {
    "sub-01": {"right": "decrease", "left": "no change"},
    "sub-02": {"right": "increase", "left": "no lesion"},  # +15.000% exactly: a change
    "sub-03": {"right": "no lesion", "left": "new lesion"},
}


def mask_path(patient: str, timepoint: str):
    return SAMPLES / "masks" / f"{patient}_{timepoint}_lesions.nii.gz"


@pytest.mark.parametrize(("patient", "timepoint"), sorted(COUNTS))
@pytest.mark.parametrize("form", ["dicom", "nifti"])
def test_sample_volumes(patient: str, timepoint: str, form: str) -> None:
    source = (
        SAMPLES / "dicom" / patient / timepoint
        if form == "dicom"
        else SAMPLES / "nifti" / f"{patient}_{timepoint}.nii.gz"
    )
    scan = load_scan(source)
    result = measure(scan, load_mask(mask_path(patient, timepoint), scan))
    found = {lesion.side: lesion for lesion in result.lesions}
    assert {side: lesion.voxel_count for side, lesion in found.items()} == COUNTS[patient, timepoint]
    for side, count in COUNTS[patient, timepoint].items():
        assert found[side].volume_thickness_cm3 == pytest.approx(count * 1.6 * 1.6 * 4.0 / 1000, rel=1e-9)
        assert found[side].volume_cavalieri_cm3 == pytest.approx(count * 1.6 * 1.6 * 4.4 / 1000, rel=1e-9)


def test_sample_dicom_geometry_agrees_with_simpleitk() -> None:
    folder = SAMPLES / "dicom" / "sub-01" / "baseline"
    image = sitk_series(folder)
    scan = load_scan(folder)
    assert image.GetSize() == (224, 224, 14)
    assert scan.shape == (14, 224, 224)
    assert image.GetSpacing() == pytest.approx((1.6, 1.6, 4.4))
    assert (scan.pixel_spacing[1], scan.pixel_spacing[0], scan.slice_spacing) == pytest.approx(
        (1.6, 1.6, 4.4)
    )
    np.testing.assert_array_equal(scan.voxels, sitk.GetArrayFromImage(image))


def test_sample_mask_counts_read_independently() -> None:
    """nibabel alone (no onfh_volume) sees the same counts the README promises."""
    data = np.asanyarray(nib.load(mask_path("sub-01", "baseline")).dataobj)
    assert int((data == 1).sum()) == 1400
    assert int((data == 2).sum()) == 800


@pytest.mark.parametrize("patient", sorted(CATEGORIES))
def test_sample_change_categories(capsys: pytest.CaptureFixture[str], patient: str) -> None:
    code = main(
        [
            "compare",
            str(SAMPLES / "dicom" / patient / "baseline"),
            str(mask_path(patient, "baseline")),
            str(SAMPLES / "dicom" / patient / "followup"),
            str(mask_path(patient, "followup")),
            "--json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert {hip["side"]: hip["category"] for hip in data["hips"]} == CATEGORIES[patient]


def test_no_patient_name_in_any_output(capsys: pytest.CaptureFixture[str]) -> None:
    folder = SAMPLES / "dicom" / "sub-01" / "baseline"
    for argv in (
        ["info", str(folder), "--json"],
        ["measure", str(folder), str(mask_path("sub-01", "baseline"))],
    ):
        assert main(argv) == 0
        captured = capsys.readouterr()
        assert "SAMPLE" not in captured.out + captured.err
