"""Plausible geometry of a hip MRI: a header value outside these ranges is broken, never measured.

A length of 1e308 mm (valid DICOM syntax) would make a volume overflow to infinity, a NaN would
make a change fall through every comparison to "no change": both would give a wrong category with
a success exit code. The ranges are wide enough for any MR protocol (3-D isotropic to thick 2-D
slices, small to large fields of view) and far inside what arithmetic can carry exactly.

============================  ===================  =================================================
what                          accepted             why
============================  ===================  =================================================
pixel spacing (row, column)   0.05 to 10 mm        micro-MRI coils reach 0.05 mm; 10 mm is a scout
slice thickness and spacing   0.1 to 20 mm         3-D sequences to the thickest 2-D slab
positions (affine origin)     within 100 000 mm    100 m: anything farther is a broken header
orientation                   finite unit vectors  perpendicular, within 0.001 (checked where read)
============================  ===================  =================================================
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from os import PathLike

import numpy as np

from ..errors import OnfhError, ScanError
from ..scan import Scan

PIXEL_SPACING_MM = (0.05, 10.0)
SLICE_LENGTH_MM = (0.1, 20.0)
POSITION_LIMIT_MM = 1e5


def check_length(
    path: str | PathLike[str] | None,
    what: str,
    value: float,
    limits: tuple[float, float],
    error: type[OnfhError] = ScanError,
) -> float:
    """Return ``value`` (mm) when it lies within ``limits``; refuse it otherwise.

    Examples
    --------
    >>> check_length("scan", "SliceThickness", 4.0, SLICE_LENGTH_MM)
    4.0
    >>> check_length("scan", "SliceThickness", 1e308, SLICE_LENGTH_MM)
    Traceback (most recent call last):
    onfh_volume.errors.ScanError: scan: SliceThickness is 1e+308 mm: not a plausible MRI length (0.1 to 20 mm)
    """
    low, high = limits
    if not math.isfinite(value) or not low <= value <= high:
        raise error(path, f"{what} is {value:.6g} mm: not a plausible MRI length ({low:g} to {high:g} mm)")
    return value


def check_position(
    path: str | PathLike[str] | None, what: str, values: Iterable[float], error: type[OnfhError] = ScanError
) -> None:
    """Refuse a patient position (mm) that is not finite or lies farther than :data:`POSITION_LIMIT_MM`."""
    array = np.asarray(list(values), dtype=float)
    if not np.all(np.isfinite(array)) or np.abs(array).max(initial=0.0) >= POSITION_LIMIT_MM:
        raise error(
            path,
            f"{what} is {array.tolist()} mm: not a plausible position (finite, within {POSITION_LIMIT_MM:g} mm)",
        )


def check_finite(
    path: str | PathLike[str] | None, what: str, values: np.ndarray, error: type[OnfhError] = ScanError
) -> None:
    """Refuse an array of geometry (an affine, an orientation) holding NaN or an infinity."""
    if not np.all(np.isfinite(values)):
        raise error(path, f"{what} holds a non-finite value (NaN or infinity): the geometry cannot be known")


def check_scan(scan: Scan) -> Scan:
    """Refuse a loaded scan whose lengths or affine lie outside the plausible ranges; return it.

    Every reader's scan passes here (:func:`onfh_volume.load.load_scan`), whatever the header the
    numbers came from, so a length derived from positions or an affine is checked too.
    """
    check_finite(scan.source, "the voxel-to-patient affine", scan.affine)
    for what, value in zip(("row spacing", "column spacing"), scan.pixel_spacing, strict=True):
        check_length(scan.source, f"pixel {what}", value, PIXEL_SPACING_MM)
    if scan.slice_thickness is not None:
        check_length(scan.source, "slice thickness", scan.slice_thickness, SLICE_LENGTH_MM)
    if scan.slice_spacing is not None:
        check_length(scan.source, "slice spacing", scan.slice_spacing, SLICE_LENGTH_MM)
    check_position(scan.source, "the position of the first voxel", scan.affine[:3, 3])
    return scan
