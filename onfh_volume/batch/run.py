"""Measure every row of a manifest: in this process, in local processes, or on a Dask cluster.

The work is grouped by scan: each scan's geometry is read once (headers only, never the image),
then every mask traced on it is measured. A folder of several series given without a series is
read, for each DICOM SEG or RTSTRUCT, as the series it references (each series once). The same task function runs in every mode, so the
results do not depend on where they were computed.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ..errors import OnfhError, SeveralSeriesError
from ..load import load_scan
from ..mask_series import series_for_mask
from ..measure_files import measure_file
from ..scan import Scan
from ..vocabulary import Method
from ..volume import Measurement
from .manifest import Manifest

T = TypeVar("T")

Outcome = Measurement | str
"""A row's measurement, or why it could not be measured (one line naming the file)."""

#: Fewest measurements per worker process for local processes to pay. Starting a pool of two
#: workers and getting their results back costs 50-80 ms of CPU on a 2-core machine (fork, pool
#: threads, pickled measurements; `benchmarks/bench_cohort.py`), a measurement 1.5 ms on a series
#: read once, 5 ms with its own series: a worker saves time only once it takes over more than
#: about twice that many measurements.
MIN_PER_WORKER = 64
#: Scans sent to a worker process at once, as a share of the scans per worker: few messages
#: between the processes (each costs about a millisecond), yet the work stays balanced.
BATCHES_PER_WORKER = 4

Progress = Callable[[int, int], None]
"""Called as ``progress(measured, total)`` each time a scan's measurements are done."""


@dataclass(frozen=True)
class MaskFile:
    """A mask to measure, and the segments or ROIs of it to measure (all lesions when empty)."""

    path: Path
    roi: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    """The measurements of one scan: its geometry is read once, then each mask traced on it."""

    scan: Path
    series: str | None
    masks: tuple[MaskFile, ...]
    method: Method
    head: bool = False  # also each lesion's femoral head measures (reads the pixels)


def _why(exc: Exception) -> str:
    """The message of a failure that goes into the row's status."""
    if isinstance(exc, OnfhError):
        return str(exc)
    # One unforeseen file must not stop a cohort of thousands: the row says what happened.
    return f"internal error: {type(exc).__name__}: {exc} (a bug: please report it)"


def _attempt(work: Callable[[], T]) -> T | str:
    """Run ``work``; turn a failure into the message that goes into the row's status."""
    try:
        return work()
    except Exception as exc:
        return _why(exc)


def measure_scan(task: Task) -> list[Outcome]:
    """Measure every mask of ``task`` on its scan; one outcome per mask, in order.

    A scan that cannot be read gives its error to each of its masks; a mask that cannot be read
    or placed gives its own error, and the others are still measured. A folder of several series
    without ``task.series`` is measured as :func:`_on_referenced_series` says.
    """
    try:
        scan = load_scan(task.scan, series=task.series, pixels=task.head)
    except SeveralSeriesError as exc:
        if task.series is None:
            return _on_referenced_series(task, exc)
        return [_why(exc)] * len(task.masks)
    except Exception as exc:
        return [_why(exc)] * len(task.masks)
    return [_measure(task, scan, mask) for mask in task.masks]


def _on_referenced_series(task: Task, several: SeveralSeriesError) -> list[Outcome]:
    """Each mask on the series of the folder it references (a DICOM SEG or RTSTRUCT), each series
    read once; a mask that references none of them (a NIfTI mask) gets the folder's error."""
    scans: dict[str, Scan | str] = {}
    outcomes: list[Outcome] = []
    for mask in task.masks:
        try:
            series = series_for_mask(mask.path, several)
        except Exception as exc:
            outcomes.append(_why(exc))
            continue
        if series not in scans:
            scans[series] = _attempt(partial(load_scan, task.scan, series=series, pixels=task.head))
        scan = scans[series]
        outcomes.append(scan if isinstance(scan, str) else _measure(task, scan, mask))
    return outcomes


def _measure(task: Task, scan: Scan, mask: MaskFile) -> Outcome:
    return _attempt(partial(measure_file, scan, mask.path, task.method, mask.roi, heads=task.head))


def plan(
    manifest: Manifest, method: Method, head: bool = False
) -> tuple[list[Task], dict[int, tuple[int, int]]]:
    """Group the manifest's rows by scan (and series); a mask used by several rows (with the same
    ROIs) is measured once.

    Returns the tasks and, for each row (by line), its (task, mask) position in them.
    """
    # Each scan's masks in the order first listed, with their positions: a dict, not list.index,
    # which made planning quadratic in the masks per scan.
    masks: dict[tuple[Path, str | None], dict[MaskFile, int]] = {}
    for entry in manifest.entries:
        listed = masks.setdefault((entry.scan_path, entry.series), {})
        listed.setdefault(MaskFile(entry.mask_path, entry.roi), len(listed))
    keys = sorted(masks, key=lambda key: (str(key[0]), key[1] or ""))
    tasks = [Task(scan, series, tuple(masks[scan, series]), method, head) for scan, series in keys]
    number = {key: k for k, key in enumerate(keys)}
    where = {}
    for entry in manifest.entries:
        key = (entry.scan_path, entry.series)
        where[entry.line] = (number[key], masks[key][MaskFile(entry.mask_path, entry.roi)])
    return tasks, where


def default_jobs() -> int:
    """The cores this process may use (fewer than the machine's under a CPU affinity limit)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_count(jobs: int, tasks: int, measurements: int) -> int:
    """Local processes worth starting: at most ``jobs``, one per task, :data:`MIN_PER_WORKER` measurements each.

    Examples
    --------
    >>> worker_count(jobs=2, tasks=2, measurements=200), worker_count(jobs=2, tasks=500, measurements=96)
    (2, 1)
    """
    return max(1, min(jobs, tasks, measurements // MIN_PER_WORKER))


def measure_cohort(
    manifest: Manifest,
    method: Method,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    head: bool = False,
) -> dict[int, Outcome]:
    """Measure every row of ``manifest``.

    Parameters
    ----------
    jobs
        Processes to spread the scans over, at most; 1 measures in this process, as does a cohort
        too small to pay for starting processes (see :func:`worker_count`).
    scheduler
        Address of a Dask scheduler (``tcp://host:8786``): run the same tasks on its workers
        instead of local processes. Workers need onfh-volume installed and must see the files at
        the paths the manifest gives (a shared filesystem).
    progress
        Called after each scan with the number of measurements done and their total.
    head
        Also measure each lesion against its femoral head (the scans' pixels are read).

    Returns
    -------
    dict
        For each row (by its line), its measurement or the message why it failed.

    Raises
    ------
    OnfhError
        When the Dask scheduler cannot be reached.
    """
    tasks, where = plan(manifest, method, head)
    total = sum(len(task.masks) for task in tasks)
    done = 0

    def finished(outcomes: list[Outcome]) -> list[Outcome]:
        nonlocal done
        done += len(outcomes)
        if progress is not None:
            progress(done, total)
        return outcomes

    if scheduler is not None:
        results = _on_dask(tasks, scheduler, finished)
    elif (workers := worker_count(jobs, len(tasks), total)) == 1:
        results = [finished(measure_scan(task)) for task in tasks]
    else:
        results = _in_processes(tasks, workers, finished)
    return {line: results[k][m] for line, (k, m) in where.items()}


def _lost(task: Task, exc: BaseException) -> list[Outcome]:
    """Outcomes of a task whose worker died (killed, out of memory) before it could answer."""
    return [f"{task.scan}: not measured: the worker process failed ({type(exc).__name__}: {exc})"] * len(
        task.masks
    )


def measure_scans(tasks: list[Task]) -> list[list[Outcome]]:
    """:func:`measure_scan` of each task, in order: the work sent to a worker at once."""
    return [measure_scan(task) for task in tasks]


def _gather(
    completed: Iterable[tuple[range, Any]],
    tasks: list[Task],
    finished: Callable[[list[Outcome]], list[Outcome]],
) -> list[list[Outcome]]:
    """Collect (task numbers, future of :func:`measure_scans`) pairs as they complete, local or
    Dask futures alike."""
    results: list[list[Outcome]] = [[] for _ in tasks]
    for numbers, future in completed:
        try:
            outcomes = future.result()
        except Exception as exc:
            outcomes = [_lost(tasks[k], exc) for k in numbers]
        for k, outcome in zip(numbers, outcomes, strict=True):
            results[k] = finished(outcome)
    return results


def _in_processes(
    tasks: list[Task], workers: int, finished: Callable[[list[Outcome]], list[Outcome]]
) -> list[list[Outcome]]:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    executor = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_interrupts)
    try:
        # Submitting starts the workers; the caller's progress display (a thread) starts at the
        # first finished task, so no process is forked while another thread runs.
        size = max(1, len(tasks) // (workers * BATCHES_PER_WORKER))
        batches = [range(start, min(start + size, len(tasks))) for start in range(0, len(tasks), size)]
        futures = {executor.submit(measure_scans, [tasks[k] for k in batch]): batch for batch in batches}
        return _gather(((futures[future], future) for future in as_completed(futures)), tasks, finished)
    finally:
        # On Ctrl-C, do not wait for the scans still queued.
        executor.shutdown(wait=True, cancel_futures=True)


def _ignore_interrupts() -> None:
    """In a worker process: leave Ctrl-C to the parent, which cancels the run.

    Ctrl-C reaches every process of the terminal's group; a worker killed by it would break the
    pool, and its scans would come back as failed rows, written as if the batch had finished.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _on_dask(
    tasks: list[Task], address: str, finished: Callable[[list[Outcome]], list[Outcome]]
) -> list[list[Outcome]]:
    from ..extras import require

    require("dask", "measuring on a Dask scheduler")
    from distributed import Client, as_completed

    try:
        client = Client(address, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:
        raise OnfhError(None, f"cannot connect to the Dask scheduler at {address} ({exc})") from exc
    with client:
        futures: list[Any] = client.map(measure_scans, [[task] for task in tasks], pure=False)
        position = {future.key: range(k, k + 1) for k, future in enumerate(futures)}
        try:
            return _gather(
                ((position[future.key], future) for future in as_completed(futures, loop=client.loop)),
                tasks,
                finished,
            )
        except BaseException:
            # On Ctrl-C, free the cluster from the scans still queued.
            client.cancel(futures)
            raise
