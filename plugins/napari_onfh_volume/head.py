"""The femoral heads in napari: fitted around the traced lesions, drawn as outlines, told in words.

Qt-free model of the widget's "Femoral head" box. The reader may click points on a head's surface
in a points layer of that side (:func:`head_points_layer`): that head is then the sphere through
them instead of the one found in the image.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from onfh_volume.measure_files import measure_labels
from onfh_volume.scan import Scan
from onfh_volume.vocabulary import LABEL_NAMES, SIDES
from onfh_volume.volume import Measurement

from .layers import AXES, LABEL_COLOURS, ROLE_KEY, LayerData, scale, scan_name, scan_of, translate

HEADS = "femoral heads"
HEAD_POINTS = "head points"
SIDE_KEY = "onfh_side"
#: The scan (its source) a head layer belongs to. Not the scan geometry key of the other layers:
#: a layer carrying that is taken for a scan or its lesions.
OF_SCAN_KEY = "onfh_head_of"
#: Colour of a head outline whose lesion has no label colour of its own.
OTHER_COLOUR = "#ffe600"


def measure_heads(scan: Scan, labels: np.ndarray, points: dict[str, np.ndarray] | None = None) -> Measurement:
    """Each lesion of ``labels`` on ``scan`` (with its pixels) measured against its femoral head.

    The Cavalieri volume makes the ratio when the scan states its spacing, the thickness volume
    method otherwise (a single slice: no ratio then).
    """
    method = "spacing" if scan.slice_spacing is not None else "thickness"
    return measure_labels(scan, labels, method, heads=True, points=points)


def head_points_layer(scan: Scan, side: str) -> LayerData:
    """An empty points layer for the reader's clicks on the ``side`` head's surface.

    It lies on the scan's grid (same scale and offset), so a click's data coordinates are voxel indices.
    """
    colour = LABEL_COLOURS[1 if side == SIDES[0] else 2]
    return (
        np.empty((0, 3)),
        {
            "name": f"{side} {HEAD_POINTS}",
            "scale": scale(scan),
            "translate": translate(scan),
            "units": ("mm", "mm", "mm"),
            "axis_labels": AXES,
            "size": 2.0,
            "face_color": colour,
            "border_color": "white",
            "metadata": {OF_SCAN_KEY: scan.source, ROLE_KEY: HEAD_POINTS, SIDE_KEY: side},
        },
        "points",
    )


def _circles(scan: Scan, centre: np.ndarray, radius: float) -> list[np.ndarray]:
    """Bounding boxes (4 x 3, voxel indices) of the sphere's section by each slice it crosses."""
    inverse = np.linalg.inv(scan.affine)
    index = inverse[:3, :3] @ centre + inverse[:3, 3]
    slice_mm, row_mm, column_mm = np.linalg.norm(scan.affine[:3, :3], axis=0)
    boxes = []
    for k in range(scan.shape[0]):
        depth = (k - index[0]) * slice_mm
        if abs(depth) >= radius:
            continue
        r = np.sqrt(radius**2 - depth**2)
        (low_r, high_r), (low_c, high_c) = (
            index[1] + np.array([-r, r]) / row_mm,
            index[2] + np.array([-r, r]) / column_mm,
        )
        boxes.append(
            np.array([[k, low_r, low_c], [k, low_r, high_c], [k, high_r, high_c], [k, high_r, low_c]])
        )
    return boxes


def outline_layer(scan: Scan, measurement: Measurement) -> LayerData:
    """A shapes layer: each fitted head's outline on every slice it crosses, in its lesion's colour.

    It lies on the scan's grid (its scale and offset), so each outline is on its slice of the scan.
    """
    shapes, colours = [], []
    for label, result in (measurement.heads or {}).items():
        if result.head is None:
            continue
        boxes = _circles(scan, np.array(result.head.centre_ras), result.head.radius_mm)
        shapes += boxes
        colours += [LABEL_COLOURS.get(label, OTHER_COLOUR)] * len(boxes)
    return (
        shapes,
        {
            "name": f"{scan_name(scan)} {HEADS}",
            "shape_type": "ellipse",
            "scale": scale(scan),
            "translate": translate(scan),
            "edge_color": colours or "white",
            "face_color": "transparent",
            "edge_width": 0.6,
            "units": ("mm", "mm", "mm"),
            "axis_labels": AXES,
            "metadata": {OF_SCAN_KEY: scan.source, ROLE_KEY: HEADS},
        },
        "shapes",
    )


def readout_lines(measurement: Measurement) -> list[str]:
    """One line per lesion: its head, necrotic ratio, Steinberg extent (and a boundary within 1 point),
    Kerboul angles, collapse and its ARCO reading, and ``REVIEW:`` with the reasons to check the head.

    Examples
    --------
    >>> from onfh_volume import load_mask, load_scan
    >>> scan = load_scan("sample_scans/dicom/sub-02/baseline")
    >>> labels = load_mask("sample_scans/masks/sub-02_baseline_lesions.nii.gz", scan)
    >>> print(readout_lines(measure_heads(scan, labels))[0])  # doctest: +ELLIPSIS
    Right hip lesion: head r 23.8 mm (image, RMS ... mm); necrotic 20.0% (Steinberg B); Kerboul ... = ...°; collapse 0.3 mm: no collapse seen (< 1.6 mm)
    """
    lines = []
    for lesion in measurement.lesions:
        name = LABEL_NAMES.get(lesion.label, f"label {lesion.label}").capitalize()
        result = (measurement.heads or {}).get(lesion.label)
        if result is None or result.head is None:
            lines.append(f"{name}: no femoral head ({result.failure if result else 'not fitted'})")
            continue
        head, kerboul = result.head, result.kerboul
        ratio = "-" if result.necrotic_ratio_pct is None else f"{result.necrotic_ratio_pct:.1f}%"
        angles = (
            "-"
            if kerboul is None
            else f"{kerboul.coronal:.0f} + {kerboul.sagittal:.0f} = {kerboul.combined:.0f}°"
        )
        near = "" if result.steinberg_near is None else f", near {result.steinberg_near:g}%"
        collapse = (
            ""
            if result.collapse is None
            else f"; collapse {result.collapse_depth_mm:.1f} mm: {result.collapse}"
        )
        review = "" if not head.reasons else f"; REVIEW: {'; '.join(head.reasons)}"
        lines.append(
            f"{name}: head r {head.radius_mm:.1f} mm ({head.source}, RMS {head.fit_rms_mm:.2f} mm); "
            f"necrotic {ratio} (Steinberg {result.steinberg_extent or '-'}{near}); Kerboul {angles}"
            f"{collapse}{review}"
        )
    return lines


def with_pixels(scan: Scan, voxels: Any) -> Scan:
    """The scan geometry a layer carries, with the layer's pixels."""
    return dataclasses.replace(scan, voxels=np.asarray(voxels))


def fitted_on(lesions: Any, scan_layer: Any) -> tuple[Scan, np.ndarray] | None:
    """The scan with its pixels and the lesion labels: what the heads are fitted on (None without both)."""
    if lesions is None or scan_layer is None:
        return None
    return with_pixels(scan_of(lesions), scan_layer.data), np.asarray(lesions.data)


def clicked_points(scan: Scan, layers: Any) -> dict[str, np.ndarray]:
    """The reader's head surface points of ``scan``, by side, as RAS mm, from its head points layers."""
    points = {}
    for layer in layers:
        metadata = getattr(layer, "metadata", {})
        if (
            metadata.get(ROLE_KEY) == HEAD_POINTS
            and metadata.get(OF_SCAN_KEY) == scan.source
            and len(layer.data)
        ):
            points[metadata[SIDE_KEY]] = scan.index_to_patient(np.asarray(layer.data, dtype=float))
    return points


def layer_of(layers: Any, scan: Scan, role: str, side: str | None = None) -> Any:
    """The head layer of ``role`` (and ``side``) belonging to ``scan``, or None."""
    for layer in layers:
        metadata = getattr(layer, "metadata", {})
        ours = metadata.get(ROLE_KEY) == role and metadata.get(OF_SCAN_KEY) == scan.source
        if ours and (side is None or metadata.get(SIDE_KEY) == side):
            return layer
    return None
