"""Masks as other software writes them, odd or broken: each gives nibabel's volume or one line of refusal.

Every file is written here with nibabel, SimpleITK or as raw bytes; the expected outcome is read
from the file by nibabel (or SimpleITK) and put on the scan's grid here, independently of the
reader under test. A mask either measures exactly what that reading gives, or is refused with one
line naming the file and exit code 2: never another number, never a traceback.
"""

from __future__ import annotations

import struct
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from onfh_volume.cli import main

SCAN = Path("sample_scans/nifti/sub-01_baseline.nii.gz")
MASK = Path("sample_scans/masks/sub-01_baseline_lesions.nii.gz")
#: Offset of ``dim`` (eight int16) in a NIfTI-1 header.
DIM_OFFSET = 40


def refused(capsys: pytest.CaptureFixture[str], mask: Path) -> str:
    """Measure ``mask`` on the sample scan; check it is refused in one line naming it, and return the line."""
    code = main(["measure", str(SCAN), str(mask)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith(f"onfh-volume: error: {mask}: "), err
    return err


@pytest.mark.parametrize(
    "dims",
    [
        (7, 32767, 32767, 32767, 32767, 32767, 32767, 32767),  # 32767**7 wraps to a negative int64
        (7, 224, 224, 14, 32767, 32767, 32767, 32767),
    ],
)
def test_a_header_whose_voxel_count_overflows_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dims: tuple[int, ...]
) -> None:
    """More voxels than any file holds (the product of the sizes beyond 64 bits): nibabel refuses it."""
    raw = bytearray(nib.load(MASK).to_bytes())
    struct.pack_into("<8h", raw, DIM_OFFSET, *dims)
    mask = tmp_path / "huge.nii"
    mask.write_bytes(bytes(raw))
    with pytest.raises(Exception):  # noqa: B017 - nibabel's own refusal, whatever its class
        np.asanyarray(nib.load(mask).dataobj)
    refused(capsys, mask)


def mask_bytes(data: np.ndarray, image_class: type[nib.Nifti1Image] = nib.Nifti1Image) -> bytearray:
    """The sample mask's labels as ``data``'s type, on its own affine (qform and sform), as bytes."""
    affine = nib.load(MASK).affine
    image = image_class(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm")
    return bytearray(image.to_bytes())


def sample_labels() -> np.ndarray:
    return np.asarray(nib.load(MASK).dataobj).astype(np.uint8)


@pytest.mark.parametrize(("image_class", "field"), [(nib.Nifti1Image, 108), (nib.Nifti2Image, 168)])
def test_a_single_file_whose_voxels_start_at_0_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], image_class: type[nib.Nifti1Image], field: int
) -> None:
    """vox_offset 0 in a .nii: nibabel takes the header's own bytes as the first voxels (the mask
    shifted by 352 voxels, header bytes as labels), SimpleITK starts at byte 348 (shifted by 4).
    Two readings of one file, neither the labels written: no number can be given."""
    raw = mask_bytes(sample_labels(), image_class)
    struct.pack_into("<f" if image_class is nib.Nifti1Image else "<q", raw, field, 0)
    mask = tmp_path / "offset0.nii"
    mask.write_bytes(bytes(raw))
    by_nibabel = np.asanyarray(nib.load(mask).dataobj)
    assert not np.array_equal(by_nibabel, sample_labels())
    if image_class is nib.Nifti1Image:  # SimpleITK's NIfTI-2 support varies by build
        by_itk = sitk.GetArrayFromImage(sitk.ReadImage(str(mask))).transpose()
        assert not np.array_equal(by_itk, sample_labels())
        assert not np.array_equal(by_itk, by_nibabel)
    assert "vox_offset" in refused(capsys, mask)
