"""The onfh-volume command: JSON contracts, human tables, and exit code 2 with one line for bad input."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import bilateral_labels, sitk_series, write_dicom_series, write_sitk_mask

from onfh_volume.cli import COMMAND_MODULES, _parser, main


@pytest.fixture
def study(tmp_path: Path) -> dict[str, Path]:
    """A baseline and a follow-up on the same protocol: right lesion 444 -> 300 pixels, left 560 -> 560."""
    baseline = write_dicom_series(tmp_path / "baseline", spacing=5.0, seed=1)
    followup = write_dicom_series(tmp_path / "followup", spacing=5.0, seed=2)
    before = bilateral_labels((6, 40, 320))
    after = before.copy()
    after[after == 1] = 0
    after[1:3, 10:20, 30:45] = 1
    return {
        "baseline": baseline,
        "baseline_mask": write_sitk_mask(sitk_series(baseline), before, tmp_path / "baseline.nii.gz"),
        "followup": followup,
        "followup_mask": write_sitk_mask(sitk_series(followup), after, tmp_path / "followup.nii.gz"),
    }


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_info_json(capsys, study) -> None:
    code, out, _ = run(capsys, "info", study["baseline"], "--json")
    data = json.loads(out)
    assert code == 0
    assert data["shape"] == [6, 40, 320]
    assert data["pixel_spacing_mm"] == [0.8, 0.9]
    assert data["slice_thickness_mm"] == 4.0
    assert data["slice_spacing_mm"] == pytest.approx(5.0)
    assert data["orientation"] == "PIL"
    assert any("slice gap of 1 mm" in w for w in data["warnings"])


def test_measure_json(capsys, study) -> None:
    code, out, _ = run(capsys, "measure", study["baseline"], study["baseline_mask"], "--json")
    assert code == 0
    data = json.loads(out)
    assert data["method"] == "thickness"
    right, left = data["lesions"]
    assert (right["label"], right["side"], left["label"], left["side"]) == (1, "right", 2, "left")
    assert right["volume_cm3"] == pytest.approx(444 * 0.8 * 0.9 * 4.0 / 1000, rel=1e-12)
    assert right["volume_cavalieri_cm3"] == pytest.approx(444 * 0.8 * 0.9 * 5.0 / 1000, rel=1e-12)
    assert left["volume_cm3"] == pytest.approx(560 * 0.8 * 0.9 * 4.0 / 1000, rel=1e-12)
    assert [s["index"] for s in right["slices"]] == [1, 2, 3]
    assert right["slices"][1]["area_mm2"] == pytest.approx(144 * 0.72)


def test_measure_spacing_method(capsys, study) -> None:
    code, out, _ = run(
        capsys, "measure", study["baseline"], study["baseline_mask"], "--json", "--method", "spacing"
    )
    right = json.loads(out)["lesions"][0]
    assert code == 0
    assert right["volume_cm3"] == pytest.approx(444 * 0.72 * 5.0 / 1000, rel=1e-12)


def test_measure_table(capsys, study) -> None:
    code, out, err = run(capsys, "measure", study["baseline"], study["baseline_mask"])
    assert code == 0
    assert "1.279" in out  # 444 x 0.72 mm² x 4 mm = 1278.72 mm³
    assert "1.598" in out  # Cavalieri: 444 x 0.72 x 5 = 1598.4 mm³
    assert "right" in out and "left" in out
    assert "warning: slice gap of 1 mm" in err


def test_compare_json_and_table(capsys, study) -> None:
    args = ["compare", study["baseline"], study["baseline_mask"], study["followup"], study["followup_mask"]]
    code, out, _ = run(capsys, *args, "--json")
    assert code == 0
    data = json.loads(out)
    hips = {hip["side"]: hip for hip in data["hips"]}
    assert hips["right"]["category"] == "decrease"
    assert hips["right"]["change_pct"] == pytest.approx((300 - 444) / 444 * 100)
    assert hips["left"]["category"] == "no change"
    assert data["threshold_pct"] == 15
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "-32.4%" in out and "decrease" in out and "no change" in out
    code, out, _ = run(capsys, *args, "--threshold", "40", "--json")
    assert {hip["side"]: hip["category"] for hip in json.loads(out)["hips"]} == {
        "right": "no change",
        "left": "no change",
    }


@pytest.mark.parametrize("threshold", ["-3", "0", "abc"])
def test_bad_threshold_exits_2(capsys, study, threshold: str) -> None:
    args = ["compare", study["baseline"], study["baseline_mask"], study["followup"], study["followup_mask"]]
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args] + ["--threshold", threshold])
    assert exit_info.value.code == 2


def test_mask_of_the_other_timepoint_exits_2_naming_it(capsys, tmp_path, study) -> None:
    other = write_dicom_series(tmp_path / "other", shape=(7, 40, 320), spacing=5.0)
    code, out, err = run(capsys, "measure", other, study["baseline_mask"])
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(
        f"onfh-volume: error: {study['baseline_mask']}: mask has 6 voxels along the scan's slice axis"
    )


def test_thickness_unknown_exits_2_and_points_to_the_spacing_method(capsys, tmp_path) -> None:
    folder = write_dicom_series(tmp_path / "nothick", thickness=None)
    mask = write_sitk_mask(sitk_series(folder), bilateral_labels((6, 40, 320)), tmp_path / "m.nii.gz")
    code, _, err = run(capsys, "measure", folder, mask)
    assert code == 2
    assert "slice thickness unknown" in err and "spacing (Cavalieri) method" in err
    code, out, _ = run(capsys, "measure", folder, mask, "--method", "spacing", "--json")
    assert code == 0 and json.loads(out)["lesions"][0]["volume_thickness_cm3"] is None


def test_console_script_reports_bad_input_in_one_line(tmp_path) -> None:
    bad = tmp_path / "not-a-scan.txt"
    bad.write_text("hello")
    result = subprocess.run(
        [sys.executable, "-m", "onfh_volume.cli", "measure", str(bad), str(bad)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert (
        result.stderr
        == f"onfh-volume: error: {bad}: neither a DICOM file (no DICM marker) nor a NIfTI-1/2 file\n"
    )
    assert result.stdout == ""


def test_importing_the_core_loads_no_gui_toolkit() -> None:
    code = (
        "import sys, onfh_volume, onfh_volume.cli, onfh_volume.testing.dicom_series\n"
        "gui = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'napari', 'qtpy', 'PyQt5', 'PyQt6', 'PySide2', 'PySide6', 'magicgui', 'vispy'})\n"
        "print(gui)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "args",
    [
        ("info", "sample_scans/dicom/sub-01/baseline"),
        (
            "measure",
            "sample_scans/dicom/sub-01/baseline",
            "sample_scans/masks/sub-01_baseline_lesions.nii.gz",
            "--no-head",
        ),
        ("batch", "sample_scans/cohort.csv", "-o", "{tmp}/results.csv", "--jobs", "1"),
    ],
    ids=["info", "measure", "batch"],
)
def test_a_plain_series_and_nifti_masks_are_measured_without_importing_pydicom(tmp_path, args) -> None:
    """pydicom (and, through nibabel, scipy) take longer to import than a small batch takes to measure."""
    code = (
        "import sys\nfrom onfh_volume.cli import main\nassert main(sys.argv[1:]) == 0\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydicom', 'scipy'}))"
    )
    arguments = [arg.format(tmp=tmp_path) for arg in args]
    result = subprocess.run(
        [sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


#: What a quiet batch of NIfTI masks has no use for, with what importing it cost the small cohort's
#: batch (`python -X importtime`): nibabel and rich, a fifth of its time; secrets (hashlib, random)
#: 5 ms, statistics (decimal, fractions) 2.5 ms, difflib 1 ms, the DICOMweb client (netrc) 1 ms.
NOT_IN_A_QUIET_BATCH = (
    "nibabel",
    "rich",
    "secrets",
    "statistics",
    "difflib",
    "netrc",
    "onfh_volume.pacs.pull",
)


def test_a_quiet_batch_on_nifti_masks_imports_only_what_it_uses(tmp_path) -> None:
    """An ordinary NIfTI mask is read without nibabel, a quiet batch prints nothing (no console),
    names its temporaries without secrets, finds a median without statistics, suggests a column's
    spelling only for an unknown column, and pulls nothing from a PACS."""
    code = (
        "import sys\nfrom onfh_volume.cli import main\nassert main(sys.argv[1:]) == 0\n"
        f"print(sorted(name for name in {NOT_IN_A_QUIET_BATCH!r} if name in sys.modules))"
    )
    batch = [
        "batch",
        "sample_scans/cohort.csv",
        "-o",
        str(tmp_path / "results.csv"),
        "--jobs",
        "1",
        "--quiet",
    ]
    result = subprocess.run([sys.executable, "-c", code, *batch], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_empty_mask_is_reported_not_an_error(capsys, study, tmp_path) -> None:
    empty = write_sitk_mask(sitk_series(study["baseline"]), np.zeros((6, 40, 320)), tmp_path / "empty.nii.gz")
    code, out, _ = run(capsys, "measure", study["baseline"], empty)
    assert code == 0
    assert "no lesion in the mask" in out


def test_paths_with_bracketed_words_are_printed_as_they_are(capsys, tmp_path, study) -> None:
    """Paths like '[anon][bold]' must not be read as console markup (they crashed the table once)."""
    odd = tmp_path / "study [anon][bold]"
    odd.mkdir()
    mask = odd / "mask.nii.gz"
    mask.write_bytes(study["baseline_mask"].read_bytes())
    code, out, _ = run(capsys, "compare", study["baseline"], mask, study["baseline"], mask)
    assert code == 0
    assert "study [anon][bold]" in out.replace("\n", "")


def test_compressed_file_cut_short_gives_one_line(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    whole = Path(get_testdata_file("MR_small_RLE.dcm")).read_bytes()
    cut = tmp_path / "MR_small_RLE.dcm"
    cut.write_bytes(whole[: len(whole) - 3000])  # inside the RLE fragments

    # A real process: pytest would catch the warnings a user sees on stderr.
    result = subprocess.run(
        [sys.executable, "-m", "onfh_volume.cli", "info", str(cut)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(cut) in result.stderr, result.stderr


def test_each_command_alone_has_the_options_and_help_it_has_among_all() -> None:
    """main builds only the named command's options (3 ms of a small batch's start-up): the list of
    commands and their modules must agree, and each command alone must be what it is among all."""

    def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return dict(action.choices)

    every = commands(_parser())
    assert list(every) == [name for _, names in COMMAND_MODULES for name in names]
    for name, among_all in every.items():
        alone = commands(_parser(name))
        assert list(alone) == next(list(names) for _, names in COMMAND_MODULES if name in names)
        assert alone[name].format_help() == among_all.format_help()
    assert list(commands(_parser("no-such-command"))) == list(every)
