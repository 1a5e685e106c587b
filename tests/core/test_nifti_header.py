"""The NIfTI header reader that spares nibabel: what it reads is what nibabel reads, bit for bit.

Random headers (both NIfTI versions, both byte orders, every datatype, qform and sform codes,
qfac, scaling, units, extensions, odd offsets) are written with nibabel's own header class and
read both ways: whenever the fast reader takes a file, nibabel reads the same shape, type, voxels,
affine, sform, qform, units, pixdim, slice axis and description; files it leaves are read by
nibabel as before. Real files written by nibabel and SimpleITK take the fast path. Reorienting
onto the grid matches nibabel's orientation functions, and the lesion voxels found in the file's
order are those the measure finds on the grid, in the same order.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from onfh_volume.cli import main
from onfh_volume.load.nifti import read_nifti
from onfh_volume.load.nifti_header import VERSIONS, header_of, read_fast
from onfh_volume.load.reorient import reorient
from onfh_volume.mask import _nonzero_positions, _on_grid
from onfh_volume.scan import Scan
from onfh_volume.volume import lesion_voxels

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DATATYPES = [2, 4, 8, 16, 64, 256, 512, 768, 1024, 1280, 32, 128, 1792]  # the last three: nibabel's
FLOATS = st.floats(-200, 200, allow_nan=False, width=32)


def same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    return type(a) is type(b) and a == b


#: The fields a random header may get wrong (at most two at a time, so that most headers are ordinary).
ODD_FIELDS = ("datatype", "bitpix", "qfac", "zooms", "codes", "quaternion", "scaling", "units", "extension", "offset", "cut")  # fmt: skip


@st.composite
def nifti_bytes(draw: st.DrawFn) -> bytes:
    """A NIfTI file's bytes (inflated): a header nibabel writes, with random and sometimes odd fields."""
    odd_fields = draw(st.sets(st.sampled_from(ODD_FIELDS), max_size=2))

    def mostly(draw: st.DrawFn, ordinary: st.SearchStrategy, odd: st.SearchStrategy) -> object:
        return draw(odd) if field.pop(0) in odd_fields else draw(ordinary)

    field = ["datatype", "bitpix", "qfac", *["zooms"] * 7, "codes", "codes"]
    field += [*["quaternion"] * 3, "scaling", "units", "extension", "offset", "cut"]
    version = draw(st.sampled_from([1, 2]))
    header = (nib.Nifti1Header if version == 1 else nib.Nifti2Header)(endianness=draw(st.sampled_from("<>")))
    code = mostly(draw, st.sampled_from(DATATYPES[:10]), st.sampled_from(DATATYPES[10:]))
    header.set_data_dtype(nib.nifti1.data_type_codes.dtype[code])
    header["bitpix"] = mostly(draw, st.just(int(header["bitpix"])), st.just(7))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=5)))
    header.set_data_shape(shape)
    qfac = mostly(draw, st.sampled_from([1.0, -1.0]), st.sampled_from([0.0, 2.0]))
    zooms = [mostly(draw, st.floats(0.125, 5, width=32), st.sampled_from([0.0, -1.0])) for _ in range(7)]
    header["pixdim"] = [qfac, *zooms]
    for name in ("qform_code", "sform_code"):
        header[name] = mostly(draw, st.sampled_from([1, 2, 0, 3, 4, 5]), st.just(6))
    unit = st.floats(-0.5625, 0.5625, width=32)
    for name in ("quatern_b", "quatern_c", "quatern_d"):
        header[name] = mostly(draw, unit, st.floats(-1, 1, width=32) | st.sampled_from([1.0, 0.0]))
    for name in ("qoffset_x", "qoffset_y", "qoffset_z"):
        header[name] = draw(FLOATS)
    for row in ("srow_x", "srow_y", "srow_z"):
        header[row] = draw(st.lists(FLOATS, min_size=4, max_size=4))
    slope_inter = st.sampled_from([(0.0, 0.0), (1.0, 0.0), (np.nan, 0.0), (0.0, 5.0), (np.inf, 1.0)])
    odd_scaling = st.sampled_from([(1.0, 1.0), (2.0, 0.0), (1.0, np.nan), (np.nan, np.nan)])
    header["scl_slope"], header["scl_inter"] = mostly(draw, slope_inter, odd_scaling)
    header["xyzt_units"] = mostly(
        draw,
        st.sampled_from([0, 1, 2, 3]).map(lambda x: x + draw(st.sampled_from([0, 8, 16, 48]))),
        st.integers(0, 63),
    )
    header["dim_info"] = draw(st.integers(0, 255))
    header["descrip"] = draw(st.text("series 1.2.3 \x00abc", max_size=80)).encode()
    extension = mostly(draw, st.just(b"\x00" * 4), st.just(b"\x01\x00\x00\x00"))
    minimum = header.sizeof_hdr + 4 + (16 if extension[0] else 0)
    offset = minimum + draw(st.sampled_from([0, 16]))
    offset += mostly(draw, st.just(-offset % 16), st.sampled_from([1, 8]))
    header["vox_offset"] = offset
    block = header.binaryblock + extension
    if extension[0]:  # one comment extension: size 16, code 6, 8 bytes
        block += np.array([16, 6], dtype=f"{header.endianness}i4").tobytes() + b"comment\x00"
    size = int(np.prod(shape)) * header.get_data_dtype().itemsize
    data = draw(st.binary(min_size=size, max_size=size))
    cut = mostly(draw, st.just(0), st.just(1))  # a byte short: truncated
    return (block + b"\x00" * (offset - len(block)) + data)[: offset + size - cut]


def by_nibabel(raw: bytes) -> tuple[object, np.ndarray] | None:
    """What nibabel reads of ``raw`` (the header summary and the voxels), or None where it refuses."""
    nifti2 = int.from_bytes(raw[:4], "little") == 540 or int.from_bytes(raw[:4], "big") == 540
    try:
        image = (nib.Nifti2Image if nifti2 else nib.Nifti1Image).from_bytes(raw)
        return header_of(image), np.asanyarray(image.dataobj)
    except Exception:
        return None


@SETTINGS
@given(nifti_bytes())
def test_a_header_read_fast_is_what_nibabel_reads(raw: bytes) -> None:
    fast = read_fast(raw)
    if fast is None:
        return  # left to nibabel, which reads it as before
    expected = by_nibabel(raw)
    assert expected is not None, "the fast reader took a file nibabel refuses"
    (header, data), (nib_header, nib_data) = fast, expected
    for field in header.__dataclass_fields__:
        assert same(getattr(header, field), getattr(nib_header, field)), field
    assert same(data, nib_data)


@st.composite
def ordinary_images(draw: st.DrawFn) -> tuple[type, np.ndarray, np.ndarray, str]:
    """A label image as tracing tools write one: any rotation, flips, qfac -1, both codes."""
    klass = draw(st.sampled_from([nib.Nifti1Image, nib.Nifti2Image]))
    data = draw(arrays(draw(st.sampled_from(["u1", "i2", "u2", "i4", "f4", ">i2", ">f8"])), (3, 4, 5)))
    quaternion = np.array(draw(st.lists(st.floats(-1, 1), min_size=4, max_size=4))) + np.array([2.0, 0, 0, 0])
    w, x, y, z = quaternion / np.linalg.norm(quaternion)
    rotation = nib.quaternions.quat2mat([w, x, y, z])
    zooms = np.diag(draw(st.lists(st.floats(0.2, 5), min_size=3, max_size=3)))
    flip = np.diag([1, 1, draw(st.sampled_from([1, -1]))])  # qfac -1 when the frame is left-handed
    affine = np.eye(4)
    affine[:3, :3] = rotation @ zooms @ flip
    affine[:3, 3] = draw(st.lists(st.floats(-300, 300), min_size=3, max_size=3))
    codes = draw(st.sampled_from([(1, 1), (1, 0), (0, 1), (2, 4)]))
    return klass, data, affine, codes


@SETTINGS
@given(ordinary_images())
def test_ordinary_files_take_the_fast_path_and_agree_with_nibabel(image: tuple) -> None:
    klass, data, affine, (qform_code, sform_code) = image
    written = klass(data, affine)
    written.set_qform(affine, code=qform_code)
    written.set_sform(affine, code=sform_code)
    raw = written.to_bytes()
    fast = read_fast(raw)
    assert fast is not None
    expected = by_nibabel(raw)
    assert expected is not None
    for field in fast[0].__dataclass_fields__:
        assert same(getattr(fast[0], field), getattr(expected[0], field)), field
    assert same(fast[1], expected[1])


def test_the_header_layouts_are_nibabels() -> None:
    assert VERSIONS[348][0]["<"] == nib.nifti1.header_dtype.newbyteorder("<")
    assert VERSIONS[540][0]["<"] == nib.nifti2.header_dtype.newbyteorder("<")
    assert VERSIONS[348][0][">"] == nib.nifti1.header_dtype.newbyteorder(">")


def test_files_written_by_nibabel_and_simpleitk_take_the_fast_path(tmp_path: Path) -> None:
    labels = np.zeros((6, 7, 8), dtype=np.uint8)
    labels[2:4, 3:5, 1:6] = 2
    image = sitk.GetImageFromArray(labels)
    image.SetSpacing((0.8, 0.7, 4.4))
    image.SetOrigin((12.5, -30.0, 80.0))
    image.SetDirection((1, 0, 0, 0, 0, -1, 0, 1, 0))
    sitk.WriteImage(image, str(tmp_path / "itk.nii.gz"))
    sitk.WriteImage(image, str(tmp_path / "itk.nii"))
    affine = np.array([[-0.9, 0, 0, 10], [0, 0, -5, -20], [0, -0.7, 0, 30], [0, 0, 0, 1]])
    nib.save(nib.Nifti1Image(labels, affine), tmp_path / "nib.nii.gz")
    nib.save(nib.Nifti2Image(labels.astype(">i2"), affine), tmp_path / "nib2.nii")
    for path in sorted(tmp_path.iterdir()):
        raw = path.read_bytes()
        raw = gzip.decompress(raw) if path.name.endswith(".gz") else raw
        assert read_fast(raw) is not None, path.name
        header, data = read_nifti(path)
        on_disk = nib.load(path)
        for field, value in vars(header).items():
            assert same(value, getattr(header_of(on_disk), field)), (path.name, field)
        assert same(data, np.asanyarray(on_disk.dataobj)), path.name


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ({"datatype": 32, "bitpix": 64}, "colour or complex"),  # complex: nibabel's, refused
        ({"dim": [3, 300, 300, 20, 1, 1, 1, 1]}, "unreadable NIfTI file"),  # more voxels than the file holds
    ],
)
def test_a_mask_the_fast_path_leaves_gets_nibabels_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: dict, words: str
) -> None:
    scan = Path("sample_scans/nifti/sub-01_baseline.nii.gz")
    image = nib.load("sample_scans/masks/sub-01_baseline_lesions.nii.gz")
    header = image.header.copy()
    for name, value in edit.items():
        header[name] = value
    raw = header.binaryblock + b"\x00" * 4 + np.asanyarray(image.dataobj).astype(np.uint8).tobytes("F")
    assert read_fast(raw) is None
    mask = tmp_path / "mask.nii.gz"
    mask.write_bytes(gzip.compress(raw))
    code = main(["measure", str(scan), str(mask)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"onfh-volume: error: {mask}: "), err
    assert words in err, err


@st.composite
def orientations(draw: st.DrawFn) -> np.ndarray:
    axes = draw(st.permutations([0, 1, 2]))
    flips = draw(st.lists(st.sampled_from([1, -1]), min_size=3, max_size=3))
    return np.array([[axis, flip] for axis, flip in zip(axes, flips, strict=True)], dtype=float)


@SETTINGS
@given(orientations(), st.lists(st.integers(1, 5), min_size=3, max_size=3))
def test_reorient_is_nibabels(ornt: np.ndarray, shape: list[int]) -> None:
    array = np.arange(np.prod(shape)).reshape(shape)
    affine = np.arange(16.0).reshape(4, 4)
    moved, moved_affine = reorient(array, affine, ornt)
    assert same(moved, nib.orientations.apply_orientation(array, ornt))
    assert same(moved_affine, affine @ nib.orientations.inv_ornt_aff(ornt, array.shape))


@SETTINGS
@given(
    arrays(
        st.sampled_from(["u1", "i2", ">i2", "f4", "f8", "u8"]),
        st.lists(st.integers(1, 6), min_size=3, max_size=3).map(tuple),
        elements=st.sampled_from([0, 0, 0, 0, 1, 3, -0.0, 250]),
    ),
    orientations(),
    st.sampled_from("FC"),
)
def test_lesion_voxels_found_in_file_order_are_the_measures(
    data: np.ndarray, ornt: np.ndarray, order: str
) -> None:
    data = np.asarray(data, order=order)
    flat = data.ravel(order=order)
    found = _nonzero_positions(flat)
    assert same(found, np.flatnonzero(flat != 0))
    grid = nib.orientations.apply_orientation(data, ornt)
    scan = Scan(None, (1.0, 1.0), 1.0, 1.0, np.eye(4), "grid", grid=grid.shape)
    voxels, values = _on_grid(found, flat[found], data.shape, order, ornt, grid.shape)
    expected_voxels, expected_values = lesion_voxels(scan, grid)
    assert same(voxels, expected_voxels)
    assert same(values, expected_values)


@pytest.mark.parametrize(
    ("slope", "inter", "scaled"),
    [
        (2.0, 0.0, True),
        (1.0, 1.0, True),
        (1.0, np.nan, True),
        (0.0, 5.0, False),
        (np.nan, 1.0, False),
        (1.0, 0.0, False),
    ],
)
def test_scaled_voxels_are_left_to_nibabel(slope: float, inter: float, scaled: bool) -> None:
    header = nib.Nifti1Header()
    header.set_data_dtype(np.int16)
    header.set_data_shape((2, 3, 4))
    header.set_qform(np.diag([0.8, 0.8, 4.0, 1.0]), code=1)
    header["vox_offset"] = 352
    header["scl_slope"], header["scl_inter"] = slope, inter
    raw = header.binaryblock + b"\x00" * 4 + np.arange(24, dtype=np.int16).tobytes()
    fast = read_fast(raw)
    assert (fast is None) == scaled
    if fast is not None:
        assert same(fast[1], by_nibabel(raw)[1])


def test_a_loaded_mask_and_scan_can_be_edited(tmp_path: Path) -> None:
    """Read by nibabel, their arrays were the caller's own; read as views of the file's bytes, they
    would be read-only, and a tracing tool writing into them would fail."""
    from onfh_volume import load_mask, load_scan

    affine = np.diag([0.8, 0.8, 4.0, 1.0])
    nib.save(
        nib.Nifti1Image(np.arange(60, dtype=np.int32).reshape(3, 4, 5) % 3, affine), tmp_path / "m.nii.gz"
    )
    nib.save(nib.Nifti1Image(np.zeros((3, 4, 5), dtype=np.int16), affine), tmp_path / "s.nii.gz")
    scan = load_scan(tmp_path / "s.nii.gz")
    assert scan.voxels is not None and scan.voxels.flags.writeable
    assert load_mask(tmp_path / "m.nii.gz", scan).flags.writeable
