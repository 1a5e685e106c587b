"""``onfh-volume agreement``: how well two or more readers agree, and the smallest detectable change."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import render
from .exit_codes import EXIT_OK
from .options import add_force, add_json, add_method, add_threshold, count, refuse_outputs

if TYPE_CHECKING:
    from ..analysis.agreement import Agreement


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``agreement``."""
    parser = commands.add_parser(
        "agreement",
        help="reader agreement from a manifest with two or more readers: ICC, SDC, kappa, Dice, HD95",
        description="Measure every row of a batch manifest whose 'reader' column names two or more readers "
        "and report their agreement over the targets (patient, side, timepoint) every reader traced with a "
        "lesion found by at least one: ICC(2,1) and ICC(3,1) with 95%% CIs, Bland-Altman bias and limits, "
        "SEM and smallest detectable change (SDC) against the change threshold, Cohen's or Fleiss' kappa "
        "of the change categories, Dice and HD95 of the masks. Targets missing a reader are listed and "
        "left out.",
    )
    parser.add_argument("manifest", metavar="MANIFEST.csv")
    parser.add_argument(
        "-o", "--output", metavar="PER_PAIR.csv", help="one row per target and pair of readers"
    )
    parser.add_argument("--report", metavar="REPORT.html", help="HTML report with the Bland-Altman plot")
    add_method(parser)
    add_threshold(parser)
    parser.add_argument("--jobs", type=count, default=1, help="processes to measure in (default 1)")
    add_force(parser)
    add_json(parser)
    parser.set_defaults(run=run)


def summary_table(result: Agreement) -> Table:
    """The statistics, one per row, each with its name."""
    data = result.to_dict()
    volume, category, overlap = data["volume"], data["category"], data["overlap"]
    table = Table(
        title=escape(f"Reader agreement: {', '.join(result.readers)} on {result.n_targets} targets")
    )
    table.add_column("statistic")
    table.add_column("value", overflow="fold")
    for key in ("icc_2_1", "icc_3_1"):
        icc = volume[key]
        ci = "" if icc["ci95"] is None else f" (95% CI {icc['ci95'][0]:.3f} to {icc['ci95'][1]:.3f})"
        table.add_row(
            icc["name"], f"{render.number(icc['value'])}{ci}" + (f"; {icc['note']}" if "note" in icc else "")
        )
    ba = volume["bland_altman"]
    if ba is not None:
        table.add_row(
            f"Bland-Altman bias ({result.readers[1]} - {result.readers[0]})",
            f"{ba['bias_cm3']:+.3f} cm³ ({ba['bias_pct']:+.1f}%)",
        )
        table.add_row(
            "95% limits of agreement",
            f"{ba['loa_cm3'][0]:+.3f} to {ba['loa_cm3'][1]:+.3f} cm³ ({ba['loa_pct'][0]:+.1f}% to {ba['loa_pct'][1]:+.1f}%)",
        )
    table.add_row("SEM", f"{volume['sem_cm3']:.3f} cm³")
    table.add_row(
        "smallest detectable change (SDC)", f"{volume['sdc_cm3']:.3f} cm³ = {volume['sdc_pct']:.1f}%"
    )
    name = category.get("kappa_name", "kappa")
    table.add_row(
        f"{name} of the change categories",
        render.number(category["kappa"]) + (f" ({category['note']})" if "note" in category else ""),
    )
    table.add_row("percent agreement on the category", render.number(category["percent_agreement"], 1))
    table.add_row(
        "Dice median (minimum)",
        f"{render.number(overlap['dice_median'])} ({render.number(overlap['dice_min'])})",
    )
    table.add_row("HD95 median", f"{render.number(overlap['hd95_median_mm'], 2)} mm")
    return table


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Measure, compute the agreement, write the outputs asked for, print or emit JSON."""
    from ..analysis.agreement import agreement, write_pairs
    from ..analysis.report import write_agreement_report

    refuse_outputs({"manifest": args.manifest}, {"-o": args.output, "--report": args.report}, args.force)
    result = agreement(args.manifest, args.method, threshold_pct=args.threshold, jobs=args.jobs)
    if args.output:
        write_pairs(args.output, result, overwrite=args.force)
    if args.report:
        write_agreement_report(args.report, result, overwrite=args.force)
    if args.json:
        print(result.to_json())
        return EXIT_OK
    out.print(summary_table(result))
    render.plain(out, result.verdict)
    for line in result.missing:
        render.plain(err, f"left out: {line}")
    return EXIT_OK
