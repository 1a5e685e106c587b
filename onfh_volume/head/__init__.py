"""Each lesion in its femoral head: the head as a sphere, the necrotic ratio, Steinberg extent, Kerboul angle.

:func:`lesions_in_heads` gives, for every lesion of a measurement, its :class:`LesionInHead`: the
head fitted around it (from the image, or from the reader's surface points or traced head mask)
and the measures relative to it, or the reason why none could be given.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import HeadError, HeadNotFoundError
from ..volume import Measurement
from .find import head_from_image
from .fit import HeadSphere, check_lesion_inside, head_from_mask, head_from_points
from .in_head import LesionInHead
from .measures import KerboulAngle, kerboul_angle, necrotic_ratio_pct, steinberg_extent
from .quality import collapse_reading, detection_limit_mm, near_steinberg_boundary

__all__ = [
    "HeadSphere",
    "KerboulAngle",
    "LesionInHead",
    "add_heads",
    "head_from_image",
    "head_from_mask",
    "head_from_points",
    "hip_in_head",
    "hip_review",
    "kerboul_angle",
    "lesion_in_head",
    "lesions_in_heads",
    "necrotic_ratio_pct",
    "steinberg_extent",
]


def lesion_in_head(
    measurement: Measurement, lesion: np.ndarray, label: int, head: HeadSphere | None = None
) -> LesionInHead:
    """Measure the lesion ``label`` (its boolean volume ``lesion``) against ``head`` or the head found
    in the image; a head that cannot be had gives a result whose ``failure`` says why.
    """
    scan = measurement.scan
    try:
        if head is None:
            head = head_from_image(scan, lesion)
        check_lesion_inside(scan, lesion, head)
    except HeadError as exc:
        return LesionInHead(head=None, failure=exc.problem)
    cavalieri = next(item.volume_cavalieri_cm3 for item in measurement.lesions if item.label == label)
    ratio = None if cavalieri is None else necrotic_ratio_pct(cavalieri, head)
    return LesionInHead(
        head=head,
        necrotic_ratio_pct=ratio,
        steinberg_extent=None if ratio is None else steinberg_extent(ratio),
        kerboul=kerboul_angle(scan, lesion, head),
        steinberg_near=near_steinberg_boundary(ratio),
        collapse_depth_mm=head.collapse_depth_mm,
        collapse=collapse_reading(head.collapse_depth_mm, detection_limit_mm(scan.pixel_spacing)),
    )


def _given_head(
    measurement: Measurement,
    lesion: np.ndarray,
    side: str,
    points: Mapping[str, np.ndarray],
    head_labels: np.ndarray | None,
) -> HeadSphere | None:
    """The head the reader gave for this lesion (points of its side, or the traced head it lies in)."""
    if side in points:
        return head_from_points(points[side], where=f"{side} head points")
    if head_labels is None:
        return None
    under = head_labels[lesion]
    under = under[under != 0]
    if under.size == 0:
        raise HeadNotFoundError(
            measurement.scan.source, "the lesion lies in no traced femoral head of the head mask"
        )
    values, counts = np.unique(under, return_counts=True)
    return head_from_mask(measurement.scan, head_labels == values[np.argmax(counts)])


def add_heads(
    measurement: Measurement,
    labels: np.ndarray,
    *,
    points: Mapping[str, np.ndarray] | None = None,
    head_labels: np.ndarray | None = None,
) -> Measurement:
    """Set ``measurement.heads`` (see :func:`lesions_in_heads`) and warn of each head not found.

    Examples
    --------
    >>> from onfh_volume import load_mask, load_scan, measure
    >>> scan = load_scan("sample_scans/dicom/sub-02/baseline")
    >>> labels = load_mask("sample_scans/masks/sub-02_baseline_lesions.nii.gz", scan)
    >>> result = add_heads(measure(scan, labels), labels).heads[1]
    >>> round(result.head.radius_mm, 1), result.steinberg_extent  # drawn with a 23.5 mm radius
    (23.8, 'B')
    """
    measurement.heads = lesions_in_heads(measurement, labels, points=points, head_labels=head_labels)
    for label, result in measurement.heads.items():
        if result.failure:
            measurement.warnings.append(f"label {label}: no femoral head measures: {result.failure}")
    return measurement


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


def lesions_in_heads(
    measurement: Measurement,
    labels: np.ndarray,
    *,
    points: Mapping[str, np.ndarray] | None = None,
    head_labels: np.ndarray | None = None,
) -> dict[int, LesionInHead]:
    """Every lesion of ``measurement`` (traced as ``labels``) against its femoral head, by label.

    Parameters
    ----------
    points
        Surface points of a head given by the reader, by side (``"right"``/``"left"``), RAS mm:
        they replace the image's head of that side.
    head_labels
        A traced head mask on the scan grid: each lesion takes the traced head most of it lies in.
    """
    results = {}
    for lesion in measurement.lesions:
        inside = labels == lesion.label
        try:
            head = _given_head(measurement, inside, lesion.side, points or {}, head_labels)
        except HeadError as exc:
            results[lesion.label] = LesionInHead(head=None, failure=exc.problem)
            continue
        results[lesion.label] = lesion_in_head(measurement, inside, lesion.label, head)
    return results
