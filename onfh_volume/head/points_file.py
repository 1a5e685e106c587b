"""The reader's femoral head surface points, as a CSV file: one point per row, by hip side."""

from __future__ import annotations

import csv
import math
from os import PathLike

import numpy as np

from ..errors import HeadPointsError
from ..vocabulary import SIDES

COLUMNS = ("side", "x_mm", "y_mm", "z_mm")
"""``side`` is ``right`` or ``left``; x, y, z are patient RAS coordinates in mm (as 3D Slicer shows them)."""


def read_head_points(path: str | PathLike[str]) -> dict[str, np.ndarray]:
    """Points (N, 3, RAS mm) on each head's surface, by side.

    Raises
    ------
    HeadPointsError
        A missing column, an unknown side, or a coordinate that is not a finite number (the line
        is named).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "points.csv"
    >>> _ = f.write_text("side,x_mm,y_mm,z_mm\\nright,90,0,24\\nright,66,0,0\\n")
    >>> read_head_points(f)["right"].tolist()
    [[90.0, 0.0, 24.0], [66.0, 0.0, 0.0]]
    """
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            header = rows[0].keys() if rows else ()
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise HeadPointsError(path, f"cannot read the head points ({exc})") from exc
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise HeadPointsError(
            path, f"head points need the columns {', '.join(COLUMNS)}; missing {', '.join(missing)}"
        )
    points: dict[str, list[list[float]]] = {}
    for line, row in enumerate(rows, start=2):
        side = (row["side"] or "").strip().lower()
        if side not in SIDES:
            raise HeadPointsError(path, f"line {line}: side must be right or left, not {row['side']!r}")
        try:
            xyz = [float(row[column]) for column in COLUMNS[1:]]
        except (TypeError, ValueError):
            xyz = [math.nan]
        if not all(math.isfinite(v) for v in xyz):
            raise HeadPointsError(path, f"line {line}: x_mm, y_mm and z_mm must be numbers (mm)")
        points.setdefault(side, []).append(xyz)
    return {side: np.array(xyz) for side, xyz in points.items()}
