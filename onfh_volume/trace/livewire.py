"""Live wire: between points clicked along the band, the path follows the darkest route.

The path between two clicks is the minimal path (scikit-image's ``MCP_Geometric``, with the pixel
spacing, so rectangular pixels are measured in millimetres) on a band cost image that is cheap on
dark pixels and dark ridges and dear on bright marrow. Closed through the first click again and
filled, it gives the traced area: the digital form of tracing the band with a brush and filling it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from scipy import ndimage
from skimage.filters import sato
from skimage.graph import MCP_Geometric

from ..errors import TracingError
from ..outline_fill import fill_outline


def band_cost(plane: np.ndarray, pixel_spacing: tuple[float, float]) -> np.ndarray:
    """Cost per pixel of one slice: low on the band (dark, a dark ridge), high on bright marrow.

    Examples
    --------
    >>> plane = np.full((20, 20), 800.0)
    >>> plane[:, 10] = 150.0  # a dark vertical line
    >>> cost = band_cost(plane, (1.0, 1.0))
    >>> bool(cost[5, 10] < cost[5, 4] / 5)
    True
    """
    row_mm, column_mm = pixel_spacing
    smooth = ndimage.gaussian_filter(np.asarray(plane, dtype=float), sigma=(0.5 / row_mm, 0.5 / column_mm))
    bright = max(float(np.percentile(smooth, 95)), 1e-6)
    level = np.clip(smooth / bright, 0.0, 1.0)
    pixel_mm = float(np.sqrt(row_mm * column_mm))
    ridges = sato(level, sigmas=[0.7 / pixel_mm, 1.0 / pixel_mm, 1.4 / pixel_mm], black_ridges=True)
    # Squared, so the darkest route wins over a shorter one across marrow; a floor keeps it finite.
    return 0.01 + level**2 / (1.0 + 20.0 * ridges)


def minimal_path(
    cost: np.ndarray, start: Sequence[int], end: Sequence[int], pixel_spacing: tuple[float, float]
) -> np.ndarray:
    """Pixels (N, 2) of the cheapest 8-connected route from ``start`` to ``end`` (row, column), both included."""
    graph = MCP_Geometric(cost, fully_connected=True, sampling=pixel_spacing)
    graph.find_costs([tuple(int(v) for v in start)], [tuple(int(v) for v in end)])
    return np.array(graph.traceback(tuple(int(v) for v in end)))


def live_wire(
    plane: np.ndarray,
    points: Sequence[Sequence[float]] | np.ndarray,
    pixel_spacing: tuple[float, float],
    *,
    closed: bool = True,
) -> np.ndarray:
    """The outline (row, column boolean mask) through ``points`` along the band, closed if asked.

    Raises
    ------
    TracingError
        With fewer than two points, a point outside the slice or not a number, a slice holding
        NaN or infinite values, or a pixel spacing that is not a positive length.
    """
    clicked = np.asarray(points, dtype=float).reshape(-1, 2)
    if not np.all(np.isfinite(clicked)):
        raise TracingError(None, "a live wire point is not a number")
    if not np.all(np.isfinite(plane)):
        raise TracingError(None, "the slice holds NaN or infinite values: the live wire needs finite pixels")
    if not all(np.isfinite(mm) and mm > 0 for mm in pixel_spacing):
        raise TracingError(None, f"pixel spacing {tuple(pixel_spacing)} is not a positive length")
    vertices = np.rint(clicked).astype(int)
    if len(vertices) < 2:
        raise TracingError(None, "the live wire needs at least two points along the band")
    if np.any(vertices < 0) or np.any(vertices >= np.array(plane.shape)):
        raise TracingError(
            None, f"a live wire point lies outside the slice of {plane.shape[0]} x {plane.shape[1]}"
        )
    cost = band_cost(plane, pixel_spacing)
    stops = [*vertices, vertices[0]] if closed else list(vertices)
    outline = np.zeros(plane.shape, dtype=bool)
    for start, end in pairwise(stops):
        path = minimal_path(cost, start, end, pixel_spacing)
        outline[path[:, 0], path[:, 1]] = True
    return outline


def live_wire_fill(
    plane: np.ndarray, points: Sequence[Sequence[int]], pixel_spacing: tuple[float, float]
) -> np.ndarray:
    """The area traced by the closed live wire through ``points``: the outline and its inside.

    Examples
    --------
    >>> plane = np.full((30, 30), 800.0)
    >>> plane[8, 8:22] = plane[21, 8:22] = plane[8:22, 8] = plane[8:22, 21] = 150.0  # a dark square
    >>> area = live_wire_fill(plane, [(8, 8), (8, 21), (21, 21), (21, 8)], (1.0, 1.0))
    >>> int(area.sum())  # the 14 x 14 square, outline included
    196

    Raises
    ------
    TracingError
        When the closed path encloses nothing (the points lie on one line).
    """
    outline = live_wire(plane, points, pixel_spacing, closed=True)
    inside = fill_outline(outline.astype(np.uint8), 1, max_gap_px=0, where="live wire")
    return outline | inside
