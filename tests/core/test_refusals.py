"""Inputs whose geometry cannot be known exactly are refused, by the library and by the CLI.

Each case builds a bad input and says which path the error must name and which words must
describe the problem. The library must raise ``ScanError``; ``onfh-volume info`` must exit with 2
and print exactly one line, ``onfh-volume: error: <path>: <problem>``, and no traceback.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nibabel
import numpy as np
import pydicom
import pytest
from helpers import philips_mprage
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from onfh_volume.cli import main
from onfh_volume.errors import ScanError, SeveralSeriesError
from onfh_volume.load import load_scan
from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series

SHAPE = (7, 24, 32)
SPACING = 4.0
FIRST = np.array([-10.0, 20.0, 30.0])
NORMAL = np.cross(CORONAL[:3], CORONAL[3:])  # LPS +y: posterior
PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"  # (7FE0,0010) in little endian


@dataclass
class Bad:
    """A bad input: what to load, the path the error must name, words the problem must contain."""

    load: Path
    named: Path
    words: tuple[str, ...]
    error: type[ScanError] = ScanError


# --- builders --------------------------------------------------------------------------------------


def slices(positions=None, **kwargs: object) -> list[Dataset]:
    """Datasets of a 7-slice coronal series, 4 mm apart unless ``positions`` says otherwise."""
    voxels = np.random.default_rng(0).integers(0, 1000, SHAPE).astype(np.int16)
    if positions is None:
        positions = stack_positions(FIRST, CORONAL, SPACING, SHAPE[0])
    return dicom_slices(
        voxels[: len(positions)],
        pixel_spacing=(0.7, 0.9),
        slice_thickness=4.0,
        positions=positions,
        **kwargs,  # type: ignore[arg-type]
    )


def write(folder: Path, datasets: list[Dataset]) -> list[Path]:
    """Write datasets as IM0001, IM0002, ... in the order given (slice order for ``slices()``)."""
    return write_series(folder, datasets)


def several_series(tmp: Path) -> Bad:
    folder = tmp / "two"
    write_series(folder, slices(series_uid=generate_uid(), series_number=1), [f"A{i}" for i in range(7)])
    write_series(folder, slices(series_uid=generate_uid(), series_number=2), [f"B{i}" for i in range(7)])
    return Bad(folder, folder, ("2 series",), SeveralSeriesError)


def inconsistent_orientation(tmp: Path) -> Bad:
    datasets = slices()
    a = np.radians(5.0)
    datasets[3].ImageOrientationPatient = [np.cos(a), 0.0, np.sin(a), np.sin(a), 0.0, -np.cos(a)]
    write(tmp / "s", datasets)
    return Bad(tmp / "s", tmp / "s", ("inconsistent orientation", "IM0004"))


def inconsistent_matrix(tmp: Path) -> Bad:
    datasets = slices()
    datasets[3].Rows = 20
    datasets[3].PixelData = np.zeros((20, SHAPE[2]), dtype="<i2").tobytes()
    write(tmp / "s", datasets)
    return Bad(tmp / "s", tmp / "s", ("inconsistent matrix size", "IM0004", "20x32"))


def duplicate_position(tmp: Path) -> Bad:
    positions = stack_positions(FIRST, CORONAL, SPACING, 6)
    positions.insert(3, positions[2])  # slices 3 and 4 at the same place
    write(tmp / "s", slices(positions))
    return Bad(tmp / "s", tmp / "s", ("duplicate slice position", "IM0003", "IM0004"))


def missing_slice(tmp: Path) -> Bad:
    paths = write(tmp / "s", slices())
    paths[3].unlink()
    return Bad(tmp / "s", tmp / "s", ("missing slice", "IM0003", "IM0005"))


def non_uniform_spacing(tmp: Path) -> Bad:
    along = [0.0, 4.0, 8.0, 12.0, 17.5, 21.5, 25.5]
    write(tmp / "s", slices([list(FIRST + a * NORMAL) for a in along]))
    return Bad(tmp / "s", tmp / "s", ("non-uniform slice spacing", "5.50"))


def gantry_tilt(tmp: Path) -> Bad:
    # Each slice 1.5 mm further down (LPS -z) than the one before, orientation unchanged.
    positions = [list(FIRST + k * SPACING * NORMAL + k * 1.5 * np.array([0, 0, -1.0])) for k in range(7)]
    write(tmp / "s", slices(positions))
    return Bad(tmp / "s", tmp / "s", ("gantry tilt", "IM0007"))


def enhanced_without_geometry(tmp: Path) -> Bad:
    path = Path(get_testdata_file("emri_small.dcm"))
    return Bad(path, path, ("Enhanced MR without geometry",))


def pixel_data_offset(path: Path) -> int:
    offset = path.read_bytes().rfind(PIXEL_DATA_TAG)
    assert offset > 0
    return offset


def truncated_in_pixel_data(tmp: Path) -> Bad:
    path = write(tmp / "s", slices()[:1])[0]
    data = path.read_bytes()
    start = pixel_data_offset(path) + 12  # tag (4), VR + reserved (4), length (4)
    path.write_bytes(data[: (start + len(data)) // 2])
    return Bad(path, path, ("pixel data",))


def truncated_in_pixel_data_in_a_folder(tmp: Path) -> Bad:
    paths = write(tmp / "s", slices())
    data = paths[6].read_bytes()
    paths[6].write_bytes(data[: len(data) - 100])
    return Bad(tmp / "s", paths[6], ("pixel data",))


def truncated_in_header(tmp: Path) -> Bad:
    path = write(tmp / "s", slices()[:1])[0]
    path.write_bytes(path.read_bytes()[: pixel_data_offset(path) - 61])
    return Bad(path, path, ("truncated",))


def truncated_in_header_in_a_folder(tmp: Path) -> Bad:
    # The last slice by position: nothing else about the stack would betray its absence.
    paths = write(tmp / "s", slices())
    paths[6].write_bytes(paths[6].read_bytes()[: pixel_data_offset(paths[6]) - 61])
    return Bad(tmp / "s", paths[6], ("truncated",))


def truncated_before_pixel_data_in_a_folder(tmp: Path) -> Bad:
    # Cut exactly where the pixel data element starts: every element that is left is whole.
    paths = write(tmp / "s", slices())
    paths[6].write_bytes(paths[6].read_bytes()[: pixel_data_offset(paths[6])])
    return Bad(tmp / "s", paths[6], ("truncated",))


def nifti_4d(tmp: Path) -> Bad:
    path = Path(nibabel.__file__).parent / "tests" / "data" / "example4d.nii.gz"
    return Bad(path, path, ("more than 3 non-singleton dimensions", "(128, 96, 24, 2)"))


def no_such_path(tmp: Path) -> Bad:
    return Bad(tmp / "nope", tmp / "nope", ("no such file",))


def neither_dicom_nor_nifti(tmp: Path) -> Bad:
    path = tmp / "notes.txt"
    path.write_text("coronal T1, both hips\n" * 40)
    return Bad(path, path, ("neither a DICOM file", "NIfTI"))


def folder_without_dicom(tmp: Path) -> Bad:
    folder = tmp / "empty"
    folder.mkdir()
    (folder / "README.txt").write_text("nothing here\n")
    return Bad(folder, folder, ("no DICOM image files",))


def file_without_orientation(tmp: Path) -> Bad:
    ds = slices()[0]
    del ds.ImageOrientationPatient
    path = write(tmp / "s", [ds])[0]
    return Bad(path, path, ("ImageOrientationPatient",))


def empty_file_in_a_folder(tmp: Path) -> Bad:
    paths = write(tmp / "s", slices())
    paths[0].write_bytes(b"")
    return Bad(tmp / "s", paths[0], ("empty file",))


def zero_orientation(tmp: Path) -> Bad:
    datasets = slices()
    for ds in datasets:
        ds.ImageOrientationPatient = [0, 0, 0, 0, 0, 0]
    write(tmp / "s", datasets)
    return Bad(tmp / "s", tmp / "s", ("IM0001 has an invalid ImageOrientationPatient", "perpendicular unit"))


def skewed_orientation(tmp: Path) -> Bad:
    # Row and column directions 60 degrees apart: pixel areas would be 13% too large.
    datasets = slices()
    for ds in datasets:
        ds.ImageOrientationPatient = [1, 0, 0, 0.5, 0, -np.sqrt(0.75)]
    write(tmp / "s", datasets)
    return Bad(tmp / "s", tmp / "s", ("invalid ImageOrientationPatient",))


def without_rows(tmp: Path) -> Bad:
    datasets = slices()
    del datasets[2].Rows
    paths = write(tmp / "s", datasets)
    return Bad(tmp / "s", paths[2], ("without Rows/Columns",))


def text_in_a_number(tmp: Path) -> Bad:
    # pydicom will not write an invalid DS, so the bytes are edited: "0.7\\0.9 " becomes "abc\\0.9 ".
    paths = write(tmp / "s", slices())
    paths[4].write_bytes(paths[4].read_bytes().replace(b"0.7\\0.9 ", b"abc\\0.9 "))
    return Bad(tmp / "s", tmp / "s", ("malformed DICOM attribute value",))


def colour_slice(tmp: Path) -> Bad:
    datasets = slices()
    datasets[1].SamplesPerPixel = 3
    paths = write(tmp / "s", datasets)
    return Bad(tmp / "s", paths[1], ("colour image",))


def enhanced_sharing_one_position(tmp: Path) -> Bad:
    source = pydicom.dcmread(philips_mprage(tmp))
    shared = source.SharedFunctionalGroupsSequence[0]
    shared.PlanePositionSequence = source.PerFrameFunctionalGroupsSequence[0].PlanePositionSequence
    for frame in source.PerFrameFunctionalGroupsSequence:
        del frame.PlanePositionSequence
    path = tmp / "shared.dcm"
    source.save_as(path)
    return Bad(path, path, ("Enhanced MR without per-frame geometry", "176 frames share one plane position"))


def corrupt_gzip(tmp: Path) -> Bad:
    path = tmp / "cut.nii.gz"
    path.write_bytes(
        (Path(nibabel.__file__).parent / "tests" / "data" / "example4d.nii.gz").read_bytes()[:300]
    )
    return Bad(path, path, ("cannot read the file", "truncated or corrupt"))


def nifti_with_contradicting_slice_axis(tmp: Path) -> Bad:
    # A script transposed nothing but reused a header saying the slices run along the first axis,
    # while the 4 mm axis is the third.
    image = nibabel.Nifti1Image(np.zeros((20, 30, 6), np.int16), np.diag([0.8, 0.8, 4.0, 1.0]))
    image.header.set_dim_info(slice=0)
    path = tmp / "contradicting.nii.gz"
    nibabel.save(image, path)
    return Bad(path, path, ("slice axis is ambiguous", "slice_dim says axis 0", "voxel side says axis 2"))


CASES: dict[str, Callable[[Path], Bad]] = {
    "empty file in a folder": empty_file_in_a_folder,
    "zero orientation": zero_orientation,
    "skewed orientation": skewed_orientation,
    "no Rows": without_rows,
    "text in a number": text_in_a_number,
    "colour slice": colour_slice,
    "enhanced MR sharing one position": enhanced_sharing_one_position,
    "corrupt gzip": corrupt_gzip,
    "NIfTI slice axis contradicted": nifti_with_contradicting_slice_axis,
    "several series": several_series,
    "inconsistent orientation": inconsistent_orientation,
    "inconsistent matrix size": inconsistent_matrix,
    "duplicate positions": duplicate_position,
    "missing slice": missing_slice,
    "non-uniform spacing": non_uniform_spacing,
    "gantry tilt": gantry_tilt,
    "enhanced MR without geometry": enhanced_without_geometry,
    "truncated in pixel data": truncated_in_pixel_data,
    "truncated in pixel data, folder": truncated_in_pixel_data_in_a_folder,
    "truncated in header": truncated_in_header,
    "truncated in header, folder": truncated_in_header_in_a_folder,
    "truncated before pixel data, folder": truncated_before_pixel_data_in_a_folder,
    "NIfTI 4-D": nifti_4d,
    "no such path": no_such_path,
    "neither DICOM nor NIfTI": neither_dicom_nor_nifti,
    "folder without DICOM": folder_without_dicom,
    "no ImageOrientationPatient": file_without_orientation,
}


@pytest.fixture(params=list(CASES), ids=list(CASES))
def bad(request: pytest.FixtureRequest, tmp_path: Path) -> Bad:
    return CASES[request.param](tmp_path)


# --- the library ------------------------------------------------------------------------------------


@pytest.mark.parametrize("pixels", [True, False], ids=["full load", "geometry only"])
def test_library_raises_naming_the_path_and_the_problem(bad: Bad, pixels: bool) -> None:
    # A geometry-only load refuses what a full load refuses: a file cut inside its pixel data is
    # caught by its size, not by decoding (see the user guide).
    with pytest.raises(ScanError) as caught:
        load_scan(bad.load, pixels=pixels)

    error = caught.value
    assert isinstance(error, bad.error)
    assert error.path == str(bad.named)
    assert str(error).startswith(f"{bad.named}: ")
    for word in bad.words:
        assert word.lower() in error.problem.lower(), f"{word!r} not in {error.problem!r}"
    assert "\n" not in str(error)


def test_several_series_error_lists_both_series(tmp_path: Path) -> None:
    with pytest.raises(SeveralSeriesError) as caught:
        load_scan(several_series(tmp_path).load)
    uids = {pydicom.dcmread(tmp_path / "two" / name).SeriesInstanceUID for name in ("A0", "B0")}
    assert {uid for uid, *_ in caught.value.series} == uids
    assert all(uid in str(caught.value) for uid in uids)


# --- the command line ---------------------------------------------------------------------------------


def assert_one_error_line(stderr: str, named: Path) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("onfh-volume: error: ")
    assert str(named) in lines[0]
    assert "Traceback" not in stderr
    return lines[0]


def test_cli_info_exits_2_with_one_line(bad: Bad, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["info", str(bad.load)])

    captured = capsys.readouterr()
    assert code == 2, captured.err
    line = assert_one_error_line(captured.err, bad.named)
    assert line.startswith(f"onfh-volume: error: {bad.named}: ")
    assert captured.out == ""


def console_script() -> list[str]:
    script = Path(sys.executable).parent / "onfh-volume"
    found = shutil.which("onfh-volume", path=str(script.parent)) if script.exists() else None
    return [found] if found else [sys.executable, "-m", "onfh_volume.cli"]


@pytest.mark.parametrize("case", ["no such path", "truncated in pixel data", "NIfTI 4-D"])
def test_installed_console_script_exits_2_with_one_line(tmp_path: Path, case: str) -> None:
    bad = CASES[case](tmp_path)

    result = subprocess.run(
        [*console_script(), "info", str(bad.load)], capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr, bad.named)
    assert result.stdout == ""
