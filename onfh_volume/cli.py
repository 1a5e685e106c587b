"""The ``onfh-volume`` command: scan geometry, lesion volumes, baseline/follow-up change, cohorts.

Exit codes: 0 success; 2 the input cannot be measured (one line on stderr naming the file and
the problem; for a bad manifest, one line per problem); 3 a batch ran but some hips failed (their
status in the results says why); 1 an internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .change import DEFAULT_THRESHOLD_PCT, compare
from .cohort.manifest import Manifest, read_manifest
from .cohort.outputs import check_outputs, write_outputs
from .cohort.results import COUNT_COLUMNS, OK, category_counts, hip_rows
from .cohort.run import default_jobs, measure_cohort
from .errors import ManifestError, OnfhError, OutputExistsError
from .export import comparison_dict, measurement_dict, scan_info, to_json
from .load import load_scan
from .mask import load_mask
from .volume import METHODS, Measurement, measure_file

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_SOME_FAILED = 0, 1, 2, 3
#: Failed hips listed on stderr after a batch; the rest are in the results' status column.
LISTED_FAILURES = 10


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive percentage, not {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onfh-volume",
        description="Necrotic lesion volume of osteonecrosis of the femoral head on hip MRI "
        "(sum of traced area x slice thickness, and the Cavalieri sum of area x slice spacing).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def method_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--method",
            choices=METHODS,
            default="thickness",
            help="volume reported as THE volume: area x slice thickness (the study's method, default) or "
            "area x slice spacing (Cavalieri); both are always computed",
        )

    def threshold_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--threshold",
            type=_positive,
            default=DEFAULT_THRESHOLD_PCT,
            help="change (%%) that counts as increase or decrease; default 15 (|change| < 15%% = no change)",
        )

    info = commands.add_parser("info", help="geometry of a scan (DICOM folder or file, NIfTI)")
    info.add_argument("scan")
    info.add_argument("--series", help="SeriesInstanceUID or SeriesNumber, when the folder holds several")
    info.add_argument("--json", action="store_true", help="machine-readable output")

    meas = commands.add_parser("measure", help="volume of each lesion of a mask")
    meas.add_argument("scan")
    meas.add_argument(
        "mask", help="NIfTI label image on the scan's grid (0 = background, one label per lesion)"
    )
    meas.add_argument("--series", help="SeriesInstanceUID or SeriesNumber, when the folder holds several")
    method_option(meas)
    meas.add_argument("--json", action="store_true", help="machine-readable output")

    comp = commands.add_parser("compare", help="per-hip change between a baseline and a follow-up")
    for when in ("baseline", "followup"):
        comp.add_argument(f"{when}_scan", metavar=f"{when.upper()}_SCAN")
        comp.add_argument(f"{when}_mask", metavar=f"{when.upper()}_MASK")
    comp.add_argument("--baseline-series", help="series to use from the baseline folder")
    comp.add_argument("--followup-series", help="series to use from the follow-up folder")
    threshold_option(comp)
    method_option(comp)
    comp.add_argument("--json", action="store_true", help="machine-readable output")

    view = commands.add_parser(
        "view", help="open napari with the scan, its mask and the Lesion volume widget (onfh-volume[napari])"
    )
    view.add_argument("scan", nargs="?")
    view.add_argument("mask", nargs="?", help="lesion mask to go on tracing (NIfTI on the scan's grid)")
    view.add_argument("--series", help="SeriesInstanceUID or SeriesNumber, when the folder holds several")

    batch = commands.add_parser(
        "batch",
        help="a cohort: a manifest of scans and masks in, one row per hip out",
        description="Measure every scan and mask listed in a manifest (CSV with columns patient_id, "
        "timepoint, scan, mask and optionally side, reader, group, series; paths relative to the "
        "manifest's folder) and write one row per hip (patient, side, reader): volumes at both "
        "timepoints, change and category. Exit codes: 0 every hip measured; 3 some hips failed (their "
        "status column says why); 2 a bad manifest (every problem listed) or a bad option.",
    )
    batch.add_argument("manifest", metavar="MANIFEST.csv")
    batch.add_argument(
        "-o", "--output", metavar="RESULTS.csv", help="one row per hip (required unless --validate)"
    )
    method_option(batch)
    threshold_option(batch)
    where = batch.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs",
        type=_count,
        help=f"processes to measure in (default: this machine's cores, here {default_jobs()}); 1 = this process",
    )
    where.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="measure on this Dask cluster (e.g. tcp://host:8786) instead of local processes; its workers "
        "need onfh-volume and must see the files at the manifest's paths",
    )
    batch.add_argument(
        "--per-slice",
        metavar="PER_SLICE.csv",
        help="also write every lesion's traced area per slice (long format)",
    )
    batch.add_argument(
        "--report",
        metavar="REPORT.html",
        help="also write an HTML report: waterfall plot, counts per group, table",
    )
    batch.add_argument("--force", action="store_true", help="overwrite output files that exist")
    batch.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    batch.add_argument(
        "--validate",
        action="store_true",
        help="only check the manifest (columns, values, paths), measure nothing",
    )
    return parser


def _view(args: argparse.Namespace) -> None:
    # Scan and mask are read before any window opens, so a bad path gets the one-line error.
    scan = None if args.scan is None else load_scan(args.scan, series=args.series)
    labels = None if args.mask is None or scan is None else load_mask(args.mask, scan)
    try:
        # The one way from the core into the GUI: the plugin (and napari with it) is loaded by
        # name, only for this command, so the core itself never imports napari or Qt.
        viewer = importlib.import_module("napari_onfh_volume.view")
    except ImportError as exc:
        raise OnfhError(
            None, f"the napari viewer is not installed ({exc}): pip install 'onfh-volume[napari]'"
        ) from exc
    viewer.run(scan, labels)


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _warn(console: Console, warnings: Sequence[str]) -> None:
    for warning in warnings:
        console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)


def _measure(scan_path: str, mask_path: str, method: Any, series: str | None) -> Measurement:
    return measure_file(load_scan(scan_path, series=series, pixels=False), mask_path, method)


def _print_info(out: Console, data: dict[str, Any]) -> None:
    table = Table(title=escape(data["source"]), show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    table.add_row("shape (slices, rows, columns)", " x ".join(map(str, data["shape"])))
    table.add_row(
        "pixel spacing (row, column)", " x ".join(f"{v:.4g}" for v in data["pixel_spacing_mm"]) + " mm"
    )
    table.add_row("slice thickness", _number(data["slice_thickness_mm"], 4) + " mm")
    table.add_row("slice spacing (centre to centre)", _number(data["slice_spacing_mm"], 4) + " mm")
    table.add_row("orientation (slice, row, column)", data["orientation"])
    table.add_row("SeriesInstanceUID", data["series_instance_uid"] or "-")
    out.print(table)


def _print_measurement(out: Console, data: dict[str, Any]) -> None:
    title = f"{data['mask']} on {data['scan']}"
    table = Table(title=escape(title))
    for column in ("label", "side", "slices", "area x thickness (cm³)", "Cavalieri (cm³)"):
        table.add_column(column, justify="right" if column[0] in "lasC" and column != "side" else "left")
    for lesion in data["lesions"]:
        indices = [s["index"] for s in lesion["slices"]]
        table.add_row(
            str(lesion["label"]),
            lesion["side"],
            f"{min(indices)}-{max(indices)} ({len(indices)})",
            _number(lesion["volume_thickness_cm3"]),
            _number(lesion["volume_cavalieri_cm3"]),
        )
    out.print(table)
    if not data["lesions"]:
        out.print("no lesion in the mask")
    out.print(
        f"slice thickness {_number(data['slice_thickness_mm'], 4)} mm, slice spacing "
        f"{_number(data['slice_spacing_mm'], 4)} mm, pixel {' x '.join(f'{v:.4g}' for v in data['pixel_spacing_mm'])}"
        f" mm; volume = Σ area x {'slice thickness' if data['method'] == 'thickness' else 'slice spacing'}",
        highlight=False,
        soft_wrap=True,
    )
    if data["lesions"]:
        areas = Table(title="traced area per slice (mm²)")
        areas.add_column("slice", justify="right")
        by_label = {
            lesion["label"]: {s["index"]: s["area_mm2"] for s in lesion["slices"]}
            for lesion in data["lesions"]
        }
        for lesion in data["lesions"]:
            areas.add_column(f"label {lesion['label']} ({lesion['side']})", justify="right")
        for index in sorted({i for slices in by_label.values() for i in slices}):
            areas.add_row(str(index), *(_number(by_label[label].get(index), 1) for label in by_label))
        out.print(areas)


def _print_comparison(out: Console, data: dict[str, Any]) -> None:
    name = "area x thickness" if data["method"] == "thickness" else "Cavalieri"
    table = Table(title=f"change per hip ({name} volume, threshold ±{data['threshold_pct']:g}%)")
    for column in ("hip", "baseline (cm³)", "follow-up (cm³)", "change", "category"):
        table.add_column(column, justify="left" if column in ("hip", "category") else "right")
    for hip in data["hips"]:
        change = "-" if hip["change_pct"] is None else f"{hip['change_pct']:+.1f}%"
        table.add_row(
            hip["side"],
            _number(hip["baseline_volume_cm3"]),
            _number(hip["followup_volume_cm3"]),
            change,
            hip["category"],
        )
    out.print(table)
    for when in ("baseline", "followup"):
        out.print(
            f"{when}: {data[when]['mask']} on {data[when]['scan']}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def _refuse_outputs(args: argparse.Namespace, manifest: Manifest) -> None:
    """Refuse, before an hour of measuring, to write over a file, or ever over an input."""
    outputs = [Path(path) for path in (args.output, args.per_slice, args.report) if path]
    check_outputs(manifest, outputs)
    for path in outputs:
        if path.exists() and not args.force:
            raise OutputExistsError(path, "file exists; refusing to overwrite it (use --force)")


@contextmanager
def _progress_bar(console: Console, shown: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on ``console``, or None when nothing is to be shown."""
    if not shown:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("measuring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    )
    task = bar.add_task("measuring", total=None)

    def advance(done: int, total: int) -> None:
        # Started at the first result, once worker processes exist: forking while the bar's
        # refresh thread runs could deadlock a child.
        bar.update(task, completed=done, total=total)
        if not bar.live.is_started:
            bar.start()

    try:
        yield advance
    finally:
        bar.stop()


def _print_batch_summary(
    out: Console, err: Console, rows: list[dict[str, Any]], args: argparse.Namespace
) -> None:
    name = "area x thickness" if args.method == "thickness" else "Cavalieri"
    # Categories down, groups across: a study has a few arms, and this fits a terminal.
    counts = category_counts(rows)
    table = Table(title=f"hips per category and group ({name}, ±{args.threshold:g}%)")
    table.add_column("category")
    for group, _ in counts:
        table.add_column(escape(group), justify="right")
    for k, category in enumerate((*COUNT_COLUMNS, "hips")):
        table.add_row(
            category,
            *(
                str(counter[category] if category != "hips" else sum(counter.values()))
                for _, counter in counts
            ),
            end_section=k == len(COUNT_COLUMNS) - 1,
        )
    out.print(table)
    failed = [row for row in rows if row["status"] != OK]
    patients = len({row["patient_id"] for row in rows})
    out.print(
        f"{len(rows)} hips of {patients} patients: {len(rows) - len(failed)} ok, {len(failed)} failed; "
        f"results in {args.output}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for row in failed[:LISTED_FAILURES]:
        reader = f" (reader {row['reader']})" if row["reader"] else ""
        err.print(
            f"failed: {row['patient_id']} {row['side']}{reader}: {row['status']}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if len(failed) > LISTED_FAILURES:
        err.print(f"... and {len(failed) - LISTED_FAILURES} more: see the status column", highlight=False)


def _batch(args: argparse.Namespace, out: Console, err: Console) -> int:
    manifest = read_manifest(args.manifest)
    if args.validate:
        patients = len({entry.patient_id for entry in manifest.entries})
        out.print(
            f"{args.manifest}: {len(manifest.entries)} rows, {len(manifest.hips())} hips of {patients} "
            "patients; columns, values and paths are fine",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_OK
    _refuse_outputs(args, manifest)
    with _progress_bar(err, not args.quiet and err.is_terminal) as progress:
        measured = measure_cohort(
            manifest,
            args.method,
            jobs=args.jobs or default_jobs(),
            scheduler=args.dask_scheduler,
            progress=progress,
        )
    rows = hip_rows(manifest, measured, args.method, args.threshold)
    write_outputs(
        manifest,
        measured,
        rows,
        results=args.output,
        per_slice=args.per_slice,
        report=args.report,
        method=args.method,
        threshold_pct=args.threshold,
        overwrite=args.force,
    )
    failed = sum(row["status"] != OK for row in rows)
    if not args.quiet:
        _print_batch_summary(out, err, rows, args)
    elif failed:
        print(
            f"onfh-volume: {failed} of {len(rows)} hips failed: see the status column of {args.output}",
            file=sys.stderr,
        )
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.command == "batch":
        return _batch(args, out, err)
    if args.command == "view":
        _view(args)
        return EXIT_OK
    if args.command == "info":
        data = scan_info(load_scan(args.scan, series=args.series))
        if args.json:
            print(to_json(data))
            return EXIT_OK
        _print_info(out, data)
        _warn(err, data["warnings"])
    elif args.command == "measure":
        data = measurement_dict(_measure(args.scan, args.mask, args.method, args.series), mask=args.mask)
        if args.json:
            print(to_json(data))
            return EXIT_OK
        _print_measurement(out, data)
        _warn(err, data["warnings"])
    else:
        baseline = _measure(args.baseline_scan, args.baseline_mask, args.method, args.baseline_series)
        followup = _measure(args.followup_scan, args.followup_mask, args.method, args.followup_series)
        data = comparison_dict(
            compare(baseline, followup, args.threshold),
            measurement_dict(baseline, mask=args.baseline_mask),
            measurement_dict(followup, mask=args.followup_mask),
        )
        if args.json:
            print(to_json(data))
            return EXIT_OK
        _print_comparison(out, data)
        _warn(err, data["warnings"])
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "batch" and not args.validate and args.output is None:
        parser.error("batch needs -o RESULTS.csv (or --validate to check the manifest only)")
    out, err = Console(), Console(stderr=True)
    try:
        with warnings.catch_warnings():
            # A reader's own warnings about a broken file would add lines to the one-line refusal;
            # what matters of them reaches the user as the error or as the scan's warnings.
            warnings.simplefilter("ignore")
            return _run(args, out, err)
    except ManifestError as exc:
        # One line per problem, each naming the manifest and the line: all fixed in one go.
        for problem in exc.problems:
            print(f"onfh-volume: error: {exc.path}: {problem}", file=sys.stderr)
        return EXIT_INPUT
    except OnfhError as exc:
        print(f"onfh-volume: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("onfh-volume: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        print(
            f"onfh-volume: internal error: {type(exc).__name__}: {exc} (a bug: please report it with the command)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
