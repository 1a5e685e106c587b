"""The truth of the femoral head measures on a one-lesion-per-head phantom, computed from its shapes.

Independent of :mod:`onfh_volume.head`: the necrotic ratio from the truth mask's voxels and the
drawn sphere, the Kerboul arcs from the lesion's ellipsoid by solving where each ray enters and
leaves it (the phantom's outline wanders about its ellipsoid by up to 2.4 mm: a few degrees).
"""

from __future__ import annotations

import numpy as np

from .phantom import HeadTruth, Phantom

CORONAL_NORMAL = np.array([0.0, 1.0, 0.0])
SAGITTAL_NORMAL = np.array([1.0, 0.0, 0.0])


def head_truth(phantom: Phantom, label: int) -> HeadTruth:
    """The drawn femoral head of the lesion ``label`` (1 right, 2 left)."""
    return next(head for head in phantom.heads if head.side == ("right" if label == 1 else "left"))


def necrotic_ratio_truth(phantom: Phantom, label: int) -> float:
    """Truth mask voxels x pixel area x slice spacing (Cavalieri) / drawn sphere volume x 100."""
    a = phantom.spec.acquisition
    lesion_mm3 = np.count_nonzero(phantom.labels == label) * a.row_mm * a.column_mm * a.spacing_mm
    return 100 * lesion_mm3 / (4 / 3 * np.pi * head_truth(phantom, label).radius_mm ** 3)


def kerboul_truth(phantom: Phantom, label: int, normal: np.ndarray, depth_mm: float) -> float:
    """Arc (deg) of directions, on the plane through the head centre with ``normal`` (RAS), whose ray
    meets the lesion's ellipsoid within ``depth_mm`` of the head's surface.

    For each direction d the ray c + t d meets the ellipsoid |(p - L) / axes| = 1 between the roots
    of a quadratic in t; the direction counts when [enter, leave] overlaps [R - depth, R].
    """
    head = head_truth(phantom, label)
    lesion = next(spec for spec in phantom.spec.lesions if spec.label == label)
    centre = np.array(head.centre_ras)
    lps = lesion.centre(phantom.spec)
    offset = (np.array([-lps[0], -lps[1], lps[2]]) - centre) / np.array(lesion.axes)
    superior = np.array([0.0, 0.0, 1.0])
    across = np.cross(normal, superior)
    angles = np.radians(np.arange(0.0, 360.0, 0.1))
    scaled = (np.cos(angles)[:, None] * superior + np.sin(angles)[:, None] * across) / np.array(lesion.axes)
    a = (scaled**2).sum(axis=1)
    b = -2 * scaled @ offset
    discriminant = b * b - 4 * a * (offset @ offset - 1)
    root = np.sqrt(np.clip(discriminant, 0, None))
    enter, leave = (-b - root) / (2 * a), (-b + root) / (2 * a)
    hits = (discriminant > 0) & (leave >= head.radius_mm - depth_mm) & (enter <= head.radius_mm)
    return float(hits.sum() * 0.1)
