"""``onfh-volume detect``: every femoral head of a scan, lesion or not, the lesions traced without a click."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import render
from .exit_codes import EXIT_OK
from .options import add_json, add_series

if TYPE_CHECKING:
    from rich.console import Console


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``detect``."""
    detect = commands.add_parser(
        "detect",
        help="find the femoral heads and trace their lesions without a click (a draft for review)",
        description="Find the femoral head(s) of a coronal T1 scan, decide per hip lesion / no lesion / "
        "uncertain, trace each lesion by band fill (band and subchondral plate included) and write the "
        "mask on the scan grid (label 1 right hip, 2 left). Every draft is for a reader's review.",
    )
    detect.add_argument("scan")
    detect.add_argument("-o", "--output", required=True, metavar="MASK.nii.gz", help="mask file to write")
    detect.add_argument("--force", action="store_true", help="replace MASK if it exists")
    add_series(detect)
    add_json(detect)
    detect.set_defaults(run=run)


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Detect, write the mask, and print each hip's draft and the warnings about it."""
    from ..draft.checked import checked_detect
    from ..draft.detect import hip_dict
    from ..draft.output import check_output, missing_hip_dict
    from ..load import load_scan
    from ..mask import save_mask

    scan = load_scan(args.scan, series=args.series)
    check_output(args.output, [scan.source], args.force)
    labels, hips, missing, warnings = checked_detect(scan)
    path = save_mask(args.output, labels, scan, overwrite=args.force)
    hips_data = [hip_dict(scan, labels, hip) for hip in hips] + [missing_hip_dict(side) for side in missing]
    hips_data.sort(key=lambda hip: hip["side"] != "right")
    if args.json:
        render.print_json(
            {"scan": str(scan.source), "mask": str(path), "hips": hips_data, "warnings": warnings}
        )
        return EXIT_OK
    for hip in hips_data:
        volume = hip["volume_thickness_cm3"]
        size = f", {volume:.2f} cm³" if volume else ""  # uncertain hips may keep a traced lesion to review
        why = f" ({'; '.join(hip['reasons'])})" if hip["reasons"] else ""
        render.plain(out, f"{hip['side']} hip: {hip['status']}{size}{why}")
    render.plain(out, f"mask written to {path} (a draft: review each hip)")
    render.warnings(err, warnings)
    return EXIT_OK
