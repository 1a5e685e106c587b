"""Signed distance functions (mm, negative inside) and partial-volume painting for synthetic scans.

Shapes are evaluated on arrays of points (..., 3) in millimetres, so one call draws a whole slice
(or a stack of sub-slices, whose average gives through-plane partial volume).

Examples
--------
>>> p = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
>>> sphere(p, point(0, 0, 0), 2.0).tolist()
[-2.0, 1.0]
"""

from __future__ import annotations

import numpy as np


def point(x: float, y: float, z: float) -> np.ndarray:
    """A point as an array."""
    return np.array([x, y, z], dtype=float)


def sphere(p: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """Distance from the surface of a sphere."""
    return np.linalg.norm(p - centre, axis=-1) - radius


def ellipsoid(p: np.ndarray, centre: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Approximate distance from the surface of an axis-aligned ellipsoid (exact enough for shading)."""
    return (np.linalg.norm((p - centre) / axes, axis=-1) - 1.0) * float(np.min(axes))


def ellipsoid_gradient_scaled(p: np.ndarray, centre: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Distance from an axis-aligned ellipsoid's surface, first-order exact in every direction.

    The level value divided by its gradient's length: a shell ``-w < d < 0`` is ``w`` mm thick all
    round, where :func:`ellipsoid` would make it thicker along the long axes.
    """
    k0 = np.linalg.norm((p - centre) / axes, axis=-1)
    k1 = np.linalg.norm((p - centre) / axes**2, axis=-1)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-12)


def capsule(p: np.ndarray, a: np.ndarray, b: np.ndarray, radius_a: float, radius_b: float) -> np.ndarray:
    """Distance from a tapered tube around the segment a-b (a long bone, a vessel, a fat plane)."""
    pa, ba = p - a, b - a
    h = np.clip((pa @ ba) / (ba @ ba), 0.0, 1.0)
    return np.linalg.norm(pa - h[..., None] * ba, axis=-1) - (radius_a + (radius_b - radius_a) * h)


def smooth_union(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Union of two shapes with a fillet of about ``k`` mm, so bones and outlines join without kinks."""
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b * (1 - h) + a * h - k * h * (1 - h)


def coverage(distance: np.ndarray, pixel_mm: float) -> np.ndarray:
    """Fraction of a pixel inside a shape: a one-pixel ramp across the surface (in-plane partial volume)."""
    return np.clip(0.5 - distance / pixel_mm, 0.0, 1.0)


def paint(image: np.ndarray, distance: np.ndarray, value: np.ndarray | float, pixel_mm: float) -> None:
    """Overlay a tissue on ``image`` where ``distance`` < 0, blending at its surface."""
    alpha = coverage(distance, pixel_mm)
    image += alpha * (value - image)
