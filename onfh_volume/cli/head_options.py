"""The femoral head measures in ``measure`` and ``compare``: options, what they ask of a measurement, the table."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .render import number

if TYPE_CHECKING:
    from rich.table import Table

    from ..head import LesionInHead
    from ..volume import Measurement


def add_head_options(parser: argparse.ArgumentParser, reader_given: bool = True) -> None:
    """``--no-head``, and (``reader_given``) ``--head-points CSV`` / ``--head-mask NIFTI``."""
    parser.add_argument(
        "--no-head",
        action="store_true",
        help="skip the femoral head fit, necrotic ratio, Steinberg extent and Kerboul angle (reads the "
        "scan's geometry only: faster)",
    )
    if not reader_given:
        return
    given = parser.add_mutually_exclusive_group()
    given.add_argument(
        "--head-points",
        metavar="POINTS.csv",
        help="the reader's points on a femoral head's surface (columns side, x_mm, y_mm, z_mm; patient RAS "
        "mm): that hip's head is the sphere through them instead of the one found in the image",
    )
    given.add_argument(
        "--head-mask",
        metavar="HEADS.nii.gz",
        help="traced femoral heads (a label image on the scan's grid): each lesion's head is the sphere "
        "through the outline of the traced head it lies in",
    )


def measure_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of :func:`onfh_volume.measure_files.measure_files` that the options give: the heads
    unless ``--no-head``, the reader's head points or head mask, and ``--roi``."""
    return {
        "roi": getattr(args, "roi", None) or (),
        "heads": not args.no_head,
        "head_points_path": getattr(args, "head_points", None),
        "head_mask_path": getattr(args, "head_mask", None),
    }


def head_table(measurement: Measurement, title: str = "") -> Table:
    """One row per lesion: its head's radius and how it was fitted, the measures relative to it, the
    collapse and the head's quality; the reasons to review a head are listed under the table."""
    from rich.table import Table

    rows, reviews = [], []
    for lesion in measurement.lesions:
        result = (measurement.heads or {}).get(lesion.label)
        if result is None or result.head is None:
            rows.append((str(lesion.label), lesion.side, "not found", "-", "-", "-", "-", "-"))
            continue
        head, kerboul = result.head, result.kerboul
        near = "" if result.steinberg_near is None else f" (near {result.steinberg_near:g}%)"
        if head.reasons:
            reviews.append(f"label {lesion.label}: review: {'; '.join(head.reasons)}")
        rows.append(
            (
                str(lesion.label),
                lesion.side,
                f"{head.radius_mm:.1f} ({head.source}, RMS {head.fit_rms_mm:.2f})",
                number(result.necrotic_ratio_pct, 1),
                f"{result.steinberg_extent or '-'}{near}",
                "-"
                if kerboul is None
                else f"{kerboul.combined:.0f} ({kerboul.coronal:.0f} + {kerboul.sagittal:.0f})",
                _collapse(result),
                head.quality,
            )
        )
    caption = [
        "Kerboul: combined (coronal + sagittal). Collapse (ARCO 2019): IIIA ≤ 2 mm, IIIB > 2 mm; "
        "'none seen' below the detection limit",
        *reviews,
    ]
    table = Table(title=f"{title}each lesion in its femoral head", caption="\n".join(caption))
    for column in ("label", "side", "head radius (mm)", "necrotic (%)", "Steinberg", "Kerboul (°)"):
        table.add_column(column, justify="left" if column in ("side", "head radius (mm)") else "right")
    table.add_column("collapse (mm)", justify="right")
    table.add_column("head")
    for row in rows:
        table.add_row(*row)
    return table


def _collapse(result: LesionInHead) -> str:
    """The collapse depth and its ARCO stage, in short: "2.5 (IIIB)", "0.4 (none seen)", "-"."""
    if result.collapse_depth_mm is None or result.collapse is None:
        return "-"
    stage = "none seen" if result.collapse.startswith("no collapse") else result.collapse.split()[0]
    return f"{result.collapse_depth_mm:.1f} ({stage})"


def hip_head_fields(hips: list[dict[str, Any]], baseline: Measurement, followup: Measurement) -> None:
    """Add each timepoint's necrotic ratio, Steinberg extent, combined Kerboul angle, collapse and head
    quality (:func:`onfh_volume.head.hip_review`) to the JSON hips."""
    from ..head import hip_in_head, hip_review

    for hip in hips:
        for when, measurement in (("baseline", baseline), ("followup", followup)):
            labels = hip[f"{when}_labels"] or []
            ratio, extent, kerboul = hip_in_head(measurement, labels)
            hip[f"{when}_necrotic_ratio_pct"] = ratio
            hip[f"{when}_steinberg_extent"] = extent
            hip[f"{when}_kerboul_combined_deg"] = kerboul
            hip.update({f"{when}_{key}": value for key, value in hip_review(measurement, labels).items()})
