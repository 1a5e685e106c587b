"""The ``onfh-volume`` command: scan geometry, lesion volumes and baseline/follow-up change.

Exit codes: 0 success; 2 the input cannot be measured (one line on stderr naming the file and
the problem); 1 an internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .change import DEFAULT_THRESHOLD_PCT, compare
from .errors import OnfhError
from .export import comparison_dict, measurement_dict, scan_info
from .load import load_scan
from .volume import METHODS, Measurement, measure_file

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


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
    comp.add_argument(
        "--threshold",
        type=_positive,
        default=DEFAULT_THRESHOLD_PCT,
        help="change (%%) that counts as increase or decrease; default 15 (|change| < 15%% = no change)",
    )
    method_option(comp)
    comp.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


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


def _run(args: argparse.Namespace, out: Console, err: Console) -> None:
    if args.command == "info":
        data = scan_info(load_scan(args.scan, series=args.series))
        if args.json:
            print(json.dumps(data, indent=2))
            return
        _print_info(out, data)
        _warn(err, data["warnings"])
    elif args.command == "measure":
        data = measurement_dict(_measure(args.scan, args.mask, args.method, args.series), mask=args.mask)
        if args.json:
            print(json.dumps(data, indent=2))
            return
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
            print(json.dumps(data, indent=2))
            return
        _print_comparison(out, data)
        _warn(err, data["warnings"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    out, err = Console(), Console(stderr=True)
    try:
        _run(args, out, err)
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
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
