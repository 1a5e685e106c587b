"""Ctrl-C: exit code 130, one line, nothing written, at whatever moment it comes.

The command runs in a real process; Ctrl-C is sent to its whole process group, as a terminal
does, so worker processes receive it too.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SAMPLES

import onfh_volume

#: The code under test, for the subprocesses (the worktree's, not an installed copy).
CODE = Path(onfh_volume.__file__).resolve().parents[1]
ENVIRONMENT = {**os.environ, "PYTHONPATH": str(CODE)}

#: A batch whose measuring of each scan waits, after saying (a file) that it started.
SLOW_BATCH = """
import pathlib, sys, time
import onfh_volume.batch.run as run

measure_scan = run.measure_scan
started = pathlib.Path(sys.argv[1])

def slow(task):
    started.touch()
    time.sleep(2)
    return measure_scan(task)

run.measure_scan = slow
run.MIN_PER_WORKER = 1  # --jobs 2 starts its workers even for this small cohort
from onfh_volume.entry import run as onfh_volume
sys.argv[1:] = sys.argv[2:]
onfh_volume()
"""


def _interruptible() -> None:
    # As from a terminal: a test run started in the background (a CI script, `cmd &`) ignores
    # SIGINT, which Python would then inherit and never turn into KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", *args],
        env=ENVIRONMENT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: Ctrl-C reaches it and its workers only
        preexec_fn=_interruptible,
    )


def ctrl_c(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGINT)


def interrupt_batch(script: str, tmp_path: Path, jobs: str) -> None:
    """Run ``script`` (a batch of the sample cohort), Ctrl-C it once it says it started, check what is left."""
    started = tmp_path / "started"
    outputs = [tmp_path / name for name in ("results.csv", "per-slice.csv", "report.html")]
    batch = start(
        script, str(started), "batch", str(SAMPLES / "cohort.csv"), "-o", str(outputs[0]),
        "--per-slice", str(outputs[1]), "--report", str(outputs[2]), "--jobs", jobs, "--quiet",
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and batch.poll() is None:
        time.sleep(0.02)
    assert started.exists(), batch.communicate()
    ctrl_c(batch)
    _, err = batch.communicate(timeout=60)
    assert (batch.returncode, err) == (130, "onfh-volume: interrupted\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["started"]  # no output, no temporary


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_during_a_batch_exits_130_and_writes_nothing(tmp_path: Path, jobs: str) -> None:
    interrupt_batch(SLOW_BATCH, tmp_path, jobs)


#: A batch whose report waits while being written (after both CSVs), after saying so (a file).
SLOW_REPORT = """
import pathlib, sys, time
started = pathlib.Path(sys.argv[1])
write_text = pathlib.Path.write_text

def slowly(self, *args, **kwargs):
    write_text(self, *args, **kwargs)
    if self.suffix == ".html":
        started.touch()
        time.sleep(2)

pathlib.Path.write_text = slowly
from onfh_volume.entry import run
sys.argv[1:] = sys.argv[2:]
run()
"""


def test_ctrl_c_while_writing_the_outputs_writes_none_of_them(tmp_path: Path) -> None:
    interrupt_batch(SLOW_REPORT, tmp_path, "1")


#: A batch whose measuring is cut short by Ctrl-C inside a library that turns the interrupt into
#: an ImportError, as numpy's C import of datetime does when the signal lands there.
IMPORT_INTERRUPTED = """
import pathlib, sys, time
import onfh_volume.batch.run as run

started = pathlib.Path(sys.argv[1])

def importing(task):
    started.touch()
    try:
        time.sleep(30)
    except KeyboardInterrupt:
        raise ImportError("numpy._core.multiarray failed to import") from None

run.measure_scan = importing
from onfh_volume.entry import run as onfh_volume
sys.argv[1:] = sys.argv[2:]
onfh_volume()
"""


def test_ctrl_c_that_a_library_turns_into_another_error_is_still_an_interrupt(tmp_path: Path) -> None:
    interrupt_batch(IMPORT_INTERRUPTED, tmp_path, "1")


@pytest.mark.parametrize("delay", [0.02, 0.05, 0.1, 0.15, 0.2, 0.3])
def test_ctrl_c_while_starting_is_one_line_not_a_traceback(delay: float) -> None:
    # What the console script does, once Python itself has started (an interrupt before that is
    # Python's own business).
    command = start_info()
    assert command.stdout.readline() == "python is up\n"
    time.sleep(delay)
    ctrl_c(command)
    _, err = command.communicate(timeout=60)
    assert "Traceback" not in err
    normal_code, normal_err = info_uninterrupted()
    if command.returncode == 130:
        # Interrupted at any moment: one line, after whatever the command had printed by then.
        assert err.endswith("onfh-volume: interrupted\n"), err
        assert normal_err.startswith(err.removesuffix("onfh-volume: interrupted\n")), err
    else:  # done before the signal came: the normal output and exit code
        assert (command.returncode, err) == (normal_code, normal_err), err


def start_info() -> subprocess.Popen[str]:
    """``onfh-volume info`` on a sample, saying when Python is up (before any project code runs)."""
    return start(
        "import sys; print('python is up', flush=True); sys.argv[0] = 'onfh-volume'\n"
        "from onfh_volume.entry import run; run()",
        "info", str(SAMPLES / "nifti" / "sub-01_baseline.nii.gz"),
    )  # fmt: skip


@functools.cache
def info_uninterrupted() -> tuple[int, str]:
    """Exit code and stderr of the same command left alone (its warnings about the sample's gap)."""
    command = start_info()
    _, err = command.communicate(timeout=60)
    return command.returncode, err
