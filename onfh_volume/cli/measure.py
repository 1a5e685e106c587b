"""``onfh-volume measure`` and ``compare``: lesion volumes of a mask, and their change per hip."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import render
from .exit_codes import EXIT_OK
from .export_sr import add_compare_sr, require_sr_extras, run_compare_sr
from .head_options import add_head_options, head_table, hip_head_fields, measure_options
from .options import add_json, add_method, add_roi, add_series, add_threshold, add_timepoint_series

if TYPE_CHECKING:
    from rich.console import Console


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``measure`` and ``compare``."""
    measure = commands.add_parser("measure", help="volume of each lesion of a mask")
    measure.add_argument("scan")
    measure.add_argument(
        "mask", help="NIfTI label image on the scan's grid (0 = background, one label per lesion)"
    )
    add_series(measure)
    add_roi(measure)
    add_method(measure)
    add_head_options(measure)
    add_json(measure)
    measure.set_defaults(run=run_measure)

    compare = commands.add_parser("compare", help="per-hip change between a baseline and a follow-up")
    for when in ("baseline", "followup"):
        compare.add_argument(f"{when}_scan", metavar=f"{when.upper()}_SCAN")
        compare.add_argument(f"{when}_mask", metavar=f"{when.upper()}_MASK")
    add_timepoint_series(compare)
    add_roi(compare)
    add_threshold(compare)
    add_method(compare)
    add_head_options(compare, reader_given=False)
    add_json(compare)
    add_compare_sr(compare)
    compare.set_defaults(run=run_compare, parser=compare)


def run_measure(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Print each lesion's volumes and its area per slice."""
    from ..export import measurement_dict
    from ..measure_files import measure_files

    measurement = measure_files(
        args.scan, args.mask, args.method, series=args.series, **measure_options(args)
    )
    if args.json:
        render.print_json(measurement_dict(measurement, mask=args.mask))
        return EXIT_OK
    out.print(render.lesion_table(measurement, args.mask))
    if not measurement.lesions:
        out.print("no lesion in the mask")
    render.plain(out, render.geometry_line(measurement))
    if measurement.lesions:
        out.print(render.area_table(measurement))
    if measurement.lesions and measurement.heads is not None:
        out.print(head_table(measurement))
    render.warnings(err, measurement.warnings)
    return EXIT_OK


def run_compare(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Print each hip's volumes at both timepoints, change and category."""
    from ..change import compare
    from ..export import comparison_dict, measurement_dict
    from ..measure_files import measure_files

    if args.sr:
        require_sr_extras(args, "compare --sr")
    elif args.baseline_seg or args.followup_seg:
        # A SEG is only referred to by the report: without one it would be silently unused.
        args.parser.error("--baseline-seg and --followup-seg name the SEGs of the --sr report: give --sr too")
    options = measure_options(args)
    baseline = measure_files(
        args.baseline_scan, args.baseline_mask, args.method, series=args.baseline_series, **options
    )
    followup = measure_files(
        args.followup_scan, args.followup_mask, args.method, series=args.followup_series, **options
    )
    comparison = compare(baseline, followup, args.threshold)
    run_compare_sr(args, err if args.json else out, comparison, baseline, followup)
    if args.json:
        data = comparison_dict(
            comparison,
            measurement_dict(baseline, mask=args.baseline_mask),
            measurement_dict(followup, mask=args.followup_mask),
        )
        if not args.no_head:
            hip_head_fields(data["hips"], baseline, followup)
        render.print_json(data)
        return EXIT_OK
    out.print(render.change_table(comparison))
    for when, measurement, mask in (
        ("baseline", baseline, args.baseline_mask),
        ("followup", followup, args.followup_mask),
    ):
        render.plain(out, f"{when}: {mask} on {measurement.scan.source}")
        if measurement.lesions and measurement.heads is not None:
            out.print(head_table(measurement, f"{when}: "))
    render.warnings(err, comparison.warnings)
    return EXIT_OK
