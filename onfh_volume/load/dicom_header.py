"""Read the few header elements a scan needs from plain little-endian DICOM files, fast.

pydicom turns every element of a header into Python objects: about 0.5 ms for a scanner's
~100-element MR header, most of the time of loading a series. This module only steps over the
elements by their tags and lengths, keeps the raw bytes of the elements the loader uses
(:data:`KEPT_GROUPS` and :data:`KEPT_TAGS`) and hands them to pydicom as raw elements, so every
value is still converted by pydicom. The pixel data element is kept unread (deferred, as
``dcmread(..., defer_size=...)`` leaves it), so pydicom can still decode it. Numbers and UIDs
whose bytes repeat from file to file (all but a few, like the position, in a series) are
converted once per load and the converted element is shared (see :func:`read_header`).

Whatever this reader does not step over exactly as pydicom would (other transfer syntaxes, an
unknown VR, an undefined length anywhere but a sequence, a file that ends inside an element,
Enhanced MR functional groups) makes :func:`read_header` return None: the caller then reads the
file with pydicom.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.tag import BaseTag, Tag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pydicom.valuerep import EXPLICIT_VR_LENGTH_16, EXPLICIT_VR_LENGTH_32

#: Whole groups kept: the file meta, the image pixel module with rescaling, and the pixel data.
KEPT_GROUPS = frozenset({0x0002, 0x0028, 0x7FE0})
#: Single elements kept: what the loader reads outside those groups.
KEPT_TAGS = frozenset(
    Tag(keyword)
    for keyword in (
        "SpecificCharacterSet",
        "SOPClassUID",
        "SeriesDescription",
        "Laterality",
        "ImageLaterality",
        "SliceThickness",
        "SpacingBetweenSlices",
        "SeriesInstanceUID",
        "SeriesNumber",
        "ImagePositionPatient",
        "ImageOrientationPatient",
    )
)
#: Elements that make a file Enhanced MR, whose geometry lives in nested sequences: left to pydicom.
LEFT_TO_PYDICOM = frozenset(
    Tag(keyword) for keyword in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence")
)
#: VRs whose values pydicom converts from their bytes alone: no character set, no other element.
CONTEXT_FREE_VRS = frozenset({"DS", "IS", "UI", "US", "UL", "SS", "SL", "FL", "FD"})
#: Elements converted during one load, by (tag, VR as read, bytes): shared between its files.
Converted = dict[tuple[BaseTag, str | None, bytes], DataElement]
#: Little-endian transfer syntaxes this reader steps through, and whether their VRs are implicit.
IMPLICIT_VR = {ExplicitVRLittleEndian: False, ImplicitVRLittleEndian: True}
CHUNK = 64 * 1024
PIXEL_GROUP = 0x7FE0
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
UNDEFINED_LENGTH = 0xFFFFFFFF
SHORT_VRS = frozenset(vr.encode() for vr in EXPLICIT_VR_LENGTH_16)
LONG_VRS = frozenset(vr.encode() for vr in EXPLICIT_VR_LENGTH_32)
TAG_AND_LENGTH = struct.Struct("<HHI")
LONG_LENGTH = struct.Struct("<I")


class _LeftToPydicom(Exception):
    """The file holds something this reader does not step over exactly as pydicom would."""


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


def read_header(path: Path, converted: Converted) -> FileDataset | None:
    """The kept elements of a DICOM Part 10 file, as pydicom would read them.

    Parameters
    ----------
    path
        The file.
    converted
        Elements already converted during this load; extended with this file's. The returned
        dataset holds these very objects, shared with the other files' datasets: read them, never
        change them.

    Returns
    -------
    FileDataset or None
        The file meta, the elements in :data:`KEPT_GROUPS` and :data:`KEPT_TAGS` (pixel data not
        read) and nothing else; None when the file is for pydicom to read (see the module notes).
    """
    try:
        with open(path, "rb") as f:
            data = _Bytes(f, os.fstat(f.fileno()).st_size)
            if data.take(128, 4) != b"DICM":
                return None
            meta, position = _dataset(data, 132, False, in_item=False, meta=True)
            syntax = meta.get(BaseTag(0x00020010))
            implicit = None if syntax is None else IMPLICIT_VR.get(syntax.value.rstrip(b"\0 ").decode())
            if implicit is None:
                return None
            elements, _ = _dataset(data, position, implicit, in_item=False, meta=False)
    except (_LeftToPydicom, UnicodeDecodeError, OSError):
        return None  # pydicom reads it, or says why it cannot
    return FileDataset(
        str(path), Dataset(_shared(elements, converted)), None, FileMetaDataset(meta), implicit, True
    )


def _shared(
    elements: dict[BaseTag, RawDataElement], converted: Converted
) -> dict[BaseTag, RawDataElement | DataElement]:
    """Elements with context-free values converted by pydicom, once per distinct (tag, VR, bytes)."""
    shared: dict[BaseTag, RawDataElement | DataElement] = {}
    for tag, raw in elements.items():
        shared[tag] = raw
        if raw.value is None or raw.VR == "UN" or (raw.VR or _dictionary_vr(tag)) not in CONTEXT_FREE_VRS:
            continue
        key = (tag, raw.VR, raw.value)
        if key not in converted:
            converted[key] = convert_raw_data_element(raw)
        shared[tag] = converted[key]
    return shared


def _dictionary_vr(tag: BaseTag) -> str | None:
    """The VR the DICOM dictionary gives ``tag``; None for a tag it does not know (a private one)."""
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


def _dataset(
    data: _Bytes, position: int, implicit: bool, *, in_item: bool, meta: bool
) -> tuple[dict[BaseTag, RawDataElement], int]:
    """Step over one dataset from ``position`` and return its kept elements and where it ends.

    A dataset ends at the end of the file, at its item delimiter (``in_item``) or, for the file
    meta (``meta``), at the first element outside group 0002. Nested datasets keep nothing.
    """
    kept: dict[BaseTag, RawDataElement] = {}
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
            if vr not in (None, b"SQ") or group == PIXEL_GROUP:
                raise _LeftToPydicom  # encapsulated pixel data, or an implicit-VR sequence in UN
            position = _sequence_end(data, value_at, implicit)
            continue
        if value_at + length > data.size:
            raise _LeftToPydicom  # cut short: pydicom says how
        if not in_item and (group in KEPT_GROUPS or tag in KEPT_TAGS):
            # Pixel data stays in the file, deferred as pydicom defers long values.
            value = None if group == PIXEL_GROUP and length else data.take(value_at, length)
            kept[BaseTag(tag)] = RawDataElement(
                BaseTag(tag), vr and vr.decode(), length, value, value_at, implicit, True
            )
        position = value_at + length
    return kept, position


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
