"""Step 6 of the pipeline: results as plain data (JSON-ready dicts) for the CLI, the plugin and files.

No patient identifiers leave through here: a scan is named by its path and SeriesInstanceUID.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .change import Comparison, HipChange
from .scan import Scan
from .vocabulary import Method
from .volume import Lesion, Measurement

if TYPE_CHECKING:
    from .head import LesionInHead


def to_json(data: Any) -> str:
    """Results as JSON text; a NaN or infinity is an error (``ValueError``), never ``NaN`` in the file.

    JSON has no NaN: Python's ``json`` would write it anyway, and other readers reject the file.
    The pipeline refuses non-finite numbers before they reach a result, so one here is a bug.

    Examples
    --------
    >>> print(to_json({"volume_cm3": 1.5}))
    {
      "volume_cm3": 1.5
    }
    """
    return json.dumps(data, indent=2, allow_nan=False)


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]


def scan_info(scan: Scan) -> dict[str, Any]:
    """Geometry of a scan: what ``onfh-volume info --json`` prints."""
    return {
        "source": scan.source,
        "series_instance_uid": scan.series_uid,
        "shape": list(scan.shape),
        "pixel_spacing_mm": _floats(scan.pixel_spacing),
        "slice_thickness_mm": scan.slice_thickness,
        "slice_spacing_mm": scan.slice_spacing,
        "orientation": scan.orientation,
        "affine_ras": [_floats(row) for row in scan.affine],
        "warnings": list(scan.warnings),
    }


def head_dict(result: LesionInHead) -> dict[str, Any]:
    """A lesion against its femoral head: the sphere, the measures, or why there are none."""
    head, kerboul = result.head, result.kerboul
    return {
        "head": None
        if head is None
        else {
            "centre_ras_mm": list(head.centre_ras),
            "radius_mm": head.radius_mm,
            "volume_cm3": head.volume_cm3,
            "fit_rms_mm": head.fit_rms_mm,
            "source": head.source,
            "fitted_to": head.fitted_to,
            "quality": head.quality,
            "review_reasons": list(head.reasons),
        },
        "head_failure": result.failure,
        "necrotic_ratio_pct": result.necrotic_ratio_pct,
        "steinberg_extent": result.steinberg_extent,
        "steinberg_near_boundary_pct": result.steinberg_near,
        "collapse_depth_mm": result.collapse_depth_mm,
        "collapse_arco": result.collapse,
        "kerboul_angle_deg": None
        if kerboul is None
        else {"coronal": kerboul.coronal, "sagittal": kerboul.sagittal, "combined": kerboul.combined},
    }


def lesion_dict(lesion: Lesion, method: Method, head: LesionInHead | None = None) -> dict[str, Any]:
    """One lesion: label, side, both volumes, the per-slice areas of its traced slices, and its
    femoral head's measures when they were computed (:func:`head_dict`)."""
    return {
        "label": lesion.label,
        "side": lesion.side,
        "voxel_count": lesion.voxel_count,
        "volume_cm3": lesion.volume(method),
        "volume_thickness_cm3": lesion.volume_thickness_cm3,
        "volume_cavalieri_cm3": lesion.volume_cavalieri_cm3,
        "centroid_ras_mm": list(lesion.centroid_ras),
        "slices": [{"index": index, "area_mm2": area} for index, area in lesion.traced_slices()],
        **({} if head is None else head_dict(head)),
    }


def _software() -> str:
    """This program and its version; read from the package metadata only when a result is written."""
    from . import __version__

    return f"onfh-volume {__version__}"


def measurement_dict(measurement: Measurement, mask: str | None = None) -> dict[str, Any]:
    """A measurement: what ``onfh-volume measure --json`` prints."""
    info = scan_info(measurement.scan)
    return {
        "software": _software(),
        "scan": info["source"],
        "mask": mask,
        "series_instance_uid": info["series_instance_uid"],
        "method": measurement.method,
        "shape": info["shape"],
        "pixel_spacing_mm": info["pixel_spacing_mm"],
        "slice_thickness_mm": info["slice_thickness_mm"],
        "slice_spacing_mm": info["slice_spacing_mm"],
        "warnings": list(measurement.warnings),
        "lesions": [
            lesion_dict(lesion, measurement.method, (measurement.heads or {}).get(lesion.label))
            for lesion in measurement.lesions
        ],
    }


def hip_dict(hip: HipChange) -> dict[str, Any]:
    """One hip of a comparison: labels, volumes at both timepoints, change and category.

    A timepoint that was not measured has no labels or volumes (``None``); without both, there
    is no change or category.
    """
    data: dict[str, Any] = {"side": hip.side}
    for when, volumes in (("baseline", hip.baseline), ("followup", hip.followup)):
        data[f"{when}_labels"] = None if volumes is None else list(volumes.labels)
        data[f"{when}_volume_cm3"] = None if volumes is None else volumes.volume(hip.method)
        data[f"{when}_cavalieri_cm3"] = None if volumes is None else volumes.cavalieri_cm3
    change = hip.change
    # 14.999999999999995 next to "increase" would puzzle a reader; 1e-6 points is plenty.
    data["change_pct"] = None if change is None or change.change_pct is None else round(change.change_pct, 6)
    data["category"] = None if change is None else change.category
    return data


def comparison_dict(
    comparison: Comparison, baseline: dict[str, Any], followup: dict[str, Any]
) -> dict[str, Any]:
    """A baseline/follow-up comparison: what ``onfh-volume compare --json`` prints.

    ``baseline`` and ``followup`` are the two :func:`measurement_dict` results.
    """
    return {
        "software": _software(),
        "method": comparison.method,
        "threshold_pct": comparison.threshold_pct,
        "warnings": list(comparison.warnings),
        "hips": [hip_dict(hip) for hip in comparison.hips],
        "baseline": baseline,
        "followup": followup,
    }
