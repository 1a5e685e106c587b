"""Loading DICOM: classic series, compressed files, Enhanced MR multi-frame files, several series.

Every expected value is computed here from what the test wrote (or from an independent reader:
SimpleITK/GDCM, or pydicom read by hand), never copied from the loader's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from helpers import GRAYSCALE_PRESENTATION_STATE, dataset_of_class, philips_mprage, with_geometry
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from onfh_volume.cli import main
from onfh_volume.errors import ScanError, SeveralSeriesError
from onfh_volume.load import load_scan
from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series

ENHANCED_MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"
LPS_TO_RAS_3 = np.diag([-1.0, -1.0, 1.0])
FIRST = (-10.0, 20.0, 30.0)


# --- helpers -------------------------------------------------------------------------------------


def rotation(axis: str, degrees: float) -> np.ndarray:
    """Rotation matrix about the LPS x, y or z axis."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    matrix = np.eye(3)
    matrix[i, i], matrix[i, j], matrix[j, i], matrix[j, j] = c, -s, s, c
    return matrix


def rotated_coronal(*rotations: tuple[str, float]) -> tuple[float, ...]:
    """CORONAL's row and column directions turned by the given rotations (applied in order)."""
    row, column = np.array(CORONAL[:3]), np.array(CORONAL[3:])
    for axis, degrees in rotations:
        row, column = rotation(axis, degrees) @ row, rotation(axis, degrees) @ column
    return (*row, *column)


def random_voxels(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-1000, 3000, shape).astype(np.int16)


def build_series(
    voxels: np.ndarray,
    *,
    pixel_spacing: tuple[float, float] = (0.7, 0.9),
    thickness: float | None = 4.0,
    spacing: float = 5.0,
    orientation: tuple[float, ...] = CORONAL,
    first: tuple[float, float, float] = FIRST,
    **kwargs: object,
) -> list[Dataset]:
    """One dataset per slice of ``voxels``, slice k at ``first + k * spacing * normal``."""
    return dicom_slices(
        voxels,
        pixel_spacing=pixel_spacing,
        slice_thickness=thickness,
        positions=stack_positions(first, orientation, spacing, len(voxels)),
        orientation=orientation,
        **kwargs,  # type: ignore[arg-type]
    )


def write_scrambled(folder: Path, datasets: list[Dataset], seed: int = 0) -> list[Path]:
    """Write datasets in random order, under random hexadecimal names, with scrambled InstanceNumbers."""
    rng = np.random.default_rng(seed)
    numbers = rng.permutation(len(datasets)) + 1
    for ds, number in zip(datasets, numbers, strict=True):
        ds.InstanceNumber = int(number)
    order = rng.permutation(len(datasets))
    names = [rng.bytes(8).hex() for _ in datasets]
    return write_series(folder, [datasets[i] for i in order], [names[i] for i in order])


def sitk_series(folder: Path) -> sitk.Image:
    """The series as SimpleITK/GDCM (an independent reader) sees it."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def assert_same_as_sitk(scan, folder: Path) -> None:
    """Size, spacing, origin, direction and pixels of ``scan`` equal SimpleITK's reading of ``folder``.

    SimpleITK works in LPS with axes (x, y, z) = (column, row, slice); the scan's affine maps
    (slice, row, column) to RAS.
    """
    image = sitk_series(folder)
    slices, rows, columns = scan.voxels.shape
    assert image.GetSize() == (columns, rows, slices)
    lps = LPS_TO_RAS_3 @ scan.affine[:3, :]
    np.testing.assert_allclose(image.GetOrigin(), lps[:, 3], atol=1e-5)
    np.testing.assert_allclose(
        image.GetSpacing(), (scan.pixel_spacing[1], scan.pixel_spacing[0], scan.slice_spacing), atol=1e-5
    )
    direction = np.array(image.GetDirection()).reshape(3, 3)
    # Column j of direction @ diag(spacing) is the LPS step of SimpleITK's axis j.
    np.testing.assert_allclose(direction * np.array(image.GetSpacing()), lps[:, [2, 1, 0]], atol=1e-5)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), scan.voxels)


def expected_affine(
    orientation: tuple[float, ...], pixel_spacing: tuple[float, float], spacing: float, first
) -> np.ndarray:
    """RAS affine of index (slice, row, column), from the DICOM definitions written out by hand."""
    row_direction, column_direction = np.array(orientation[:3]), np.array(orientation[3:])
    normal = np.cross(row_direction, column_direction)
    lps = np.eye(4)
    lps[:3, 0] = normal * spacing
    lps[:3, 1] = column_direction * pixel_spacing[0]  # next row: down a column, by the row spacing
    lps[:3, 2] = row_direction * pixel_spacing[1]  # next column: along a row, by the column spacing
    lps[:3, 3] = first
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def warning_with(scan, *words: str) -> str:
    """The one warning that contains every word in ``words``."""
    found = [w for w in scan.warnings if all(word in w for word in words)]
    assert len(found) == 1, f"no single warning with {words} in {scan.warnings}"
    return found[0]


def enhanced_mr(
    path: Path,
    voxels: np.ndarray,
    *,
    positions: list[list[float]],
    stored_order: list[int],
    orientation: tuple[float, ...] = CORONAL,
    shared_spacing: tuple[float, float] = (0.6, 0.8),
    per_frame_spacing: list[tuple[float, float] | None] | None = None,
    thickness: float = 3.0,
) -> Path:
    """An Enhanced MR file; stored frame k holds slice ``stored_order[k]`` of ``voxels`` at its position."""
    ds = dataset_of_class(ENHANCED_MR_STORAGE)
    ds.Modality = "MR"
    ds.SeriesInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.NumberOfFrames = len(stored_order)
    ds.Rows, ds.Columns = voxels.shape[1:]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1

    measures = Dataset()
    measures.PixelSpacing = list(shared_spacing)
    measures.SliceThickness = thickness
    plane_orientation = Dataset()
    plane_orientation.ImageOrientationPatient = list(orientation)
    shared = Dataset()
    shared.PixelMeasuresSequence = [measures]
    shared.PlaneOrientationSequence = [plane_orientation]
    ds.SharedFunctionalGroupsSequence = [shared]

    groups = []
    for k, index in enumerate(stored_order):
        group = Dataset()
        position = Dataset()
        position.ImagePositionPatient = [float(v) for v in positions[index]]
        group.PlanePositionSequence = [position]
        if per_frame_spacing is not None and per_frame_spacing[k] is not None:
            own = Dataset()
            own.PixelSpacing = list(per_frame_spacing[k])
            group.PixelMeasuresSequence = [own]
        groups.append(group)
    ds.PerFrameFunctionalGroupsSequence = groups
    ds.PixelData = np.ascontiguousarray(voxels[stored_order], dtype="<i2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def nibabel_data(relative: str) -> Path:
    return Path(nibabel.__file__).parent / relative


# --- 1. a scrambled coronal series ---------------------------------------------------------------


def test_scrambled_series_loads_in_position_order(tmp_path: Path) -> None:
    voxels = random_voxels((7, 24, 32))
    folder = tmp_path / "series"
    paths = write_scrambled(
        folder, build_series(voxels, pixel_spacing=(0.7, 0.9), thickness=4.0, spacing=5.0)
    )
    assert all(p.suffix == "" for p in paths)
    # The scrambling worked: file-name order is not slice order.
    by_name = [pydicom.dcmread(p).ImagePositionPatient[1] for p in sorted(paths)]
    assert by_name != sorted(by_name)

    scan = load_scan(folder)

    np.testing.assert_array_equal(scan.voxels, voxels)
    assert scan.voxels.shape == (7, 24, 32)
    assert scan.slice_spacing == pytest.approx(5.0)
    assert scan.slice_thickness == pytest.approx(4.0)
    assert scan.pixel_spacing == pytest.approx((0.7, 0.9))
    assert scan.orientation == "PIL"
    # Coronal: slices step 5 mm posterior (RAS -y), rows 0.7 mm down (-z), columns 0.9 mm left (-x).
    np.testing.assert_allclose(
        scan.affine,
        [[0, 0, -0.9, 10.0], [-5.0, 0, 0, -20.0], [0, -0.7, 0, 30.0], [0, 0, 0, 1]],
        atol=1e-9,
    )
    assert_same_as_sitk(scan, folder)


def test_slices_written_in_descending_position_come_out_ascending(tmp_path: Path) -> None:
    voxels = random_voxels((5, 12, 16), seed=1)
    # Slice k is at FIRST - 3k mm along the normal, so position order is the reverse of array order.
    write_scrambled(tmp_path / "s", build_series(voxels, spacing=-3.0, thickness=3.0), seed=1)

    scan = load_scan(tmp_path / "s")

    np.testing.assert_array_equal(scan.voxels, voxels[::-1])
    assert scan.slice_spacing == pytest.approx(3.0)
    last = np.array(FIRST) - 4 * 3.0 * np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(scan.affine[:3, 3], LPS_TO_RAS_3 @ last, atol=1e-9)
    assert scan.warnings == []
    assert_same_as_sitk(scan, tmp_path / "s")


def test_cli_info_json_reports_the_geometry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    voxels = random_voxels((4, 10, 14), seed=2)
    datasets = build_series(voxels, pixel_spacing=(0.5, 0.6), thickness=4.0, spacing=4.4)
    write_series(tmp_path / "s", datasets)

    assert main(["info", str(tmp_path / "s"), "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data["shape"] == [4, 10, 14]
    assert data["pixel_spacing_mm"] == pytest.approx([0.5, 0.6])
    assert data["slice_thickness_mm"] == pytest.approx(4.0)
    assert data["slice_spacing_mm"] == pytest.approx(4.4)
    assert data["orientation"] == "PIL"
    assert data["series_instance_uid"] == datasets[0].SeriesInstanceUID
    np.testing.assert_allclose(
        data["affine_ras"], expected_affine(CORONAL, (0.5, 0.6), 4.4, FIRST), atol=1e-9
    )
    # 0.4 mm gap every 4.4 mm: 0.4 / 4.4 = 9.1% of the Cavalieri volume is not imaged.
    assert len(data["warnings"]) == 1 and "9.1%" in data["warnings"][0]


# --- 2. gap, overlap, oblique, anisotropic pixels, header disagreements ---------------------------


@pytest.mark.parametrize(
    ("thickness", "spacing", "kind", "percent", "relation"),
    [
        # 1 mm of every 5 mm is not imaged: area x thickness is (5 - 4) / 5 = 20% below area x spacing.
        (4.0, 5.0, "gap", "20.0%", "below"),
        # Slices overlap by 1 mm: area x thickness is 1 / 4 = 25% above area x spacing.
        (5.0, 4.0, "overlap", "25.0%", "above"),
    ],
)
def test_gap_or_overlap_is_reported_with_its_percentage(
    tmp_path: Path, thickness: float, spacing: float, kind: str, percent: str, relation: str
) -> None:
    write_series(tmp_path / "s", build_series(random_voxels((6, 8, 8)), thickness=thickness, spacing=spacing))
    scan = load_scan(tmp_path / "s")
    assert (scan.slice_thickness, scan.slice_spacing) == pytest.approx((thickness, spacing))
    assert relation in warning_with(scan, kind, percent)
    assert len(scan.warnings) == 1


def test_contiguous_slices_give_no_warning(tmp_path: Path) -> None:
    write_series(tmp_path / "s", build_series(random_voxels((6, 8, 8)), thickness=5.0, spacing=5.0))
    assert load_scan(tmp_path / "s").warnings == []


@pytest.mark.parametrize(
    "orientation",
    [
        rotated_coronal(("y", 20.0)),  # oblique coronal: rotated 20 degrees about the AP axis
        rotated_coronal(("y", 20.0), ("x", -15.0)),  # double oblique: the slice normal is not an axis
    ],
    ids=["oblique", "double-oblique"],
)
def test_oblique_series_geometry_matches_simpleitk(tmp_path: Path, orientation: tuple[float, ...]) -> None:
    voxels = random_voxels((6, 20, 28), seed=3)
    write_scrambled(
        tmp_path / "s", build_series(voxels, orientation=orientation, spacing=4.0, thickness=4.0), seed=3
    )

    scan = load_scan(tmp_path / "s")

    np.testing.assert_array_equal(scan.voxels, voxels)
    assert scan.slice_spacing == pytest.approx(4.0)
    np.testing.assert_allclose(scan.affine, expected_affine(orientation, (0.7, 0.9), 4.0, FIRST), atol=1e-6)
    assert_same_as_sitk(scan, tmp_path / "s")


def test_anisotropic_pixels_keep_row_and_column_spacing_apart(tmp_path: Path) -> None:
    voxels = random_voxels((5, 18, 30), seed=4)
    write_series(tmp_path / "s", build_series(voxels, pixel_spacing=(0.5, 1.25), spacing=4.0, thickness=4.0))

    scan = load_scan(tmp_path / "s")

    assert scan.pixel_spacing == pytest.approx((0.5, 1.25))
    # The row step (index 1) runs down the column direction by the row spacing, and vice versa.
    assert np.linalg.norm(scan.affine[:3, 1]) == pytest.approx(0.5)
    assert np.linalg.norm(scan.affine[:3, 2]) == pytest.approx(1.25)
    np.testing.assert_allclose(scan.affine[:3, 1], [0, 0, -0.5], atol=1e-9)
    np.testing.assert_allclose(scan.affine[:3, 2], [-1.25, 0, 0], atol=1e-9)
    assert_same_as_sitk(scan, tmp_path / "s")


def test_spacing_between_slices_tag_disagreeing_with_positions(tmp_path: Path) -> None:
    datasets = build_series(random_voxels((5, 8, 8)), thickness=5.0, spacing=5.0, spacing_between_slices=6.0)
    write_series(tmp_path / "s", datasets)

    scan = load_scan(tmp_path / "s")

    assert scan.slice_spacing == pytest.approx(5.0)
    assert np.linalg.norm(scan.affine[:3, 0]) == pytest.approx(5.0)
    warning_with(scan, "SpacingBetweenSlices", "6", "5", "positions")
    assert len(scan.warnings) == 1


def test_spacing_between_slices_tag_agreeing_gives_no_warning(tmp_path: Path) -> None:
    datasets = build_series(random_voxels((5, 8, 8)), thickness=5.0, spacing=5.0, spacing_between_slices=5.0)
    write_series(tmp_path / "s", datasets)
    assert load_scan(tmp_path / "s").warnings == []


def test_missing_slice_thickness_is_none_with_a_warning(tmp_path: Path) -> None:
    write_series(tmp_path / "s", build_series(random_voxels((5, 8, 8)), thickness=None, spacing=5.0))

    scan = load_scan(tmp_path / "s")

    assert scan.slice_thickness is None
    assert scan.slice_spacing == pytest.approx(5.0)
    warning_with(scan, "SliceThickness", "missing")


def test_rescale_slope_and_intercept_are_applied(tmp_path: Path) -> None:
    voxels = random_voxels((4, 6, 6), seed=5)
    datasets = build_series(voxels, thickness=5.0)
    for ds in datasets:
        ds.RescaleSlope, ds.RescaleIntercept = "2.5", "-100"
    write_series(tmp_path / "s", datasets)

    scan = load_scan(tmp_path / "s")

    np.testing.assert_allclose(scan.voxels, voxels.astype(float) * 2.5 - 100, rtol=1e-6)


def test_rescale_slope_of_zero_is_refused_not_taken_as_one(tmp_path: Path) -> None:
    datasets = build_series(random_voxels((3, 6, 6), seed=6), thickness=5.0)
    datasets[1].RescaleSlope = "0"
    write_series(tmp_path / "s", datasets)

    with pytest.raises(ScanError, match="RescaleSlope is 0"):
        load_scan(tmp_path / "s")


# --- 3. files that are not images ----------------------------------------------------------------


def test_dicom_without_pixel_data_and_non_dicom_files_are_skipped(tmp_path: Path) -> None:
    voxels = random_voxels((5, 10, 12), seed=6)
    datasets = build_series(voxels, thickness=5.0)
    folder = tmp_path / "s"
    write_series(folder, datasets)

    # A presentation state of the same series: valid DICOM, no pixel data.
    state = dataset_of_class(GRAYSCALE_PRESENTATION_STATE)
    state.Modality = "PR"
    state.SeriesInstanceUID = datasets[0].SeriesInstanceUID
    state.StudyInstanceUID = datasets[0].StudyInstanceUID
    state.save_as(folder / "PS0001", enforce_file_format=True)
    (folder / "README.txt").write_text("exported by the PACS\n")

    scan = load_scan(folder)

    np.testing.assert_array_equal(scan.voxels, voxels)
    warning_with(scan, "not DICOM", "1 file")
    assert len(scan.warnings) == 1  # the presentation state is skipped silently


# --- 4. pydicom's bundled test files: transfer syntaxes and JPEG lossless ------------------------

MR_SMALL_VARIANTS = [
    "MR_small_RLE.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_jp2klossless.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_implicit.dcm",
    "MR_small_expb.dcm",
    "MR_small_padded.dcm",
]


def test_mr_small_loads_as_simpleitk_reads_it() -> None:
    path = get_testdata_file("MR_small.dcm")
    scan = load_scan(path)
    ds = pydicom.dcmread(path)

    assert scan.voxels.shape == (1, 64, 64)
    np.testing.assert_array_equal(scan.voxels, sitk.GetArrayFromImage(sitk.ReadImage(path)))
    assert scan.pixel_spacing == pytest.approx((0.3125, 0.3125))
    assert scan.pixel_spacing == pytest.approx(tuple(float(v) for v in ds.PixelSpacing))
    assert scan.slice_thickness == pytest.approx(0.8)
    assert scan.slice_spacing is None  # one slice and no SpacingBetweenSlices: never guessed
    np.testing.assert_allclose(
        LPS_TO_RAS_3 @ scan.affine[:3, 3], [float(v) for v in ds.ImagePositionPatient], atol=1e-9
    )


@pytest.mark.parametrize("name", MR_SMALL_VARIANTS)
def test_mr_small_transfer_syntaxes_decode_to_the_same_voxels(name: str) -> None:
    reference = pydicom.dcmread(get_testdata_file("MR_small.dcm")).pixel_array
    path = get_testdata_file(name)
    ds = pydicom.dcmread(path)

    scan = load_scan(path)

    assert scan.voxels.shape == (1, 64, 64)
    np.testing.assert_array_equal(scan.voxels[0], reference)
    assert scan.pixel_spacing == pytest.approx(tuple(float(v) for v in ds.PixelSpacing))
    assert scan.slice_thickness == pytest.approx(float(ds.SliceThickness))
    assert scan.slice_thickness == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("name", "spacing", "shape", "dtype"),
    [
        ("JPEG-LL.dcm", None, (1024, 256), np.int16),
        ("JPGLosslessP14SV1_1s_1f_8b.dcm", (0.5, 0.5), (768, 1024), np.uint8),
    ],
)
def test_jpeg_lossless_decodes_as_simpleitk_decodes_it(
    tmp_path: Path, name: str, spacing: tuple[float, float] | None, shape: tuple[int, int], dtype: type
) -> None:
    original = get_testdata_file(name)
    path = with_geometry(original, tmp_path / "image.dcm", spacing)
    assert (
        pydicom.dcmread(path).file_meta.TransferSyntaxUID
        == pydicom.dcmread(original).file_meta.TransferSyntaxUID
    )

    scan = load_scan(path)

    assert scan.voxels.shape == (1, *shape)
    assert scan.voxels.dtype == dtype
    gdcm = sitk.GetArrayFromImage(sitk.ReadImage(original))
    np.testing.assert_array_equal(scan.voxels, gdcm)
    assert scan.voxels.max() > scan.voxels.min()  # a real image, not a blank


def test_file_without_orientation_is_refused_naming_the_tag() -> None:
    path = get_testdata_file("JPEG-LL.dcm")  # has PixelSpacing but no ImageOrientationPatient
    with pytest.raises(ScanError, match="ImageOrientationPatient") as caught:
        load_scan(path)
    assert caught.value.path == str(path)


# --- 5. Enhanced MR multi-frame -------------------------------------------------------------------


def test_philips_enhanced_mr_sorted_along_the_normal(tmp_path: Path) -> None:
    path = philips_mprage(tmp_path)
    ds = pydicom.dcmread(path)
    frames = ds.PerFrameFunctionalGroupsSequence
    orientation = np.array([float(v) for v in frames[0].PlaneOrientationSequence[0].ImageOrientationPatient])
    normal = np.cross(orientation[:3], orientation[3:])
    positions = np.array(
        [[float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient] for f in frames]
    )
    along = positions @ normal
    order = np.argsort(along)
    expected_spacing = float(np.mean(np.diff(along[order])))
    measures = frames[0].PixelMeasuresSequence[0]
    slopes = [float(f.PixelValueTransformationSequence[0].RescaleSlope) for f in frames]
    intercepts = [float(f.PixelValueTransformationSequence[0].RescaleIntercept) for f in frames]

    scan = load_scan(path)

    assert scan.voxels.shape == (176, 256, 256)
    assert int(ds.NumberOfFrames) == 176
    # The loader rounds the positional spacing to 0.1 micrometre (float32 noise in scanner positions).
    assert scan.slice_spacing == pytest.approx(expected_spacing, abs=5e-5)
    assert scan.pixel_spacing == pytest.approx(tuple(float(v) for v in measures.PixelSpacing))
    assert scan.slice_thickness == pytest.approx(float(measures.SliceThickness))
    np.testing.assert_allclose(LPS_TO_RAS_3 @ scan.affine[:3, 3], positions[order[0]], atol=1e-6)
    np.testing.assert_allclose(
        (LPS_TO_RAS_3 @ scan.affine[:3, 0]), normal / np.linalg.norm(normal) * expected_spacing, atol=1e-5
    )
    pixels = ds.pixel_array
    for slice_index in (0, 1, 88, 175):
        frame = order[slice_index]
        np.testing.assert_allclose(
            scan.voxels[slice_index],
            pixels[frame].astype(float) * slopes[frame] + intercepts[frame],
            rtol=1e-6,
        )


def enhanced_geometry(count: int, spacing: float = 3.0) -> list[list[float]]:
    return stack_positions((5.0, -30.0, 12.0), CORONAL, spacing, count)


def test_synthetic_enhanced_mr_frames_sorted_by_position(tmp_path: Path) -> None:
    voxels = random_voxels((6, 10, 14), seed=7)
    stored_order = [3, 0, 5, 1, 4, 2]
    path = enhanced_mr(
        tmp_path / "enhanced.dcm", voxels, positions=enhanced_geometry(6), stored_order=stored_order
    )
    stored = pydicom.dcmread(path).pixel_array
    np.testing.assert_array_equal(stored[0], voxels[3])  # really stored shuffled

    scan = load_scan(path)

    np.testing.assert_array_equal(scan.voxels, voxels)
    assert scan.slice_spacing == pytest.approx(3.0)
    assert scan.slice_thickness == pytest.approx(3.0)
    assert scan.pixel_spacing == pytest.approx((0.6, 0.8))
    np.testing.assert_allclose(
        scan.affine, expected_affine(CORONAL, (0.6, 0.8), 3.0, (5.0, -30.0, 12.0)), atol=1e-9
    )
    assert scan.series_uid == pydicom.dcmread(path).SeriesInstanceUID


def test_synthetic_enhanced_mr_in_a_folder(tmp_path: Path) -> None:
    voxels = random_voxels((4, 8, 8), seed=8)
    folder = tmp_path / "folder"
    folder.mkdir()
    enhanced_mr(folder / "IM0001", voxels, positions=enhanced_geometry(4), stored_order=[2, 3, 1, 0])

    scan = load_scan(folder)

    np.testing.assert_array_equal(scan.voxels, voxels)
    assert scan.slice_spacing == pytest.approx(3.0)


def test_per_frame_pixel_measures_override_the_shared_ones(tmp_path: Path) -> None:
    voxels = random_voxels((5, 8, 12), seed=9)
    path = enhanced_mr(
        tmp_path / "enhanced.dcm",
        voxels,
        positions=enhanced_geometry(5),
        stored_order=[4, 2, 0, 3, 1],
        shared_spacing=(0.6, 0.8),
        per_frame_spacing=[(0.45, 0.55)] * 5,
    )

    scan = load_scan(path)

    assert scan.pixel_spacing == pytest.approx((0.45, 0.55))
    assert np.linalg.norm(scan.affine[:3, 1]) == pytest.approx(0.45)
    assert np.linalg.norm(scan.affine[:3, 2]) == pytest.approx(0.55)
    assert scan.slice_thickness == pytest.approx(3.0)  # not overridden: from the shared group
    np.testing.assert_array_equal(scan.voxels, voxels)


def test_one_frame_with_other_pixel_spacing_is_refused(tmp_path: Path) -> None:
    path = enhanced_mr(
        tmp_path / "enhanced.dcm",
        random_voxels((4, 8, 8)),
        positions=enhanced_geometry(4),
        stored_order=[0, 1, 2, 3],
        per_frame_spacing=[None, None, (0.45, 0.55), None],
    )
    with pytest.raises(ScanError, match="inconsistent pixel spacing") as caught:
        load_scan(path)
    assert caught.value.path == str(path)
    assert "frame 3" in str(caught.value)


# --- 6. several series in one folder ---------------------------------------------------------------


def two_series(folder: Path) -> tuple[np.ndarray, np.ndarray, str, str]:
    first, second = random_voxels((4, 8, 10), seed=10), random_voxels((6, 8, 10), seed=11)
    uid_a, uid_b = generate_uid(), generate_uid()
    a = build_series(first, series_uid=uid_a, series_number=3, thickness=5.0)
    b = build_series(second, series_uid=uid_b, series_number=7, thickness=4.0, spacing=4.0)
    write_series(folder, a, [f"A{i}" for i in range(len(a))])
    write_series(folder, b, [f"B{i}" for i in range(len(b))])
    return first, second, uid_a, uid_b


def test_several_series_are_refused_listing_both(tmp_path: Path) -> None:
    _, _, uid_a, uid_b = two_series(tmp_path / "s")

    with pytest.raises(SeveralSeriesError) as caught:
        load_scan(tmp_path / "s")

    message = str(caught.value)
    assert uid_a in message and uid_b in message
    assert str(tmp_path / "s") in message
    listed = {uid: (number, count) for uid, number, _, count in caught.value.series}
    assert listed == {uid_a: ("3", 4), uid_b: ("7", 6)}


def test_a_series_is_chosen_by_uid_or_by_number(tmp_path: Path) -> None:
    first, second, uid_a, uid_b = two_series(tmp_path / "s")

    by_uid = load_scan(tmp_path / "s", series=uid_b)
    by_number = load_scan(tmp_path / "s", series="3")

    np.testing.assert_array_equal(by_uid.voxels, second)
    assert by_uid.series_uid == uid_b
    assert by_uid.slice_spacing == pytest.approx(4.0)
    np.testing.assert_array_equal(by_number.voxels, first)
    assert by_number.series_uid == uid_a
    assert by_number.slice_spacing == pytest.approx(5.0)


def test_an_unknown_series_choice_is_refused(tmp_path: Path) -> None:
    _, _, uid_a, uid_b = two_series(tmp_path / "s")
    with pytest.raises(ScanError, match="matches no series") as caught:
        load_scan(tmp_path / "s", series="99")
    assert uid_a in str(caught.value) and uid_b in str(caught.value)
