"""``pip install onfh-volume`` without extras: info, measure and batch work; what needs an extra says which.

Each command runs in a fresh interpreter in which the packages only the extras install (Dask,
highdicom, matplotlib, napari and Qt) cannot be imported, as in a clean virtualenv with
``pip install .``. The same check against a real clean virtualenv is a documented command (user
guide, "Install").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import SAMPLES

#: What `pip install onfh-volume` does not install (pyproject.toml's extras dask, seg, report, napari).
NOT_INSTALLED = (
    "dask",
    "distributed",
    "highdicom",
    "matplotlib",
    "napari",
    "qtpy",
    "magicgui",
    "npe2",
    "PyQt6",
)
BLOCK = """
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, NotInstalled())
"""
CLI = "from onfh_volume.cli import main; sys.exit(main(sys.argv[1:]))"
VIEWER = "from napari_onfh_volume.command import main; main()"
BASELINE = SAMPLES / "dicom" / "sub-01" / "baseline"
MASK = SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz"


def lean(entry: str, *args: object) -> subprocess.CompletedProcess[str]:
    code = BLOCK.format(blocked=set(NOT_INSTALLED)) + entry
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "args",
    [
        ("info", BASELINE),
        ("measure", BASELINE, MASK),
        ("batch", SAMPLES / "cohort.csv", "-o", "{tmp}/results.csv", "--per-slice", "{tmp}/slices.csv"),
    ],
    ids=["info", "measure", "batch"],
)
def test_the_core_commands_run_without_the_extras(tmp_path: Path, args: tuple[object, ...]) -> None:
    result = lean(CLI, *(str(arg).format(tmp=tmp_path) for arg in args))
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr  # the sample scans' own warnings may be there


@pytest.mark.parametrize(
    ("entry", "args", "extra"),
    [
        (CLI, ("export-seg", BASELINE, MASK, "-o", "{tmp}/lesions.dcm"), "seg"),
        (CLI, ("batch", SAMPLES / "cohort.csv", "-o", "{tmp}/r.csv", "--report", "{tmp}/r.html"), "report"),
        (
            CLI,
            ("batch", SAMPLES / "cohort.csv", "-o", "{tmp}/r.csv", "--dask-scheduler", "tcp://127.0.0.1:1"),
            "dask",
        ),
        (CLI, ("stats", SAMPLES / "cohort.csv", "--report", "{tmp}/s.html"), "report"),
        (VIEWER, (), "napari"),
    ],
    ids=["export-seg", "batch --report", "batch --dask-scheduler", "stats --report", "napari-onfh-volume"],
)
def test_what_needs_an_extra_is_refused_in_one_line_naming_it(
    tmp_path: Path, entry: str, args: tuple[object, ...], extra: str
) -> None:
    result = lean(entry, *(str(arg).format(tmp=tmp_path) for arg in args))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.rstrip().endswith(f"pip install 'onfh-volume[{extra}]'")
    assert not list(tmp_path.iterdir())  # refused before anything was written
