"""Benchmark (a): ``onfh-volume batch`` against a SimpleITK script, whole process against whole process.

Two cohorts shaped like studies, built in a temporary folder:

- **small** (many masks on few series): two synthetic 24 x 200 x 240 series (baseline and
  follow-up) and 96 gzipped NIfTI masks (48 patients, one hip each, traced on them), the size of a
  pilot study, where start-up and worker processes weigh most;
- **large** (one series per mask): 500 patients with one hip each, measured at baseline and
  follow-up (1000 measurements), from the sample scans; every measurement has its own series
  folder and mask path (symbolic links to the sample files), so each series is a real read of 14
  DICOM files.

The SimpleITK script is what a researcher writes in an afternoon: for each manifest row, read the
series with ``ImageSeriesReader`` (SliceThickness from its metadata) unless an earlier row read
that folder already (it keeps every series read), read the mask, count the voxels of the hip's
label, then compute the changes and the 15% categories and write a CSV.

Every command runs as a whole process (start-up included, its modules compiled to bytecode as an
installation has them); the commands of a cohort take turns (interleaved, so that the load other
work puts on a shared machine hits every command alike), one uncounted round first (page cache,
bytecode, and a check that the result tables agree), then ``--rounds`` rounds; medians are
compared, with the load average at each round. Each run's wall time and CPU time (user + system
of the whole process tree, worker processes included) are recorded: on a shared machine, other
work stretches wall time but hardly CPU time, so the CPU ratio is the fairer figure there.
Targets (issue 21): small cohort, batch at most 0.8x the script's time; large cohort, batch with
the machine's processes at most 0.5x. Where a measurement's time goes is timed in this process
against the floor, inflating the gzipped mask. Figures go to ``docs/performance/batch.md``; the
script exits with 1 when a target is missed.

Run: ``make bench`` (every benchmark), or ``.venv/bin/python benchmarks/bench_cohort.py
[--rounds N] [--cohort small|large]`` after ``.venv/bin/pip install -e '.[all,test,bench]'``
(a report of one cohort only is printed, not written).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import gzip
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from cohorts import HIPS, SMALL_PATIENTS, SMALL_SHAPE, sample_cohort, small_cohort

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "performance" / "batch.md"
RUNS = 5
#: Measurements timed one by one, in this process, to say where a measurement's time goes.
PROFILED = 40
BATCH, BATCH_ONE, VALIDATE, SCRIPT, STARTUP, SCRIPT_STARTUP = (
    "`onfh-volume batch` (default: one process per core)",
    "`onfh-volume batch --jobs 1`",
    "`onfh-volume batch --validate` (manifest only)",
    "SimpleITK script (one process)",
    "start-up of batch: Python and the modules a batch imports, nothing run",
    "start-up of the script: Python, numpy and SimpleITK imported, nothing run",
)
#: What a measuring batch imports (see `python -X importtime`), and what the script imports.
BATCH_IMPORTS = (
    "import onfh_volume.cli, onfh_volume.cli.batch, onfh_volume.batch.outputs, onfh_volume.batch.run, "
    "onfh_volume.measure_files, onfh_volume.load.nifti"
)
SCRIPT_IMPORTS = "import csv, numpy, SimpleITK"
#: (cohort, measured line, reference line, the most its time may be as a fraction of the reference's).
TARGETS = (
    ("small", BATCH, SCRIPT, 0.8),
    ("large", BATCH, SCRIPT, 0.5),
)

#: The script a researcher would write, run by the same Python: `simpleitk_volumes.py MANIFEST OUTPUT`.
SIMPLEITK_SCRIPT = Path(__file__).with_name("simpleitk_volumes.py")


#: The commands' environment: bytecode written and read, as an installed package has it compiled.
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> tuple[float, float]:
    """Wall-clock seconds of a whole process, and the CPU seconds (user + system) of it and every
    process it waited for; its failure stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=ENVIRONMENT)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def agree(batch_csv: Path, simpleitk_csv: Path) -> None:
    """Both tools found the same volumes and categories for every hip, or the benchmark is void."""

    def table(path: Path, volume: str) -> dict[tuple[str, str], tuple[float, float, str]]:
        with open(path, newline="") as f:
            return {
                (row["patient_id"], row["side"]): (
                    float(row[volume]),
                    float(row["followup_volume_cm3"]),
                    row["category"],
                )
                for row in csv.DictReader(f)
            }

    ours, theirs = table(batch_csv, "baseline_volume_cm3"), table(simpleitk_csv, "baseline_volume_cm3")
    if ours.keys() != theirs.keys():
        sys.exit("batch and the SimpleITK script report different hips")
    for hip, (before, after, category) in ours.items():
        other = theirs[hip]
        if abs(before - other[0]) > 1e-6 or abs(after - other[1]) > 1e-6 or category != other[2]:
            sys.exit(f"{hip}: batch says {before}, {after}, {category}; SimpleITK says {other}")


@dataclass
class Cohort:
    """One cohort's timed runs per command (wall and CPU seconds), the load average at each round,
    and where a measurement's time goes."""

    name: str
    measurements: int
    runs: dict[str, list[float]]
    cpu: dict[str, list[float]]
    loads: list[float]
    parts_ms: dict[str, float]

    def median(self, line: str) -> float:
        return statistics.median(self.runs[line])

    def ratio(self, line: str) -> float:
        return self.median(line) / self.median(SCRIPT)

    def cpu_median(self, line: str) -> float:
        return statistics.median(self.cpu[line])

    def cpu_ratio(self, line: str) -> float:
        return self.cpu_median(line) / self.cpu_median(SCRIPT)


def commands(folder: Path, manifest: Path) -> dict[str, list[str]]:
    """The whole-process commands compared on a cohort, by report line."""
    onfh_volume = str(Path(sys.executable).parent / "onfh-volume")
    batch = [onfh_volume, "batch", str(manifest), "-o", str(folder / "batch.csv"), "--force", "--quiet"]
    return {
        BATCH: batch,
        BATCH_ONE: [*batch, "--jobs", "1"],
        SCRIPT: [sys.executable, str(SIMPLEITK_SCRIPT), str(manifest), str(folder / "simpleitk.csv")],
        VALIDATE: [onfh_volume, "batch", str(manifest), "--validate"],
        STARTUP: [sys.executable, "-c", BATCH_IMPORTS],
        SCRIPT_STARTUP: [sys.executable, "-c", SCRIPT_IMPORTS],
    }


def run_cohort(name: str, build: Callable[[Path], Path], rounds: int) -> Cohort:
    """Build a cohort, check both tools agree on it, then time every command in turns."""
    with tempfile.TemporaryDirectory(prefix=f"onfh-bench-cohort-{name}-") as temporary:
        folder = Path(temporary)
        manifest = build(folder)
        cases = commands(folder, manifest)
        for command in cases.values():  # warm-up round: page cache, and both result tables
            timed(command)
        agree(folder / "batch.csv", folder / "simpleitk.csv")
        runs: dict[str, list[float]] = {line: [] for line in cases}
        cpu: dict[str, list[float]] = {line: [] for line in cases}
        loads = []
        for _ in range(rounds):
            loads.append(os.getloadavg()[0])
            for line, command in cases.items():
                wall, seconds = timed(command)
                runs[line].append(wall)
                cpu[line].append(seconds)
        parts = where_the_time_goes(manifest)
        measurements = len(manifest.read_text().splitlines()) - 1
    return Cohort(name, measurements, runs, cpu, loads, parts)


#: The parts of one measurement timed by :func:`where_the_time_goes`, in the report's words.
ZLIB = "inflating the gzipped mask with zlib (gzip.decompress, CRC32 checked), as batch did before"
FLOOR = (
    "inflating the gzipped mask with ISA-L (isal, CRC32 checked) into a buffer of the stated length, "
    "as batch does: the floor"
)
MASK = "the mask on the grid: inflate, NIfTI header, qform/sform, grid match, label checks, lesion voxels"
MEASURE = "measuring: pixels per label and slice, side, both volumes"
GEOMETRY = "the scan's geometry, read once per series (load_scan(..., pixels=False)), per measurement"


def where_the_time_goes(manifest: Path) -> dict[str, float]:
    """Median CPU milliseconds per measurement of each part, in this process (the load of other
    processes slows CPU time less than wall time), over the manifest's first PROFILED rows."""
    from onfh_volume.batch.manifest import read_manifest
    from onfh_volume.load import load_scan
    from onfh_volume.load.nifti import _inflated
    from onfh_volume.mask import mask_on_grid
    from onfh_volume.volume import measure_voxels

    entries = read_manifest(manifest).entries[:PROFILED]
    series = {entry.scan_path for entry in entries}
    times: dict[str, list[float]] = {ZLIB: [], FLOOR: [], MASK: [], MEASURE: [], GEOMETRY: []}
    for _ in range(3):
        start = time.process_time()
        scans = {path: load_scan(path, pixels=False) for path in series}
        times[GEOMETRY].append((time.process_time() - start) / len(entries))
        for entry in entries:
            data = entry.mask_path.read_bytes()
            start = time.process_time()
            gzip.decompress(data)
            times[ZLIB].append(time.process_time() - start)
            start = time.process_time()
            _inflated(data)
            middle = time.process_time()
            mask = mask_on_grid(entry.mask_path, scans[entry.scan_path])
            end = time.process_time()
            measure_voxels(scans[entry.scan_path], mask.voxels, mask.values)
            times[FLOOR].append(middle - start)
            times[MASK].append(end - middle)
            times[MEASURE].append(time.process_time() - end)
    return {part: 1000 * statistics.median(values) for part, values in times.items()}


NOTES = [
    "**How batch gets there**: a command imports only what it uses (rich only when it prints: a "
    "quiet batch never does; concurrent.futures only to read DICOM pixels), and a plain DICOM "
    "series with NIfTI masks needs neither pydicom, scipy nor nibabel: the DICOM header reader "
    "converts the values the loader reads itself (`onfh_volume/load/dicom_header.py`), and a NIfTI "
    "header nibabel would read as stored (standard sizes and magic, a plain datatype, pixdim and "
    "codes as the standard has them, no extension, no scaling) is read by "
    "`onfh_volume/load/nifti_header.py`, its qform and sform computed as nibabel computes them "
    "(tested equal on random headers); any other file still goes to nibabel, decided per file. "
    "A gzipped mask is inflated by ISA-L (`isal`), twice as fast as zlib, its CRC32 and length "
    "checked, into a buffer of the length its gzip trailer states: a buffer grown while inflating "
    "was mapped afresh for every mask, a page fault for every 4 kB of data, which made the inflate "
    "several times slower in a batch than its figure above (measured on memory already in use). "
    "Its lesion voxels are found once, in the file's own memory order (zero bytes skipped "
    "8 at a time), checked there (whole, non-negative, at most 100 labels) and mapped onto the "
    "scan's grid in the grid's order: the measure gets the same voxels in the same order, without "
    "another pass over the grid. Each series' geometry is read once per batch (the work is grouped "
    "by series), with its checks; each mask's own checks (grid match against the scan's affine, "
    "labels, the gzip checksum) are all kept. Worker processes start only when each gets at least "
    "`MIN_PER_WORKER` measurements, and get their scans in a few batches "
    "(`onfh_volume/batch/run.py`). The start-up leaves out what a plain batch does not use: a "
    "command builds only its own options, temporary names come from `os.urandom` (not `secrets`, "
    "which imports hashlib and random), the slice step's median is computed without `statistics`, "
    "and difflib and the DICOMweb client are imported only by the runs that need them.",
]


def missed_note(cohorts: dict[str, Cohort]) -> list[str]:
    """Where a cohort's time goes against the script's, when its target is missed."""
    return _small_missed(cohorts.get("small")) + _large_missed(cohorts.get("large"))


def _large_missed(large: Cohort | None) -> list[str]:
    if large is None or large.ratio(BATCH) <= 0.5:
        return []
    return [
        "",
        f"**Where the large target is missed**: each measurement reads its own series' 14 DICOM "
        f"headers ({large.parts_ms[GEOMETRY]:.1f} ms of CPU, the geometry line above, against "
        f"{large.parts_ms[MASK] + large.parts_ms[MEASURE]:.1f} ms for the mask and the measure), and "
        f"the second process adds CPU time ({large.cpu_median(BATCH):.1f} s against "
        f"{large.cpu_median(BATCH_ONE):.1f} s with `--jobs 1`) on this machine, whose 2 cores the "
        f"other work shares: `--jobs 1` gave {large.ratio(BATCH_ONE):.2f}x here.",
    ]


def _small_missed(small: Cohort | None) -> list[str]:
    if small is None or small.ratio(BATCH) <= 0.8:
        return []
    ours = (small.cpu_median(BATCH_ONE) - small.cpu_median(STARTUP)) / small.measurements
    theirs = (small.cpu_median(SCRIPT) - small.cpu_median(SCRIPT_STARTUP)) / small.measurements
    return [
        "",
        f"**Where the small target is missed** (CPU medians): the script's start-up (Python, numpy, "
        f"SimpleITK) takes {small.cpu_median(SCRIPT_STARTUP):.2f} s of its {small.cpu_median(SCRIPT):.2f} s, "
        f"batch's (Python, numpy, onfh-volume) {small.cpu_median(STARTUP):.2f} s of "
        f"{small.cpu_median(BATCH_ONE):.2f} s with `--jobs 1`. The rest is {1000 * theirs:.1f} ms per "
        f"measurement for the script (both series read once), {1000 * ours:.1f} ms for batch (series "
        "geometry, manifest, checks, measures, the change table and its atomic write included), "
        f"whose mask alone costs {small.parts_ms[MASK] + small.parts_ms[MEASURE]:.2f} ms in the table "
        "above: on 96 measurements, both start-ups weigh as much as all the measuring, and numpy's "
        "import alone, which both pay, is about a third of each run.",
    ]


def table_rows(cohort: Cohort) -> list[str]:
    return [
        f"| {cohort.name} ({cohort.measurements} measurements): {line} | {cohort.median(line):.2f} | "
        f"{cohort.ratio(line):.2f} | {cohort.cpu_median(line):.2f} | {cohort.cpu_ratio(line):.2f} | "
        f"{', '.join(f'{t:.2f}' for t in runs)} |"
        for line, runs in cohort.runs.items()
    ]


def target_rows(cohorts: dict[str, Cohort]) -> list[tuple[str, float, float, float, bool]]:
    """Each target: its description, the measured wall and CPU ratios, the limit and whether the
    wall ratio (the issue's measure) meets it."""
    return [
        (
            f"{name}: {line} / {reference}",
            cohorts[name].ratio(line),
            cohorts[name].cpu_ratio(line),
            limit,
            cohorts[name].ratio(line) <= limit,
        )
        for name, line, reference, limit in TARGETS
        if name in cohorts
    ]


def parts_rows(cohort: Cohort) -> list[str]:
    floor = cohort.parts_ms[FLOOR]
    return [
        f"| {cohort.name} | {part} | {ms:.2f} | {ms / floor:.1f} |" for part, ms in cohort.parts_ms.items()
    ]


def report(cohorts: dict[str, Cohort], rounds: int) -> str:
    """The markdown report, from the figures."""
    loads = ", ".join(
        f"{cohort.name} {min(cohort.loads):.1f} to {max(cohort.loads):.1f}" for cohort in cohorts.values()
    )
    return "\n".join(
        [
            "# Cohort batch: `onfh-volume batch` vs a SimpleITK script",
            "",
            f"Written by `benchmarks/bench_cohort.py` (run `make bench`) on "
            f"{datetime.datetime.now().astimezone().isoformat(timespec='minutes')}.",
            "",
            f"**Cohorts**, shaped like studies: *small*, many masks on few series: two synthetic "
            f"{' x '.join(map(str, SMALL_SHAPE))} series (baseline, follow-up) and {2 * SMALL_PATIENTS} "
            f"gzipped NIfTI masks ({SMALL_PATIENTS} patients, one hip each); *large*, one series per "
            f"mask: {HIPS} patients with one hip each at baseline and follow-up, every measurement with "
            "its own 14-file series folder and mask (links to the sample scans). Output: volumes, "
            "change and 15% category per hip in a CSV; the two tools' tables agree for every hip. The "
            "SimpleITK script reads each series folder once (it keeps the images it read) and each "
            "mask. Whole processes (start-up included), taking turns in each round (interleaved: the "
            "load of other work on this shared machine falls on every command alike), after one "
            f"uncounted round; medians of {rounds} rounds. Load average (1 min) at the rounds' "
            f"starts: {loads}. The machine is shared: other work stretches wall time but hardly "
            "CPU time, so each command's CPU time (user + system of its whole process tree, worker "
            "processes included) is given too, and the CPU ratio is the fairer figure under load.",
            "",
            "| cohort: command | median wall (s) | wall ratio to the script | median CPU (s) | "
            "CPU ratio to the script | runs, wall (s) |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
            *(row for cohort in cohorts.values() for row in table_rows(cohort)),
            "",
            "| target: time ratio | wall ratio | CPU ratio | at most | met (wall) |",
            "| --- | ---: | ---: | ---: | --- |",
            *(
                f"| {name} | {figure:.2f} | {cpu:.2f} | {limit:.2f} | {'yes' if met else '**no**'} |"
                for name, figure, cpu, limit, met in target_rows(cohorts)
            ),
            "",
            f"**Where a measurement's time goes**, in one process (median CPU time of {PROFILED} "
            "measurements x 3, in ms; CPU time, as the load of other work inflates wall time more), "
            "against the floor, inflating the mask alone:",
            "",
            "| cohort | part | ms per measurement | x the floor |",
            "| --- | --- | ---: | ---: |",
            *(row for cohort in cohorts.values() for row in parts_rows(cohort)),
            "",
            *NOTES,
            *missed_note(cohorts),
            "",
            f"**Machine**: {machine()}.",
            "",
        ]
    )


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    versions = ", ".join(
        f"{name} {version(name)}"
        for name in ("onfh-volume", "numpy", "pydicom", "nibabel", "isal", "SimpleITK")
    )
    return (
        f"{cpu}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; {versions}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=RUNS, help=f"timed rounds per cohort (default {RUNS})")
    parser.add_argument(
        "--cohort", choices=("small", "large"), help="one cohort only: printed, docs/performance not written"
    )
    args = parser.parse_args()
    builders = {"small": small_cohort, "large": sample_cohort}
    names = [args.cohort] if args.cohort else list(builders)
    cohorts = {name: run_cohort(name, builders[name], args.rounds) for name in names}
    text = report(cohorts, args.rounds)
    print(text)
    if args.cohort is None:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(text)
        print(f"written {REPORT.relative_to(ROOT)}")
    return 0 if all(met for *_, met in target_rows(cohorts)) else 1


if __name__ == "__main__":
    sys.exit(main())
