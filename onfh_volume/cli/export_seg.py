"""``onfh-volume export-seg``: a lesion mask as a DICOM SEG beside its scan, for the PACS."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import render
from .exit_codes import EXIT_OK
from .export_sr import add_send, require_sr_extras, sent
from .options import add_series

if TYPE_CHECKING:
    from rich.console import Console


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``export-seg``."""
    parser = commands.add_parser(
        "export-seg",
        help="write a mask (NIfTI, SEG or RTSTRUCT) on a DICOM series as a DICOM SEG for the PACS",
    )
    parser.add_argument("scan", help="the DICOM series (folder or file) the mask was traced on")
    parser.add_argument("mask", help="the lesion mask: NIfTI, DICOM SEG or RTSTRUCT")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.dcm", help="the SEG file to write")
    parser.add_argument(
        "--reader",
        metavar="NAME",
        help="who traced the lesions (the SEG's content creator: one name, at most 64 characters, no backslash)",
    )
    parser.add_argument("--force", action="store_true", help="replace OUT.dcm if it exists")
    add_series(parser)
    add_send(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Write the SEG and say what it holds."""
    from rich.markup import escape

    require_sr_extras(args, "export-seg")
    import pydicom

    from ..export_seg import export_seg_with_warnings

    path, warnings = export_seg_with_warnings(
        args.scan, args.mask, args.output, reader=args.reader, overwrite=args.force, series=args.series
    )
    seg = pydicom.dcmread(path, stop_before_pixels=True)
    segments = ", ".join(str(segment.SegmentLabel) for segment in seg.SegmentSequence)
    frames = int(seg.NumberOfFrames)
    out.print(
        escape(f"Wrote {path}: DICOM SEG on the scan's series, {frames} frames ({segments})"), soft_wrap=True
    )
    render.warnings(err, warnings)
    sent(out, args.send, path)
    return EXIT_OK
