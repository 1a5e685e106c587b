"""``onfh-volume propagate``: the baseline's lesions carried to the follow-up, refined on its image."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import render
from .exit_codes import EXIT_OK
from .options import add_json, add_timepoint_series

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
    add_timepoint_series(propagate)
    propagate.add_argument(
        "--other-patient",
        action="store_true",
        help="carry the lesion although the follow-up's DICOM PatientID is not the baseline's (the same "
        "patient under a changed ID); refused otherwise",
    )
    add_json(propagate)
    propagate.set_defaults(run=run)


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Propagate, write the follow-up mask, and print each hip's account."""
    from ..draft.checked import checked_propagate
    from ..draft.output import check_output
    from ..draft.propagate import hip_dict
    from ..draft.register import simpleitk
    from ..load import load_scan
    from ..mask import load_mask, save_mask
    from ..mask_series import load_scan_for_mask

    simpleitk()  # refused before anything is loaded when missing
    # The baseline as compare reads it: the series a DICOM mask references, in a folder of several.
    baseline = load_scan_for_mask(args.baseline_scan, args.baseline_mask, series=args.baseline_series)
    followup = load_scan(args.followup_scan, series=args.followup_series)
    check_output(args.output, [baseline.source, followup.source, args.baseline_mask], args.force)
    labels, hips, warnings = checked_propagate(
        baseline, load_mask(args.baseline_mask, baseline), args.baseline_mask, followup,
        other_patient=args.other_patient,
    )  # fmt: skip
    path = save_mask(args.output, labels, followup, overwrite=args.force, inputs=[args.baseline_mask])
    hips_data = [hip_dict(followup, hip) for hip in hips]
    if args.json:
        render.print_json(
            {
                "followup_scan": str(followup.source),
                "mask": str(path),
                "hips": hips_data,
                "warnings": warnings,
            }
        )
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
    render.warnings(err, warnings)
    return EXIT_OK
