"""Speed of loading a DICOM series, against the tools a user would otherwise reach for (issue 4).

Writes a synthetic 160-slice 512 x 512 uint16 coronal MR series (explicit VR little endian, each
file carrying the header of a real Siemens MR image) to a temporary folder, then times, in the
same run and on the same files:

- in-process: ``load_scan(folder)`` (geometry and pixels), ``load_scan(folder, pixels=False)``,
  SimpleITK's ``ImageSeriesReader`` (``GetGDCMSeriesFileNames`` + ``Execute``), dicom2nifti's
  ``dicom_series_to_nifti`` (the NIfTI image in memory: no file written, no reorientation) and,
  for the geometry-only figure, pydicom reading every header;
- whole process (wall time including Python start-up): ``onfh-volume info FOLDER`` and a
  ``python -c`` script that imports SimpleITK and reads the series; and, to explain those, the
  start-up alone (``import onfh_volume.cli``, ``import SimpleITK``).

Every figure is the median of RUNS runs after one warm-up run; the tools take turns, so a
disturbance (this machine may be shared) hits them alike. The files are in the OS page cache for
every tool. Prints a table, writes ``docs/performance/loading.md`` and exits 1 when a target is
missed:

- full load in-process at most half of SimpleITK's time;
- ``onfh-volume info`` whole process at most 0.8x the whole-process SimpleITK read (issue 9).
"""

from __future__ import annotations

import datetime
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk
from dicom2nifti.convert_dicom import dicom_series_to_nifti
from pydicom.data import get_testdata_file

from onfh_volume.load import load_scan
from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series

SLICES, ROWS, COLUMNS = 160, 512, 512
RUNS = 11
# A scanner's header: 42 kB with Siemens CSA private elements, sequences and an icon image.
SCANNER_HEADER = "MR-SIEMENS-DICOM-WithOverlays.dcm"
# Groups not copied from it: the image pixel module (written for this image), its overlays
# (drawn for a 484 x 484 image) and its pixel data.
OWN_GROUPS = {0x0028, 0x7FE0, *range(0x6000, 0x6020, 2)}
#: What `onfh-volume info` spends its start-up on (one `python -X importtime` run).
START_UP_MODULES = (
    "onfh_volume.cli",
    "onfh_volume.load",
    "pydicom",
    "gdcm",
    "requests",
    "numpy",
    "rich.console",
    "nibabel",
    "importlib.metadata",
)
IN_PROCESS_TARGET = 0.5
WHOLE_PROCESS_TARGET = 0.8
REPORT = Path(__file__).resolve().parents[1] / "docs" / "performance" / "loading.md"
SITK, OURS = "SimpleITK ImageSeriesReader", "load_scan(folder)"
SITK_PROCESS, INFO = "python -c <import SimpleITK, read the series>", "onfh-volume info FOLDER"
SITK_IMPORT, OURS_IMPORT = "python -c 'import SimpleITK'", "python -c 'import onfh_volume.cli'"
SITK_SCRIPT = (
    "import sys; import SimpleITK as sitk; reader = sitk.ImageSeriesReader(); "
    "reader.SetFileNames(reader.GetGDCMSeriesFileNames(sys.argv[1])); "
    "image = reader.Execute(); print(image.GetSize(), image.GetSpacing())"
)


def write_benchmark_series(folder: Path) -> None:
    """The benchmark series: 12-bit values in uint16, 0.5 mm pixels, 1 mm slices touching."""
    stored = np.random.default_rng(0).integers(0, 1 << 12, (SLICES, ROWS, COLUMNS)).astype(np.uint16)
    datasets = dicom_slices(
        np.zeros((SLICES, ROWS, COLUMNS), np.int16),
        pixel_spacing=(0.5, 0.5),
        slice_thickness=1.0,
        positions=stack_positions((-128.0, 0.0, 128.0), CORONAL, 1.0, SLICES),
        uid_seed="bench_load",
    )
    scanner = pydicom.dcmread(get_testdata_file(SCANNER_HEADER), stop_before_pixels=True)
    for ds, image in zip(datasets, stored, strict=True):
        for element in scanner:
            if element.tag not in ds and element.tag.group not in OWN_GROUPS:
                ds.add(element)
        ds.PixelRepresentation, ds.BitsStored, ds.HighBit = 0, 12, 11
        ds.PixelData = image.astype("<u2").tobytes()
    write_series(folder, datasets)


def in_process(folder: Path) -> dict[str, Callable[[], object]]:
    def simpleitk() -> sitk.Image:
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
        return reader.Execute()

    return {
        SITK: simpleitk,
        OURS: lambda: load_scan(folder),
        "load_scan(folder, pixels=False)": lambda: load_scan(folder, pixels=False),
        "pydicom dcmread(stop_before_pixels=True) of every file": lambda: [
            pydicom.dcmread(file, stop_before_pixels=True) for file in sorted(folder.iterdir())
        ],
        "dicom2nifti dicom_series_to_nifti": lambda: dicom_series_to_nifti(str(folder), None, False),
    }


def whole_process(folder: Path) -> dict[str, Callable[[], object]]:
    console_script = str(Path(sys.executable).parent / "onfh-volume")

    def run(*command: str) -> Callable[[], object]:
        return lambda: subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    return {
        SITK_PROCESS: run(sys.executable, "-c", SITK_SCRIPT, str(folder)),
        INFO: run(console_script, "info", str(folder)),
    }


def start_up() -> dict[str, Callable[[], object]]:
    def run(*command: str) -> Callable[[], object]:
        return lambda: subprocess.run(command, check=True)

    return {
        SITK_IMPORT: run(sys.executable, "-c", "import SimpleITK"),
        OURS_IMPORT: run(sys.executable, "-c", "import onfh_volume.cli"),
    }


def import_times(folder: Path) -> dict[str, float]:
    """Cumulative import time (s) of START_UP_MODULES in one ``onfh-volume info FOLDER``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "onfh_volume.cli", "info", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    times: dict[str, float] = {}
    for line in result.stderr.splitlines():
        fields = line.split("|")
        if len(fields) == 3 and fields[2].strip() in START_UP_MODULES:
            times.setdefault(fields[2].strip(), int(fields[1]) / 1e6)
    return {name: times[name] for name in START_UP_MODULES if name in times}


def medians(cases: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median wall time (s) of each case over RUNS rounds, after one warm-up round."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_number in range(RUNS + 1):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            if round_number:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def check_same_voxels(folder: Path) -> None:
    """The speed must not cost exactness: our voxels are SimpleITK's."""
    ours = load_scan(folder).voxels
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    if not np.array_equal(ours, sitk.GetArrayFromImage(reader.Execute())):
        raise SystemExit("load_scan and SimpleITK disagree on the voxels")


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    packages = ", ".join(
        f"{name} {version(name)}"
        for name in ("onfh-volume", "numpy", "pydicom", "nibabel", "SimpleITK", "dicom2nifti")
    )
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; RAM {memory_kb / 1024**2:.1f} GiB; {platform.platform()}",
        f"Python {platform.python_version()}; {packages}",
    ]


def figures_table(groups: list[tuple[str, dict[str, float]]]) -> list[str]:
    """Figures per group with their ratio to the group's first (reference) line."""
    rows = ["| measurement | median (s) | ratio to the group's first line |", "| --- | ---: | ---: |"]
    for group, figures in groups:
        reference = next(iter(figures.values()))
        rows += [
            f"| {group}: {name} | {seconds:.3f} | {seconds / reference:.2f} |"
            for name, seconds in figures.items()
        ]
    return rows


def targets_table(targets: list[tuple[str, float, float]]) -> list[str]:
    return [
        "| target | ratio | limit | met |",
        "| --- | ---: | ---: | --- |",
        *(
            f"| {name} | {ratio:.2f} | {limit:.2f} | {'yes' if ratio <= limit else '**no**'} |"
            for name, ratio, limit in targets
        ),
    ]


HOW = [
    "## How the loader gets there",
    "",
    "- Headers of uncompressed little-endian files are stepped over by tag and length "
    "(`onfh_volume/load/dicom_header.py`), which converts the values of the few elements the "
    "loader uses itself, as pydicom would, once per distinct value in a series (pydicom's own "
    "parse of every header is the `dcmread` line above). Other files (compressed, big endian, "
    "deflated, Enhanced MR, other character sets, values pydicom would read otherwise) are read "
    "by pydicom.",
    "- Uncompressed 8/16-bit greyscale pixel data is read by `readinto` at its offset straight "
    "into one preallocated (slices, rows, columns) array, by two threads (file reads and numpy "
    "release the GIL), with pydicom's clearing of the bits above BitsStored; everything else is "
    "decoded by pydicom. Voxels are identical to pydicom's `pixel_array` (and SimpleITK's: the "
    "benchmark checks it).",
    '- A geometry-only load reads no pixel bytes (see the user guide, "Reading the geometry only"); '
    "`onfh-volume info` is one.",
]


def start_up_section(imports: dict[str, float], split: tuple[float, float, float, float]) -> list[str]:
    """Where the whole-process time goes: cumulative import times, start-up against the rest."""
    return [
        "## Where `onfh-volume info` spends its time",
        "",
        "Most of it goes to start-up, before any file is read. Cumulative import times in one "
        "`python -X importtime -m onfh_volume.cli info FOLDER` run (nested: a package's time includes "
        "what it imports first):",
        "",
        "| module | seconds |",
        "| --- | ---: |",
        *(f"| {name} | {seconds:.3f} |" for name, seconds in imports.items()),
        "",
        "The command imports only what it uses: no nibabel, no numpy.ma, no importlib.metadata of its "
        "own (the version is read only for `--version` and JSON results), and no pydicom on a plain "
        "series: the header reader converts the values it keeps itself (pydicom imports its "
        "decoder plugins' libraries, gdcm when installed, and `pydicom.data` with requests: about "
        "0.2 s; a module above that is not listed was not imported). Start-up (importing "
        "the command line, `python -c 'import onfh_volume.cli'`; the loader is imported by `info` "
        "itself) and the rest, median whole process minus median start-up: onfh-volume "
        f"{split[0]:.3f} s + {split[1]:.3f} s, SimpleITK {split[2]:.3f} s + {split[3]:.3f} s.",
    ]


def report(
    groups: list[tuple[str, dict[str, float]]],
    targets: list[tuple[str, float, float]],
    imports: dict[str, float],
    split: tuple[float, float, float, float],
    loads: tuple[float, float],
    size_mb: float,
) -> str:
    """The markdown report."""
    today = datetime.datetime.now().astimezone().isoformat(timespec="minutes")
    lines = [
        "# Loading a DICOM series",
        "",
        f"Measured by `benchmarks/bench_load.py` on {today}. Series: {SLICES} slices of {ROWS} x {COLUMNS} "
        f"uint16 (12 bits stored), explicit VR little endian, {size_mb:.0f} MB; every file carries the "
        f"header of a real Siemens MR image (pydicom-data `{SCANNER_HEADER}`: CSA private elements, "
        "sequences, an icon image). The files are in the OS page cache for every tool (written just "
        f"before, read once as warm-up). Median wall time of {RUNS} runs; the tools take turns. "
        "`onfh-volume info` reads the geometry only (`load_scan(..., pixels=False)`); "
        "dicom2nifti builds its NIfTI image in memory (no file written, no reorientation).",
        "",
        *figures_table(groups),
        "",
        *targets_table(targets),
        "",
        f"Load average (1 min) before and after: {loads[0]:.2f}, {loads[1]:.2f}. The machine is shared "
        "with other developers' work: it slows every tool alike but adds noise, hence medians of "
        "alternating runs.",
        "",
        *HOW,
        "",
        *start_up_section(imports, split),
        "",
        "## Machine",
        "",
        *(f"- {line}" for line in machine()),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    logging.getLogger("dicom2nifti").setLevel(logging.ERROR)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="onfh-bench-load-") as tmp:
        folder = Path(tmp) / "series"
        write_benchmark_series(folder)
        size_mb = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
        check_same_voxels(folder)
        groups = [
            ("in-process", medians(in_process(folder))),
            ("whole process", medians(whole_process(folder))),
            ("start-up only", medians(start_up())),
        ]
        imports = import_times(folder)
    figures = {name: seconds for _, group in groups for name, seconds in group.items()}
    targets = [
        ("load_scan / SimpleITK, in-process", figures[OURS] / figures[SITK], IN_PROCESS_TARGET),
        (
            "onfh-volume info / SimpleITK, whole process",
            figures[INFO] / figures[SITK_PROCESS],
            WHOLE_PROCESS_TARGET,
        ),
    ]
    start_ours, start_sitk = figures[OURS_IMPORT], figures[SITK_IMPORT]
    split = (start_ours, figures[INFO] - start_ours, start_sitk, figures[SITK_PROCESS] - start_sitk)
    text = report(groups, targets, imports, split, (load_before, os.getloadavg()[0]), size_mb)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text)
    print(text)
    print(f"written to {REPORT}")
    return 0 if all(ratio <= limit for _, ratio, limit in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
