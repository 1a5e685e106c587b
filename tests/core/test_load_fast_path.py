"""The fast DICOM path: headers stepped over without pydicom's parser, pixels read straight by numpy.

Uncompressed little-endian images are read by onfh-volume itself; everything else is decoded by
pydicom. Both must give exactly the voxels pydicom's ``pixel_array`` (with the rescale) gives.
Expected values are computed here from the bytes the test wrote, or by pydicom reading the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers import SAMPLES, philips_mprage
from pydicom.data import get_testdata_file
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian, RLELossless

from onfh_volume.errors import ScanError
from onfh_volume.load import load_scan
from onfh_volume.load.dicom_files import series_files as _series_files
from onfh_volume.load.dicom_header import ELEMENTS, read_header
from onfh_volume.load.dicom_pixels import native_dtype
from onfh_volume.load.dicom_pixels import stored_slices as _stored
from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series

PIXEL_DATA = 0x7FE00010
PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"  # (7FE0,0010) in little endian
FIRST = (-10.0, 20.0, 30.0)


def write_stored(
    folder: Path,
    stored: np.ndarray,
    *,
    bits_stored: int,
    signed: bool,
    rescale: list[tuple[str, str] | None] | None = None,
    transfer_syntax: str | None = None,
) -> list[Path]:
    """Write ``stored`` (slice, row, column) as the exact bytes of each file's pixel data.

    ``stored`` may carry bits above ``bits_stored``, as scanners that keep overlays there do.
    """
    datasets = dicom_slices(
        np.zeros(stored.shape, np.int16),
        pixel_spacing=(0.7, 0.9),
        slice_thickness=3.0,
        positions=stack_positions(FIRST, CORONAL, 3.0, len(stored)),
    )
    big_endian = transfer_syntax == ExplicitVRBigEndian
    for k, ds in enumerate(datasets):
        ds.BitsAllocated = 8 * stored.itemsize
        ds.BitsStored = bits_stored
        ds.HighBit = bits_stored - 1
        ds.PixelRepresentation = int(signed)
        ds.PixelData = stored[k].astype(stored.dtype.newbyteorder(">" if big_endian else "<")).tobytes()
        if rescale is not None and rescale[k] is not None:
            ds.RescaleSlope, ds.RescaleIntercept = rescale[k]
        if transfer_syntax is not None:
            ds.file_meta.TransferSyntaxUID = transfer_syntax
    return write_series(folder, datasets)


def pydicom_pixels(paths: list[Path]) -> np.ndarray:
    """pydicom's own decoding of each file, stacked in the order given."""
    return np.stack([pydicom.dcmread(path).pixel_array for path in paths])


# --- exact voxels on the fast path ------------------------------------------------------------------


def test_uint16_with_12_bits_stored_drops_the_bits_above(tmp_path: Path) -> None:
    # Random high nibbles: what a scanner that keeps overlays in the unused bits writes.
    stored = np.random.default_rng(0).integers(0, 1 << 16, (4, 12, 10)).astype(np.uint16)
    paths = write_stored(tmp_path / "s", stored, bits_stored=12, signed=False)
    assert native_dtype(read_header(paths[0], {})) == np.dtype("<u2")  # the fast path applies

    scan = load_scan(tmp_path / "s")

    assert scan.voxels.dtype == np.uint16
    np.testing.assert_array_equal(scan.voxels, stored & 0x0FFF)
    np.testing.assert_array_equal(scan.voxels, pydicom_pixels(paths))


def test_int16_with_12_bits_stored_is_sign_extended_from_bit_11(tmp_path: Path) -> None:
    stored = np.random.default_rng(1).integers(0, 1 << 16, (3, 9, 11)).astype(np.uint16).view(np.int16)
    paths = write_stored(tmp_path / "s", stored, bits_stored=12, signed=True)
    low = stored.view(np.uint16).astype(np.int32) & 0x0FFF
    expected = np.where(low >= 0x0800, low - 0x1000, low)  # two's complement in 12 bits
    assert expected.min() < 0 < expected.max()

    scan = load_scan(tmp_path / "s")

    assert scan.voxels.dtype == np.int16
    np.testing.assert_array_equal(scan.voxels, expected)
    np.testing.assert_array_equal(scan.voxels, pydicom_pixels(paths))


def test_per_slice_rescale_is_exact_float32_arithmetic(tmp_path: Path) -> None:
    stored = np.random.default_rng(2).integers(-2000, 2000, (4, 6, 8)).astype(np.int16)
    rescale = [None, ("2.5", "-100"), ("0.3", "3.25"), ("1", "7")]
    paths = write_stored(tmp_path / "s", stored, bits_stored=16, signed=True, rescale=rescale)
    expected = stored.astype(np.float32)
    for k, factors in enumerate(rescale):
        if factors is not None:
            expected[k] = stored[k].astype(np.float32) * np.float32(factors[0]) + np.float32(factors[1])

    scan = load_scan(tmp_path / "s")

    assert scan.voxels.dtype == np.float32
    np.testing.assert_array_equal(scan.voxels, expected)
    np.testing.assert_array_equal(scan.voxels[0], pydicom_pixels(paths)[0])


@pytest.mark.parametrize(("dtype", "signed"), [(np.uint8, False), (np.int8, True)])
def test_odd_length_8_bit_pixel_data_with_its_padding_byte(tmp_path: Path, dtype: type, signed: bool) -> None:
    info = np.iinfo(dtype)
    stored = np.random.default_rng(3).integers(info.min, info.max + 1, (3, 5, 7)).astype(dtype)
    paths = write_stored(tmp_path / "s", stored, bits_stored=8, signed=signed)
    # 5 x 7 = 35 bytes of pixels, written padded to an even 36.
    assert pydicom.dcmread(paths[0]).get_item(PIXEL_DATA).length == 36
    assert native_dtype(read_header(paths[0], {})) == np.dtype(dtype)

    scan = load_scan(tmp_path / "s")

    assert scan.voxels.dtype == dtype
    np.testing.assert_array_equal(scan.voxels, stored)


def test_implicit_vr_series_reads_like_explicit(tmp_path: Path) -> None:
    stored = np.random.default_rng(4).integers(-500, 500, (5, 8, 6)).astype(np.int16)
    explicit = write_stored(tmp_path / "explicit", stored, bits_stored=16, signed=True)
    implicit = write_stored(
        tmp_path / "implicit", stored, bits_stored=16, signed=True, transfer_syntax=ImplicitVRLittleEndian
    )
    assert pydicom.dcmread(implicit[0]).original_encoding == (True, True)
    assert read_header(implicit[0], {}) is not None  # stepped over by onfh-volume, not pydicom

    a, b = load_scan(tmp_path / "explicit"), load_scan(tmp_path / "implicit")

    np.testing.assert_array_equal(b.voxels, stored)
    np.testing.assert_array_equal(b.affine, a.affine)
    assert (b.pixel_spacing, b.slice_thickness, b.slice_spacing) == (
        a.pixel_spacing,
        a.slice_thickness,
        a.slice_spacing,
    )
    assert explicit and b.warnings == a.warnings


# --- the decoder path -------------------------------------------------------------------------------


def test_big_endian_copy_decodes_to_the_same_voxels(tmp_path: Path) -> None:
    stored = np.random.default_rng(5).integers(0, 1 << 16, (4, 7, 9)).astype(np.uint16)
    rescale = [("1.5", "-20"), None, ("2", "0"), ("0.25", "1")]
    write_stored(tmp_path / "little", stored, bits_stored=12, signed=False, rescale=rescale)
    big = write_stored(
        tmp_path / "big",
        stored,
        bits_stored=12,
        signed=False,
        rescale=rescale,
        transfer_syntax=ExplicitVRBigEndian,
    )
    assert read_header(big[0], {}) is None
    assert native_dtype(pydicom.dcmread(big[0])) is None  # pydicom decodes it

    fast, decoded = load_scan(tmp_path / "little"), load_scan(tmp_path / "big")

    assert fast.voxels.dtype == decoded.voxels.dtype == np.float32
    np.testing.assert_array_equal(fast.voxels, decoded.voxels)


@pytest.mark.parametrize(
    "name",
    [
        "MR_small_RLE.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_expb.dcm",
    ],
)
def test_compressed_and_big_endian_files_are_left_to_pydicom(name: str) -> None:
    path = Path(get_testdata_file(name))
    assert read_header(path, {}) is None
    assert native_dtype(pydicom.dcmread(path)) is None

    scan = load_scan(path)

    np.testing.assert_array_equal(
        scan.voxels[0], pydicom.dcmread(get_testdata_file("MR_small.dcm")).pixel_array
    )


@pytest.mark.parametrize("name", ["MR_small.dcm", "MR_small_implicit.dcm"])
def test_uncompressed_little_endian_files_take_the_fast_path(name: str) -> None:
    path = Path(get_testdata_file(name))
    assert native_dtype(read_header(path, {})) == np.dtype("<i2")

    scan = load_scan(path)

    np.testing.assert_array_equal(scan.voxels[0], pydicom.dcmread(path).pixel_array)


def test_a_series_with_one_compressed_file_is_decoded_whole(tmp_path: Path) -> None:
    stored = np.random.default_rng(6).integers(-1000, 1000, (4, 6, 8)).astype(np.int16)
    paths = write_stored(tmp_path / "s", stored, bits_stored=16, signed=True)
    ds = pydicom.dcmread(paths[2])
    ds.compress(RLELossless)
    ds.save_as(paths[2], enforce_file_format=True)
    assert read_header(paths[2], {}) is None

    scan = load_scan(tmp_path / "s")

    np.testing.assert_array_equal(scan.voxels, stored)


def test_pixel_data_longer_than_the_image_is_left_to_pydicom_and_its_warning_kept() -> None:
    path = Path(get_testdata_file("MR_small_padded.dcm"))
    ds = pydicom.dcmread(path)
    excess = ds.get_item(PIXEL_DATA).length - ds.Rows * ds.Columns * 2
    assert excess == 128
    assert native_dtype(read_header(path, {})) is None

    scan = load_scan(path)

    with pytest.warns(UserWarning, match=f"{excess} bytes of excess padding"):
        reference = ds.pixel_array
    np.testing.assert_array_equal(scan.voxels[0], reference)
    assert [w for w in scan.warnings if f"{excess} bytes of excess padding" in w]


def test_slices_of_different_types_stack_as_if_each_were_rescaled_alone(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    unsigned = rng.integers(40000, 60000, (3, 4, 5)).astype(np.uint16)
    paths = write_stored(
        tmp_path / "s", unsigned, bits_stored=16, signed=False, rescale=[("0.5", "1"), None, None]
    )
    signed = rng.integers(-30000, 30000, (4, 5)).astype(np.int16)
    ds = pydicom.dcmread(paths[1])
    ds.PixelRepresentation = 1
    ds.PixelData = signed.astype("<i2").tobytes()
    ds.save_as(paths[1], enforce_file_format=True)

    scan = load_scan(tmp_path / "s")

    # float32 (the rescaled slice), int16 and uint16 promote to float32, not to float64.
    assert scan.voxels.dtype == np.float32
    np.testing.assert_array_equal(
        scan.voxels[0], unsigned[0].astype(np.float32) * np.float32(0.5) + np.float32(1)
    )
    np.testing.assert_array_equal(scan.voxels[1], signed)
    np.testing.assert_array_equal(scan.voxels[2], unsigned[2])


# --- files cut short ----------------------------------------------------------------------------------


def cut_in_pixel_data(tmp_path: Path) -> tuple[Path, int, int]:
    """A one-slice file cut 300 bytes before its end; return it, its declared pixel bytes and the cut."""
    stored = np.random.default_rng(7).integers(0, 1000, (1, 20, 30)).astype(np.int16)
    path = write_stored(tmp_path / "s", stored, bits_stored=16, signed=True)[0]
    data = path.read_bytes()
    assert data.rfind(PIXEL_DATA_TAG) + 12 + 20 * 30 * 2 == len(data)  # pixel data runs to the end
    path.write_bytes(data[:-300])
    return path, 20 * 30 * 2, 300


def test_full_load_of_a_file_cut_in_its_pixel_data_says_what_pydicom_says(tmp_path: Path) -> None:
    path, _, _ = cut_in_pixel_data(tmp_path)
    # The header is intact, so the fast path is chosen; the short read hands the file to pydicom.
    assert native_dtype(pydicom.dcmread(path, defer_size=1024)) is not None
    with pytest.raises(ValueError) as reference:
        _ = pydicom.dcmread(path).pixel_array

    with pytest.raises(ScanError) as caught:
        load_scan(path)

    assert caught.value.path == str(path)
    assert caught.value.problem == f"pixel data cannot be decoded ({reference.value})"


def test_geometry_only_load_of_a_file_cut_in_its_pixel_data_is_refused(tmp_path: Path) -> None:
    path, declared, cut = cut_in_pixel_data(tmp_path)

    with pytest.raises(ScanError) as caught:
        load_scan(path.parent, pixels=False)

    assert caught.value.path == str(path)
    assert f"({declared} bytes)" in caught.value.problem
    assert f"ends {cut} bytes past the end of the file" in caught.value.problem


def test_a_file_gone_between_its_header_and_its_pixels_is_refused_naming_it(tmp_path: Path) -> None:
    stored = np.random.default_rng(9).integers(0, 1000, (4, 6, 8)).astype(np.int16)
    paths = write_stored(tmp_path / "s", stored, bits_stored=16, signed=True)
    # The two phases of a load, with the file removed in between (as on a share being cleaned up).
    files = next(iter(_series_files(tmp_path / "s", pixels=True)[0].values()))
    paths[2].unlink()

    with pytest.raises(ScanError, match="pixel data cannot be decoded") as caught:
        _stored(files, [])

    assert caught.value.path == str(paths[2])


# --- the header reader agrees with pydicom -------------------------------------------------------------

REAL_FILES = [
    "MR_small.dcm",  # explicit VR, trailing padding after the pixel data
    "MR_small_implicit.dcm",
    "CT_small.dcm",
    "MR2_UNCI.dcm",  # undefined-length sequences (pydicom-data)
    "MR-SIEMENS-DICOM-WithOverlays.dcm",  # a scanner's 42 kB header with an icon image (pydicom-data)
]


@pytest.mark.parametrize("name", [*REAL_FILES, "sample"])
def test_header_reader_keeps_what_pydicom_reads(name: str) -> None:
    path = SAMPLES / "dicom/sub-01/baseline/IM0001" if name == "sample" else Path(get_testdata_file(name))
    full = pydicom.dcmread(path)

    header = read_header(path, {})

    assert header is not None
    for keyword in ELEMENTS:
        meta = keyword.startswith(("TransferSyntax", "MediaStorage"))
        mine, source = (header.file_meta, full.file_meta) if meta else (header, full)
        assert (keyword in mine) == (keyword in source), keyword
        ours, theirs = mine.get(keyword), source.get(keyword)
        if isinstance(theirs, pydicom.multival.MultiValue):
            # Decimal strings come as their text, read by decimal_strings: the same numbers.
            assert [float(v) for v in ours] == [float(v) for v in theirs], keyword
        elif isinstance(theirs, pydicom.valuerep.DSfloat):
            assert float(ours) == float(theirs), keyword
        else:
            assert ours == theirs, keyword
    assert {"ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "Rows"} <= set(ELEMENTS)
    element = full.get_item(PIXEL_DATA, keep_deferred=True)
    assert (header.pixel.tag, header.pixel.length) == (element.tag, element.length)
    with open(path, "rb") as f:  # the pixel data is where the header says, as pydicom read it
        f.seek(header.pixel.value_tell)
        assert f.read(header.pixel.length) == full.PixelData


@pytest.mark.parametrize("name", ["image_dfl.dcm", "JPEG-LL.dcm"])
def test_header_reader_leaves_deflated_and_compressed_files_to_pydicom(name: str) -> None:
    assert read_header(Path(get_testdata_file(name)), {}) is None


def test_header_reader_leaves_enhanced_mr_functional_groups_to_pydicom(tmp_path: Path) -> None:
    path = philips_mprage(tmp_path)
    assert "PerFrameFunctionalGroupsSequence" in pydicom.dcmread(path, stop_before_pixels=True)
    assert read_header(path, {}) is None
