"""``onfh-volume batch``: a cohort's manifest in, one row per hip out (and per slice, and a report)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import render
from .exit_codes import EXIT_OK, EXIT_SOME_FAILED
from .options import add_method, add_threshold, count

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ..batch.manifest import Manifest
    from ..batch.run import Outcome

LISTED_FAILURES = 10
"""Failed hips listed on stderr after a batch; the rest are in the results' status column."""


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``batch``."""
    batch = commands.add_parser(
        "batch",
        help="a cohort: a manifest of scans and masks in, one row per hip out",
        description="Measure every scan and mask listed in a manifest (CSV with columns patient_id, "
        "timepoint, scan, mask and optionally side, reader, group, series, roi; paths relative to the "
        "manifest's folder) and write one row per hip (patient, side, reader): volumes at both "
        "timepoints, change and category. Exit codes: 0 every hip measured; 3 some hips failed (their "
        "status column says why); 2 a bad manifest (every problem listed) or a bad option.",
    )
    batch.add_argument("manifest", metavar="MANIFEST.csv")
    batch.add_argument(
        "-o", "--output", metavar="RESULTS.csv", help="one row per hip (required unless --validate)"
    )
    add_method(batch)
    add_threshold(batch)
    where = batch.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs",
        type=count,
        help="processes to measure in (default: the cores this process may use); 1 = this process",
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
    batch.add_argument(
        "--head",
        action="store_true",
        help="also each hip's necrotic ratio, Steinberg extent and Kerboul angle at both timepoints (fits "
        "the femoral head in the image: reads the pixels, slower)",
    )
    _add_sources(batch)
    batch.add_argument("--force", action="store_true", help="overwrite output files that exist")
    batch.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    batch.add_argument(
        "--validate",
        action="store_true",
        help="only check the manifest (columns, values, paths), measure nothing",
    )
    batch.set_defaults(run=run, parser=batch)


def _add_sources(batch: argparse.ArgumentParser) -> None:
    """The options for rows without a local scan or mask: a PACS to pull from, masks to draft."""
    batch.add_argument(
        "--pacs",
        metavar="URL",
        help="pull the rows that give study_uid/series_uid instead of a scan from this DICOMweb server",
    )
    batch.add_argument(
        "--pacs-cache",
        metavar="DIR",
        help="where pulled series are kept, one folder each, and found by later runs (default: pacs-cache/ "
        "beside RESULTS.csv)",
    )
    batch.add_argument(
        "--draft-masks",
        metavar="DIR",
        type=Path,
        help="rows with an empty mask get a drafted one written to DIR (detect at baseline, propagate at "
        "follow-up), measured, and listed for review in DIR/drafts.csv",
    )


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Measure the cohort, write the outputs, print the summary; exit 3 when some hips failed."""
    from ..batch.manifest import read_manifest
    from ..extras import require

    if not args.validate and args.output is None:
        args.parser.error("batch needs -o RESULTS.csv (or --validate to check the manifest only)")
    if args.report:
        require("report", "batch --report")
    if args.dask_scheduler:
        require("dask", "batch --dask-scheduler")
    manifest = read_manifest(args.manifest, drafting=args.draft_masks is not None)
    if args.draft_masks is not None:
        from ..draft.cohort import refuse_roi_on_drafts, refuse_shared_draft_names

        refuse_roi_on_drafts(manifest)
        refuse_shared_draft_names(manifest)
    if args.validate:
        patients = len({entry.patient_id for entry in manifest.entries})
        render.plain(
            out,
            f"{args.manifest}: {len(manifest.entries)} rows, {len(manifest.hips())} hips of {patients} "
            "patients; columns, values and paths are fine",
        )
        return EXIT_OK
    # Imported only now: the measuring modules (the DICOM reader above all) are most of the
    # start-up, and --validate measures nothing.
    from ..batch.columns import OK

    manifest = _pulled(manifest, args, out)
    # Rows still to be drafted have no mask yet: their inputs are the scans, checked with the rest.
    _refuse_outputs(args, replace(manifest, entries=tuple(e for e in manifest.entries if e.mask)))
    drafts = None
    if args.draft_masks is not None:
        from ..draft.cohort import check_drafts, draft_masks, mark_rows, write_review_list

        check_drafts(manifest, args.draft_masks, args.force)  # before minutes of drafting
        manifest, drafts = draft_masks(manifest, args.draft_masks, args.force)
    measured, rows = _measure(manifest, args, err)
    if drafts is not None:
        mark_rows(rows, drafts)
        review = write_review_list(args.draft_masks, drafts, args.force)
        render.plain(err, f"{len(drafts)} drafted hips listed for review in {review}")
    _write(manifest, measured, rows, args)
    failed = sum(row["status"] != OK for row in rows)
    if not args.quiet:
        _print_summary(out, err, rows, args)
    elif failed:
        print(
            f"onfh-volume: {failed} of {len(rows)} hips failed or need a look: see the status column of {args.output}",
            file=sys.stderr,
        )
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _pulled(manifest: Manifest, args: argparse.Namespace, out: Console) -> Manifest:
    """The manifest with its PACS series pulled into the cache (``--pacs``), or refused without it."""
    from ..pacs.cache import refuse_without_pacs, with_pulled_scans

    if not args.pacs:
        refuse_without_pacs(manifest)
        return manifest
    cache = args.pacs_cache or Path(args.output).parent / "pacs-cache"
    manifest, pulled = with_pulled_scans(manifest, args.pacs, cache)
    if not args.quiet:
        render.plain(out, f"{pulled} series pulled from {args.pacs} into {cache}")
    return manifest


def _measure(
    manifest: Manifest, args: argparse.Namespace, err: Console
) -> tuple[dict[int, Outcome], list[dict[str, Any]]]:
    from ..batch.results import hip_rows
    from ..batch.run import default_jobs, measure_cohort

    with _progress_bar(err, not args.quiet and err.is_terminal) as progress:
        measured = measure_cohort(
            manifest,
            args.method,
            jobs=args.jobs or default_jobs(),
            scheduler=args.dask_scheduler,
            progress=progress,
            head=args.head,
        )
    return measured, hip_rows(manifest, measured, args.method, args.threshold)


def _write(
    manifest: Manifest, measured: dict[int, Outcome], rows: list[dict[str, Any]], args: argparse.Namespace
) -> None:
    from ..batch.outputs import write_outputs

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
        head=args.head,
    )


def _refuse_outputs(args: argparse.Namespace, manifest: Manifest) -> None:
    """Refuse, before an hour of measuring, to write over a file, or ever over an input."""
    from ..batch.outputs import check_outputs
    from ..errors import OutputExistsError

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


def _counts_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> Table:
    from rich.markup import escape
    from rich.table import Table

    from ..batch.columns import COUNT_COLUMNS
    from ..batch.results import category_counts
    from ..vocabulary import METHOD_NAMES

    # Categories down, groups across: a study has a few arms, and this fits a terminal.
    counts = category_counts(rows)
    table = Table(
        title=f"hips per category and group ({METHOD_NAMES[args.method].short}, ±{args.threshold:g}%)"
    )
    table.add_column("category")
    for group, _ in counts:
        table.add_column(escape(group), justify="right")
    for k, category in enumerate((*COUNT_COLUMNS, "hips")):
        cells = [
            str(counter[category] if category != "hips" else sum(counter.values())) for _, counter in counts
        ]
        table.add_row(category, *cells, end_section=k == len(COUNT_COLUMNS) - 1)
    return table


def _print_summary(out: Console, err: Console, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    out.print(_counts_table(rows, args))
    from ..batch.columns import OK

    failed = [row for row in rows if row["status"] != OK]
    patients = len({row["patient_id"] for row in rows})
    render.plain(
        out,
        f"{len(rows)} hips of {patients} patients: {len(rows) - len(failed)} ok, {len(failed)} failed; "
        f"results in {args.output}",
    )
    for row in failed[:LISTED_FAILURES]:
        reader = f" (reader {row['reader']})" if row["reader"] else ""
        render.plain(err, f"failed: {row['patient_id']} {row['side']}{reader}: {row['status']}")
    if len(failed) > LISTED_FAILURES:
        err.print(f"... and {len(failed) - LISTED_FAILURES} more: see the status column", highlight=False)
