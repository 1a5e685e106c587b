"""``load_scan(..., pixels=False)``: the geometry of a full load without the image, and its refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers import (
    GRAYSCALE_PRESENTATION_STATE,
    SAMPLES,
    dataset_of_class,
    oblique,
    philips_mprage,
    with_geometry,
    write_dicom_series,
)
from pydicom.data import get_testdata_file

from onfh_volume import ScanError, load_scan


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


def test_geometry_only_load_skips_dicom_without_pixel_data(tmp_path: Path) -> None:
    folder = write_dicom_series(tmp_path / "series")
    uid = pydicom.dcmread(folder / "IM0001", stop_before_pixels=True).SeriesInstanceUID
    state = dataset_of_class(GRAYSCALE_PRESENTATION_STATE)
    state.SeriesInstanceUID = uid
    state.save_as(folder / "PS0001", enforce_file_format=True)

    scan = load_scan(folder, pixels=False)

    assert scan.shape == (6, 40, 320)
    assert scan.warnings == load_scan(folder).warnings


@pytest.mark.parametrize(
    ("name", "words"),
    [("MR_small_RLE.dcm", "truncated"), ("image_dfl.dcm", "unreadable DICOM file")],
)
def test_geometry_only_load_refuses_compressed_or_deflated_files_cut_short(
    tmp_path: Path, name: str, words: str
) -> None:
    # Compressed pixel data is read whole with the header, a deflated file is inflated whole.
    path = with_geometry(get_testdata_file(name), tmp_path / name, (0.5, 0.5))
    assert (
        pydicom.dcmread(path).file_meta.TransferSyntaxUID
        == pydicom.dcmread(get_testdata_file(name)).file_meta.TransferSyntaxUID
    )
    load_scan(path, pixels=False)  # whole, it loads
    path.write_bytes(path.read_bytes()[:-300])

    with pytest.raises(ScanError, match=words) as caught:
        load_scan(path, pixels=False)

    assert caught.value.path == str(path)
