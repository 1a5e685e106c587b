"""Loading NIfTI: axes to (slice, row, column), affine and units, BIDS sidecars, agreement with DICOM."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from helpers import oblique, write_dicom_series

from onfh_volume import GeometryError, compare, measure
from onfh_volume.load import load_scan
from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series

# RAS affine of a coronal NIfTI as ITK writes a DICOM series: axis 0 = column (0.9 mm to the left,
# RAS -x), axis 1 = row (0.7 mm down, -z), axis 2 = slice (5 mm posterior, -y).
CORONAL_AFFINE = np.array(
    [
        [-0.9, 0.0, 0.0, 10.0],
        [0.0, 0.0, -5.0, -20.0],
        [0.0, -0.7, 0.0, 30.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


# --- helpers -------------------------------------------------------------------------------------


def known_array(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-500, 2500, shape).astype(np.int16)


def write_nifti(
    path: Path,
    data: np.ndarray,
    affine: np.ndarray,
    *,
    qform: np.ndarray | None = None,
    qform_code: int = 1,
    sform_code: int = 1,
    units: str = "mm",
    pixdim: tuple[float, float, float] | None = None,
    slice_axis: int | None = None,
) -> Path:
    """Write a NIfTI-1 with exactly the header fields given (nibabel would otherwise fill some in)."""
    header = nib.Nifti1Header()
    header.set_data_shape(data.shape)
    header.set_data_dtype(data.dtype)
    header.set_qform(affine if qform is None else qform, code=qform_code)
    header.set_sform(affine, code=sform_code)
    header.set_xyzt_units(xyz=units, t="sec")
    if pixdim is not None:
        header["pixdim"][1:4] = pixdim
    if slice_axis is not None:
        header.set_dim_info(slice=slice_axis)
    nib.Nifti1Image(data, None, header=header).to_filename(path)
    return path


def assert_voxels_in_place(scan, data: np.ndarray, affine_mm: np.ndarray) -> None:
    """Every voxel of the scan sits where the NIfTI puts the same value, in patient coordinates.

    This checks the loader's axis permutation and flips independently of how it does them: the
    scan's index is taken to RAS by its affine, then back to a NIfTI index by the file's affine.
    """
    grid = np.indices(scan.voxels.shape).reshape(3, -1).T
    ras = scan.index_to_patient(grid)
    ijk = np.c_[ras, np.ones(len(ras))] @ np.linalg.inv(affine_mm).T
    rounded = np.rint(ijk[:, :3])
    np.testing.assert_allclose(ijk[:, :3], rounded, atol=1e-3)
    i, j, k = rounded.astype(int).T
    np.testing.assert_array_equal(scan.voxels.reshape(-1), data[i, j, k])


def warning_with(scan, *words: str) -> str:
    found = [w for w in scan.warnings if all(word in w for word in words)]
    assert len(found) == 1, f"no single warning with {words} in {scan.warnings}"
    return found[0]


def sidecar(nifti: Path, **fields: object) -> Path:
    name = nifti.name.removesuffix(".gz").removesuffix(".nii")
    path = nifti.with_name(name + ".json")
    path.write_text(json.dumps(fields))
    return path


# --- 1. axes, affine and spacing ------------------------------------------------------------------


def test_coronal_nifti_loads_with_its_affine(tmp_path: Path) -> None:
    data = known_array((12, 9, 5))  # (column, row, slice)
    path = write_nifti(tmp_path / "coronal.nii", data, CORONAL_AFFINE)

    scan = load_scan(path)

    np.testing.assert_array_equal(scan.voxels, data.transpose(2, 1, 0))
    expected = np.array(
        [[0.0, 0.0, -0.9, 10.0], [-5.0, 0.0, 0.0, -20.0], [0.0, -0.7, 0.0, 30.0], [0.0, 0.0, 0.0, 1.0]]
    )
    np.testing.assert_allclose(scan.affine, expected, atol=1e-6)
    assert scan.pixel_spacing == pytest.approx((0.7, 0.9))
    assert scan.slice_spacing == pytest.approx(5.0)
    assert scan.orientation == "PIL"
    assert scan.series_uid is None
    assert_voxels_in_place(scan, data, CORONAL_AFFINE)


def test_axial_ras_nifti_is_flipped_to_the_dicom_layout(tmp_path: Path) -> None:
    data = known_array((10, 8, 4), seed=1)
    affine = np.array([[0.8, 0, 0, -40.0], [0, 0.6, 0, -20.0], [0, 0, 3.0, 5.0], [0, 0, 0, 1]])
    path = write_nifti(tmp_path / "axial.nii.gz", data, affine)

    scan = load_scan(path)

    # Columns must run to the left and rows to the back, as DICOM displays an axial slice.
    np.testing.assert_array_equal(scan.voxels, data[::-1, ::-1, :].transpose(2, 1, 0))
    assert scan.orientation == "SPL"
    # Voxel (0, 0, 0) is NIfTI voxel (9, 7, 0): x = -40 + 9 * 0.8, y = -20 + 7 * 0.6, z = 5.
    np.testing.assert_allclose(scan.affine[:3, 3], [-32.8, -15.8, 5.0], atol=1e-6)
    assert (scan.slice_spacing, *scan.pixel_spacing) == pytest.approx((3.0, 0.6, 0.8))
    assert_voxels_in_place(scan, data, affine)


def test_slice_axis_from_dim_info(tmp_path: Path) -> None:
    # A coronal scan stored in RAS order: axis 1 (anterior, 5 mm) is the slice axis, so stated.
    data = known_array((10, 4, 8), seed=2)
    affine = np.array([[0.9, 0, 0, -45.0], [0, 5.0, 0, -60.0], [0, 0, 0.7, -10.0], [0, 0, 0, 1]])
    path = write_nifti(tmp_path / "ras.nii", data, affine, slice_axis=1)

    scan = load_scan(path)

    assert scan.voxels.shape == (4, 8, 10)
    assert scan.orientation == "PIL"
    assert scan.slice_spacing == pytest.approx(5.0)
    assert scan.pixel_spacing == pytest.approx((0.7, 0.9))
    np.testing.assert_array_equal(scan.voxels, data[::-1, ::-1, ::-1].transpose(1, 2, 0))
    assert_voxels_in_place(scan, data, affine)


def test_slice_spacing_comes_from_the_affine_not_pixdim(tmp_path: Path) -> None:
    data = known_array((12, 9, 5), seed=3)
    path = write_nifti(tmp_path / "c.nii", data, CORONAL_AFFINE, qform_code=0, pixdim=(1.0, 1.0, 1.0))
    assert nib.load(path).header.get_zooms() == (1.0, 1.0, 1.0)  # the file really says 1 mm

    scan = load_scan(path)

    assert scan.slice_spacing == pytest.approx(5.0)
    assert scan.pixel_spacing == pytest.approx((0.7, 0.9))
    warning_with(scan, "pixdim", "affine")


def test_consistent_header_gives_only_the_thickness_warning(tmp_path: Path) -> None:
    path = write_nifti(tmp_path / "c.nii", known_array((12, 9, 5)), CORONAL_AFFINE)
    scan = load_scan(path)
    assert len(scan.warnings) == 1
    warning_with(scan, "thickness")


def test_a_single_trailing_singleton_dimension_is_dropped(tmp_path: Path) -> None:
    data = known_array((12, 9, 5), seed=4)
    path = write_nifti(tmp_path / "c.nii", data[..., None], CORONAL_AFFINE)
    scan = load_scan(path)
    np.testing.assert_array_equal(scan.voxels, data.transpose(2, 1, 0))


# --- 2. qform/sform, units -------------------------------------------------------------------------


def test_qform_sform_disagreement_is_reported_and_sform_used(tmp_path: Path) -> None:
    data = known_array((12, 9, 5), seed=5)
    qform = CORONAL_AFFINE.copy()
    qform[:3, 3] += [3.0, 0.0, -4.0]  # 5 mm away
    path = write_nifti(tmp_path / "c.nii", data, CORONAL_AFFINE, qform=qform)

    scan = load_scan(path)

    assert "using the sform" in warning_with(scan, "qform", "sform")
    assert_voxels_in_place(scan, data, CORONAL_AFFINE)


def test_qform_sform_disagreement_states_the_distance(tmp_path: Path) -> None:
    qform = CORONAL_AFFINE.copy()
    qform[:3, 3] += [3.0, 0.0, -4.0]  # every voxel is sqrt(3^2 + 4^2) = 5 mm away
    path = write_nifti(tmp_path / "c.nii", known_array((12, 9, 5)), CORONAL_AFFINE, qform=qform)

    assert "by up to 5.00 mm" in warning_with(load_scan(path), "qform", "sform")


def test_qform_alone_is_used(tmp_path: Path) -> None:
    data = known_array((12, 9, 5), seed=9)
    path = write_nifti(tmp_path / "c.nii", data, CORONAL_AFFINE, sform_code=0)

    scan = load_scan(path)

    assert not any("qform" in w or "sform" in w for w in scan.warnings), scan.warnings
    assert_voxels_in_place(scan, data, CORONAL_AFFINE)


def test_no_orientation_code_is_reported(tmp_path: Path) -> None:
    path = write_nifti(
        tmp_path / "c.nii", known_array((12, 9, 5)), CORONAL_AFFINE, qform_code=0, sform_code=0
    )
    warning_with(load_scan(path), "qform_code", "sform_code", "left/right unknown")


def test_unknown_spatial_unit_is_reported_and_taken_as_mm(tmp_path: Path) -> None:
    data = known_array((12, 9, 5), seed=6)
    path = write_nifti(tmp_path / "c.nii", data, CORONAL_AFFINE, units="unknown")

    scan = load_scan(path)

    warning_with(scan, "unit", "unknown")
    assert scan.slice_spacing == pytest.approx(5.0)
    assert scan.pixel_spacing == pytest.approx((0.7, 0.9))


def test_meters_are_converted_to_mm(tmp_path: Path) -> None:
    data = known_array((12, 9, 5), seed=7)
    in_meters = CORONAL_AFFINE.copy()
    in_meters[:3, :] /= 1000.0
    path = write_nifti(tmp_path / "c.nii", data, in_meters, units="meter")

    scan = load_scan(path)

    assert scan.slice_spacing == pytest.approx(5.0, rel=1e-6)
    assert scan.pixel_spacing == pytest.approx((0.7, 0.9), rel=1e-6)
    np.testing.assert_allclose(scan.affine[:3, 3], [10.0, -20.0, 30.0], atol=1e-4)
    assert not any("unit" in w or "pixdim" in w for w in scan.warnings), scan.warnings
    assert_voxels_in_place(scan, data, CORONAL_AFFINE)


# --- 3. BIDS sidecar --------------------------------------------------------------------------------


def test_sidecar_slice_thickness_is_used(tmp_path: Path) -> None:
    path = write_nifti(tmp_path / "sub-01_T1w.nii.gz", known_array((12, 9, 5)), CORONAL_AFFINE)
    sidecar(path, SliceThickness=5.0, RepetitionTime=0.5)

    scan = load_scan(path)

    assert scan.slice_thickness == pytest.approx(5.0)
    assert scan.warnings == []


def test_sidecar_thickness_below_spacing_gives_the_gap_warning(tmp_path: Path) -> None:
    path = write_nifti(tmp_path / "sub-01_T1w.nii", known_array((12, 9, 5)), CORONAL_AFFINE)
    sidecar(path, SliceThickness=4)

    scan = load_scan(path)

    assert scan.slice_thickness == pytest.approx(4.0)
    warning_with(scan, "gap", "20.0%")  # (5 - 4) / 5
    assert len(scan.warnings) == 1


def test_without_sidecar_thickness_is_unknown(tmp_path: Path) -> None:
    path = write_nifti(tmp_path / "sub-01_T1w.nii.gz", known_array((12, 9, 5)), CORONAL_AFFINE)

    scan = load_scan(path)

    assert scan.slice_thickness is None
    warning_with(scan, "thickness", "sub-01_T1w.json")


def test_sidecar_without_slice_thickness(tmp_path: Path) -> None:
    path = write_nifti(tmp_path / "sub-01_T1w.nii.gz", known_array((12, 9, 5)), CORONAL_AFFINE)
    sidecar(path, RepetitionTime=0.5)

    scan = load_scan(path)

    assert scan.slice_thickness is None
    warning_with(scan, "SliceThickness", "sub-01_T1w.json")


# --- 4. a DICOM series and its NIfTI conversion agree ----------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "pixel_spacing", "layout"),
    [
        (CORONAL, (0.7, 0.9), None),
        (oblique(20.0), (0.5, 1.1), None),
        # Resampled to RAS order (as fslreorient2std or as_closest_canonical do): the thick slice
        # axis is now NIfTI's second axis, and must still be found as the slice axis.
        (CORONAL, (0.7, 0.9), "RAS"),
        (CORONAL, (0.7, 0.9), "LSP"),
    ],
    ids=["coronal", "oblique-anisotropic", "reoriented-RAS", "reoriented-LSP"],
)
def test_dicom_series_and_its_nifti_conversion_agree(
    tmp_path: Path, orientation: tuple[float, ...], pixel_spacing: tuple[float, float], layout: str | None
) -> None:
    voxels = known_array((6, 14, 22), seed=8)
    folder = tmp_path / "dicom"
    write_series(
        folder,
        dicom_slices(
            voxels,
            pixel_spacing=pixel_spacing,
            slice_thickness=4.0,
            positions=stack_positions((-12.0, 25.0, 40.0), orientation, 4.4, len(voxels)),
            orientation=orientation,
        ),
    )
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    nifti = tmp_path / "converted.nii.gz"
    image = reader.Execute()
    sitk.WriteImage(image if layout is None else sitk.DICOMOrient(image, layout), str(nifti))

    from_dicom, from_nifti = load_scan(folder), load_scan(nifti)

    np.testing.assert_array_equal(from_nifti.voxels, voxels)
    np.testing.assert_array_equal(from_nifti.voxels, from_dicom.voxels)
    np.testing.assert_allclose(from_nifti.affine, from_dicom.affine, atol=1e-4)
    assert from_nifti.pixel_spacing == pytest.approx(pixel_spacing, abs=1e-5)
    assert from_nifti.slice_spacing == pytest.approx(4.4, abs=1e-5)
    assert from_nifti.orientation == from_dicom.orientation


# --- 5. nibabel's bundled anatomical.nii -------------------------------------------------------------


def test_nibabel_anatomical_nii() -> None:
    path = Path(nib.__file__).parent / "tests" / "data" / "anatomical.nii"
    image = nib.load(path)
    data = np.asanyarray(image.dataobj)
    columns, rows, slices = image.header.get_data_shape()  # x (left, 2 mm), y (anterior), z (superior)
    assert image.header.get_dim_info()[2] is None  # so the slice axis is the third

    scan = load_scan(path)

    assert scan.voxels.shape == (slices, rows, columns) == (25, 41, 33)
    # Axis 0 already runs to the patient's left; axis 1 runs anterior, so it is flipped (posterior).
    np.testing.assert_array_equal(scan.voxels, data[:, ::-1, :].transpose(2, 1, 0))
    assert scan.orientation == "SPL"
    assert scan.pixel_spacing == pytest.approx((2.0, 2.0))
    assert scan.slice_spacing == pytest.approx(2.0)
    np.testing.assert_allclose(scan.affine[:3, 3], [32.0, -40.0 + 40 * 2.0, -16.0])
    assert_voxels_in_place(scan, data, image.affine)


# --- 6. layouts and headers that used to mislead -------------------------------------------------------


def test_nifti_saved_in_slice_row_column_order_loads_like_its_dicom(tmp_path: Path) -> None:
    """Axis order in the file does not decide which in-plane axis is the column: the geometry does."""
    folder = write_dicom_series(tmp_path / "dicom")
    from_dicom = load_scan(folder)
    path = tmp_path / "src.nii.gz"
    nib.save(nib.Nifti1Image(from_dicom.voxels, from_dicom.affine), path)
    sidecar(path, SliceThickness=4.0)
    from_nifti = load_scan(path)
    assert from_nifti.orientation == from_dicom.orientation == "PIL"
    np.testing.assert_array_equal(from_nifti.voxels, from_dicom.voxels)
    np.testing.assert_allclose(from_nifti.affine, from_dicom.affine, atol=1e-4)


def test_sidecar_spacing_picks_the_slice_axis_when_voxels_are_not_clearly_thick(tmp_path: Path) -> None:
    # 0.5 x 0.8 mm pixels, 0.6 mm slices stored as NIfTI's FIRST axis: only the sidecar can tell.
    data = known_array((6, 20, 30))
    path = write_nifti(tmp_path / "thin.nii.gz", data, np.diag([0.6, 0.8, 0.5, 1.0]))
    sidecar(path, SliceThickness=0.6, SpacingBetweenSlices=0.6)
    scan = load_scan(path)
    assert scan.shape[0] == 6
    assert scan.slice_spacing == pytest.approx(0.6)
    assert sorted(scan.pixel_spacing) == pytest.approx([0.5, 0.8])


def test_two_dimensional_nifti_is_one_slice(tmp_path: Path) -> None:
    path = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((20, 30), np.int16), np.diag([0.8, 0.9, 4.0, 1.0])), path)
    scan = load_scan(path)
    assert scan.shape == (1, 30, 20)
    assert scan.pixel_spacing == pytest.approx((0.9, 0.8))


def test_nifti_without_orientation_has_no_side_and_cannot_be_compared(tmp_path: Path) -> None:
    path = tmp_path / "bare.nii.gz"
    image = nib.Nifti1Image(np.zeros((320, 40, 6), np.int16), None)
    image.header.set_zooms((0.9, 0.8, 4.4))
    image.header.set_qform(None, code=0)
    image.header.set_sform(None, code=0)
    nib.save(image, path)
    sidecar(path, SliceThickness=4.0)
    scan = load_scan(path)
    assert not scan.orientation_known
    labels = np.zeros(scan.shape, np.uint8)
    labels[2, 10:20, 30:40] = 1
    result = measure(scan, labels)
    assert [lesion.side for lesion in result.lesions] == ["unknown"]
    assert result.lesions[0].volume_thickness_cm3 == pytest.approx(100 * 0.72 * 4.0 / 1000)
    assert any("does not say where the patient's left and right are" in w for w in result.warnings)
    with pytest.raises(GeometryError, match="hips cannot be matched"):
        compare(result, result)
