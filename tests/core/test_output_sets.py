"""Outputs are written as whole sets, with the umask's permissions, never over an input.

A batch's results, per-slice areas and report, and a saved tracing's mask, JSON and CSV, belong
together: after a failure (a full disk, an error in the last file, kill -9) the previous set is
still in place, whole, and a full disk or read-only folder is a one-line error naming the folder.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import SAMPLES, copy_sample
from hypothesis import given, settings
from hypothesis import strategies as st

import onfh_volume
from onfh_volume.cli import main
from onfh_volume.errors import OnfhError
from onfh_volume.load import load_scan
from onfh_volume.mask import load_mask
from onfh_volume.record import save_record

#: The code under test, for the subprocesses (the worktree's, not an installed copy).
CODE = Path(onfh_volume.__file__).resolve().parents[1]


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sample_manifest(folder: Path) -> Path:
    """The sample cohort with absolute paths, in ``folder`` (outputs go beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "cohort.csv"
    lines = (SAMPLES / "cohort.csv").read_text().splitlines()
    header = lines[0].split(",")
    scan, mask = header.index("scan"), header.index("mask")
    rows = [lines[0]]
    for line in lines[1:]:
        values = line.split(",")
        values[scan], values[mask] = str(SAMPLES / values[scan]), str(SAMPLES / values[mask])
        rows.append(",".join(values))
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def previous_set(folder: Path) -> dict[str, bytes]:
    """Write an earlier run's three outputs and return their contents."""
    contents = {
        "results.csv": b"earlier results\n",
        "per-slice.csv": b"earlier areas\n",
        "report.html": b"<p>earlier",
    }
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    return contents


def batch_args(folder: Path, *extra: str) -> list[str]:
    return [
        "batch", str(folder / "cohort.csv"), "-o", str(folder / "results.csv"),
        "--per-slice", str(folder / "per-slice.csv"), "--report", str(folder / "report.html"),
        "--jobs", "1", "--quiet", *extra,
    ]  # fmt: skip


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.name != "cohort.csv"}


# --- permissions (issue 10, bug 6) -----------------------------------------------------------------


def test_batch_outputs_honour_the_umask(umask_022, tmp_path: Path) -> None:
    sample_manifest(tmp_path)
    assert main(batch_args(tmp_path)) == 0
    assert {name: oct(mode(tmp_path / name)) for name in ("results.csv", "per-slice.csv", "report.html")} == {
        name: "0o644" for name in ("results.csv", "per-slice.csv", "report.html")
    }


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_saved_tracing_honours_the_umask(tmp_path: Path, umask: int, expected: int) -> None:
    scan = load_scan(SAMPLES / "dicom" / "sub-01" / "baseline", pixels=False)
    labels = load_mask(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", scan)
    previous = os.umask(umask)
    try:
        save_record(tmp_path / "lesions.nii.gz", labels, scan)
    finally:
        os.umask(previous)
    assert [mode(tmp_path / name) for name in ("lesions.nii.gz", "lesions.json", "lesions.csv")] == [
        expected
    ] * 3


# --- all or nothing --------------------------------------------------------------------------------


def test_a_failing_report_leaves_the_previous_set_whole(monkeypatch, capsys, tmp_path: Path) -> None:
    sample_manifest(tmp_path)
    before = previous_set(tmp_path)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    # The report is the last file: its disk fills up after both CSVs were written.
    monkeypatch.setattr("onfh_volume.batch.report.Path.write_text", broken)
    code = main(batch_args(tmp_path, "--force"))
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"onfh-volume: error: {tmp_path}: cannot write in this folder (No space left on device); "
        "nothing was replaced\n"
    )
    assert contents(tmp_path) == before  # no new file, no temporary left behind


def test_a_read_only_folder_is_a_clear_error(monkeypatch, capsys, tmp_path: Path) -> None:
    sample_manifest(tmp_path)
    out = tmp_path / "out"

    def read_only(*args: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    # Running as root, permissions cannot make a folder read-only: the error a read-only mount gives.
    monkeypatch.setattr("onfh_volume.atomic.os.open", read_only)
    code = main(
        ["batch", str(tmp_path / "cohort.csv"), "-o", str(out / "results.csv"), "--quiet", "--jobs", "1"]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        f"onfh-volume: error: {out}: cannot write in this folder (Read-only file system); nothing was replaced\n"
    )


def test_save_tracing_on_a_full_disk_keeps_the_previous_tracing(monkeypatch, tmp_path: Path) -> None:
    scan = load_scan(SAMPLES / "dicom" / "sub-01" / "baseline", pixels=False)
    labels = load_mask(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", scan)
    save_record(tmp_path / "lesions.nii.gz", labels, scan, reader="first")
    before = contents(tmp_path)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("csv.writer", full)  # the CSV is written last
    labels[labels == 2] = 0
    with pytest.raises(OnfhError) as caught:
        save_record(tmp_path / "lesions.nii.gz", labels, scan, reader="second", overwrite=True)
    assert caught.value.path == str(tmp_path)
    assert "No space left on device" in caught.value.problem
    assert contents(tmp_path) == before


def test_moving_into_place_waits_for_another_writer(tmp_path: Path) -> None:
    # Two concurrent runs: the folder lock makes one set go in whole after the other.
    from onfh_volume.atomic import write_set

    descriptor = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    files = [(tmp_path / name, lambda path, name=name: path.write_text(name)) for name in ("a.csv", "b.html")]
    writer = threading.Thread(target=write_set, args=(files,), kwargs={"overwrite": True})
    writer.start()
    time.sleep(0.5)
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "b.html").exists()
    os.close(descriptor)  # releases the lock
    writer.join(5)
    assert (tmp_path / "a.csv").read_text() == "a.csv" and (tmp_path / "b.html").read_text() == "b.html"


def test_two_concurrent_forced_runs_leave_one_whole_set(tmp_path: Path) -> None:
    sample_manifest(tmp_path)
    environment = {**os.environ, "PYTHONPATH": str(CODE)}
    for _ in range(2):
        runs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "onfh_volume.cli",
                    *batch_args(tmp_path, "--force", "--threshold", threshold),
                ],
                env=environment,
            )
            for threshold in ("15", "25")
        ]
        assert [run.wait(120) for run in runs] == [0, 0]
        thresholds = {line.split(",")[17] for line in (tmp_path / "results.csv").read_text().splitlines()[1:]}
        assert len(thresholds) == 1
        (threshold,) = thresholds
        assert f"±{float(threshold):g}% or more" in (tmp_path / "report.html").read_text()
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "cohort.csv", "per-slice.csv", "report.html", "results.csv"
    ]  # fmt: skip


SLOW_REPORT = """
import pathlib, sys, time
from onfh_volume.cli import main

write_text = pathlib.Path.write_text

def slowly(self, *args, **kwargs):
    write_text(self, *args, **kwargs)
    if self.suffix == ".html":  # the report, written after both CSVs
        write_text(pathlib.Path(sys.argv[1]), "writing")
        time.sleep(60)

pathlib.Path.write_text = slowly
sys.exit(main(sys.argv[2:]))
"""


def slow_run(folder: Path) -> subprocess.Popen:
    """A batch into ``folder`` that stops for a minute while writing its report (its CSVs written)."""
    marker = folder.parent / f"{folder.name}-marker"
    marker.unlink(missing_ok=True)
    run = subprocess.Popen(
        [sys.executable, "-c", SLOW_REPORT, str(marker), *batch_args(folder, "--force")],
        env={**os.environ, "PYTHONPATH": str(CODE)},
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the run never reached the report"
    return run


def temporaries(folder: Path, age_s: float = 0.0) -> list[str]:
    """The hidden temporaries in ``folder``, made to look ``age_s`` old."""
    found = sorted(path for path in folder.iterdir() if ".part-" in path.name)
    for path in found:
        os.utime(path, (time.time() - age_s, time.time() - age_s))
    return [path.name for path in found]


def test_kill_9_while_writing_leaves_the_previous_set_whole_and_the_next_run_clears_its_temporaries(
    tmp_path: Path,
) -> None:
    sample_manifest(tmp_path)
    before = previous_set(tmp_path)
    live = slow_run(tmp_path)
    writing = temporaries(tmp_path, age_s=3600)
    assert len(writing) == 3
    # Another run meanwhile leaves a living writer's temporaries alone, however old they look.
    assert main(batch_args(tmp_path, "--force")) == 0
    assert set(writing) <= set(temporaries(tmp_path))
    live.send_signal(signal.SIGKILL)
    live.wait(10)
    assert len(temporaries(tmp_path)) == 3  # left behind by kill -9
    assert {name: data for name, data in contents(tmp_path).items() if not name.startswith(".")} != before

    before = {name: data for name, data in contents(tmp_path).items() if not name.startswith(".")}
    killed = slow_run(tmp_path)
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    assert {name: data for name, data in contents(tmp_path).items() if not name.startswith(".")} == before
    temporaries(tmp_path, age_s=3600)  # a while later, the next run clears what the killed ones left
    assert main(batch_args(tmp_path, "--force")) == 0
    assert temporaries(tmp_path) == []


# --- never over an input ---------------------------------------------------------------------------


def test_batch_refuses_an_output_over_a_mask_even_with_force(capsys, tmp_path: Path) -> None:
    folder, mask = copy_sample(tmp_path, "sub-01", "baseline")
    followup, followup_mask = copy_sample(tmp_path, "sub-01", "followup")
    manifest = tmp_path / "cohort.csv"
    manifest.write_text(
        f"patient_id,timepoint,scan,mask\nP1,baseline,{folder},{mask}\nP1,followup,{followup},{followup_mask}\n"
    )
    original = mask.read_bytes()
    slice_file = folder / "IM0003"
    linked = tmp_path / "linked.nii.gz"
    os.link(followup_mask, linked)
    results = str(tmp_path / "results.csv")
    for outputs, target, named in (
        (["-o", str(mask)], mask, mask),
        (["-o", results, "--report", str(slice_file)], slice_file, folder),  # a file of a scan folder
        (
            ["-o", results, "--per-slice", str(folder / "new.csv")],
            folder / "new.csv",
            folder,
        ),  # a new one in it
        (["-o", results, "--report", str(linked)], linked, followup_mask),  # the same file by another name
    ):
        code = main(["batch", str(manifest), *outputs, "--force", "--jobs", "1"])
        err = capsys.readouterr().err
        assert code == 2, (outputs, err)
        assert err.startswith(f"onfh-volume: error: {target}: this output would write over the input {named}")
    assert mask.read_bytes() == original and slice_file.read_bytes()[128:132] == b"DICM"
    assert not (folder / "new.csv").exists() and not (tmp_path / "results.csv").exists()


def test_save_tracing_refuses_to_replace_the_scan_or_its_sidecar(tmp_path: Path) -> None:
    scan_path = Path(shutil.copy(SAMPLES / "nifti" / "sub-01_baseline.nii.gz", tmp_path))
    sidecar = Path(shutil.copy(SAMPLES / "nifti" / "sub-01_baseline.json", tmp_path))
    before = (scan_path.read_bytes(), sidecar.read_bytes())
    scan = load_scan(scan_path, pixels=False)
    labels = load_mask(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", scan)
    for mask in (scan_path, tmp_path / "sub-01_baseline.nii"):  # the scan itself; a JSON on the sidecar
        with pytest.raises(OnfhError, match="this output would write over the input"):
            save_record(mask, labels, scan, overwrite=True)
    assert (scan_path.read_bytes(), sidecar.read_bytes()) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "sub-01_baseline.json",
        "sub-01_baseline.nii.gz",
    ]


def test_a_mask_is_never_saved_over_or_into_its_scan(tmp_path: Path) -> None:
    # save_mask is what the plugin's File > Save and its autosave use: the scan is always an input.
    from onfh_volume.mask import save_mask

    folder, _ = copy_sample(tmp_path, "sub-01", "baseline")
    scan = load_scan(folder, pixels=False)
    labels = load_mask(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", scan)
    for target in (folder / "IM0001", folder / "lesions.nii.gz"):
        with pytest.raises(OnfhError, match=f"this output would write over the input {folder}"):
            save_mask(target, labels, scan, overwrite=True)
    assert (folder / "IM0001").read_bytes()[128:132] == b"DICM" and not (folder / "lesions.nii.gz").exists()
    assert save_mask(tmp_path / "lesions.nii.gz", labels, scan).exists()  # beside the folder: fine


def test_ctrl_c_while_moving_into_place_is_held_until_the_set_is_whole(monkeypatch, tmp_path: Path) -> None:
    from onfh_volume import atomic

    replace = os.replace

    def interrupted(source: object, target: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C between the first and the second file
        replace(source, target)

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    files = [(tmp_path / name, lambda path, name=name: path.write_text(name)) for name in ("a.csv", "b.html")]
    with pytest.raises(KeyboardInterrupt):
        atomic.write_set(files, overwrite=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.csv", "b.html"]
    assert [(tmp_path / name).read_text() for name in ("a.csv", "b.html")] == ["a.csv", "b.html"]


def test_real_paths_are_os_path_realpath_through_links_dots_and_missing_names(tmp_path: Path) -> None:
    """check_not_inputs resolves each folder once; every path must still resolve as os.path.realpath does."""
    from onfh_volume.atomic import _RealPaths

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_text("x")
    (tmp_path / "c").mkdir()
    for link, target in (
        ("lb", tmp_path / "a" / "b"),
        ("lf", "../a/b/f"),
        ("dangling", "nowhere"),
        ("lb2", "lb"),
    ):
        os.symlink(target, tmp_path / "c" / link)
    names = st.sampled_from(["a", "b", "f", "c", "lb", "lf", "dangling", "lb2", "..", ".", "missing"])

    @settings(max_examples=300, deadline=None)
    @given(parts=st.lists(names, min_size=1, max_size=5), absolute=st.booleans())
    def resolves_alike(parts: list[str], absolute: bool) -> None:
        path = Path(tmp_path if absolute else "", *parts)
        real_path = _RealPaths()
        assert [real_path(path), real_path(path)] == [os.path.realpath(path)] * 2

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        resolves_alike()
    finally:
        os.chdir(cwd)
