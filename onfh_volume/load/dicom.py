"""Load a DICOM series folder, a classic DICOM file or an Enhanced MR multi-frame file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ScanError
from ..scan import LPS_TO_RAS, Scan, gap_warning, tolerance
from .dicom_files import MASK_SOP_CLASSES, choose_series, frame_count, has_pixels, read_dataset, series_files
from .dicom_geometry import Plane, check_consistent, plane_of, slice_normal, sorted_stack
from .dicom_pixels import GREYSCALE, decoded_pixels, rescaled, stored_slices

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from .dicom_files import AnyHeader

#: Packages whose conversion errors mean a malformed file (see :func:`load_dicom`).
READERS = frozenset({"pydicom", "pylibjpeg", "libjpeg", "openjpeg", "rle"})


def _assemble(
    path: Path,
    planes: Sequence[Plane],
    pixels: Callable[[list[int], list[str]], np.ndarray] | None,
    series_uid: str | None,
) -> Scan:
    """Check a stack of planes, sort it, read its pixels (unless ``pixels`` is None) and build the scan."""
    check_consistent(path, planes)
    order, positional_spacing = sorted_stack(path, planes)
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
        raise ScanError(
            path,
            f"inconsistent SliceThickness across slices: {sorted(t for t in thicknesses if t is not None)} mm",
        )
    notes.extend(gap_warning(thickness, slice_spacing))

    row_direction, column_direction = first.orientation[:3], first.orientation[3:]
    row_spacing, column_spacing = first.pixel_spacing
    affine_lps = np.eye(4)
    affine_lps[:3, 0] = slice_normal(first.orientation) * (slice_spacing or 0.0)
    affine_lps[:3, 1] = column_direction * row_spacing
    affine_lps[:3, 2] = row_direction * column_spacing
    affine_lps[:3, 3] = first.position
    if slice_spacing is None:
        # One slice and no stated spacing: keep the affine invertible with a unit step, which no
        # volume uses (the Cavalieri volume stays unavailable).
        affine_lps[:3, 0] = slice_normal(first.orientation)

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


def _is_multiframe(ds: AnyHeader) -> bool:
    return "PerFrameFunctionalGroupsSequence" in ds or frame_count(ds) > 1


def _matrix(path: Path, ds: AnyHeader) -> tuple[int, int]:
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
    path: Path, files: Sequence[tuple[Path, AnyHeader]], series_uid: str | None, with_pixels: bool
) -> Scan:
    planes = [plane_of(file, file.name, *_matrix(file, ds), [ds]) for file, ds in files]

    def pixels(order: list[int], notes: list[str]) -> np.ndarray:
        ordered = [files[i] for i in order]
        return rescaled(
            stored_slices(ordered, notes),
            [(file, ds.get("RescaleSlope"), ds.get("RescaleIntercept")) for file, ds in ordered],
        )

    return _assemble(path, planes, pixels if with_pixels else None, series_uid)


#: Words of SOP class names whose images are no cross-sectional scan (slide microscopy, ultrasound,
#: projection radiography, photographs, documents): refused by name, not as a scan "without geometry".
NOT_CROSS_SECTIONAL = (
    "Microscop",
    "Ultrasound",
    "X-Ray",
    "Photograph",
    "Endoscop",
    "Ophthalmic",
    "Encapsulated",
)


def _what(ds: AnyHeader) -> str:
    """How a multi-frame file is named in messages: Enhanced MR, else its SOP class's name."""
    from pydicom.uid import UID  # the fast header reader keeps the UID as text: pydicom names it

    uid = str(ds.get("SOPClassUID", "") or "")
    name = UID(uid).name if uid else "a multi-frame image"
    return "Enhanced MR" if " MR " in f" {name} " else name


def _enhanced(path: Path, ds: AnyHeader, with_pixels: bool) -> Scan:
    from pydicom.dataset import Dataset  # functional groups are read by pydicom only

    frames = frame_count(ds)
    if any(word in _what(ds) for word in NOT_CROSS_SECTIONAL):
        raise ScanError(
            path, f"{_what(ds)}: not a cross-sectional MR or CT scan, no lesion volume can be measured on it"
        )
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared_sequence = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_sequence[0] if shared_sequence else None
    if per_frame is None and shared is None:
        raise ScanError(
            path,
            f"multi-frame file ({frames} frames) without functional groups: no per-frame position or "
            f"orientation ({_what(ds)} without geometry)",
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
            path, f"{_what(ds)} without per-frame geometry: all {frames} frames share one plane position"
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
            planes.append(plane_of(path, f"frame {k + 1}", *_matrix(path, ds), geometry))
        except ScanError as exc:
            raise ScanError(path, f"{_what(ds)} without geometry: {exc.problem}") from exc
        transform = next((s for s in sources["PixelValueTransformationSequence"] if s is not None), Dataset())
        rescale.append((path, transform.get("RescaleSlope"), transform.get("RescaleIntercept")))

    def pixels(order: list[int], notes: list[str]) -> np.ndarray:
        array = decoded_pixels(path, ds, notes)
        if array.ndim == 2:
            array = array[None]
        return rescaled(array[order], [rescale[k] for k in order])

    return _assemble(path, planes, pixels if with_pixels else None, ds.get("SeriesInstanceUID"))


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
        groups, not_dicom = series_files(path, pixels)
        uid = choose_series(path, groups, series)
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
        scan.sop_class_uid = str(files[0][1].get("SOPClassUID", "") or "") or None
        if not_dicom:
            shown = ", ".join(not_dicom[:3]) + (", ..." if len(not_dicom) > 3 else "")
            scan.warnings.append(f"skipped {len(not_dicom)} file(s) that are not DICOM in {path}: {shown}")
        return scan
    ds = read_dataset(path, pixels, {})
    mask = MASK_SOP_CLASSES.get(str(ds.get("SOPClassUID", "")))
    if mask:
        raise ScanError(path, f"a {mask} is a lesion mask, not a scan: give it as the mask, with its scan")
    if not has_pixels(ds):
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
    scan.sop_class_uid = str(ds.get("SOPClassUID", "") or "") or None
    return scan


def _laterality(ds: AnyHeader) -> dict[str, str]:
    """The elements that may state the side imaged, as written (see :mod:`onfh_volume.side`)."""
    return {
        key: str(ds.get(key)) for key in ("Laterality", "ImageLaterality", "SeriesDescription") if ds.get(key)
    }
