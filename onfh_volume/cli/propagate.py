"""``onfh-volume propagate``: the baseline's lesions carried to the follow-up, refined on its image."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import render
from .exit_codes import EXIT_OK
from .options import add_json

if TYPE_CHECKING:
    from rich.console import Console


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``propagate``."""
    propagate = commands.add_parser(
        "propagate",
        help="carry the baseline's lesion mask to the follow-up (rigid registration per hip, then band fill)",
        description="Register each femoral head of the follow-up to the baseline rigidly, map the baseline "
        "lesion onto the follow-up grid and refine it by band fill on the follow-up image; write the "
        "follow-up mask (label 1 right hip, 2 left). Needs SimpleITK (the 'register' extra). Every draft is "
        "for a reader's review.",
    )
    propagate.add_argument("baseline_scan")
    propagate.add_argument("baseline_mask")
    propagate.add_argument("followup_scan")
    propagate.add_argument(
        "-o", "--output", required=True, metavar="MASK.nii.gz", help="follow-up mask to write"
    )
    propagate.add_argument("--force", action="store_true", help="replace MASK if it exists")
    add_json(propagate)
    propagate.set_defaults(run=run)


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Propagate, write the follow-up mask, and print each hip's account."""
    from ..draft.output import check_output
    from ..draft.propagate import hip_dict, propagate
    from ..draft.register import simpleitk
    from ..load import load_scan
    from ..mask import load_mask, save_mask

    simpleitk()  # refused before anything is loaded when missing
    baseline = load_scan(args.baseline_scan)
    followup = load_scan(args.followup_scan)
    check_output(args.output, [baseline.source, followup.source, args.baseline_mask], args.force)
    labels, hips = propagate(baseline, load_mask(args.baseline_mask, baseline), followup)
    path = save_mask(args.output, labels, followup, overwrite=args.force, inputs=[args.baseline_mask])
    hips_data = [hip_dict(followup, hip) for hip in hips]
    if args.json:
        render.print_json({"followup_scan": str(followup.source), "mask": str(path), "hips": hips_data})
        return EXIT_OK
    for hip in hips_data:
        volumes = (
            f": {hip['mapped_baseline_cm3']:.2f} cm³ mapped, {hip['followup_cm3']:.2f} cm³ at follow-up "
            f"({hip['gained_cm3']:.2f} cm³ gained, {hip['lost_cm3']:.2f} cm³ lost)"
            if "followup_cm3" in hip
            else ""
        )
        change = hip.get("change")
        if isinstance(change, dict):
            within = "" if change["uncertainty_pct"] is None else f" ± {change['uncertainty_pct']:.1f} points"
            volumes += f"; change {change['change_pct']:+.1f}%{within} ({change['category']})"
        why = f" ({'; '.join(hip['reasons'])})" if hip["reasons"] else ""  # type: ignore[arg-type]
        render.plain(out, f"{hip['side']} hip: {hip['status']}{volumes}{why}")
    render.plain(out, f"follow-up mask written to {path} (a draft: review each hip)")
    return EXIT_OK
