"""Never a wrong number: non-finite, absurd or invalid geometry is refused (exit 2), never measured.

Each case edits a copy of a sample scan or mask the way a broken exporter or a bad disk would,
and checks that ``onfh-volume`` exits with 2 and one line naming the file, where the code before
these checks gave an infinite or NaN volume, a 10x volume, or an "internal error".
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from helpers import SAMPLES, copy_sample

from onfh_volume.change import classify_change
from onfh_volume.cli import main
from onfh_volume.errors import MaskError, ScanError
from onfh_volume.load import load_scan
from onfh_volume.mask import load_mask_with_warnings


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(capsys: pytest.CaptureFixture[str], named: Path, words: str, *args: object) -> None:
    """The command exits with 2 and one line naming ``named`` and saying ``words``."""
    code, out, err = cli(capsys, *args)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith(f"onfh-volume: error: {named}"), err
    assert words in err, err


def edit_series(folder: Path, edit, only: int | None = None) -> list[Path]:
    """Apply ``edit(dataset)`` to every file of a series folder (or only the ``only``-th), in place."""
    files = sorted(folder.iterdir())
    for k, file in enumerate(files):
        if only is None or k == only:
            ds = pydicom.dcmread(file)
            edit(ds)
            ds.save_as(file)
    return files


def copy_nifti(tmp_path: Path, sidecar: str | bytes | None = None) -> Path:
    scan = Path(shutil.copy(SAMPLES / "nifti" / "sub-01_baseline.nii.gz", tmp_path))
    if sidecar is not None:
        path = tmp_path / "sub-01_baseline.json"
        path.write_bytes(sidecar if isinstance(sidecar, bytes) else sidecar.encode())
    return scan


# --- 1. non-finite and absurd lengths --------------------------------------------------------------


def test_thickness_1e308_is_refused_not_an_infinite_volume(capsys, tmp_path: Path) -> None:
    folder, mask = copy_sample(tmp_path, "sub-01", "baseline")
    followup, followup_mask = copy_sample(tmp_path, "sub-01", "followup")
    files = edit_series(folder, lambda ds: setattr(ds, "SliceThickness", "1e308"))
    refused(
        capsys, files[0], "SliceThickness in IM0001 is 1e+308 mm: not a plausible MRI length",
        "compare", folder, mask, followup, followup_mask, "--json",
    )  # fmt: skip


def test_nan_thickness_in_a_sidecar_is_refused(capsys, tmp_path: Path) -> None:
    # What Python's json writes for an unknown value: not JSON, but json.loads reads it as NaN.
    scan = copy_nifti(tmp_path, '{"SliceThickness": NaN, "SpacingBetweenSlices": 4.4}')
    mask = SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz"
    refused(
        capsys,
        tmp_path / "sub-01_baseline.json",
        "SliceThickness must be a positive number",
        "measure",
        scan,
        mask,
    )


def test_nan_thickness_fails_the_hip_in_a_batch(capsys, tmp_path: Path) -> None:
    scan = copy_nifti(tmp_path, '{"SliceThickness": NaN}')
    masks = SAMPLES / "masks"
    manifest = tmp_path / "cohort.csv"
    manifest.write_text(
        "patient_id,timepoint,scan,mask\n"
        f"P1,baseline,{scan},{masks / 'sub-01_baseline_lesions.nii.gz'}\n"
        f"P1,followup,{SAMPLES / 'nifti' / 'sub-01_followup.nii.gz'},{masks / 'sub-01_followup_lesions.nii.gz'}\n"
    )
    code, out, _ = cli(capsys, "batch", manifest, "-o", tmp_path / "results.csv", "--jobs", "1")
    assert code == 3
    assert "0 ok, 2 failed" in out
    with open(tmp_path / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        assert row["baseline_volume_cm3"] == row["change_pct"] == row["category"] == ""
        assert "SliceThickness must be a positive number of mm, not nan" in row["status"]


def far_away(ds: pydicom.Dataset) -> None:
    x, y, z = (float(v) for v in ds.ImagePositionPatient)
    ds.ImagePositionPatient = [f"{x + 1e6:.6g}", y, z]


def spread(ds: pydicom.Dataset) -> None:
    x, y, z = (float(v) for v in ds.ImagePositionPatient)
    ds.ImagePositionPatient = [x, f"{y * 6:.4f}", z]  # coronal slices step along y: 26.4 mm apart


def setting(tag: str, value: object):
    return lambda ds: setattr(ds, tag, value)


# edit, the slice edited (None: every one), the file named (None: the folder), words of the refusal
CASES = {
    "NaN position of one slice": (
        setting("ImagePositionPatient", ["nan", "0", "0"]), 5, 5, "has an invalid ImagePositionPatient 'nan'"
    ),
    "NaN orientation of one slice": (
        setting("ImageOrientationPatient", ["1", "0", "nan", "0", "0", "-1"]), 5, 5,
        "has an invalid ImageOrientationPatient 'nan'",
    ),
    "positions 1 km away": (far_away, None, 0, "mm: not a plausible position (finite, within 100000 mm)"),
    "pixel spacing 1e-300": (
        setting("PixelSpacing", ["1e-300", "1e-300"]), None, 0,
        "PixelSpacing in IM0001 is 1e-300 mm: not a plausible MRI length (0.05 to 10 mm)",
    ),
    "pixel spacing inf": (setting("PixelSpacing", ["inf", "1"]), None, 0, "has an invalid PixelSpacing 'inf'"),
    "pixel spacing 12 mm": (
        setting("PixelSpacing", ["12", "12"]), None, 0, "PixelSpacing in IM0001 is 12 mm: not a plausible MRI length"
    ),
    "thickness 25 mm": (
        setting("SliceThickness", "25"), None, 0, "SliceThickness in IM0001 is 25 mm: not a plausible MRI length (0.1 to 20 mm)"
    ),
    "thickness 1e308": (
        setting("SliceThickness", "1e308"), None, 0, "SliceThickness in IM0001 is 1e+308 mm: not a plausible MRI length"
    ),
    "SpacingBetweenSlices 1e308": (
        setting("SpacingBetweenSlices", "1e308"), None, 0,
        "SpacingBetweenSlices in IM0001 is 1e+308 mm: not a plausible MRI length",
    ),
    "slices 26.4 mm apart": (spread, None, None, "slice spacing is 26.4 mm: not a plausible MRI length"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_broken_lengths_and_positions_are_refused(capsys, tmp_path: Path, case: str) -> None:
    edit, only, named, words = CASES[case]
    folder, _ = copy_sample(tmp_path, "sub-01", "baseline")
    files = edit_series(folder, edit, only)
    refused(capsys, folder if named is None else files[named], words, "info", folder, "--json")


def test_nan_origin_in_a_mask_sform_is_refused_not_a_skipped_grid_check(capsys, tmp_path: Path) -> None:
    # The lesion moved by 10 voxels, and an origin that fails every comparison: it used to fit.
    image = nib.load(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz")
    affine = image.affine.copy()
    affine[0, 3] = np.nan
    shifted = nib.Nifti1Image(np.roll(np.asanyarray(image.dataobj), 10, axis=0), affine, image.header)
    shifted.set_sform(affine, code=1)
    mask = tmp_path / "shifted.nii.gz"
    nib.save(shifted, mask)
    scan = SAMPLES / "dicom" / "sub-01" / "baseline"
    refused(
        capsys,
        mask,
        "the NIfTI affine (sform, else qform, else pixdim) holds a non-finite value",
        "measure",
        scan,
        mask,
    )


def test_classify_change_refuses_non_finite_volumes() -> None:
    from onfh_volume.errors import NonFiniteError

    for baseline, followup in (
        (float("nan"), 1.0),
        (1.0, float("nan")),
        (1.0, float("inf")),
        (float("inf"), 2.0),
    ):
        with pytest.raises(NonFiniteError, match="volumes must be finite"):
            classify_change(baseline, followup)


def test_json_never_holds_nan() -> None:
    from onfh_volume.export import to_json

    with pytest.raises(ValueError, match="not JSON compliant"):
        to_json({"volume_cm3": float("nan")})
    assert json.loads(to_json({"volume_cm3": 1.25})) == {"volume_cm3": 1.25}


# --- 2. invalid decimal strings --------------------------------------------------------------------


def test_pixel_spacing_1_6_is_refused_not_read_as_16(capsys, tmp_path: Path) -> None:
    folder, _ = copy_sample(tmp_path, "sub-01", "baseline")
    files = edit_series(folder, lambda ds: setattr(ds, "PixelSpacing", ["1_6", "1_6"]))
    refused(
        capsys,
        files[0],
        "IM0001 has an invalid PixelSpacing '1_6' (not a DICOM decimal string)",
        "info",
        folder,
    )
    # Also when the fast header reader reads the files and when pydicom does (geometry and pixels).
    for pixels in (False, True):
        with pytest.raises(ScanError, match="1_6"):
            load_scan(folder, pixels=pixels)


def test_a_long_but_valid_decimal_string_is_read() -> None:
    # Writers that print a float in full exceed DICOM's 16 characters with a correct value.
    from onfh_volume.load.decimal_strings import ds_number

    assert ds_number(Path("x"), "IM1", "PixelSpacing", pydicom.valuerep.DSfloat("0.69999999999999996")) == 0.7


# --- 3. corrupt gzip streams -----------------------------------------------------------------------


def flip_a_bit_that_still_inflates(path: Path) -> None:
    """Flip one bit of the deflate data so that it still inflates, to another content of the same size.

    Only the gzip CRC32 at the end can then tell: nibabel, reading as far as it needs, cannot.
    """
    data = bytearray(path.read_bytes())
    original = gzip.decompress(bytes(data))
    header = 10 + (len(path.name.removesuffix(".gz")) + 1 if data[3] & 0x08 else 0)
    for position in range(header + 20, len(data) - 8):
        for bit in range(8):
            data[position] ^= 1 << bit
            inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                changed = inflate.decompress(bytes(data[header:-8]))
            except zlib.error:
                changed = b""
            if inflate.eof and len(changed) == len(original) and changed != original:
                path.write_bytes(bytes(data))
                return
            data[position] ^= 1 << bit
    raise AssertionError("no bit flip that still inflates")


def test_a_mask_with_a_flipped_bit_is_refused(capsys, tmp_path: Path) -> None:
    folder, mask = copy_sample(tmp_path, "sub-01", "baseline")
    flip_a_bit_that_still_inflates(mask)
    refused(capsys, mask, "corrupt or truncated gzip file", "measure", folder, mask)


def test_a_nifti_scan_with_a_flipped_bit_is_refused(capsys, tmp_path: Path) -> None:
    scan = copy_nifti(tmp_path, (SAMPLES / "nifti" / "sub-01_baseline.json").read_text())
    flip_a_bit_that_still_inflates(scan)
    mask = SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz"
    refused(capsys, scan, "the data fail their checksum", "measure", scan, mask)  # the header alone
    refused(capsys, scan, "the data fail their checksum", "info", scan)  # the image too


def test_a_mask_missing_its_gzip_length_is_refused(tmp_path: Path) -> None:
    folder, mask = copy_sample(tmp_path, "sub-01", "baseline")
    mask.write_bytes(mask.read_bytes()[:-4])  # ISIZE gone, the data intact
    with pytest.raises(MaskError, match="corrupt or truncated gzip file"):
        load_mask_with_warnings(mask, load_scan(folder, pixels=False))


# --- 7. smaller refusals and warnings --------------------------------------------------------------


def test_rgb24_mask_is_bad_input_not_an_internal_error(capsys, tmp_path: Path) -> None:
    image = nib.load(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz")
    labels = np.asanyarray(image.dataobj).astype(np.uint8)
    rgb = np.zeros(labels.shape, dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    rgb["R"] = labels
    mask = tmp_path / "rgb.nii.gz"
    nib.save(nib.Nifti1Image(rgb, image.affine), mask)
    refused(
        capsys,
        mask,
        "(colour or complex): not a greyscale image or a label mask",
        "measure",
        SAMPLES / "dicom/sub-01/baseline",
        mask,
    )


def test_sidecar_thickness_true_is_refused_not_1_mm(capsys, tmp_path: Path) -> None:
    scan = copy_nifti(tmp_path, '{"SliceThickness": true}')
    refused(capsys, tmp_path / "sub-01_baseline.json", "not True", "info", scan)


def test_sidecar_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    scan = copy_nifti(tmp_path, b"\xef\xbb\xbf" + (SAMPLES / "nifti" / "sub-01_baseline.json").read_bytes())
    assert load_scan(scan, pixels=False).slice_thickness == 4.0


def test_rgb_photometric_with_one_sample_is_refused(capsys, tmp_path: Path) -> None:
    folder, _ = copy_sample(tmp_path, "sub-01", "baseline")
    files = edit_series(folder, lambda ds: setattr(ds, "PhotometricInterpretation", "RGB"), only=0)
    refused(capsys, files[0], "PhotometricInterpretation RGB is not a greyscale MR image", "info", folder)


def test_a_mask_whose_qform_and_sform_disagree_is_warned_about(tmp_path: Path) -> None:
    image = nib.load(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz")
    qform = image.affine.copy()
    qform[2, 3] += 30.0
    image.set_qform(qform, code=1)
    mask = tmp_path / "mask.nii.gz"
    nib.save(image, mask)
    scan = load_scan(SAMPLES / "dicom" / "sub-01" / "baseline", pixels=False)
    _, warnings = load_mask_with_warnings(mask, scan)
    assert warnings == [
        f"mask {mask}: NIfTI qform and sform disagree by up to 30.00 mm; using the sform (a viewer that uses "
        "the qform shows the image elsewhere: check left and right)"
    ]


def test_an_empty_mask_is_warned_about(capsys, tmp_path: Path) -> None:
    image = nib.load(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz")
    mask = tmp_path / "empty.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros(image.shape, np.uint8), image.affine, image.header), mask)
    code, out, err = cli(capsys, "measure", SAMPLES / "dicom" / "sub-01" / "baseline", mask)
    assert code == 0 and "no lesion in the mask" in out
    assert f"warning: mask {mask} is empty (every voxel is 0): no lesion is measured on it" in err


def test_a_bug_in_the_loader_is_not_called_malformed_dicom(monkeypatch, tmp_path: Path) -> None:
    import onfh_volume.load.dicom as dicom

    def broken(*args: object) -> None:
        raise TypeError("unsupported operand type(s)")  # as our own arithmetic would

    monkeypatch.setattr(dicom, "sorted_stack", broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        load_scan(SAMPLES / "dicom" / "sub-01" / "baseline", pixels=False)


def test_a_value_pydicom_cannot_convert_is_still_malformed_dicom(tmp_path: Path) -> None:
    folder, _ = copy_sample(tmp_path, "sub-01", "baseline")
    file = sorted(folder.iterdir())[0]
    # IS "x7": pydicom fails to convert it when the loader first reads it.
    ds = pydicom.dcmread(file)
    ds.add_new("NumberOfFrames", "IS", "7")
    ds.save_as(file)
    file.write_bytes(file.read_bytes().replace(b"IS\x02\x007 ", b"IS\x02\x00x7"))
    with pytest.raises(ScanError, match="malformed DICOM attribute value \\(NumberOfFrames 'x7'\\)"):
        load_scan(folder, pixels=False)


def test_pixel_spacing_1_6_is_refused_when_pydicom_reads_the_file(tmp_path: Path) -> None:
    # A deflated file is left by the fast header reader to pydicom: the same check applies.
    from onfh_volume.load.dicom_header import read_header

    folder, _ = copy_sample(tmp_path, "sub-01", "baseline")

    def deflated(ds: pydicom.Dataset) -> None:
        ds.PixelSpacing = ["1_6", "1_6"]
        ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian

    files = edit_series(folder, deflated)
    assert read_header(files[0], {}) is None
    with pytest.raises(ScanError, match="invalid PixelSpacing '1_6'") as caught:
        load_scan(folder, pixels=False)
    assert caught.value.path == str(files[0])
