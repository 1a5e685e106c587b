"""``onfh-volume pull`` and ``push``: a study from the PACS into a folder, and files back to it (DICOMweb)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .exit_codes import EXIT_OK

if TYPE_CHECKING:
    from rich.console import Console

CREDENTIALS = "credentials from ONFH_PACS_USER/ONFH_PACS_PASSWORD or a netrc entry for the server's host"


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``pull`` and ``push``."""
    pull = commands.add_parser(
        "pull", help=f"copy a study (or one series) from a DICOMweb PACS into a new folder; {CREDENTIALS}"
    )
    pull.add_argument(
        "--pacs",
        required=True,
        metavar="URL",
        help="the DICOMweb root, e.g. https://pacs.example.org/dicom-web",
    )
    pull.add_argument("--study", required=True, metavar="UID", help="StudyInstanceUID")
    pull.add_argument(
        "--series", metavar="UID", help="SeriesInstanceUID: only this series, straight into DIR"
    )
    pull.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="the folder to create (a sub-folder per series)"
    )
    pull.set_defaults(run=run_pull)

    push = commands.add_parser(
        "push", help=f"store DICOM files (a SEG, a report, a series) on a DICOMweb PACS; {CREDENTIALS}"
    )
    push.add_argument("--pacs", required=True, metavar="URL", help="the DICOMweb root")
    push.add_argument("files", nargs="+", metavar="FILE", help="DICOM files, or folders of them")
    push.set_defaults(run=run_push)


def run_pull(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Pull and say what arrived."""
    from rich.markup import escape

    from ..pacs.pull import pull

    counts = pull(args.pacs, args.study, args.output, args.series)
    out.print(
        escape(f"Pulled {sum(counts.values())} instance(s) of {len(counts)} series into {args.output}"),
        soft_wrap=True,
    )
    return EXIT_OK


def run_push(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Push and say how many were stored."""
    from rich.markup import escape

    from ..pacs.push import push_files

    stored = push_files(args.pacs, args.files)
    out.print(escape(f"Stored {len(stored)} file(s) on {args.pacs}"), soft_wrap=True)
    return EXIT_OK
