"""Read the few header elements a scan needs from plain little-endian DICOM files, fast and without pydicom.

pydicom turns every element of a header into Python objects (about 0.5 ms for a scanner's
~100-element MR header) and importing it takes a sixth of a second, more than reading a small
series. This module steps over the elements by their tags and lengths and converts the values of
the few the loader uses (:data:`ELEMENTS`) itself, as pydicom would: text stripped of its padding
and split at backslashes, decimal and integer strings checked against DICOM's syntax, binary
numbers unpacked. The pixel data is located, not read.

Whatever this reader does not convert exactly as pydicom would makes :func:`read_header` return
None, and the caller reads the file with pydicom: other transfer syntaxes, a VR other than the
dictionary's, an unknown VR, an undefined length anywhere but a sequence, a file that ends inside
an element, Enhanced MR functional groups, a character set other than Latin-1 or UTF-8, a number
that is not one, a file without pixel data.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

#: The elements the loader reads, by keyword: (tag, VR, whether it holds several values).
ELEMENTS: dict[str, tuple[int, str, bool]] = {
    "TransferSyntaxUID": (0x00020010, "UI", False),
    "MediaStorageSOPClassUID": (0x00020002, "UI", False),
    "MediaStorageSOPInstanceUID": (0x00020003, "UI", False),
    "SpecificCharacterSet": (0x00080005, "CS", True),
    "SOPClassUID": (0x00080016, "UI", False),
    "SOPInstanceUID": (0x00080018, "UI", False),
    "SeriesDescription": (0x0008103E, "LO", False),
    "SliceThickness": (0x00180050, "DS", False),
    "SpacingBetweenSlices": (0x00180088, "DS", False),
    "SeriesInstanceUID": (0x0020000E, "UI", False),
    "SeriesNumber": (0x00200011, "IS", False),
    "ImagePositionPatient": (0x00200032, "DS", True),
    "ImageOrientationPatient": (0x00200037, "DS", True),
    "Laterality": (0x00200060, "CS", False),
    "ImageLaterality": (0x00200062, "CS", False),
    "SamplesPerPixel": (0x00280002, "US", False),
    "PhotometricInterpretation": (0x00280004, "CS", False),
    "NumberOfFrames": (0x00280008, "IS", False),
    "Rows": (0x00280010, "US", False),
    "Columns": (0x00280011, "US", False),
    "PixelSpacing": (0x00280030, "DS", True),
    "BitsAllocated": (0x00280100, "US", False),
    "BitsStored": (0x00280101, "US", False),
    "PixelRepresentation": (0x00280103, "US", False),
    "RescaleIntercept": (0x00281052, "DS", False),
    "RescaleSlope": (0x00281053, "DS", False),
}
KEYWORDS = {tag: keyword for keyword, (tag, _, _) in ELEMENTS.items()}
#: PixelData, FloatPixelData, DoubleFloatPixelData, with the VRs they may be written with.
PIXEL_VRS = {0x7FE00010: ("OB", "OW"), 0x7FE00008: ("OF",), 0x7FE00009: ("OD",)}
PIXEL_KEYWORDS = {0x7FE00010: "PixelData", 0x7FE00008: "FloatPixelData", 0x7FE00009: "DoubleFloatPixelData"}
#: Elements that make a file Enhanced MR, whose geometry lives in nested sequences: left to pydicom.
LEFT_TO_PYDICOM = frozenset({0x52009230, 0x52009229})  # Per-frame and Shared Functional Groups
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
#: Little-endian transfer syntaxes this reader steps through, and whether their VRs are implicit.
IMPLICIT_VR = {EXPLICIT_VR_LITTLE_ENDIAN: False, IMPLICIT_VR_LITTLE_ENDIAN: True}
#: SpecificCharacterSet values this reader decodes, as pydicom does (none stated: its default, Latin-1).
ENCODINGS = {"": "latin-1", "ISO_IR 100": "latin-1", "ISO_IR 192": "utf-8"}
#: DICOM's syntax of decimal (DS) and integer (IS) strings, as pydicom checks them.
DS_SYNTAX = re.compile(r" *[+\-]?(\d+|\d+\.\d*|\.\d+)([eE][+\-]?\d+)? *")
IS_SYNTAX = re.compile(r" *[+\-]?\d+ *")
CHUNK = 64 * 1024
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
UNDEFINED_LENGTH = 0xFFFFFFFF
SHORT_VRS = frozenset(
    vr.encode()
    for vr in [
        "AE",
        "AS",
        "AT",
        "CS",
        "DA",
        "DS",
        "DT",
        "FD",
        "FL",
        "IS",
        "LO",
        "LT",
        "PN",
        "SH",
        "SL",
        "SS",
        "ST",
        "TM",
        "UI",
        "UL",
        "US",
    ]  # 2-byte length
)
LONG_VRS = frozenset(
    vr.encode() for vr in ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]
)
TAG_AND_LENGTH = struct.Struct("<HHI")
LONG_LENGTH = struct.Struct("<I")
#: Values converted during one load, by (tag, bytes): shared between its files (see :func:`read_header`).
Converted = dict[tuple[int, bytes], Any]


class _LeftToPydicom(Exception):
    """The file holds something this reader does not step over or convert exactly as pydicom would."""


@dataclass(frozen=True)
class PixelElement:
    """Where a file's pixel data element is: its tag, VR, length (bytes) and the offset of its value."""

    tag: int
    VR: str | None
    length: int
    value_tell: int


class Values:
    """Element values by keyword, asked for as on a pydicom dataset (``get``, ``in``, attributes)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def get(self, keyword: str, default: Any = None) -> Any:
        return self._values.get(keyword, default)

    def __contains__(self, key: str | int) -> bool:
        return (KEYWORDS.get(key) if isinstance(key, int) else key) in self._values

    def __getattr__(self, keyword: str) -> Any:
        try:
            return self.__dict__["_values"][keyword]
        except KeyError:
            raise AttributeError(keyword) from None


class Header(Values):
    """A DICOM file's header as far as the loader reads it, with pydicom's ways of asking.

    ``header.get("Rows")``, ``header.Rows``, ``"PixelSpacing" in header`` and ``header.file_meta``
    answer as they do on a pydicom dataset: numbers as ``int``, decimal strings as their text (a
    ``list`` of them for several values, read by :mod:`onfh_volume.load.decimal_strings`), text
    without its padding; an empty value is ``""`` (``None`` for a binary number).

    Examples
    --------
    >>> header = read_header(Path("sample_scans/dicom/sub-01/baseline/IM0001"), {})
    >>> header.Rows, header.get("PixelSpacing"), header.file_meta.get("TransferSyntaxUID")
    (224, ['1.6', '1.6'], '1.2.840.10008.1.2.1')
    >>> "PixelData" in header, 0x7FE00010 in header, header.get("PatientName", "not read")
    (True, True, 'not read')
    """

    def __init__(
        self, filename: str, values: dict[str, Any], meta: dict[str, Any], pixel: PixelElement
    ) -> None:
        super().__init__(values)
        self.filename = filename
        self.file_meta = Values(meta)
        self.pixel = pixel

    def __contains__(self, key: str | int) -> bool:
        return key in (self.pixel.tag, PIXEL_KEYWORDS[self.pixel.tag]) or super().__contains__(key)


class _Bytes:
    """A file's bytes by position, through a window read ahead in :data:`CHUNK` pieces."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f, self.size = f, size
        self.window, self.start = b"", 0

    def at(self, position: int, count: int) -> tuple[bytes, int]:
        """A buffer holding bytes ``position`` to ``position + count``, and where ``position`` is in it."""
        offset = position - self.start
        if offset < 0 or offset + count > len(self.window):
            if position + count > self.size:
                raise _LeftToPydicom  # the file ends first
            self.f.seek(position)
            self.window, self.start, offset = self.f.read(max(count, CHUNK)), position, 0
        return self.window, offset

    def take(self, position: int, count: int) -> bytes:
        """Bytes ``position`` to ``position + count``; the file must hold them all."""
        window, offset = self.at(position, count)
        return window[offset : offset + count]


def read_header(path: Path, converted: Converted) -> Header | None:
    """The elements of :data:`ELEMENTS` of a DICOM Part 10 file and where its pixel data is.

    Parameters
    ----------
    path
        The file.
    converted
        Values already converted during this load; extended with this file's. Values are shared
        between the headers of one load: read them, never change them.

    Returns
    -------
    Header or None
        None when the file is for pydicom to read (see the module notes).
    """
    try:
        with open(path, "rb") as f:
            data = _Bytes(f, os.fstat(f.fileno()).st_size)
            if data.take(128, 4) != b"DICM":
                return None
            raw_meta, position = _dataset(data, 132, False, in_item=False, meta=True)
            syntax = raw_meta.get(0x00020010)
            implicit = None if syntax is None else IMPLICIT_VR.get(syntax[0].rstrip(b"\0 ").decode())
            if implicit is None:
                return None
            raw, _ = _dataset(data, position, implicit, in_item=False, meta=False)
        pixel = next((raw.pop(tag)[1] for tag in PIXEL_VRS if tag in raw), None)
        if pixel is None:
            return None  # not an image, or cut short: pydicom tells which (by the SOP class's name)
        charset = raw.get(0x00080005)
        encoding = ENCODINGS.get("" if charset is None else charset[0].decode("ascii").strip(" \0"))
        if encoding is None:
            return None
        return Header(
            str(path), _values(raw, encoding, converted), _values(raw_meta, "latin-1", converted), pixel
        )
    except (_LeftToPydicom, UnicodeDecodeError, OSError):
        return None  # pydicom reads it, or says why it cannot


Raw = dict[int, tuple[bytes, PixelElement | None]]
"""Kept elements by tag: the value's bytes, or where the pixel data is."""


def _values(raw: Raw, encoding: str, converted: Converted) -> dict[str, Any]:
    """The kept elements' values by keyword, converted once per distinct (tag, bytes) in a load."""
    values = {}
    for tag, (value, _) in raw.items():
        keyword = KEYWORDS[tag]
        key = (tag, value)
        if key not in converted:
            converted[key] = _convert(value, *ELEMENTS[keyword][1:], encoding)
        values[keyword] = converted[key]
    return values


def _convert(value: bytes, vr: str, several: bool, encoding: str) -> Any:
    """One element's value as pydicom gives it; refuses (to pydicom) what it would give otherwise."""
    if vr == "US":
        if not value:
            return None
        if len(value) != 2:
            raise _LeftToPydicom  # several numbers where one is expected
        return int.from_bytes(value, "little")
    text = value.decode(encoding).rstrip(" \0")
    if not text:
        return ""
    parts = text.split("\\")
    if len(parts) > 1 and not several:
        raise _LeftToPydicom  # several values where one is expected
    if vr == "DS" and not all(DS_SYNTAX.fullmatch(part) for part in parts):
        raise _LeftToPydicom  # pydicom says how it is malformed
    if vr == "IS":
        if not all(IS_SYNTAX.fullmatch(part) for part in parts):
            raise _LeftToPydicom
        return int(parts[0])
    if vr == "DS" and several:
        return [part.strip() for part in parts]
    if vr == "DS":
        return text.strip()
    return parts if several and len(parts) > 1 else parts[0]


def _dataset(data: _Bytes, position: int, implicit: bool, *, in_item: bool, meta: bool) -> tuple[Raw, int]:
    """Step over one dataset from ``position`` and return its kept elements and where it ends.

    A dataset ends at the end of the file, at its item delimiter (``in_item``) or, for the file
    meta (``meta``), at the first element outside group 0002. Nested datasets keep nothing.
    """
    kept: Raw = {}
    while position < data.size or in_item:
        window, offset = data.at(position, 8)
        group, element, length = TAG_AND_LENGTH.unpack_from(window, offset)
        tag = group << 16 | element
        if in_item and tag == ITEM_END:
            return kept, position + 8
        if meta and group != 0x0002:
            return kept, position
        if tag in LEFT_TO_PYDICOM:
            raise _LeftToPydicom
        vr = None
        value_at = position + 8
        if not implicit:
            # Explicit VR: the 4 bytes after the tag are the VR and a 2-byte length, or the VR, 2
            # reserved bytes and then a 4-byte length.
            vr = window[offset + 4 : offset + 6]
            if vr in SHORT_VRS:
                length >>= 16
            elif vr in LONG_VRS:
                length, value_at = LONG_LENGTH.unpack(data.take(position + 8, 4))[0], position + 12
            else:
                raise _LeftToPydicom
        if length == UNDEFINED_LENGTH:
            if vr not in (None, b"SQ") or tag in PIXEL_VRS:
                raise _LeftToPydicom  # encapsulated pixel data, or an implicit-VR sequence in UN
            position = _sequence_end(data, value_at, implicit)
            continue
        if value_at + length > data.size:
            raise _LeftToPydicom  # cut short: pydicom says how
        if not in_item and (tag in KEYWORDS or tag in PIXEL_VRS):
            kept[tag] = _kept(data, tag, None if vr is None else vr.decode(), length, value_at)
        position = value_at + length
    return kept, position


def _kept(
    data: _Bytes, tag: int, vr: str | None, length: int, value_at: int
) -> tuple[bytes, PixelElement | None]:
    """A kept element: the pixel data located (not read), any other value read; a VR pydicom would
    read otherwise than the dictionary's (UN, or another) is left to pydicom."""
    if tag in PIXEL_VRS:
        if vr is not None and vr not in PIXEL_VRS[tag]:
            raise _LeftToPydicom
        return b"", PixelElement(tag, vr, length, value_at)
    if vr is not None and vr != ELEMENTS[KEYWORDS[tag]][1]:
        raise _LeftToPydicom
    return data.take(value_at, length), None


def _sequence_end(data: _Bytes, position: int, implicit: bool) -> int:
    """Where the undefined-length sequence whose items start at ``position`` ends."""
    while True:
        group, element, length = TAG_AND_LENGTH.unpack_from(*data.at(position, 8))
        tag, position = group << 16 | element, position + 8
        if tag == SEQUENCE_END:
            return position
        if tag != ITEM:
            raise _LeftToPydicom
        if length == UNDEFINED_LENGTH:
            _, position = _dataset(data, position, implicit, in_item=True, meta=False)
        else:
            position += length
