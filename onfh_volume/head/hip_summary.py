"""A hip's head measures at one timepoint, from its lesions': the necrotic ratio, Steinberg extent,
Kerboul angle, collapse and the head's quality, as the results and the JSON give them per hip."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .measures import steinberg_extent
from .quality import collapse_reading, detection_limit_mm, near_steinberg_boundary

if TYPE_CHECKING:
    from ..volume import Measurement


def hip_in_head(measurement: Measurement, labels: list[int]) -> tuple[float | None, str | None, float | None]:
    """A hip's necrotic ratio (its lesions' ratios summed), Steinberg extent and combined Kerboul angle.

    The angle is given for a hip with one lesion only: arcs of separate lesions do not add up.
    All are None when the heads were not measured or any of the hip's lesions has none.
    """
    found = [(measurement.heads or {}).get(label) for label in labels]
    results = [r for r in found if r is not None]
    ratios = [r.necrotic_ratio_pct for r in results if r.necrotic_ratio_pct is not None]
    if not found or len(ratios) < len(found):
        return None, None, None
    ratio = sum(ratios)
    kerboul = results[0].kerboul
    return ratio, steinberg_extent(ratio), kerboul.combined if len(results) == 1 and kerboul else None


def hip_review(measurement: Measurement, labels: list[int]) -> dict[str, object]:
    """A hip's collapse (its deepest lesion's), ARCO reading, heads' quality and reasons, and the
    Steinberg boundary its ratio lies near; each None when the heads were not measured.

    ``head_quality`` is ``"review"`` when any of the hip's heads needs it; the reasons are joined
    with "; ".
    """
    results = [(measurement.heads or {}).get(label) for label in labels]
    heads = [r.head for r in results if r is not None and r.head is not None]
    depths = [r.collapse_depth_mm for r in results if r is not None and r.collapse_depth_mm is not None]
    deepest = max(depths, default=None)
    ratio = hip_in_head(measurement, labels)[0]
    reasons = [reason for head in heads for reason in head.reasons]
    return {
        "collapse_depth_mm": deepest,
        "collapse_arco": collapse_reading(deepest, detection_limit_mm(measurement.scan.pixel_spacing)),
        "head_quality": None if not heads else ("review" if reasons else "ok"),
        "head_review_reasons": "; ".join(reasons) or None,
        "steinberg_near_boundary_pct": near_steinberg_boundary(ratio),
    }
