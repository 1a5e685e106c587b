"""``onfh-volume info``: the geometry of a scan."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import render
from .exit_codes import EXIT_OK
from .options import add_json, add_series

if TYPE_CHECKING:
    from rich.console import Console


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``info``."""
    parser = commands.add_parser("info", help="geometry of a scan (DICOM folder or file, NIfTI)")
    parser.add_argument("scan")
    add_series(parser)
    add_json(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Print the scan's geometry (a table, or JSON) and its warnings.

    Only the headers are read (``pixels=False``): the geometry does not depend on the voxels, and
    a DICOM file cut short is still refused (its pixel data's stated end is checked against the
    file's size).
    """
    from ..export import scan_info
    from ..load import load_scan

    scan = load_scan(args.scan, series=args.series, pixels=False)
    if args.json:
        render.print_json(scan_info(scan))
        return EXIT_OK
    out.print(render.scan_table(scan))
    render.warnings(err, scan.warnings)
    return EXIT_OK
