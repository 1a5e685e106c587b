"""``onfh-volume agreement``: how well two or more readers agree, and the smallest detectable change."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import render
from .exit_codes import EXIT_OK
from .options import add_force, add_json, add_method, add_threshold, count, refuse_outputs

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

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
    parser.add_argument(
        "--jobs",
        type=count,
        help="processes to measure in (default: the cores this process may use); 1 = this process",
    )
    add_force(parser)
    add_json(parser)
    parser.set_defaults(run=run)


def summary_table(result: Agreement) -> Table:
    """The statistics, one per row, each with its name (the report's rows)."""
    from rich.markup import escape
    from rich.table import Table

    from ..analysis.summary import agreement_rows

    table = Table(
        title=escape(f"Reader agreement: {', '.join(result.readers)} on {result.n_targets} targets")
    )
    table.add_column("statistic")
    table.add_column("value", overflow="fold")
    for name, value in agreement_rows(result):
        table.add_row(escape(name), escape(value))
    return table


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Measure, compute the agreement, write the outputs asked for, print or emit JSON."""
    from ..analysis.agreement import agreement
    from ..analysis.outputs import write_agreement
    from ..batch.manifest import read_manifest
    from ..batch.outputs import batch_inputs
    from ..batch.run import default_jobs
    from ..extras import require

    if args.report:
        require("report", "agreement --report")
    manifest = read_manifest(args.manifest)
    inputs = batch_inputs(manifest)
    refuse_outputs({"-o": args.output, "--report": args.report}, inputs, args.force)
    result = agreement(manifest, args.method, threshold_pct=args.threshold, jobs=args.jobs or default_jobs())
    write_agreement(result, pairs=args.output, report=args.report, overwrite=args.force, inputs=inputs)
    if args.json:
        print(result.to_json())
        return EXIT_OK
    out.print(summary_table(result))
    render.plain(out, result.verdict)
    for line in result.missing:
        render.plain(err, f"left out: {line}")
    return EXIT_OK
