"""Each lesion of a measurement against its femoral head: found in the image, or given by the reader.

:func:`lesions_in_heads` gives, for every lesion, its :class:`~onfh_volume.head.in_head.LesionInHead`:
the head fitted around it (from the image, or from the reader's surface points or traced head
mask) and the measures relative to it, or the reason why none could be given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..errors import HeadError, HeadNotFoundError
from .find import head_from_image
from .fit import HeadSphere, check_lesion_inside, head_from_mask, head_from_points
from .in_head import LesionInHead
from .measures import kerboul_angle, necrotic_ratio_pct, steinberg_extent
from .quality import collapse_reading, detection_limit_mm, near_steinberg_boundary
from .spread import ratio_reasons

if TYPE_CHECKING:
    from ..volume import Measurement


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
    uncertain = ratio_reasons(ratio, head.radius_mm, head.radius_spread_mm)
    if uncertain:
        head = dataclasses.replace(head, reasons=(*head.reasons, *uncertain))
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
