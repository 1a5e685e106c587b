"""The ``onfh-volume trace`` contract, run as a user runs it (a separate process)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from onfh_volume import load_mask, load_scan
from onfh_volume.mask import save_mask
from onfh_volume.testing.phantom_set import small_bilateral_phantom


def trace(*argv: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onfh_volume.cli", "trace", *map(str, argv)], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory):
    phantom = small_bilateral_phantom()
    folder = tmp_path_factory.mktemp("trace") / "series"
    phantom.write_dicom(folder)
    return phantom, folder


def ras_of(folder: Path, index: tuple[int, int, int]) -> tuple[float, float, float]:
    """RAS mm of a (slice, row, column) voxel, by SimpleITK from the DICOM files alone."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    image = reader.Execute()
    x, y, z = image.TransformIndexToPhysicalPoint((index[2], index[1], index[0]))  # LPS
    return (-x, -y, z)


def test_trace_writes_each_hip_with_its_label_and_prints_its_measurement(study, tmp_path: Path) -> None:
    phantom, folder = study
    right, left = phantom.central_click(1), phantom.central_click(2)
    out = tmp_path / "lesions.nii.gz"
    x, y, z = ras_of(folder, right)
    result = trace(
        folder,
        "--seed",
        f"{x:.3f},{y:.3f},{z:.3f}",
        "--seed-voxel",
        ",".join(map(str, left)),
        "-o",
        out,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    labels = load_mask(out, load_scan(folder, pixels=False))
    a = phantom.spec.acquisition
    sides = {lesion["label"]: lesion["side"] for lesion in data["lesions"]}
    assert sides == {1: "right", 2: "left"}
    for lesion in data["lesions"]:
        count = np.count_nonzero(labels == lesion["label"])
        assert lesion["volume_thickness_cm3"] == pytest.approx(
            count * a.row_mm * a.column_mm * a.thickness_mm / 1000
        )
        truth = phantom.labels == lesion["label"]
        mine = labels == lesion["label"]
        assert 2 * np.count_nonzero(mine & truth) / (mine.sum() + truth.sum()) > 0.85


def test_an_existing_mask_is_kept_unless_forced(study, tmp_path: Path) -> None:
    phantom, folder = study
    out = tmp_path / "lesions.nii.gz"
    out.write_bytes(b"keep me")
    seed = ",".join(map(str, phantom.central_click(2)))
    result = trace(folder, "--seed-voxel", seed, "-o", out)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "exists" in result.stderr and "--force" in result.stderr
    assert out.read_bytes() == b"keep me"
    assert trace(folder, "--seed-voxel", seed, "-o", out, "--force").returncode == 0
    assert np.count_nonzero(load_mask(out, load_scan(folder, pixels=False)) == 2) > 100


def test_the_scan_itself_is_never_overwritten(study, tmp_path: Path) -> None:
    phantom, _ = study
    nifti = tmp_path / "scan.nii.gz"
    save_mask(nifti, phantom.scan.voxels, phantom.scan)  # the image itself, as a NIfTI file
    before = nifti.read_bytes()
    seed = ",".join(map(str, phantom.central_click(2)))
    result = trace(nifti, "--seed-voxel", seed, "-o", nifti, "--force", "--method", "spacing")
    assert result.returncode == 2 and "never overwritten" in result.stderr
    assert nifti.read_bytes() == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--seed-voxel", "3,2000,5"), "outside the scan"),
        (("--seed", "500,0,0"), "outside the scan"),
        (("--seed", "1,2"), "not three comma-separated numbers"),
        ((), "at least one point inside a lesion"),
        (("--seed-voxel", "6,80,150"), "not inside a femoral head"),
    ],
)
def test_bad_seeds_are_refused_in_one_line(study, tmp_path: Path, argv, message) -> None:
    _, folder = study
    out = tmp_path / "m.nii.gz"
    result = trace(folder, *argv, "-o", out)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_a_left_hip_point_in_ras_may_start_with_a_minus_sign(study, tmp_path: Path) -> None:
    phantom, folder = study
    x, y, z = ras_of(folder, phantom.central_click(2))
    assert x < 0  # the patient's left in RAS
    out = tmp_path / "left.nii.gz"
    result = trace(folder, "--seed", f"{x:.3f},{y:.3f},{z:.3f}", "-o", out)
    assert result.returncode == 0, result.stderr
    assert set(np.unique(load_mask(out, load_scan(folder, pixels=False)))) == {0, 2}


@pytest.mark.parametrize(
    ("name", "message"), [("m.txt", "end its name in .nii.gz"), ("folder", "is a folder")]
)
def test_an_output_that_cannot_be_a_nifti_mask_is_refused_before_tracing(
    study, tmp_path: Path, name: str, message: str
) -> None:
    phantom, folder = study
    (tmp_path / "folder").mkdir()
    out = tmp_path / name
    result = trace(folder, "--seed-voxel", ",".join(map(str, phantom.central_click(2))), "-o", out, "--force")
    assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["folder"]


def test_a_scan_without_thickness_is_refused_before_writing_unless_cavalieri_is_asked(
    study, tmp_path: Path
) -> None:
    phantom, _ = study
    nifti = tmp_path / "scan.nii.gz"  # no BIDS sidecar: NIfTI states no slice thickness
    save_mask(nifti, phantom.scan.voxels, phantom.scan)
    out = tmp_path / "m.nii.gz"
    seed = ",".join(map(str, phantom.central_click(2)))
    result = trace(nifti, "--seed-voxel", seed, "-o", out)
    assert result.returncode == 2 and "slice thickness unknown" in result.stderr
    assert not out.exists()
    result = trace(nifti, "--seed-voxel", seed, "-o", out, "--method", "spacing", "--json")
    assert result.returncode == 0, result.stderr
    (lesion,) = json.loads(result.stdout)["lesions"]
    count = np.count_nonzero(load_mask(out, load_scan(nifti, pixels=False)) == 2)
    a = phantom.spec.acquisition
    assert lesion["volume_cavalieri_cm3"] == pytest.approx(
        count * a.row_mm * a.column_mm * a.spacing_mm / 1000
    )
    assert lesion["volume_thickness_cm3"] is None


def test_a_lesion_cut_by_the_field_is_measured_with_a_warning(study, tmp_path: Path) -> None:
    phantom, _ = study
    seed = phantom.central_click(2)
    start = int(np.flatnonzero((phantom.labels == 2).any(axis=(1, 2)))[0]) + 1  # the field cuts the lesion
    scan = phantom.scan
    affine = scan.affine.copy()
    affine[:3, 3] += start * affine[:3, 0]
    voxels = scan.voxels[start:]
    cut = dataclasses.replace(scan, voxels=voxels, affine=affine, grid=voxels.shape)
    nifti = tmp_path / "cut.nii.gz"
    save_mask(nifti, voxels, cut)
    out = tmp_path / "m.nii.gz"
    result = trace(
        nifti,
        "--seed-voxel",
        f"{seed[0] - start},{seed[1]},{seed[2]}",
        "-o",
        out,
        "--method",
        "spacing",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    (warning,) = [w for w in json.loads(result.stdout)["warnings"] if "first slice" in w]
    assert "beyond the scanned field" in warning
