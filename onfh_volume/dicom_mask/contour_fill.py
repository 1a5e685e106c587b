"""Closed planar contours filled onto a slice's pixels, exactly.

The rule (the user guide's): a pixel belongs to the region of the contours of one ROI on one slice
when its centre lies **on** one of the contours (within :data:`EDGE_TOLERANCE_PX`), or strictly
inside an odd number of them (even-odd: a contour inside another is a hole, as the DICOM
standard's inner and outer contours and its CLOSED_PLANAR_XOR are meant). A centre on a hole's own
edge is in: tools that outline a pixel mask (rt-utils, OpenCV) draw outer and inner contours
through the centres of the region's boundary pixels, and those pixels belong to the region.

Both parts are computed on whole numbers of pixels, with no sampling radius: the parity by
counting where each row of pixel centres crosses the edges (half-open rule), the edge pixels by
each edge's distance to the pixel centres along it.
"""

from __future__ import annotations

import numpy as np

#: A pixel centre this close (in pixels) to a contour's edge lies on it: contour points are decimal
#: strings of a few digits in millimetres, so a centre exactly on an edge comes back a hair off it.
EDGE_TOLERANCE_PX = 1e-3


def _box(contours: list[np.ndarray], shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    points = np.concatenate(contours)
    low = np.maximum(np.ceil(points.min(axis=0) - EDGE_TOLERANCE_PX), 0).astype(int)
    high = np.minimum(np.floor(points.max(axis=0) + EDGE_TOLERANCE_PX), np.array(shape) - 1).astype(int)
    if np.any(low > high):
        return None
    return int(low[0]), int(high[0]), int(low[1]), int(high[1])


def _odd_crossings(contours: list[np.ndarray], box: tuple[int, int, int, int]) -> np.ndarray:
    """Pixels of the box whose centre has an odd number of edges to its left (exact off the edges)."""
    top, bottom, left, right = box
    rows = np.arange(top, bottom + 1, dtype=float)[:, None]
    toggles = np.zeros((len(rows), right - left + 2), dtype=np.int64)
    for points in contours:
        y, x = points[:, 0], points[:, 1]
        y2, x2 = np.roll(y, -1), np.roll(x, -1)
        # An edge crosses a row when its ends lie on either side, one end counted as above: each
        # vertex on the row is counted once, so a centre off the edges gets the right parity.
        crosses = (y <= rows) != (y2 <= rows)
        r, e = np.nonzero(crosses)
        at = x[e] + (rows[r, 0] - y[e]) * (x2[e] - x[e]) / (y2[e] - y[e])
        # A centre at column c is right of a crossing at x when c > x, i.e. from floor(x) + 1 on.
        first = np.clip(np.floor(at).astype(np.int64) + 1 - left, 0, right - left + 1)
        np.add.at(toggles, (r, first), 1)
    return (np.cumsum(toggles, axis=1)[:, :-1] % 2).astype(bool)


def _centres_on_edges(y: np.ndarray, x: np.ndarray, y2: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """(row, column) of pixel centres on the edges (y, x)-(y2, x2) that run more along rows than columns.

    Such an edge meets each whole row once; a centre within the tolerance of the edge lies within
    1.5 tolerances of that meeting point along the row, so only the nearest column can be on it.
    """
    found = []
    for a, b, c, d in zip(y, x, y2, x2, strict=True):
        rows = np.arange(np.ceil(min(a, c) - EDGE_TOLERANCE_PX), np.floor(max(a, c) + EDGE_TOLERANCE_PX) + 1)
        if not rows.size:
            continue
        t = np.clip((rows - a) / (c - a), 0.0, 1.0) if c != a else np.zeros_like(rows)
        columns = np.round(b + t * (d - b))
        # The distance from each candidate centre to the segment itself (ends included).
        dy, dx = c - a, d - b
        length = dy * dy + dx * dx
        s = (
            np.clip(((rows - a) * dy + (columns - b) * dx) / length, 0.0, 1.0)
            if length
            else np.zeros_like(rows)
        )
        distance = np.hypot(rows - (a + s * dy), columns - (b + s * dx))
        near = distance <= EDGE_TOLERANCE_PX
        found.append(np.column_stack([rows[near], columns[near]]))
    return np.concatenate(found).astype(int) if found else np.zeros((0, 2), dtype=int)


def _on_edges(contours: list[np.ndarray], box: tuple[int, int, int, int]) -> np.ndarray:
    """Pixels of the box whose centre lies on an edge of a contour."""
    top, bottom, left, right = box
    on = np.zeros((bottom - top + 1, right - left + 1), dtype=bool)
    for points in contours:
        y, x = points[:, 0], points[:, 1]
        y2, x2 = np.roll(y, -1), np.roll(x, -1)
        steep = np.abs(y2 - y) >= np.abs(x2 - x)
        # An edge that runs more along columns is the steep case with rows and columns swapped.
        centres = np.concatenate(
            [
                _centres_on_edges(y[steep], x[steep], y2[steep], x2[steep]),
                _centres_on_edges(x[~steep], y[~steep], x2[~steep], y2[~steep])[:, ::-1],
            ]
        )
        inside = (
            (centres[:, 0] >= top)
            & (centres[:, 0] <= bottom)
            & (centres[:, 1] >= left)
            & (centres[:, 1] <= right)
        )
        on[centres[inside, 0] - top, centres[inside, 1] - left] = True
    return on


def fill_contours(contours: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Boolean image of ``shape``: the pixels of the region the closed ``contours`` of one slice enclose.

    Each contour is an (N, 2) array of vertices in continuous (row, column) pixel indices (pixel
    centres at whole numbers), its last vertex joined to its first. See the module for the rule.

    Examples
    --------
    A square through pixel centres, with a hole through the centres inside it: the hole's edge
    pixels stay in, only the centre strictly inside the hole is out.

    >>> square = np.array([[0.0, 0.0], [0.0, 4.0], [4.0, 4.0], [4.0, 0.0]])
    >>> hole = np.array([[1.0, 1.0], [1.0, 3.0], [3.0, 3.0], [3.0, 1.0]])
    >>> fill_contours([square, hole], (5, 6)).astype(int)
    array([[1, 1, 1, 1, 1, 0],
           [1, 1, 1, 1, 1, 0],
           [1, 1, 0, 1, 1, 0],
           [1, 1, 1, 1, 1, 0],
           [1, 1, 1, 1, 1, 0]])
    """
    region = np.zeros(shape, dtype=bool)
    # A contour of one or two points encloses nothing, but the centres it passes through are in.
    contours = [np.asarray(c, dtype=float).reshape(-1, 2) for c in contours if len(c)]
    box = _box(contours, shape) if contours else None
    if box is None:
        return region
    top, bottom, left, right = box
    region[top : bottom + 1, left : right + 1] = _odd_crossings(contours, box) | _on_edges(contours, box)
    return region
