"""A batch killed (SIGKILL) at each rename of its outputs: the set is all old or all new, never mixed.

A real ``onfh-volume batch`` process is stopped just before one of its renames (or just after the
last one, before its clean-up) and killed with SIGKILL. What onfh-volume sees of the set next
(:func:`onfh_volume.atomic.settle`, which every write and ``stats`` go through) must be the whole
previous set or the whole new one, and the next run must leave the new set with no hidden file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_output_sets import CODE, batch_args, previous_set, sample_manifest

from onfh_volume.atomic import settle
from onfh_volume.cli import main

OUTPUTS = ("results.csv", "per-slice.csv", "report.html")

#: Runs a batch that stops before its rename number STOP (0, 1, 2) of an output onto its target,
#: or with STOP 3 at its first removal of a kept previous file (after every rename).
STOPPED_BATCH = """
import os, pathlib, sys, time
from onfh_volume.cli import main

marker, stop = pathlib.Path(sys.argv[1]), int(sys.argv[2])
outputs = {"results.csv", "per-slice.csv", "report.html"}
replace, unlink, renames = os.replace, os.unlink, []

def halt():
    marker.write_text("stopped")
    time.sleep(120)

def stopping_replace(source, target, *args, **kwargs):
    if pathlib.Path(target).name in outputs:
        if len(renames) == stop:
            halt()
        renames.append(target)
    return replace(source, target, *args, **kwargs)

def stopping_unlink(path, *args, **kwargs):
    if stop == 3 and ".previous-" in pathlib.Path(path).name:
        halt()
    return unlink(path, *args, **kwargs)

os.replace, os.unlink = stopping_replace, stopping_unlink
sys.exit(main(sys.argv[3:]))
"""


def kill_at(folder: Path, stop: int) -> None:
    """Run a forced batch into ``folder``, stopped at ``stop`` (see STOPPED_BATCH), and SIGKILL it."""
    marker = folder.parent / f"{folder.name}-stopped"
    marker.unlink(missing_ok=True)
    run = subprocess.Popen(
        [sys.executable, "-c", STOPPED_BATCH, str(marker), str(stop), *batch_args(folder, "--force")],
        env={**os.environ, "PYTHONPATH": str(CODE)},
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the batch never reached the rename"
    run.send_signal(signal.SIGKILL)
    assert run.wait(10) == -signal.SIGKILL


def visible(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def hidden(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


def is_new_set(files: dict[str, bytes], old: dict[str, bytes]) -> bool:
    return (
        all(files[name] != old[name] for name in OUTPUTS)
        and files["results.csv"].startswith(b"patient_id,side,reader")
        and b"sub-01" in files["per-slice.csv"]
        and b"<html" in files["report.html"].lower()
    )


@pytest.mark.parametrize("stop", [0, 1, 2, 3])
def test_a_batch_killed_at_any_rename_leaves_one_whole_set(tmp_path: Path, stop: int) -> None:
    sample_manifest(tmp_path)
    old = previous_set(tmp_path)
    kill_at(tmp_path, stop)
    if stop in (1, 2):
        on_disk = visible(tmp_path)
        assert on_disk != old and not is_new_set(on_disk, old)  # what the kill left: mixed, but journalled
    settle([tmp_path / "results.csv"])
    seen = visible(tmp_path)
    assert is_new_set(seen, old)  # the journal was on disk before the first rename: forward
    assert hidden(tmp_path) == [] or all(".part-" in name for name in hidden(tmp_path))
    assert main(batch_args(tmp_path, "--force")) == 0
    assert is_new_set(visible(tmp_path), old)
    assert hidden(tmp_path) == []  # no temporary, journal or kept previous file left


def test_stats_reads_a_killed_batch_s_whole_new_results(tmp_path: Path, capsys) -> None:
    sample_manifest(tmp_path)
    old = previous_set(tmp_path)
    kill_at(tmp_path, 1)  # results.csv in place, the others still old
    assert main(["stats", str(tmp_path / "results.csv")]) == 2
    # The new results' own refusal (the old file would be "not a results file"): stats read the new set.
    assert "group 'conservative' has 1 hip(s)" in capsys.readouterr().err
    assert is_new_set(visible(tmp_path), old)
    assert [name for name in hidden(tmp_path) if ".part-" not in name] == []


def test_links_an_earlier_killed_run_left_are_removed_by_the_next_run(tmp_path: Path) -> None:
    sample_manifest(tmp_path)
    old = previous_set(tmp_path)
    for name in OUTPUTS:  # what a run killed between its renames left before sets had a journal
        os.link(tmp_path / name, tmp_path / f".{name}.previous-0badc0de")
    assert main(batch_args(tmp_path, "--force")) == 0
    assert is_new_set(visible(tmp_path), old)
    assert hidden(tmp_path) == []
