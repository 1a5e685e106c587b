"""The lesion phantoms: real DICOM that the loaders read back, and truth that matches the image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from onfh_volume import load_scan
from onfh_volume.testing.phantom_set import SMALL, benchmark_specs, small_phantom


@pytest.fixture(scope="module")
def phantom():
    return small_phantom()


def test_dicom_series_reads_back_as_the_phantom_scan(phantom, tmp_path: Path) -> None:
    phantom.write_dicom(tmp_path / "series")
    scan = load_scan(tmp_path / "series")
    assert np.array_equal(scan.voxels, phantom.scan.voxels)
    assert np.allclose(scan.affine, phantom.scan.affine, atol=1e-4)
    assert scan.pixel_spacing == pytest.approx(phantom.scan.pixel_spacing)
    assert scan.slice_thickness == pytest.approx(SMALL.acquisition.thickness_mm)
    # SimpleITK, independently: voxel (0, 0, 0) and the spacing in LPS.
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(tmp_path / "series")))
    image = reader.Execute()
    a = SMALL.acquisition
    assert image.GetSpacing()[:2] == pytest.approx((a.column_mm, a.row_mm))
    lps_first = np.array(image.GetOrigin())
    assert np.allclose(phantom.scan.affine[:3, 3], lps_first * [-1, -1, 1], atol=1e-4)


def test_truth_lies_in_the_head_and_holds_the_band(phantom) -> None:
    labels, band = phantom.labels, phantom.band
    assert band.any() and np.all(labels[band] == 1)
    (head,) = phantom.heads
    assert head.side == "right"
    indices = np.argwhere(labels > 0)
    distance = np.linalg.norm(phantom.scan.index_to_patient(indices) - head.centre_ras, axis=1)
    assert distance.max() <= head.radius_mm
    # The band and the subchondral plate are part of the truth: its dark voxels are many.
    lesion = phantom.scan.voxels[labels > 0]
    assert np.mean(lesion < 450) > 0.2
    counted = np.count_nonzero(labels == 1) * SMALL.acquisition.row_mm * SMALL.acquisition.column_mm * 4.0
    assert phantom.volumes_mm3() == {1: pytest.approx(counted)}


def test_the_stated_head_sphere_is_where_the_image_shows_it(phantom) -> None:
    """The dark cortex lies just inside the stated radius, bright marrow a few mm further in."""
    (head,) = phantom.heads
    scan = phantom.scan
    grid = np.argwhere(np.ones(scan.shape, dtype=bool))
    r = np.linalg.norm(scan.index_to_patient(grid) - head.centre_ras, axis=1).reshape(scan.shape)
    healthy = phantom.labels == 0
    cortex = scan.voxels[(np.abs(r - (head.radius_mm - 1.0)) < 0.5) & healthy]
    marrow = scan.voxels[(np.abs(r - (head.radius_mm - 7.0)) < 0.5) & healthy]
    inner = scan.voxels[(np.abs(r - (head.radius_mm - 4.0)) < 0.5) & healthy]
    assert np.median(cortex) < 0.5 * np.median(marrow)
    assert np.median(inner) > 0.8 * np.median(marrow)


def test_the_benchmark_set_covers_the_variations() -> None:
    specs = benchmark_specs()
    lesions = [lesion for spec in specs for lesion in spec.lesions]
    assert len(lesions) >= 20
    assert {lesion.interior for lesion in lesions} == {"fat", "intermediate", "mixed"}
    assert sum(1 for lesion in lesions if lesion.gaps) >= 5
    assert all(1.5 <= lesion.band_mm <= 3.0 for lesion in lesions)
    assert {spec.acquisition.thickness_mm for spec in specs} >= {3.0, 4.0, 5.0}
    assert any(spec.acquisition.row_mm != spec.acquisition.column_mm for spec in specs)
    assert any(len(spec.lesions) == 1 for spec in specs)  # the unilateral small fields
