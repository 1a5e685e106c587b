"""Load a DICOM series folder, a classic DICOM file or an Enhanced MR multi-frame file."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from ..errors import ScanError, SeveralSeriesError
from ..scan import LPS_TO_RAS, Scan, gap_warning, tolerance

PIXEL_TAGS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
ORIENTATION_TOLERANCE = 1e-4


def is_dicom_file(path: Path) -> bool:
    """True when the file carries the DICOM Part 10 marker ("DICM" after the 128-byte preamble).

    Raises
    ------
    ScanError
        When the file cannot be read at all (permissions, I/O error): that is not "not DICOM".
    """
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError as exc:
        raise ScanError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    return len(head) == 132 and head[128:] == b"DICM"


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


def _read(path: Path) -> Dataset:
    """Read a DICOM file; refuse one that is cut short.

    pydicom stops quietly at the end of a truncated file and returns what it read, so an image
    file (its SOP class, in the file meta at the start, says so) that ends before its pixel data
    is caught here, rather than skipped as if it held no image.
    """
    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:
        raise ScanError(path, f"unreadable DICOM file ({exc})") from exc
    sop_class = ds.file_meta.get("MediaStorageSOPClassUID") or ds.get("SOPClassUID")
    if not _has_pixels(ds) and sop_class is not None and "Image Storage" in getattr(sop_class, "name", ""):
        raise ScanError(
            path, f"truncated or incomplete DICOM file: a {sop_class.name} file without pixel data"
        )
    return ds


def _has_pixels(ds: Dataset) -> bool:
    return any(tag in ds for tag in PIXEL_TAGS)


def _number(value: object) -> float | None:
    """A DS/IS value as float; empty or absent values are None, never 0."""
    if value is None or value == "":
        return None
    return float(value)  # type: ignore[arg-type]


def _positive(value: object) -> float | None:
    """A length tag: a zero, negative or empty value states nothing (None), never a length."""
    number = _number(value)
    return number if number is not None and number > 0 else None


def _vector(path: Path, where: str, value: object, size: int, tag: str) -> np.ndarray:
    if value is None or value == "" or len(value) != size:  # type: ignore[arg-type]
        raise ScanError(path, f"{where} has no valid {tag}: geometry cannot be known")
    return np.array([float(v) for v in value], dtype=float)  # type: ignore[union-attr]


def _plane(path: Path, name: str, rows: int, cols: int, sources: Sequence[Dataset | None]) -> Plane:
    """Build a plane from the first of ``sources`` that holds each attribute."""

    def first(attribute: str) -> object:
        for source in sources:
            if source is not None and attribute in source and source[attribute].value not in (None, ""):
                return source[attribute].value
        return None

    spacing = _vector(path, name, first("PixelSpacing"), 2, "PixelSpacing")
    if np.any(spacing <= 0):
        raise ScanError(path, f"{name} has a non-positive PixelSpacing {list(spacing)}")
    thickness = _positive(first("SliceThickness"))
    return Plane(
        name=name,
        orientation=_vector(path, name, first("ImageOrientationPatient"), 6, "ImageOrientationPatient"),
        position=_vector(path, name, first("ImagePositionPatient"), 3, "ImagePositionPatient"),
        pixel_spacing=(float(spacing[0]), float(spacing[1])),
        slice_thickness=thickness,
        spacing_tag=_positive(first("SpacingBetweenSlices")),
        matrix=(rows, cols),
    )


def _check_consistent(path: Path, planes: Sequence[Plane]) -> None:
    reference = planes[0]
    _check_orientation(path, reference)
    for plane in planes[1:]:
        if plane.matrix != reference.matrix:
            raise ScanError(
                path,
                f"inconsistent matrix size: {reference.name} is {reference.matrix[0]}x{reference.matrix[1]} "
                f"but {plane.name} is {plane.matrix[0]}x{plane.matrix[1]}",
            )
        if np.max(np.abs(plane.orientation - reference.orientation)) > ORIENTATION_TOLERANCE:
            raise ScanError(
                path,
                f"inconsistent orientation: {reference.name} has ImageOrientationPatient "
                f"{np.round(reference.orientation, 4).tolist()} but {plane.name} has "
                f"{np.round(plane.orientation, 4).tolist()}",
            )
        if not np.allclose(plane.pixel_spacing, reference.pixel_spacing, rtol=0, atol=1e-4):
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


def _normal(orientation: np.ndarray) -> np.ndarray:
    row_direction, column_direction = orientation[:3], orientation[3:]
    normal = np.cross(row_direction, column_direction)
    return normal / np.linalg.norm(normal)


def _sorted_stack(path: Path, planes: Sequence[Plane]) -> tuple[list[int], float | None]:
    """Order planes along the slice normal and check the stack is regular; return order and spacing."""
    normal = _normal(planes[0].orientation)
    positions = np.array([p.position for p in planes])
    along = positions @ normal
    order = [int(i) for i in np.argsort(along, kind="stable")]
    if len(planes) == 1:
        return order, None
    along = along[order]
    steps = np.diff(along)
    step = float(np.median(steps))
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


def _assemble(
    path: Path,
    planes: Sequence[Plane],
    pixels: Callable[[list[int], list[str]], np.ndarray] | None,
    series_uid: str | None,
) -> Scan:
    """Check a stack of planes, sort it, read its pixels (unless ``pixels`` is None) and build the scan."""
    _check_consistent(path, planes)
    order, positional_spacing = _sorted_stack(path, planes)
    first = planes[order[0]]
    notes: list[str] = []

    spacing_tag = first.spacing_tag
    if positional_spacing is None:
        slice_spacing = spacing_tag
    else:
        slice_spacing = positional_spacing
        if spacing_tag is not None and abs(spacing_tag - positional_spacing) > tolerance(positional_spacing):
            notes.append(
                f"SpacingBetweenSlices says {spacing_tag:.4g} mm but the slice positions are "
                f"{positional_spacing:.4g} mm apart; using the positions"
            )

    thicknesses = {p.slice_thickness for p in planes}
    thickness = first.slice_thickness
    if None in thicknesses:
        thickness = None
        notes.append(
            "SliceThickness is missing (or not a positive length): the area x thickness volume cannot be computed "
            "(only the Cavalieri area x spacing volume)"
        )
    elif len(thicknesses) > 1:
        raise ScanError(path, f"inconsistent SliceThickness across slices: {sorted(thicknesses)} mm")
    notes.extend(gap_warning(thickness, slice_spacing))

    row_direction, column_direction = first.orientation[:3], first.orientation[3:]
    row_spacing, column_spacing = first.pixel_spacing
    affine_lps = np.eye(4)
    affine_lps[:3, 0] = _normal(first.orientation) * (slice_spacing or 0.0)
    affine_lps[:3, 1] = column_direction * row_spacing
    affine_lps[:3, 2] = row_direction * column_spacing
    affine_lps[:3, 3] = first.position
    if slice_spacing is None:
        # One slice and no stated spacing: keep the affine invertible with a unit step, which no
        # volume uses (the Cavalieri volume stays unavailable).
        affine_lps[:3, 0] = _normal(first.orientation)

    return Scan(
        voxels=None if pixels is None else pixels(order, notes),
        grid=(len(planes), *first.matrix),
        pixel_spacing=(row_spacing, column_spacing),
        slice_thickness=thickness,
        slice_spacing=slice_spacing,
        affine=LPS_TO_RAS @ affine_lps,
        source=str(path),
        series_uid=series_uid,
        warnings=notes,
    )


def _decoded(path: Path, ds: Dataset, notes: list[str]) -> np.ndarray:
    """Decode the pixel data; the decoder's own warnings become the scan's ``notes``, not stderr noise."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            array = ds.pixel_array
    except Exception as exc:
        raise ScanError(path, f"pixel data cannot be decoded ({exc})") from exc
    for warning in caught:
        note = f"{path.name}: {warning.message}"
        if note not in notes:
            notes.append(note)
    return array


def _rescaled(array: np.ndarray, slope: object, intercept: object) -> np.ndarray:
    slope_value = _number(slope) if slope is not None else None
    intercept_value = _number(intercept) if intercept is not None else None
    if (slope_value in (None, 1.0)) and (intercept_value in (None, 0.0)):
        return array
    return array.astype(np.float32) * np.float32(slope_value or 1.0) + np.float32(intercept_value or 0.0)


def _is_multiframe(ds: Dataset) -> bool:
    return "PerFrameFunctionalGroupsSequence" in ds or int(ds.get("NumberOfFrames", 1) or 1) > 1


def _matrix(path: Path, ds: Dataset) -> tuple[int, int]:
    """Rows and columns of a greyscale image; colour or matrix-less files are refused."""
    if ds.get("Rows") is None or ds.get("Columns") is None:
        raise ScanError(path, "image without Rows/Columns")
    if int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        raise ScanError(
            path, f"colour image (SamplesPerPixel {ds.SamplesPerPixel}), not a greyscale MR image"
        )
    return int(ds.Rows), int(ds.Columns)


def _classic(
    path: Path, files: Sequence[tuple[Path, Dataset]], series_uid: str | None, with_pixels: bool
) -> Scan:
    planes = [_plane(file, file.name, *_matrix(file, ds), [ds]) for file, ds in files]

    def pixels(order: list[int], notes: list[str]) -> np.ndarray:
        slices = []
        for i in order:
            file, ds = files[i]
            slices.append(
                _rescaled(_decoded(file, ds, notes), ds.get("RescaleSlope"), ds.get("RescaleIntercept"))
            )
        dtype = np.result_type(*slices)
        return np.stack(slices).astype(dtype, copy=False)

    return _assemble(path, planes, pixels if with_pixels else None, series_uid)


def _enhanced(path: Path, ds: Dataset, with_pixels: bool) -> Scan:
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared_sequence = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_sequence[0] if shared_sequence else None
    if per_frame is None and shared is None:
        raise ScanError(
            path,
            f"multi-frame file ({frames} frames) without functional groups: no per-frame position or "
            "orientation (Enhanced MR without geometry)",
        )
    if per_frame is not None and len(per_frame) != frames:
        raise ScanError(path, f"{len(per_frame)} per-frame functional groups for {frames} frames")

    def item(group: Dataset | None, sequence: str) -> Dataset | None:
        if group is None or sequence not in group or not group[sequence].value:
            return None
        return group[sequence].value[0]

    per_frame_positions = per_frame is not None and any(item(f, "PlanePositionSequence") for f in per_frame)
    if frames > 1 and not per_frame_positions and item(shared, "PlanePositionSequence"):
        raise ScanError(
            path, f"Enhanced MR without per-frame geometry: all {frames} frames share one plane position"
        )

    planes, rescale = [], []
    for k in range(frames):
        frame = per_frame[k] if per_frame is not None else None
        sources = {
            name: [item(frame, name), item(shared, name)]
            for name in (
                "PlanePositionSequence",
                "PlaneOrientationSequence",
                "PixelMeasuresSequence",
                "PixelValueTransformationSequence",
            )
        }
        geometry = (
            sources["PlanePositionSequence"]
            + sources["PlaneOrientationSequence"]
            + sources["PixelMeasuresSequence"]
        )
        try:
            planes.append(_plane(path, f"frame {k + 1}", *_matrix(path, ds), geometry))
        except ScanError as exc:
            raise ScanError(path, f"Enhanced MR without geometry: {exc.problem}") from exc
        transform = next((s for s in sources["PixelValueTransformationSequence"] if s is not None), Dataset())
        rescale.append((transform.get("RescaleSlope"), transform.get("RescaleIntercept")))

    def pixels(order: list[int], notes: list[str]) -> np.ndarray:
        array = _decoded(path, ds, notes)
        if array.ndim == 2:
            array = array[None]
        stack = [_rescaled(array[k], *rescale[k]) for k in order]
        return np.stack(stack).astype(np.result_type(*stack), copy=False)

    return _assemble(path, planes, pixels if with_pixels else None, ds.get("SeriesInstanceUID"))


def _series_files(folder: Path) -> tuple[dict[str, list[tuple[Path, Dataset]]], list[str]]:
    """Group the image files below ``folder`` by SeriesInstanceUID; list the files that are not DICOM."""
    series: dict[str, list[tuple[Path, Dataset]]] = {}
    not_dicom: list[str] = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            file = Path(root) / name
            if file.stat().st_size == 0:
                raise ScanError(file, "empty file in the series folder (an incomplete copy or export?)")
            if not is_dicom_file(file):
                not_dicom.append(name)
                continue
            ds = _read(file)
            if _has_pixels(ds):
                series.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((file, ds))
    return series, not_dicom


def _choose(folder: Path, series: dict[str, list[tuple[Path, Dataset]]], choice: str | None) -> str:
    if not series:
        raise ScanError(folder, "no DICOM image files found (files are recognised by content, not by name)")
    if choice is None:
        if len(series) == 1:
            return next(iter(series))
        listing = sorted(
            (
                uid,
                str(files[0][1].get("SeriesNumber", "")),
                str(files[0][1].get("SeriesDescription", "")),
                len(files),
            )
            for uid, files in series.items()
        )
        raise SeveralSeriesError(folder, listing)
    matches = [
        uid
        for uid, files in series.items()
        if choice in (uid, str(files[0][1].get("SeriesNumber", "")).strip())
    ]
    if len(matches) != 1:
        known = ", ".join(
            f"{uid} (number {files[0][1].get('SeriesNumber', '?')})" for uid, files in sorted(series.items())
        )
        problem = "matches several series" if matches else "matches no series"
        raise ScanError(folder, f"series '{choice}' {problem}; the folder holds {known}")
    return matches[0]


def load_dicom(path: Path, series: str | None = None, pixels: bool = True) -> Scan:
    """Load a DICOM series folder or a single DICOM file; see :func:`onfh_volume.load.load_scan`."""
    try:
        return _load_dicom(path, series, pixels)
    except (ValueError, TypeError) as exc:
        # Malformed attribute values (text in a number, several values where one belongs) surface
        # as conversion errors deep in pydicom or numpy: they are the file's fault, not ours.
        raise ScanError(path, f"malformed DICOM attribute value ({exc})") from exc


def _load_dicom(path: Path, series: str | None, pixels: bool) -> Scan:
    if path.is_dir():
        groups, not_dicom = _series_files(path)
        uid = _choose(path, groups, series)
        files = groups[uid]
        multiframe = [file for file, ds in files if _is_multiframe(ds)]
        if multiframe and len(files) > 1:
            raise ScanError(
                path,
                f"series {uid} mixes {len(multiframe)} multi-frame file(s) with {len(files) - len(multiframe)} "
                "other file(s); open the multi-frame file itself",
            )
        scan = (
            _enhanced(files[0][0], files[0][1], pixels)
            if multiframe
            else _classic(path, files, uid or None, pixels)
        )
        scan.source = str(path)
        if not_dicom:
            shown = ", ".join(not_dicom[:3]) + (", ..." if len(not_dicom) > 3 else "")
            scan.warnings.append(f"skipped {len(not_dicom)} file(s) that are not DICOM in {path}: {shown}")
        return scan
    ds = _read(path)
    if not _has_pixels(ds):
        raise ScanError(path, "DICOM file without pixel data (not an image)")
    if series is not None and series not in (
        str(ds.get("SeriesInstanceUID", "")),
        str(ds.get("SeriesNumber", "")),
    ):
        raise ScanError(
            path, f"the file belongs to series {ds.get('SeriesInstanceUID', '?')}, not '{series}'"
        )
    if _is_multiframe(ds):
        return _enhanced(path, ds, pixels)
    return _classic(path, [(path, ds)], ds.get("SeriesInstanceUID"), pixels)
