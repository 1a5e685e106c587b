"""Masks land exactly on the scan's voxel grid, or are refused; saving is atomic and never overwrites."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from helpers import oblique, sitk_series, write_dicom_series, write_sitk_mask

from onfh_volume import MaskError, OutputExistsError, load_mask, load_scan, save_mask
from onfh_volume.mask import load_mask_with_warnings


def labels_for(shape: tuple[int, int, int]) -> np.ndarray:
    """An asymmetric pattern, so any wrong flip or transpose changes it."""
    labels = np.zeros(shape, dtype=np.uint8)
    labels[1:3, 5:12, 20:31] = 1
    labels[4, 30:33, 200:204] = 2
    labels[0, 0, 0] = 3
    return labels


def test_itk_snap_style_mask_maps_exactly(series: Path, tmp_path: Path) -> None:
    scan = load_scan(series)
    labels = labels_for(scan.shape)
    mask = write_sitk_mask(sitk_series(series), labels, tmp_path / "mask.nii.gz")
    assert np.array_equal(load_mask(mask, scan), labels)


@pytest.mark.parametrize(
    "transform",
    [
        lambda image: sitk.Flip(image, [True, False, False]),
        lambda image: sitk.Flip(image, [False, True, True]),
        lambda image: sitk.PermuteAxes(image, [2, 0, 1]),
        lambda image: sitk.Flip(sitk.PermuteAxes(image, [1, 2, 0]), [True, False, True]),
        lambda image: sitk.DICOMOrient(image, "RAS"),
    ],
    ids=["flip-x", "flip-yz", "permute", "permute-flip", "RAS"],
)
def test_same_voxels_in_another_axis_order_or_direction_map_back(
    series: Path, tmp_path: Path, transform
) -> None:
    """SimpleITK's Flip/PermuteAxes/DICOMOrient keep each voxel at its physical place."""
    scan = load_scan(series)
    labels = labels_for(scan.shape)
    reference = sitk.GetImageFromArray(labels)
    reference.CopyInformation(sitk_series(series))
    path = tmp_path / "reoriented.nii.gz"
    sitk.WriteImage(transform(reference), str(path))
    assert np.array_equal(load_mask(path, scan), labels)


def test_oblique_scan_mask_maps_exactly(tmp_path: Path) -> None:
    folder = write_dicom_series(tmp_path / "s", orientation=oblique(25))
    scan = load_scan(folder)
    labels = labels_for(scan.shape)
    mask = write_sitk_mask(sitk_series(folder), labels, tmp_path / "mask.nii.gz")
    assert np.array_equal(load_mask(mask, scan), labels)


def _mask_on(image: sitk.Image, path: Path) -> Path:
    mask = sitk.Image(image.GetSize(), sitk.sitkUInt8)
    mask.CopyInformation(image)
    sitk.WriteImage(mask, str(path))
    return path


def test_mask_shifted_by_half_a_voxel_is_refused(series: Path, tmp_path: Path) -> None:
    image = sitk_series(series)
    shifted = sitk.Image(image.GetSize(), sitk.sitkUInt8)
    shifted.CopyInformation(image)
    origin = (
        np.array(image.GetOrigin())
        + 0.5 * np.array(image.GetDirection()).reshape(3, 3)[:, 0] * image.GetSpacing()[0]
    )
    shifted.SetOrigin(tuple(origin))
    path = tmp_path / "shifted.nii.gz"
    sitk.WriteImage(shifted, str(path))
    with pytest.raises(MaskError, match=r"shifted by 0\.5 voxel"):
        load_mask(path, load_scan(series))


def test_mask_of_another_scan_is_refused(series: Path, tmp_path: Path) -> None:
    other = write_dicom_series(tmp_path / "other", pixel_spacing=(0.7, 0.9))
    path = _mask_on(sitk_series(other), tmp_path / "other.nii.gz")
    with pytest.raises(
        MaskError,
        match=r"does not coincide .* \(voxel size \[0\.7, 0\.9, 4\.4\] mm vs the scan's \[0\.8, 0\.9, 4\.4\] mm\)",
    ):
        load_mask(path, load_scan(series))


def test_mask_with_another_matrix_is_refused(series: Path, tmp_path: Path) -> None:
    smaller = write_dicom_series(tmp_path / "small", shape=(5, 40, 320))
    path = _mask_on(sitk_series(smaller), tmp_path / "small.nii.gz")
    with pytest.raises(MaskError, match=r"5 voxels along the scan's slice axis, the scan .* has 6"):
        load_mask(path, load_scan(series))


def _nifti_like_scan(scan, data: np.ndarray, path: Path) -> Path:
    # (slice, row, column) on the scan grid, saved by nibabel with the scan's own affine.
    nib.save(nib.Nifti1Image(data, scan.affine), path)
    return path


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.full((6, 40, 320), 0.5, dtype=np.float32), "non-integer values"),
        (np.full((6, 40, 320), -1, dtype=np.int16), "negative label -1"),
        (np.zeros((6, 40, 320, 2), dtype=np.uint8), "more than 3 non-singleton dimensions"),
    ],
    ids=["probabilities", "negative", "4d"],
)
def test_invalid_label_images_are_refused(
    series: Path, tmp_path: Path, data: np.ndarray, message: str
) -> None:
    scan = load_scan(series)
    path = _nifti_like_scan(scan, data, tmp_path / "bad.nii.gz")
    with pytest.raises(MaskError, match=message):
        load_mask(path, scan)


def test_float_mask_with_whole_numbers_is_accepted(series: Path, tmp_path: Path) -> None:
    scan = load_scan(series)
    labels = labels_for(scan.shape)
    path = _nifti_like_scan(scan, labels.astype(np.float32), tmp_path / "float.nii.gz")
    assert np.array_equal(load_mask(path, scan), labels)


def test_saved_mask_puts_every_label_at_its_physical_place(series: Path, tmp_path: Path) -> None:
    """Read back with SimpleITK: each labelled voxel of the scan maps to the same label in the file."""
    scan = load_scan(series)
    labels = labels_for(scan.shape)
    path = save_mask(tmp_path / "saved.nii.gz", labels, scan)
    saved = sitk.ReadImage(str(path))
    saved_array = sitk.GetArrayViewFromImage(saved)
    reference = sitk_series(series)
    for s, r, c in np.argwhere(labels > 0):
        point = reference.TransformIndexToPhysicalPoint((int(c), int(r), int(s)))
        x, y, z = saved.TransformPhysicalPointToIndex(point)
        assert saved_array[z, y, x] == labels[s, r, c]
    assert int((saved_array > 0).sum()) == int((labels > 0).sum())
    assert np.array_equal(load_mask(path, scan), labels)


def test_save_never_overwrites_without_being_asked(series: Path, tmp_path: Path) -> None:
    scan = load_scan(series)
    path = tmp_path / "traced.nii.gz"
    first = labels_for(scan.shape)
    save_mask(path, first, scan)
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match=r"traced\.nii\.gz: file exists"):
        save_mask(path, np.zeros(scan.shape, dtype=np.uint8), scan)
    assert path.read_bytes() == before
    save_mask(path, np.zeros(scan.shape, dtype=np.uint8), scan, overwrite=True)
    assert not load_mask(path, scan).any()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["series", "traced.nii.gz"]


def test_failed_save_leaves_no_file(series: Path, tmp_path: Path) -> None:
    scan = load_scan(series)
    with pytest.raises(MaskError, match="not on the scan grid"):
        save_mask(tmp_path / "wrong.nii.gz", np.zeros((2, 2, 2), dtype=np.uint8), scan)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["series"]


def test_label_values_beyond_255_are_kept(series: Path, tmp_path: Path) -> None:
    scan = load_scan(series)
    labels = np.zeros(scan.shape, dtype=np.int32)
    labels[0, 0, :90] = np.arange(211, 301)
    path = save_mask(tmp_path / "many.nii.gz", labels, scan)
    assert np.array_equal(load_mask(path, scan), labels)


def test_an_image_given_as_mask_is_refused(series: Path, tmp_path: Path) -> None:
    scan = load_scan(series)
    path = _nifti_like_scan(scan, scan.voxels, tmp_path / "image.nii.gz")
    with pytest.raises(MaskError, match=r"holds \d+ different labels: this looks like an image"):
        load_mask(path, scan)


def test_mask_saved_on_another_series_is_flagged(tmp_path: Path) -> None:
    """Baseline and follow-up share a grid: a swapped mask fits, but its recorded series tells."""
    baseline = load_scan(write_dicom_series(tmp_path / "baseline", seed=1))
    followup = load_scan(write_dicom_series(tmp_path / "followup", seed=2))
    path = save_mask(tmp_path / "baseline.nii.gz", labels_for(baseline.shape), baseline)
    assert load_mask_with_warnings(path, baseline)[1] == []
    labels, (warning,) = load_mask_with_warnings(path, followup)
    assert np.array_equal(labels, labels_for(followup.shape))
    assert (
        f"was saved on series {baseline.series_uid}, not on this scan's series {followup.series_uid}"
        in warning
    )


def test_mask_without_orientation_is_refused_with_that_reason(series: Path, tmp_path: Path) -> None:
    scan = load_scan(series)
    image = nib.Nifti1Image(labels_for(scan.shape).transpose(2, 1, 0), None)
    image.header.set_qform(None, code=0)
    image.header.set_sform(None, code=0)
    path = tmp_path / "bare.nii.gz"
    nib.save(image, path)
    with pytest.raises(MaskError, match="the mask's header states no orientation"):
        load_mask(path, scan)
