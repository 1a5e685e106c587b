"""Seed points: from patient millimetres or voxel indices to a voxel of the scan grid, or a refusal."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ..errors import SeedError
from ..scan import Scan

#: A number as a person types it: Python's float() also takes "1_0" (as 10), "nan" and other digits.
_NUMBER = re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")


def parse_triplet(text: str, what: str) -> tuple[float, float, float]:
    """Three comma-separated decimal numbers, as ``--seed X,Y,Z`` takes them.

    Examples
    --------
    >>> parse_triplet("12.5,-3,40", "seed")
    (12.5, -3.0, 40.0)
    >>> parse_triplet("1_0,2,3", "seed")
    Traceback (most recent call last):
    ...
    onfh_volume.errors.SeedError: seed '1_0,2,3' is not three comma-separated numbers (e.g. 12.5,-3,40)
    """
    parts = text.split(",")
    plain = all(_NUMBER.fullmatch(part) for part in parts)
    values = tuple(float(part) for part in parts) if plain else ()
    if len(values) != 3 or not np.all(np.isfinite(values)):
        raise SeedError(None, f"{what} {text!r} is not three comma-separated numbers (e.g. 12.5,-3,40)")
    return values[0], values[1], values[2]


def voxel_of_ras(scan: Scan, ras_mm: Sequence[float]) -> tuple[int, int, int]:
    """The voxel (slice, row, column) whose centre is nearest the RAS point, or a refusal if outside.

    Examples
    --------
    >>> from onfh_volume.scan import Scan
    >>> scan = Scan(None, (1.0, 1.0), 1.0, 1.0, np.eye(4), "s", grid=(3, 4, 5))
    >>> voxel_of_ras(scan, (0.8, 2.2, 3.9))
    (1, 2, 4)
    """
    index = np.linalg.solve(scan.affine[:3, :3], np.asarray(ras_mm, dtype=float) - scan.affine[:3, 3])
    return check_voxel(scan, np.rint(index), f"seed {tuple(float(v) for v in ras_mm)} mm (RAS)")


def check_voxel(
    scan: Scan, voxel: Sequence[float] | np.ndarray, what: str | None = None
) -> tuple[int, int, int]:
    """``voxel`` as whole voxel indices, refused when it lies outside the scan grid."""
    index = np.asarray(voxel, dtype=float)
    if index.shape != (3,) or not np.all(np.isfinite(index)):
        raise SeedError(
            scan.source,
            f"seed {tuple(index.ravel().tolist())}: give three finite numbers (slice, row, column)",
        )
    what = what or f"seed voxel {tuple(int(v) if float(v).is_integer() else float(v) for v in index)}"
    if not np.all(np.isclose(index, np.rint(index))):
        raise SeedError(scan.source, f"{what}: voxel indices must be whole numbers")
    if np.any(index < 0) or np.any(index > np.array(scan.shape) - 1):
        raise SeedError(scan.source, f"{what} lies outside the scan (slices, rows, columns: {scan.shape})")
    s, r, c = (int(v) for v in np.rint(index))
    return (s, r, c)
