"""The geometry of DICOM image planes: spacing, orientation, position; a stack sorted along its normal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ScanError
from ..scan import tolerance
from .decimal_strings import ds_number, ds_values
from .plausible import PIXEL_SPACING_MM, SLICE_LENGTH_MM, check_length, check_position

if TYPE_CHECKING:
    from .dicom_files import AnyHeader

ORIENTATION_TOLERANCE = 1e-4


@dataclass
class Plane:
    """Geometry of one image plane: a classic file or one frame of a multi-frame file."""

    name: str
    orientation: np.ndarray
    position: np.ndarray
    pixel_spacing: tuple[float, float]
    slice_thickness: float | None
    spacing_tag: float | None
    matrix: tuple[int, int]


def _positive(path: Path, where: str, tag: str, value: object) -> float | None:
    """A slice length: a zero, negative or empty value states nothing (None); a positive one must be plausible."""
    number = ds_number(path, where, tag, value)
    if number is None or number <= 0:
        return None
    return check_length(path, f"{tag} in {where}", number, SLICE_LENGTH_MM)


def plane_of(path: Path, name: str, rows: int, cols: int, sources: Sequence[AnyHeader | None]) -> Plane:
    """Build a plane from the first of ``sources`` that holds each attribute."""

    def first(attribute: str) -> object:
        for source in sources:
            value = None if source is None else source.get(attribute)
            if value not in (None, ""):
                return value
        return None

    spacing = ds_values(path, name, "PixelSpacing", first("PixelSpacing"), 2)
    if np.any(spacing <= 0):
        raise ScanError(path, f"{name} has a non-positive PixelSpacing {list(spacing)}")
    for value in spacing:
        check_length(path, f"PixelSpacing in {name}", float(value), PIXEL_SPACING_MM)
    orientation = ds_values(path, name, "ImageOrientationPatient", first("ImageOrientationPatient"), 6)
    position = ds_values(path, name, "ImagePositionPatient", first("ImagePositionPatient"), 3)
    check_position(path, f"ImagePositionPatient in {name}", position)
    return Plane(
        name=name,
        orientation=orientation,
        position=position,
        pixel_spacing=(float(spacing[0]), float(spacing[1])),
        slice_thickness=_positive(path, name, "SliceThickness", first("SliceThickness")),
        spacing_tag=_positive(path, name, "SpacingBetweenSlices", first("SpacingBetweenSlices")),
        matrix=(rows, cols),
    )


def check_consistent(path: Path, planes: Sequence[Plane]) -> None:
    """Refuse planes whose matrix, orientation or pixel spacing differ; name the first such plane."""
    reference = planes[0]
    _check_orientation(path, reference)
    # All planes are compared at once: per-plane numpy calls would cost more than reading a header.
    matrix = np.array([plane.matrix != reference.matrix for plane in planes])
    orientation = (
        np.max(np.abs(np.array([plane.orientation for plane in planes]) - reference.orientation), axis=1)
        > ORIENTATION_TOLERANCE
    )
    spacing = ~np.isclose(
        [plane.pixel_spacing for plane in planes], reference.pixel_spacing, rtol=0, atol=1e-4
    ).all(axis=1)
    differing = np.flatnonzero(matrix | orientation | spacing)
    if not differing.size:
        return
    first = differing[0]
    plane = planes[first]
    if matrix[first]:
        raise ScanError(
            path,
            f"inconsistent matrix size: {reference.name} is {reference.matrix[0]}x{reference.matrix[1]} "
            f"but {plane.name} is {plane.matrix[0]}x{plane.matrix[1]}",
        )
    if orientation[first]:
        raise ScanError(
            path,
            f"inconsistent orientation: {reference.name} has ImageOrientationPatient "
            f"{np.round(reference.orientation, 4).tolist()} but {plane.name} has "
            f"{np.round(plane.orientation, 4).tolist()}",
        )
    raise ScanError(
        path,
        f"inconsistent pixel spacing: {reference.name} has {list(reference.pixel_spacing)} mm "
        f"but {plane.name} has {list(plane.pixel_spacing)} mm",
    )


def _check_orientation(path: Path, plane: Plane) -> None:
    row_direction, column_direction = plane.orientation[:3], plane.orientation[3:]
    lengths = np.linalg.norm(row_direction), np.linalg.norm(column_direction)
    if (
        abs(lengths[0] - 1) > 1e-3
        or abs(lengths[1] - 1) > 1e-3
        or abs(row_direction @ column_direction) > 1e-3
    ):
        raise ScanError(
            path,
            f"{plane.name} has an invalid ImageOrientationPatient {plane.orientation.tolist()}: "
            "not two perpendicular unit vectors",
        )


def slice_normal(orientation: np.ndarray) -> np.ndarray:
    row_direction, column_direction = orientation[:3], orientation[3:]
    normal = np.cross(row_direction, column_direction)
    return normal / np.linalg.norm(normal)


def _median(values: np.ndarray) -> float:
    """``statistics.median(values)``, the same float: np.median imports numpy.ma (15 ms at start-up),
    statistics decimal, fractions and random (2.5 ms). An odd count's middle value is (x + x) / 2 = x.

    Examples
    --------
    >>> _median(np.array([3.3, 3.0, 3.6])), _median(np.array([0.1, 0.2, 0.4, 0.3]))
    (3.3, 0.25)
    """
    ordered = np.sort(values)
    return float((ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2)


def sorted_stack(path: Path, planes: Sequence[Plane]) -> tuple[list[int], float | None]:
    """Order planes along the slice normal and check the stack is regular; return order and spacing."""
    normal = slice_normal(planes[0].orientation)
    positions = np.array([p.position for p in planes])
    along = positions @ normal
    order = [int(i) for i in np.argsort(along, kind="stable")]
    if len(planes) == 1:
        return order, None
    along = along[order]
    steps = np.diff(along)
    step = _median(steps)
    for i, s in enumerate(steps):
        if s <= tolerance(step):
            raise ScanError(
                path,
                f"duplicate slice position: {planes[order[i]].name} and {planes[order[i + 1]].name} "
                f"are both at {along[i]:.2f} mm along the slice normal (several echoes, phases or "
                "acquisitions in one series?)",
            )
    # Positions must lie on the line through the first one along the normal: anything off it is a
    # sheared stack (gantry tilt), on which area x thickness is not the lesion volume.
    offsets = positions[order] - positions[order[0]]
    sideways = np.linalg.norm(offsets - np.outer(offsets @ normal, normal), axis=1)
    if sideways.max() > tolerance(step):
        far = int(np.argmax(sideways))
        raise ScanError(
            path,
            f"gantry tilt or sheared stack: {planes[order[far]].name} lies {sideways[far]:.2f} mm off the "
            "slice normal through the first slice",
        )
    for i, s in enumerate(steps):
        if abs(s - step) <= tolerance(step):
            continue
        ratio = s / step
        if abs(ratio - round(ratio)) * step <= tolerance(step):
            raise ScanError(
                path,
                f"missing slice: {round(ratio) - 1} slice(s) absent between {planes[order[i]].name} and "
                f"{planes[order[i + 1]].name} ({s:.2f} mm apart, slices are {step:.2f} mm apart elsewhere)",
            )
        raise ScanError(
            path,
            f"non-uniform slice spacing: steps range from {steps.min():.2f} to {steps.max():.2f} mm "
            f"(first irregular step {s:.2f} mm after {planes[order[i]].name})",
        )
    # Scanners often write positions from float32 values (-28.599998474121): rounding the mean step
    # to 0.1 micrometre removes that noise, which could otherwise tip an exact 15% change.
    return order, round(float((along[-1] - along[0]) / (len(along) - 1)), 4)
