"""Scan and lesion layers: how a :class:`~onfh_volume.Scan` and its lesion labels appear in napari.

Every layer of a scan carries the scan's geometry in ``layer.metadata["onfh_scan"]`` (without the
pixels), lesion layers also ``layer.metadata["onfh_role"] = "lesions"``. Layers are placed in
millimetres (scale = slice spacing, row spacing, column spacing), so anisotropic scans look right
and a lesion layer lies exactly on its scan.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from onfh_volume.scan import Scan
from onfh_volume.vocabulary import LABEL_NAMES, LEFT_LABEL, RIGHT_LABEL

SCAN_KEY = "onfh_scan"
ROLE_KEY = "onfh_role"
LESIONS = "lesions"
#: Key of a preview layer's ``metadata`` (proposed lesions, not yet accepted): its scan's source.
PREVIEW_OVER_KEY = "onfh_preview_over"
#: Key of a preview layer's ``metadata``: when it was shown (the latest over a scan is drawn side by side).
PREVIEW_SHOWN_KEY = "onfh_preview_shown"

#: Right hip lesion warm, left hip lesion cool: told apart at a glance, also by most colour-blind readers.
LABEL_COLOURS = {RIGHT_LABEL: "#ff6a00", LEFT_LABEL: "#00b4ff"}

#: Slices are numbered from 0, as napari's slider numbers them.
AXES = ("slice", "row", "column")

LayerData = tuple[Any, dict[str, Any], str]


def scan_name(scan: Scan) -> str:
    """A short layer name: the folder or file name, e.g. ``sub-01 baseline`` for ``.../sub-01/baseline``."""
    path = Path(scan.source)
    name = path.name.removesuffix(".gz").removesuffix(".nii")
    return f"{path.parent.name} {name}" if path.is_dir() else name


def scale(scan: Scan) -> tuple[float, float, float]:
    """Layer scale in mm: slice spacing (thickness for a single slice), row and column spacing."""
    step = scan.slice_spacing or scan.slice_thickness or 1.0
    return (float(step), float(scan.pixel_spacing[0]), float(scan.pixel_spacing[1]))


def translate(scan: Scan) -> tuple[float, float, float]:
    """Layer offset in mm: the first voxel's patient position along each of the scan's axes.

    Two scans of one patient in the same orientation (baseline and follow-up) then share world
    coordinates: the same slider position is the same position in the patient, whatever the
    field of view of each.
    """
    directions = scan.affine[:3, :3] / np.linalg.norm(scan.affine[:3, :3], axis=0)
    return tuple(float(v) for v in directions.T @ scan.affine[:3, 3])


def placed_like(layer) -> dict:
    """Scale, offset and units of ``layer``: a layer drawn over it (a preview) lies where it lies."""
    return {"scale": layer.scale, "translate": layer.translate, "units": layer.units}


def geometry_only(scan: Scan) -> Scan:
    """The scan without its pixels: what layers carry in their metadata."""
    return dataclasses.replace(scan, voxels=None)


def t1_window(voxels: np.ndarray) -> tuple[float, float]:
    """Contrast limits for a T1 image: the 0.5th to 99.5th percentile of its non-zero voxels.

    Air (zero) is left out so it does not pull the window down, and the brightest 0.5% (fat,
    vessels) saturate, so the hypointense band of a lesion stands out against marrow fat.
    """
    sample = voxels[:, ::2, ::2]
    sample = sample[sample != 0] if np.any(sample != 0) else sample.ravel()
    low, high = (float(v) for v in np.percentile(sample, [0.5, 99.5]))
    return (low, high) if high > low else (low, low + 1.0)


def scan_layer(scan: Scan) -> LayerData:
    """Image layer data for napari: the scan in mm, in a T1 window."""
    assert scan.voxels is not None, "a scan layer needs the pixels"
    return (
        scan.voxels,
        {
            "name": scan_name(scan),
            "scale": scale(scan),
            "translate": translate(scan),
            "units": ("mm", "mm", "mm"),
            "axis_labels": AXES,
            "colormap": "gray",
            "contrast_limits": t1_window(scan.voxels),
            "metadata": {SCAN_KEY: geometry_only(scan)},
        },
        "image",
    )


def lesion_layer(scan: Scan, labels: np.ndarray | None = None, name: str | None = None) -> LayerData:
    """Labels layer data on the scan's grid with the two named lesion labels (right, left hip)."""
    from napari.utils.colormaps import DirectLabelColormap

    if labels is None:
        labels = np.zeros(scan.shape, dtype=np.uint8)
    names = {0: "background", **LABEL_NAMES}
    return (
        labels,
        {
            "name": name or f"{scan_name(scan)} lesions",
            "scale": scale(scan),
            "translate": translate(scan),
            "units": ("mm", "mm", "mm"),
            "axis_labels": AXES,
            "colormap": DirectLabelColormap(
                color_dict={
                    None: "transparent",
                    0: "transparent",
                    **LABEL_COLOURS,
                    **_other_label_colours(labels),
                }
            ),
            "opacity": 0.6,
            "features": pd.DataFrame({"index": list(names), "lesion": list(names.values())}),
            "metadata": {SCAN_KEY: geometry_only(scan), ROLE_KEY: LESIONS},
        },
        "labels",
    )


def _other_label_colours(labels: np.ndarray) -> dict[int, str]:
    """Labels other than the two named ones (a mask from elsewhere) are shown, in yellow."""
    values = np.unique(labels) if labels.size else []
    return {int(v): "#ffe600" for v in values if v not in (0, RIGHT_LABEL, LEFT_LABEL)}


def scan_of(layer: Any) -> Scan | None:
    """The scan geometry a layer carries, if it is one of ours."""
    scan = getattr(layer, "metadata", {}).get(SCAN_KEY)
    return scan if isinstance(scan, Scan) else None


def is_lesion_layer(layer: Any) -> bool:
    """True for a labels layer holding lesions on a scan's grid."""
    return scan_of(layer) is not None and layer.metadata.get(ROLE_KEY) == LESIONS


def preview_over(layer: Any) -> str | None:
    """The source of the scan a preview layer of proposed lesions is drawn over (None: not a preview)."""
    return getattr(layer, "metadata", {}).get(PREVIEW_OVER_KEY)


def is_scan_layer(layer: Any) -> bool:
    """True for an image layer of a scan loaded by onfh-volume."""
    return scan_of(layer) is not None and layer.metadata.get(ROLE_KEY) != LESIONS


OPPOSITE = {"R": "L", "L": "R", "A": "P", "P": "A", "S": "I", "I": "S"}


def edge_letters(scan: Scan) -> dict[str, str]:
    """Patient direction at each edge of a slice as napari draws it (rows down, columns right).

    From the scan's affine, never assumed; empty when the file states no orientation.

    Examples
    --------
    >>> from onfh_volume import load_scan
    >>> edge_letters(load_scan("sample_scans/dicom/sub-01/baseline", pixels=False))
    {'left': 'R', 'right': 'L', 'top': 'S', 'bottom': 'I'}
    """
    if not scan.orientation_known:
        return {}
    _slice, down, right = scan.orientation
    return {"left": OPPOSITE[right], "right": right, "top": OPPOSITE[down], "bottom": down}
