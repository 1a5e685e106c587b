"""One measurement group per lesion (TID 1411 or 1501), and per hip its change between two timepoints.

A group names its finding (necrosis) and site (the femoral head of one side), a tracking
identifier and UID, and holds the lesion's measures and its femoral head's quality (``ok`` or
``review``, with each reason to review as text). Each value is the one ``measure --json``
prints, unrounded; a measure that was not computed (no head found, no slice spacing) is left
out, never written as a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import concepts as c

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from ..change import HipChange
    from ..volume import Lesion, Measurement


@dataclass(frozen=True)
class Timepoint:
    """A measurement in the report: its source images, the SEG segment of each label, its time point."""

    measurement: Measurement
    headers: list[Dataset]
    segments: dict[int, tuple[Dataset, int]]
    time_point: str | None = None


def tracking_uid(*parts: object) -> str:
    """A UID that is the same for the same lesion in the same series, so a report made again tracks it."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=[str(part) for part in parts]))


def _finding_site(side: str) -> Any:
    import highdicom as hd

    return hd.sr.FindingSite(c.FEMORAL_HEAD, laterality=c.LATERALITY.get(side))


def lesion_measurements(timepoint: Timepoint, lesion: Lesion) -> list[Any]:
    """The lesion's volumes (both methods), and its head measures when they were computed."""
    import highdicom as hd

    values: list[tuple[Any, float | None, Any, Any]] = [
        (c.VOLUME, lesion.volume_thickness_cm3, c.CM3, c.METHOD_THICKNESS),
        (c.VOLUME, lesion.volume_cavalieri_cm3, c.CM3, c.METHOD_CAVALIERI),
    ]
    result = (timepoint.measurement.heads or {}).get(lesion.label)
    if result is not None:
        kerboul = result.kerboul
        values += [
            (c.NECROTIC_RATIO, result.necrotic_ratio_pct, c.PERCENT, None),
            (c.KERBOUL_CORONAL, None if kerboul is None else kerboul.coronal, c.DEGREE, None),
            (c.KERBOUL_SAGITTAL, None if kerboul is None else kerboul.sagittal, c.DEGREE, None),
            (c.KERBOUL_COMBINED, None if kerboul is None else kerboul.combined, c.DEGREE, None),
            # Measured by the head finder when it can; an older result has no such field.
            (c.COLLAPSE_DEPTH, getattr(result, "collapse_depth_mm", None), c.MM, None),
        ]
    return [
        hd.sr.Measurement(name=name, value=float(value), unit=unit, method=method)
        for name, value, unit, method in values
        if value is not None
    ]


def _evaluations(timepoint: Timepoint, lesion: Lesion) -> list[Any]:
    """The lesion's Steinberg extent and the ARCO reading of its collapse, when they were computed."""
    import highdicom as hd

    result = (timepoint.measurement.heads or {}).get(lesion.label)
    if result is None:
        return []
    evaluations = []
    if result.steinberg_extent is not None:
        value = c.STEINBERG_CLASSES[result.steinberg_extent]
        evaluations.append(hd.sr.QualitativeEvaluation(c.STEINBERG_EXTENT, value))
    if result.collapse is not None:
        reading = c.COLLAPSE_READINGS[result.collapse.split(" (")[0]]
        evaluations.append(hd.sr.QualitativeEvaluation(c.COLLAPSE_READING, reading))
    if result.head is not None:
        evaluations.append(hd.sr.QualitativeEvaluation(c.HEAD_QUALITY, c.HEAD_QUALITIES[result.head.quality]))
    return evaluations


def _add_review_reasons(group: Any, timepoint: Timepoint, lesion: Lesion) -> Any:
    """``group`` with each reason to review the lesion's head as a TEXT qualitative evaluation.

    TID 1501 and 1411 allow coded questions with text answers; highdicom builds only coded ones,
    so the items are added to its group's content.
    """
    import highdicom as hd

    result = (timepoint.measurement.heads or {}).get(lesion.label)
    for reason in () if result is None or result.head is None else result.head.reasons:
        item = hd.sr.TextContentItem(
            name=c.HEAD_REVIEW_REASON, value=reason, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS
        )
        group[0].ContentSequence.append(item)
    return group


def _time_point(timepoint: Timepoint) -> Any:
    import highdicom as hd

    return None if timepoint.time_point is None else hd.sr.TimePointContext(time_point=timepoint.time_point)


def referenced_segment(seg: Any, number: int) -> Any:
    """The reference to segment ``number`` of ``seg`` with the source images of its frames.

    A SEG of one segment may name it once for every frame (in the shared functional groups, as
    highdicom writes it), where highdicom's ``from_segmentation`` looks for it frame by frame only
    and fails: the reference is then made here from the frames' source images.
    """
    import highdicom as hd

    if "SegmentIdentificationSequence" not in seg.SharedFunctionalGroupsSequence[0]:
        return hd.sr.ReferencedSegment.from_segmentation(seg, segment_number=number)
    sources = {
        (source.ReferencedSOPClassUID, source.ReferencedSOPInstanceUID): None
        for frame in seg.PerFrameFunctionalGroupsSequence
        for derivation in frame.get("DerivationImageSequence", [])
        for source in derivation.get("SourceImageSequence", [])
    }
    return hd.sr.ReferencedSegment(
        sop_class_uid=seg.SOPClassUID,
        sop_instance_uid=seg.SOPInstanceUID,
        segment_number=number,
        source_images=[hd.sr.SourceImageForSegmentation(*source) for source in sources] or None,
        source_series=None
        if sources
        else hd.sr.SourceSeriesForSegmentation(seg.ReferencedSeriesSequence[0].SeriesInstanceUID),
    )


def lesion_group(timepoint: Timepoint, lesion: Lesion) -> Any:
    """The lesion's group: volumetric on its SEG segment when there is one, else on its traced images."""
    import highdicom as hd

    scan = timepoint.measurement.scan
    name = f"{lesion.side} hip lesion {lesion.label}"
    if timepoint.time_point:
        name += f" ({timepoint.time_point})"
    common = {
        "tracking_identifier": hd.sr.TrackingIdentifier(
            uid=tracking_uid(scan.series_uid, lesion.label), identifier=name
        ),
        "time_point_context": _time_point(timepoint),
        "finding_type": c.NECROSIS,
        "finding_category": c.ABNORMAL_STRUCTURE,
        "finding_sites": [_finding_site(lesion.side)],
        "measurements": lesion_measurements(timepoint, lesion),
        "qualitative_evaluations": _evaluations(timepoint, lesion) or None,
    }
    group: Any
    if lesion.label in timepoint.segments:
        seg, number = timepoint.segments[lesion.label]
        group = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            referenced_segment=referenced_segment(seg, number),
            **common,
        )
    else:
        traced = np.flatnonzero(lesion.pixel_counts)
        group = hd.sr.MeasurementsAndQualitativeEvaluations(
            source_images=[
                hd.sr.SourceImageForMeasurementGroup.from_source_image(timepoint.headers[int(k)])
                for k in traced
            ],
            **common,
        )
    return _add_review_reasons(group, timepoint, lesion)


def hip_change_group(hip: HipChange, baseline: Timepoint, followup: Timepoint) -> Any | None:
    """A hip's change (%) since baseline and its category; None for a hip with no change to state."""
    import highdicom as hd

    from ..export import hip_dict

    if hip.change is None:
        return None
    change_pct = hip_dict(hip)["change_pct"]  # as ``compare --json`` states it
    measurements = []
    if change_pct is not None:
        measurements.append(hd.sr.Measurement(name=c.VOLUME_CHANGE, value=float(change_pct), unit=c.PERCENT))
    series = (baseline.measurement.scan.series_uid, followup.measurement.scan.series_uid)
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=tracking_uid(*series, hip.side), identifier=f"{hip.side} hip change"
        ),
        time_point_context=hd.sr.TimePointContext(time_point=followup.time_point or "followup"),
        finding_type=c.NECROSIS,
        finding_category=c.ABNORMAL_STRUCTURE,
        finding_sites=[_finding_site(hip.side)],
        measurements=measurements or None,
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(c.CHANGE_CATEGORY, c.CATEGORIES[hip.change.category])
        ],
    )
