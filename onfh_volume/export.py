"""Step 6 of the pipeline: results as plain data (JSON-ready dicts) for the CLI, the plugin and files.

No patient identifiers leave through here: a scan is named by its path and SeriesInstanceUID.
"""

from __future__ import annotations

from typing import Any

from . import __version__
from .change import Comparison, HipChange
from .scan import Scan
from .vocabulary import Method
from .volume import Lesion, Measurement


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


def lesion_dict(lesion: Lesion, method: Method) -> dict[str, Any]:
    """One lesion: label, side, both volumes and the per-slice areas of its traced slices."""
    return {
        "label": lesion.label,
        "side": lesion.side,
        "voxel_count": lesion.voxel_count,
        "volume_cm3": lesion.volume(method),
        "volume_thickness_cm3": lesion.volume_thickness_cm3,
        "volume_cavalieri_cm3": lesion.volume_cavalieri_cm3,
        "centroid_ras_mm": list(lesion.centroid_ras),
        "slices": [{"index": index, "area_mm2": area} for index, area in lesion.traced_slices()],
    }


def measurement_dict(measurement: Measurement, mask: str | None = None) -> dict[str, Any]:
    """A measurement: what ``onfh-volume measure --json`` prints."""
    info = scan_info(measurement.scan)
    return {
        "software": f"onfh-volume {__version__}",
        "scan": info["source"],
        "mask": mask,
        "series_instance_uid": info["series_instance_uid"],
        "method": measurement.method,
        "shape": info["shape"],
        "pixel_spacing_mm": info["pixel_spacing_mm"],
        "slice_thickness_mm": info["slice_thickness_mm"],
        "slice_spacing_mm": info["slice_spacing_mm"],
        "warnings": list(measurement.warnings),
        "lesions": [lesion_dict(lesion, measurement.method) for lesion in measurement.lesions],
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
        "software": f"onfh-volume {__version__}",
        "method": comparison.method,
        "threshold_pct": comparison.threshold_pct,
        "warnings": list(comparison.warnings),
        "hips": [hip_dict(hip) for hip in comparison.hips],
        "baseline": baseline,
        "followup": followup,
    }
