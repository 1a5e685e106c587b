"""``load_scan(..., pixels=False)`` gives the same geometry as a full load, without the image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLES, oblique, philips_mprage, write_dicom_series

from onfh_volume import load_scan


def sources(tmp_path: Path) -> dict[str, Path]:
    return {
        "DICOM folder": SAMPLES / "dicom/sub-01/baseline",
        "DICOM file": SAMPLES / "dicom/sub-01/baseline/IM0007",
        "NIfTI with sidecar": SAMPLES / "nifti/sub-01_baseline.nii.gz",
        "Enhanced MR": philips_mprage(tmp_path),
        "oblique series with a gap": write_dicom_series(
            tmp_path / "oblique", spacing=5.0, orientation=oblique(20)
        ),
    }


@pytest.mark.parametrize(
    "kind", ["DICOM folder", "DICOM file", "NIfTI with sidecar", "Enhanced MR", "oblique series with a gap"]
)
def test_geometry_only_load_matches_the_full_load(tmp_path: Path, kind: str) -> None:
    path = sources(tmp_path)[kind]
    full = load_scan(path)
    header = load_scan(path, pixels=False)

    assert header.voxels is None
    assert header.shape == full.shape == full.voxels.shape
    assert header.pixel_spacing == full.pixel_spacing
    assert header.slice_thickness == full.slice_thickness
    assert header.slice_spacing == full.slice_spacing
    np.testing.assert_array_equal(header.affine, full.affine)
    assert header.series_uid == full.series_uid
    assert header.warnings == full.warnings
    assert header.orientation == full.orientation


def test_sample_grid_shape_is_the_protocol() -> None:
    scan = load_scan(SAMPLES / "dicom/sub-02/followup", pixels=False)
    assert scan.shape == (14, 224, 224)
