"""Masks as other software writes them, odd or broken: each gives nibabel's volume or one line of refusal.

Every file is written here with nibabel, SimpleITK or as raw bytes; the expected outcome is read
from the file by nibabel (or SimpleITK) and put on the scan's grid here, independently of the
reader under test. A mask either measures exactly what that reading gives, or is refused with one
line naming the file and exit code 2: never another number, never a traceback.
"""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onfh_volume.cli import main
from onfh_volume.mask import mask_on_grid
from onfh_volume.scan import Scan

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


#: The scan grid the odd masks are written on: the sample mask's grid, every 4th voxel in plane,
#: listed as (slice, row, column) the other way round along two axes.
GRID_ORNT = np.array([[2, -1], [1, 1], [0, -1]], dtype=float)


def small_grid() -> tuple[np.ndarray, np.ndarray]:
    """The sample mask's labels on a 56 x 56 x 14 grid, and that grid's affine (file order)."""
    return sample_labels()[::4, ::4, :], nib.load(MASK).affine @ np.diag([4.0, 4.0, 1.0, 1.0])


@st.composite
def odd_masks(draw: st.DrawFn) -> tuple[bytes, np.ndarray, np.ndarray]:
    """The small grid's mask in any axis order and direction, voxel type, byte order, NIfTI
    version, extension, transform codes, gap before the voxels and 4-D/5-D singleton axes, as the
    file's bytes (inflated), with its values and affine as written (the truth)."""
    labels, affine = small_grid()
    ornt = np.array(
        [[axis, draw(st.sampled_from([1, -1]))] for axis in draw(st.permutations([0, 1, 2]))], dtype=float
    )
    labels = nib.orientations.apply_orientation(labels, ornt)
    affine = affine @ nib.orientations.inv_ornt_aff(ornt, small_grid()[0].shape)
    kind = draw(st.sampled_from(["u1", "i1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"]))
    values = labels.astype(kind)
    values[labels == 2] = draw(st.sampled_from([2, 7, 100]))
    stored = values.reshape(values.shape + (1,) * draw(st.integers(0, 2)))
    endian = draw(st.sampled_from("<>"))
    header = draw(st.sampled_from([nib.Nifti1Header, nib.Nifti2Header]))(endianness=endian)
    header.set_data_shape(stored.shape)
    header.set_data_dtype(kind)
    qform_code, sform_code = draw(st.sampled_from([(1, 1), (1, 0), (0, 2), (2, 1)]))
    header.set_qform(affine, code=qform_code)
    header.set_sform(affine, code=sform_code)
    header.set_xyzt_units("mm")
    extension = b""
    if draw(st.booleans()):
        text = b"<?xml version='1.0' ?><AFNI_attributes/>\x00"
        text += b"\x00" * (-(len(text) + 8) % 16)
        extension = struct.pack(endian + "ii", len(text) + 8, 4) + text
    # Room some writers leave before the voxels (after an extension nibabel reads it as another).
    gap = 0 if extension else draw(st.sampled_from([0, 16, 48]))
    header["vox_offset"] = header.single_vox_offset + len(extension) + gap
    flag = b"\x01\x00\x00\x00" if extension else b"\x00" * 4
    body = stored.astype(np.dtype(kind).newbyteorder(endian)).tobytes(order="F")
    return header.binaryblock + flag + extension + b"\x00" * gap + body, values, affine


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(odd_masks(), st.sampled_from(["nii", "nii.gz", "multi-member"]))
def test_an_odd_mask_measures_the_lesions_it_holds(
    tmp_path_factory: pytest.TempPathFactory, written: tuple[bytes, np.ndarray, np.ndarray], form: str
) -> None:
    """The lesion voxels the measure counts are those the file's own affine puts on the scan's
    grid, each with its label: compared through scanner millimetres, not the reader's axis mapping."""
    raw, values, affine = written
    mask = tmp_path_factory.mktemp("odd") / ("mask.nii" if form == "nii" else "mask.nii.gz")
    half = len(raw) // 2
    pieces = {"nii": [raw], "nii.gz": [gzip.compress(raw)]}
    mask.write_bytes(b"".join(pieces.get(form, [gzip.compress(raw[:half]), gzip.compress(raw[half:])])))
    labels, grid_affine = small_grid()
    grid_affine = grid_affine @ nib.orientations.inv_ornt_aff(GRID_ORNT, labels.shape)
    grid_shape = nib.orientations.apply_orientation(labels, GRID_ORNT).shape
    scan = Scan(None, (6.4, 6.4), 4.0, 4.4, grid_affine, "grid", grid=grid_shape)
    measured = mask_on_grid(mask, scan)
    found = np.argwhere(values)
    on_grid = np.linalg.solve(grid_affine, affine @ np.c_[found, np.ones(len(found))].T)[:3].T
    expected = {
        (*np.round(ijk).astype(int).tolist(), int(v))
        for ijk, v in zip(on_grid, values[values != 0], strict=True)
    }
    counted = {(*ijk.tolist(), int(v)) for ijk, v in zip(measured.voxels, measured.values, strict=True)}
    assert len(counted) == len(measured.voxels) == len(expected)
    assert counted == expected


def itk_lesions(path: Path) -> dict[int, tuple[int, np.ndarray]]:
    """Each label's voxel count and centroid (RAS mm) as SimpleITK reads the file."""
    image = sitk.ReadImage(str(path))
    array = sitk.GetArrayFromImage(image)  # (k, j, i)
    lesions = {}
    for label in np.unique(array[array != 0]):
        points = [
            image.TransformIndexToPhysicalPoint([int(i) for i in ijk[::-1]])
            for ijk in np.argwhere(array == label)
        ]
        lesions[int(label)] = (len(points), np.mean(points, axis=0) * [-1, -1, 1])  # LPS to RAS
    return lesions


@pytest.mark.parametrize(
    "change",
    [
        lambda image: sitk.DICOMOrient(image, "RAS"),
        lambda image: sitk.DICOMOrient(image, "LPS"),
        lambda image: sitk.DICOMOrient(image, "PIL"),
        lambda image: sitk.Cast(sitk.DICOMOrient(image, "ASR"), sitk.sitkInt16),
        lambda image: sitk.Cast(sitk.Flip(image, [True, True, True]), sitk.sitkFloat32),
        lambda image: sitk.Cast(sitk.PermuteAxes(image, [1, 2, 0]), sitk.sitkUInt16),
    ],
    ids=["RAS", "LPS", "PIL", "ASR int16", "flipped float32", "permuted uint16"],
)
@pytest.mark.parametrize("name", ["mask.nii.gz", "mask.nii"])
def test_a_mask_simpleitk_wrote_in_another_orientation_measures_what_simpleitk_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: object, name: str
) -> None:
    written = change(sitk.ReadImage(str(MASK)))  # type: ignore[operator]
    mask = tmp_path / name
    sitk.WriteImage(written, str(mask))
    assert main(["measure", str(SCAN), str(mask), "--json"]) == 0
    lesions = json.loads(capsys.readouterr().out)["lesions"]
    expected = itk_lesions(mask)
    assert {lesion["label"]: lesion["voxel_count"] for lesion in lesions} == {
        label: count for label, (count, _) in expected.items()
    }
    for lesion in lesions:
        assert np.allclose(lesion["centroid_ras_mm"], expected[lesion["label"]][1], atol=1e-3)


def test_a_scan_header_of_seven_large_sizes_is_refused_when_only_the_geometry_is_read(tmp_path: Path) -> None:
    """A batch reads a scan's header alone: its stand-in array of 32767**7 elements could not even
    be made (an internal error); it is a 7-D image, refused as any image of more than 3 dimensions."""
    from onfh_volume import load_scan
    from onfh_volume.errors import ScanError

    raw = bytearray(nib.load(SCAN).to_bytes())
    struct.pack_into("<8h", raw, DIM_OFFSET, 7, *[32767] * 7)
    scan = tmp_path / "huge.nii"
    scan.write_bytes(bytes(raw))
    with pytest.raises(ScanError, match="more than 3 non-singleton dimensions") as refusal:
        load_scan(scan, pixels=False)
    assert str(scan) in str(refusal.value)
