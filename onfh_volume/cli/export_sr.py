"""``onfh-volume export-sr``: a lesion mask's measures as a DICOM structured report (TID 1500) for the PACS."""

from __future__ import annotations

import argparse
from os import PathLike
from typing import TYPE_CHECKING

from . import render
from .exit_codes import EXIT_OK
from .head_options import add_head_options, measure_options
from .options import add_method, add_series

if TYPE_CHECKING:
    from rich.console import Console

    from ..change import Comparison
    from ..volume import Measurement


def add_send(parser: argparse.ArgumentParser) -> None:
    """``--send URL``: store the written file on a PACS (DICOMweb STOW-RS) as well."""
    parser.add_argument(
        "--send",
        metavar="URL",
        help="also store the file on this DICOMweb server (credentials from ONFH_PACS_USER/ONFH_PACS_PASSWORD "
        "or ~/.netrc)",
    )


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``export-sr``."""
    parser = commands.add_parser(
        "export-sr",
        help="write a mask's measures (volumes, necrotic ratio, Steinberg, Kerboul) as a DICOM structured "
        "report (TID 1500) for the PACS",
    )
    parser.add_argument("scan", help="the DICOM series (folder or file) the mask was traced on")
    parser.add_argument("mask", help="the lesion mask: NIfTI, DICOM SEG or RTSTRUCT")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.dcm", help="the report file to write")
    add_seg(parser, "--seg", "the mask")
    parser.add_argument("--reader", metavar="NAME", help="who traced the lesions (the report's observer)")
    parser.add_argument("--force", action="store_true", help="replace OUT.dcm if it exists")
    add_series(parser)
    add_method(parser)
    add_head_options(parser)
    add_send(parser)
    parser.set_defaults(run=run)


def add_seg(parser: argparse.ArgumentParser, flag: str, whose: str) -> None:
    """``flag SEG.dcm``: a DICOM SEG of the lesions of ``whose``, whose segments the report's lesions refer to."""
    parser.add_argument(
        flag,
        metavar="SEG.dcm",
        help=f"a DICOM SEG of the same lesions as {whose} (e.g. from export-seg): each lesion refers to its "
        "segment instead of the images it was traced on",
    )


def require_sr_extras(args: argparse.Namespace, what: str) -> None:
    """Refuse before any work when a DICOM object (highdicom) or ``--send`` (a DICOMweb client) cannot be made."""
    from ..extras import require

    require("seg", what)
    if args.send:
        require("pacs", f"{what} --send")


def sent(out: Console, url: str | None, *paths: str | PathLike[str]) -> None:
    """Store ``paths`` on the PACS at ``url`` (when given) and say so."""
    from rich.markup import escape

    if not url:
        return
    from ..pacs.push import push_files

    stored = push_files(url, list(paths))
    out.print(escape(f"Sent {len(stored)} file(s) to {url}"), soft_wrap=True)


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Measure, write the report, and say what it holds."""
    from rich.markup import escape

    from ..atomic import check_not_inputs
    from ..measure_files import measure_files
    from ..sr import export_sr

    require_sr_extras(args, "export-sr")
    check_not_inputs([args.output], [args.scan, args.mask, *([args.seg] if args.seg else [])])
    measurement = measure_files(
        args.scan, args.mask, args.method, series=args.series, **measure_options(args)
    )
    path = export_sr(
        measurement, args.mask, args.output, seg=args.seg, reader=args.reader, overwrite=args.force
    )
    out.print(
        escape(
            f"Wrote {path}: DICOM structured report (TID 1500), {len(measurement.lesions)} lesion group(s)"
            + (" referring to their SEG segments" if args.seg else "")
        ),
        soft_wrap=True,
    )
    render.warnings(err, measurement.warnings)
    sent(out, args.send, path)
    return EXIT_OK


def add_compare_sr(parser: argparse.ArgumentParser) -> None:
    """``compare --sr OUT.dcm [--baseline-seg SEG.dcm] [--followup-seg SEG.dcm] [--reader NAME] [--force]
    [--send URL]``."""
    parser.add_argument(
        "--sr",
        metavar="OUT.dcm",
        help="also write both timepoints' measures and each hip's change as a DICOM structured report",
    )
    add_seg(parser, "--baseline-seg", "BASELINE_MASK (with --sr)")
    add_seg(parser, "--followup-seg", "FOLLOWUP_MASK (with --sr)")
    parser.add_argument("--reader", metavar="NAME", help="who traced the lesions (the report's observer)")
    parser.add_argument("--force", action="store_true", help="replace the --sr file if it exists")
    add_send(parser)


def run_compare_sr(
    args: argparse.Namespace,
    out: Console,
    comparison: Comparison,
    baseline: Measurement,
    followup: Measurement,
) -> None:
    """Write (and send) the comparison's report when ``--sr`` asks for it."""
    from rich.markup import escape

    from ..sr import export_compare_sr

    if not args.sr:
        return
    path = export_compare_sr(
        comparison,
        (baseline, args.baseline_mask),
        (followup, args.followup_mask),
        args.sr,
        baseline_seg=args.baseline_seg,
        followup_seg=args.followup_seg,
        roi=args.roi or (),
        reader=args.reader,
        overwrite=args.force,
    )
    segs = [when for when, seg in (("baseline", args.baseline_seg), ("follow-up", args.followup_seg)) if seg]
    out.print(
        escape(
            f"Wrote {path}: DICOM structured report of both timepoints and each hip's change"
            + (f", the {' and '.join(segs)} lesions referring to their SEG segments" if segs else "")
        ),
        soft_wrap=True,
    )
    sent(out, args.send, path)
