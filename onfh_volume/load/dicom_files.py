"""DICOM files: recognise them, read their headers (large values deferred), group a folder into series."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ScanError, SeveralSeriesError
from .dicom_header import UNDEFINED_LENGTH, Converted, Header, PixelElement, read_header

if TYPE_CHECKING:
    from typing import TypeAlias

    from pydicom.dataelem import DataElement, RawDataElement
    from pydicom.dataset import Dataset

    #: A file's header as the loader reads it: its own reader's, or pydicom's for other files.
    AnyHeader: TypeAlias = Header | Dataset

DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1.99"

# PixelData, FloatPixelData, DoubleFloatPixelData.
PIXEL_DATA = 0x7FE00010
PIXEL_TAGS = (PIXEL_DATA, 0x7FE00008, 0x7FE00009)

#: Values longer than this (bytes) are skipped when a header is read and fetched from the file only
#: if used: the pixel data of any image, which a full load reads itself and a geometry-only load never.
DEFER_SIZE = 16 * 1024


#: Lesion masks stored as DICOM (read by onfh_volume.dicom_mask): never a scan, even with pixel data.
MASK_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.66.4": "DICOM SEG",
    "1.2.840.10008.5.1.4.1.1.66.7": "DICOM SEG (label map)",
    "1.2.840.10008.5.1.4.1.1.481.3": "RTSTRUCT",
}
#: MR Image, Enhanced MR Image and Legacy Converted Enhanced MR Image Storage: a scan of one of
#: these is MR without reading its Modality (which only scans of other classes are asked for).
MR_SOP_CLASSES = frozenset(
    {"1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.4.1", "1.2.840.10008.5.1.4.1.1.4.4"}
)


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


def starts_as_nifti(path: Path) -> bool:
    """True for a file that starts as a NIfTI-1 header (its size, 348) or a gzip stream (a .nii.gz).

    Such a file is never read as DICOM: a bare DICOM dataset (no preamble) is told apart by this.
    """
    with open(path, "rb") as f:
        head = f.read(4)
    return head[:2] == b"\x1f\x8b" or head == (348).to_bytes(4, "little")


def read_dataset(path: Path, pixels: bool, converted: Converted) -> AnyHeader:
    """Read a DICOM file's header, locating its pixel data without reading it; refuse a file cut short.

    pydicom stops quietly at the end of a truncated file and returns what it read, so an image
    file (its SOP class, in the file meta at the start, says so) that ends before its pixel data
    is caught here, rather than skipped as if it held no image. A file cut inside its pixel data
    is refused when the pixels are read, or here already when they never will be (``pixels`` False).
    ``converted`` holds the values already converted by this load (see :func:`read_header`).
    """
    ds = read_header(path, converted) or _dcmread(path)
    if not has_pixels(ds):
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
    import pydicom  # a sixth of a second: only for the files the loader's own reader leaves to it

    try:
        return pydicom.dcmread(path, defer_size=DEFER_SIZE)
    except Exception as exc:
        raise ScanError(path, f"unreadable DICOM file ({exc})") from exc


def has_pixels(ds: AnyHeader) -> bool:
    return any(tag in ds for tag in PIXEL_TAGS)


def pixel_element(ds: AnyHeader) -> PixelElement | RawDataElement | None:
    """The pixel data element as read from the file (its value possibly not fetched), None if absent."""
    if isinstance(ds, Header):
        return ds.pixel
    from pydicom.dataelem import RawDataElement

    tag = next((tag for tag in PIXEL_TAGS if tag in ds), None)
    # pydicom annotates get_item as giving a DataElement; a deferred one is still the raw element.
    element: DataElement | RawDataElement | None = (
        None if tag is None else ds.get_item(tag, keep_deferred=True)
    )
    return element if isinstance(element, RawDataElement) else None


def _check_pixels_in_file(path: Path, ds: AnyHeader) -> None:
    """Refuse a file that ends before its pixel data element does, without reading the pixel data.

    Where the element's value starts in a deflated file is an offset into the inflated stream, and
    compressed (encapsulated) pixel data has no stated length: neither can be checked this way.
    """
    element = pixel_element(ds)
    if (
        element is None
        or element.length == UNDEFINED_LENGTH
        or ds.file_meta.get("TransferSyntaxUID") == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
    ):
        return
    missing = element.value_tell + element.length - path.stat().st_size
    if missing > 0:
        raise ScanError(
            path,
            f"truncated DICOM file: its pixel data ({element.length} bytes) ends {missing} bytes "
            "past the end of the file",
        )


def series_files(folder: Path, pixels: bool) -> tuple[dict[str, list[tuple[Path, AnyHeader]]], list[str]]:
    """Group the image files below ``folder`` by SeriesInstanceUID; list the files that are not DICOM."""
    series: dict[str, list[tuple[Path, AnyHeader]]] = {}
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
            ds = read_dataset(file, pixels, converted)
            if has_pixels(ds) and str(ds.get("SOPClassUID", "")) not in MASK_SOP_CLASSES:
                series.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((file, ds))
    return series, not_dicom


def choose_series(folder: Path, series: dict[str, list[tuple[Path, AnyHeader]]], choice: str | None) -> str:
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


def frame_count(ds: AnyHeader) -> int:
    """NumberOfFrames (1 when absent); pydicom hands over text it could not convert, refused here."""
    value = ds.get("NumberOfFrames", 1) or 1
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScanError(
            getattr(ds, "filename", None), f"malformed DICOM attribute value (NumberOfFrames {value!r})"
        ) from None
