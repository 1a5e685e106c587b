"""Load a DICOM series folder, a classic DICOM file or an Enhanced MR multi-frame file."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from ..errors import ScanError, SeveralSeriesError
from ..plausible import PIXEL_SPACING_MM, SLICE_LENGTH_MM, check_length, check_position
from ..scan import LPS_TO_RAS, Scan, gap_warning, tolerance
from .decimal_strings import ds_number, ds_values
from .dicom_header import Converted, read_header

# PixelData, FloatPixelData, DoubleFloatPixelData.
PIXEL_DATA = 0x7FE00010
PIXEL_TAGS = (PIXEL_DATA, 0x7FE00008, 0x7FE00009)
ORIENTATION_TOLERANCE = 1e-4
GREYSCALE = ("MONOCHROME1", "MONOCHROME2")
#: Packages whose conversion errors mean a malformed file (see :func:`load_dicom`).
READERS = frozenset({"pydicom", "pylibjpeg", "libjpeg", "openjpeg", "rle"})
#: Values longer than this (bytes) are skipped when a header is read and fetched from the file only
#: if used: the pixel data of any image, which a full load reads itself and a geometry-only load never.
DEFER_SIZE = 16 * 1024
#: Transfer syntaxes whose pixel data is the bare little-endian array, readable straight into numpy.
NATIVE_LITTLE_ENDIAN = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
UNDEFINED_LENGTH = 0xFFFFFFFF
#: Lesion masks stored as DICOM (read by onfh_volume.dicom_mask): never a scan, even with pixel data.
MASK_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.66.4": "DICOM SEG",
    "1.2.840.10008.5.1.4.1.1.66.7": "DICOM SEG (label map)",
    "1.2.840.10008.5.1.4.1.1.481.3": "RTSTRUCT",
}
#: Threads reading pixel data: enough to overlap file reads with numpy's work on a few cores.
READ_THREADS = min(4, os.cpu_count() or 1)


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


def _read(path: Path, pixels: bool, converted: Converted) -> Dataset:
    """Read a DICOM file's header, locating its pixel data without reading it; refuse a file cut short.

    pydicom stops quietly at the end of a truncated file and returns what it read, so an image
    file (its SOP class, in the file meta at the start, says so) that ends before its pixel data
    is caught here, rather than skipped as if it held no image. A file cut inside its pixel data
    is refused when the pixels are read, or here already when they never will be (``pixels`` False).
    ``converted`` holds the values already converted by this load (see :func:`read_header`).
    """
    ds = read_header(path, converted) or _dcmread(path)
    if not _has_pixels(ds):
        sop_class = ds.file_meta.get("MediaStorageSOPClassUID") or ds.get("SOPClassUID")
        if sop_class is not None and "Image Storage" in getattr(sop_class, "name", ""):
            raise ScanError(
                path, f"truncated or incomplete DICOM file: a {sop_class.name} file without pixel data"
            )
    if not pixels:
        _check_pixels_in_file(path, ds)
    return ds


def _dcmread(path: Path) -> Dataset:
    """Read a file with pydicom, leaving long values (the pixel data) in the file until used."""
    try:
        return pydicom.dcmread(path, defer_size=DEFER_SIZE)
    except Exception as exc:
        raise ScanError(path, f"unreadable DICOM file ({exc})") from exc


def _has_pixels(ds: Dataset) -> bool:
    return any(tag in ds for tag in PIXEL_TAGS)


def _pixel_element(ds: Dataset) -> RawDataElement | None:
    """The pixel data element as read from the file (its value possibly not fetched), None if absent."""
    tag = next((tag for tag in PIXEL_TAGS if tag in ds), None)
    element = None if tag is None else ds.get_item(tag, keep_deferred=True)
    return element if isinstance(element, RawDataElement) else None


def _check_pixels_in_file(path: Path, ds: Dataset) -> None:
    """Refuse a file that ends before its pixel data element does, without reading the pixel data.

    Where the element's value starts in a deflated file is an offset into the inflated stream, and
    compressed (encapsulated) pixel data has no stated length: neither can be checked this way.
    """
    element = _pixel_element(ds)
    if (
        element is None
        or element.length == UNDEFINED_LENGTH
        or ds.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian
    ):
        return
    missing = element.value_tell + element.length - path.stat().st_size
    if missing > 0:
        raise ScanError(
            path,
            f"truncated DICOM file: its pixel data ({element.length} bytes) ends {missing} bytes "
            "past the end of the file",
        )


def _positive(path: Path, where: str, tag: str, value: object) -> float | None:
    """A slice length: a zero, negative or empty value states nothing (None); a positive one must be plausible."""
    number = ds_number(path, where, tag, value)
    if number is None or number <= 0:
        return None
    return check_length(path, f"{tag} in {where}", number, SLICE_LENGTH_MM)


def _plane(path: Path, name: str, rows: int, cols: int, sources: Sequence[Dataset | None]) -> Plane:
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


def _check_consistent(path: Path, planes: Sequence[Plane]) -> None:
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


def native_dtype(ds: Dataset) -> np.dtype | None:
    """The dtype of pixel data that numpy can take straight from the file; None when a decoder must.

    That is uncompressed little-endian greyscale 8- or 16-bit integers in one frame, of exactly the
    length pydicom accepts without a warning (an odd length padded by one byte, or not). Anything
    else (compressed, big endian, float, other bit depths, unexpected lengths) goes to pydicom.
    """
    element = _pixel_element(ds)
    if (
        element is None
        or element.tag != PIXEL_DATA
        or ds.file_meta.get("TransferSyntaxUID") not in NATIVE_LITTLE_ENDIAN
        or ds.get("PhotometricInterpretation") not in GREYSCALE
        or _frames(ds) != 1
    ):
        return None
    bits, stored, signed = ds.get("BitsAllocated"), ds.get("BitsStored"), ds.get("PixelRepresentation")
    if bits not in (8, 16) or signed not in (0, 1) or not isinstance(stored, int) or not 0 < stored <= bits:
        return None
    expected = int(ds.Rows) * int(ds.Columns) * bits // 8
    if element.length not in (expected, expected + expected % 2):
        return None
    return np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")


def _read_native(path: Path, ds: Dataset, out: np.ndarray) -> bool:
    """Read uncompressed pixel data straight into ``out``; False when the file ends too early.

    Also False when the file can no longer be read (moved or changed since its header was read):
    pydicom then says what is wrong with it. Bits above BitsStored are cleared (sign-extended for
    signed data), as pydicom does: scanners may leave overlay or garbage bits there.
    """
    element = _pixel_element(ds)
    assert element is not None  # native_dtype found it
    try:
        with open(path, "rb") as f:
            f.seek(element.value_tell)
            if f.readinto(memoryview(out).cast("B")) != out.nbytes:
                return False
    except OSError:
        return False
    shift = 8 * out.itemsize - int(ds.BitsStored)
    if shift and out.dtype.kind == "i":
        np.left_shift(out, shift, out=out)
        np.right_shift(out, shift, out=out)
    elif shift:
        np.bitwise_and(out, (1 << int(ds.BitsStored)) - 1, out=out)
    return True


def _stored(files: Sequence[tuple[Path, Dataset]], notes: list[str]) -> Sequence[np.ndarray]:
    """The stored pixel values of single-frame files, one slice per file in the given order.

    When every file holds the same uncompressed array type, the slices are read from the files
    into one preallocated array by a few threads (file reads and numpy release the GIL); otherwise
    each file is decoded by pydicom. A file that ends inside its pixel data is left to pydicom,
    whose refusal names the missing bytes.
    """
    dtypes = {native_dtype(ds) for _, ds in files}
    dtype = dtypes.pop()
    if dtype is None or dtypes:
        return [_decoded(file, ds, notes) for file, ds in files]
    stack = np.empty((len(files), int(files[0][1].Rows), int(files[0][1].Columns)), dtype)
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        complete = list(pool.map(_read_native, *zip(*files, strict=True), stack))
    for k, done in enumerate(complete):
        if not done:
            stack[k] = _decoded(*files[k], notes)
    return stack


def _rescale_factors(path: Path, slope: object, intercept: object) -> tuple[np.float32, np.float32] | None:
    """RescaleSlope and RescaleIntercept as float32, or None when they leave the values unchanged."""
    slope_value = ds_number(path, "the image", "RescaleSlope", slope)
    intercept_value = ds_number(path, "the image", "RescaleIntercept", intercept)
    if slope_value == 0:
        # Every pixel would be the intercept: a broken header, not an image.
        raise ScanError(path, "malformed DICOM attribute value (RescaleSlope is 0)")
    if (slope_value in (None, 1.0)) and (intercept_value in (None, 0.0)):
        return None
    return np.float32(slope_value or 1.0), np.float32(intercept_value or 0.0)


def _rescaled(slices: Sequence[np.ndarray], rescale: Sequence[tuple[Path, object, object]]) -> np.ndarray:
    """Stack the slices, each rescaled by its (RescaleSlope, RescaleIntercept) in float32 arithmetic.

    The stack has the type the rescaled (float32) and untouched slices promote to together, as if
    each slice were rescaled on its own and then stacked; an array none of whose slices needs
    rescaling is returned as it is.
    """
    factors = [_rescale_factors(*factors) for factors in rescale]
    if isinstance(slices, np.ndarray) and all(f is None for f in factors):
        return slices
    dtype = np.result_type(
        *{np.dtype(np.float32) if f else s.dtype for s, f in zip(slices, factors, strict=True)}
    )
    values = np.empty((len(slices), *slices[0].shape), dtype)
    for value, stored, f in zip(values, slices, factors, strict=True):
        if f is None:
            value[...] = stored
        else:
            np.multiply(stored, f[0], out=value, dtype=np.float32)
            np.add(value, f[1], out=value, dtype=np.float32)
    return values


def _frames(ds: Dataset) -> int:
    """NumberOfFrames (1 when absent); pydicom hands over text it could not convert, refused here."""
    value = ds.get("NumberOfFrames", 1) or 1
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScanError(
            getattr(ds, "filename", None), f"malformed DICOM attribute value (NumberOfFrames {value!r})"
        ) from None


def _is_multiframe(ds: Dataset) -> bool:
    return "PerFrameFunctionalGroupsSequence" in ds or _frames(ds) > 1


def _matrix(path: Path, ds: Dataset) -> tuple[int, int]:
    """Rows and columns of a greyscale image; colour or matrix-less files are refused."""
    rows, columns = ds.get("Rows"), ds.get("Columns")
    if rows is None or columns is None:
        raise ScanError(path, "image without Rows/Columns")
    if int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        raise ScanError(
            path, f"colour image (SamplesPerPixel {ds.SamplesPerPixel}), not a greyscale MR image"
        )
    photometric = ds.get("PhotometricInterpretation")
    if photometric and str(photometric).strip() not in GREYSCALE:
        # One sample per pixel, yet a colour interpretation: the header contradicts itself.
        raise ScanError(
            path, f"PhotometricInterpretation {str(photometric).strip()} is not a greyscale MR image"
        )
    return int(rows), int(columns)


def _classic(
    path: Path, files: Sequence[tuple[Path, Dataset]], series_uid: str | None, with_pixels: bool
) -> Scan:
    planes = [_plane(file, file.name, *_matrix(file, ds), [ds]) for file, ds in files]

    def pixels(order: list[int], notes: list[str]) -> np.ndarray:
        ordered = [files[i] for i in order]
        return _rescaled(
            _stored(ordered, notes),
            [(file, ds.get("RescaleSlope"), ds.get("RescaleIntercept")) for file, ds in ordered],
        )

    return _assemble(path, planes, pixels if with_pixels else None, series_uid)


def _enhanced(path: Path, ds: Dataset, with_pixels: bool) -> Scan:
    frames = _frames(ds)
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
        rescale.append((path, transform.get("RescaleSlope"), transform.get("RescaleIntercept")))

    def pixels(order: list[int], notes: list[str]) -> np.ndarray:
        array = _decoded(path, ds, notes)
        if array.ndim == 2:
            array = array[None]
        return _rescaled(array[order], [rescale[k] for k in order])

    return _assemble(path, planes, pixels if with_pixels else None, ds.get("SeriesInstanceUID"))


def _series_files(folder: Path, pixels: bool) -> tuple[dict[str, list[tuple[Path, Dataset]]], list[str]]:
    """Group the image files below ``folder`` by SeriesInstanceUID; list the files that are not DICOM."""
    series: dict[str, list[tuple[Path, Dataset]]] = {}
    not_dicom: list[str] = []
    converted: Converted = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            file = Path(root) / name
            if file.stat().st_size == 0:
                raise ScanError(file, "empty file in the series folder (an incomplete copy or export?)")
            if not is_dicom_file(file):
                not_dicom.append(name)
                continue
            ds = _read(file, pixels, converted)
            if _has_pixels(ds) and str(ds.get("SOPClassUID", "")) not in MASK_SOP_CLASSES:
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
    except (ValueError, TypeError, OverflowError) as exc:
        # Malformed attribute values (text in a number) surface as conversion errors inside pydicom
        # when a value is first used: they are the file's fault. The same errors raised by our own
        # code are bugs, and must read as such, not as "malformed DICOM".
        if not _raised_by_reader(exc):
            raise
        raise ScanError(path, f"malformed DICOM attribute value ({exc})") from exc


def _raised_by_reader(exc: BaseException) -> bool:
    """True when ``exc`` was raised inside pydicom (or a decoder it called), not in onfh-volume."""
    traceback = exc.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    module = "" if traceback is None else traceback.tb_frame.f_globals.get("__name__", "")
    return module.split(".")[0] in READERS


def _load_dicom(path: Path, series: str | None, pixels: bool) -> Scan:
    if path.is_dir():
        groups, not_dicom = _series_files(path, pixels)
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
        scan.laterality = _laterality(files[0][1])
        if not_dicom:
            shown = ", ".join(not_dicom[:3]) + (", ..." if len(not_dicom) > 3 else "")
            scan.warnings.append(f"skipped {len(not_dicom)} file(s) that are not DICOM in {path}: {shown}")
        return scan
    ds = _read(path, pixels, {})
    mask = MASK_SOP_CLASSES.get(str(ds.get("SOPClassUID", "")))
    if mask:
        raise ScanError(path, f"a {mask} is a lesion mask, not a scan: give it as the mask, with its scan")
    if not _has_pixels(ds):
        raise ScanError(path, "DICOM file without pixel data (not an image)")
    if series is not None and series not in (
        str(ds.get("SeriesInstanceUID", "")),
        str(ds.get("SeriesNumber", "")),
    ):
        raise ScanError(
            path, f"the file belongs to series {ds.get('SeriesInstanceUID', '?')}, not '{series}'"
        )
    scan = (
        _enhanced(path, ds, pixels)
        if _is_multiframe(ds)
        else _classic(path, [(path, ds)], ds.get("SeriesInstanceUID"), pixels)
    )
    scan.laterality = _laterality(ds)
    return scan


def _laterality(ds: Dataset) -> dict[str, str]:
    """The elements that may state the side imaged, as written (see :mod:`onfh_volume.side`)."""
    return {
        key: str(ds.get(key)) for key in ("Laterality", "ImageLaterality", "SeriesDescription") if ds.get(key)
    }
