"""``onfh-volume stats``: the study's statistics from the batch's results, every test named."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import render
from .exit_codes import EXIT_OK
from .options import add_force, add_json, refuse_outputs

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ..analysis.statistics import Statistics


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``stats``."""
    parser = commands.add_parser(
        "stats",
        help="per group and between groups: t-tests, chi-squared, Kaplan-Meier and log-rank",
        description="The study's statistics from RESULTS.csv of onfh-volume batch: per group mean ± SD, "
        "paired t-test and median change over the hips with status ok and a baseline volume > 0, "
        "category counts; between groups Pearson's chi-squared (and Fisher's exact test where it is "
        "the right one), Student's and Welch's t-tests of the baseline volumes; with --event and --time "
        "(columns carried from the manifest) Kaplan-Meier per group and the log-rank test.",
    )
    parser.add_argument("results", metavar="RESULTS.csv")
    parser.add_argument(
        "--reader", help="the reader whose hips to use (required when RESULTS.csv has several)"
    )
    parser.add_argument("--event", metavar="COLUMN", help="event column, 0 or 1 per hip (e.g. collapse)")
    parser.add_argument("--time", metavar="COLUMN", help="time to the event or to the last follow-up")
    parser.add_argument("--report", metavar="REPORT.html", help="HTML report with the plots")
    add_force(parser)
    add_json(parser)
    parser.set_defaults(run=run)


def groups_table(result: Statistics) -> Table:
    """One row per group: hips, means ± SD, paired t-test and median change."""
    from rich.markup import escape
    from rich.table import Table

    from ..analysis.summary import test_text

    table = Table(
        title="Per group (hips with status ok and a baseline volume > 0)",
        caption="mean ± SD (n - 1); paired Student's t-test of follow-up against baseline",
    )
    for column in ("group", "hips", "baseline cm³", "follow-up cm³", "paired t, p", "median change"):
        table.add_column(column, justify="right" if column != "group" else "left")
    for name, group in result.groups.items():
        table.add_row(
            escape(name), str(group.n_hips),
            f"{group.baseline[0]:.3f} ± {group.baseline[1]:.3f}", f"{group.followup[0]:.3f} ± {group.followup[1]:.3f}",
            test_text(group.paired_t.to_dict()), f"{group.median_change_pct:+.1f}%",
        )  # fmt: skip
    return table


def test_lines(result: Statistics) -> list[str]:
    """Each group's categories, then every test between groups (and the log-rank test), named."""
    from ..analysis.summary import test_text

    lines = [
        f"{name}: "
        + ", ".join(f"{count} {category}" for category, count in group.categories.items() if count)
        + " (hips with status ok)"
        for name, group in result.groups.items()
    ]
    between = result.between
    for key, what in (("categories_chi2", "change categories"), ("categories_fisher", "change categories"),
                      ("baseline_t", "baseline volumes"), ("baseline_welch_t", "baseline volumes")):  # fmt: skip
        if between.get(key):
            lines.append(f"{between[key]['test']} of the {what} between groups: {test_text(between[key])}")
    if result.survival is not None:
        test = result.survival.to_dict()["logrank"]
        lines.append(
            f"log-rank test of {result.survival.event} over {result.survival.time}: {test_text(test)}"
        )
    return lines


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Compute the statistics, write the report if asked, print or emit JSON."""
    from ..analysis.outputs import write_statistics
    from ..analysis.statistics import study_statistics
    from ..extras import require

    if args.report:
        require("report", "stats --report")
    refuse_outputs({"--report": args.report}, [args.results], args.force)
    result = study_statistics(args.results, reader=args.reader, event=args.event, time=args.time)
    write_statistics(result, report=args.report, overwrite=args.force, inputs=[args.results])
    if args.json:
        print(result.to_json())
        return EXIT_OK
    out.print(groups_table(result))
    for line in test_lines(result):
        render.plain(out, line)
    return EXIT_OK
