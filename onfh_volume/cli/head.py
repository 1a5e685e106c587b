"""The femoral head measures in ``measure`` and ``compare``: options, measuring with the pixels, the table."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.table import Table

from .render import number

if TYPE_CHECKING:
    from ..vocabulary import Method
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


def measure_with_heads(
    scan_path: str,
    mask_path: str,
    method: Method,
    series: str | None,
    args: argparse.Namespace,
) -> Measurement:
    """The measurement of ``mask_path`` on ``scan_path``, with the head measures unless ``--no-head``."""
    from ..load import load_scan
    from ..mask import measure_file

    if args.no_head:
        return measure_file(load_scan(scan_path, series=series, pixels=False), mask_path, method)
    from ..head import measure_file_with_heads
    from ..head.points_file import read_head_points

    points = getattr(args, "head_points", None)
    return measure_file_with_heads(
        load_scan(scan_path, series=series),
        mask_path,
        method,
        points=None if points is None else read_head_points(points),
        head_mask_path=getattr(args, "head_mask", None),
    )


def head_table(measurement: Measurement, title: str = "") -> Table:
    """One row per lesion: its head's radius and how it was fitted, and the measures relative to it."""
    table = Table(
        title=f"{title}each lesion in its femoral head", caption="Kerboul: combined (coronal + sagittal)"
    )
    for column in ("label", "side", "head radius (mm)", "necrotic (%)", "Steinberg", "Kerboul (°)"):
        table.add_column(column, justify="left" if column in ("side", "head radius (mm)") else "right")
    for lesion in measurement.lesions:
        result = (measurement.heads or {}).get(lesion.label)
        if result is None or result.head is None:
            table.add_row(str(lesion.label), lesion.side, "not found", "-", "-", "-")
            continue
        head, kerboul = result.head, result.kerboul
        table.add_row(
            str(lesion.label),
            lesion.side,
            f"{head.radius_mm:.1f} ({head.source}, RMS {head.fit_rms_mm:.2f})",
            number(result.necrotic_ratio_pct, 1),
            result.steinberg_extent or "-",
            "-"
            if kerboul is None
            else f"{kerboul.combined:.0f} ({kerboul.coronal:.0f} + {kerboul.sagittal:.0f})",
        )
    return table


def hip_head_fields(hips: list[dict[str, Any]], baseline: Measurement, followup: Measurement) -> None:
    """Add each timepoint's necrotic ratio, Steinberg extent and combined Kerboul angle to the JSON hips."""
    from ..head import hip_in_head

    for hip in hips:
        for when, measurement in (("baseline", baseline), ("followup", followup)):
            ratio, extent, kerboul = hip_in_head(measurement, hip[f"{when}_labels"] or [])
            hip[f"{when}_necrotic_ratio_pct"] = ratio
            hip[f"{when}_steinberg_extent"] = extent
            hip[f"{when}_kerboul_combined_deg"] = kerboul
