"""DICOM Segmentation (SEG) objects read onto the scan's grid: each segment a region, or refused.

Frames are placed by :mod:`onfh_volume.dicom_mask.seg_frames`. A pixel belongs to a segment as its
segmentation type says (BINARY: set; FRACTIONAL: at least half of MaximumFractionalValue;
LABELMAP: the segment's number). Whatever would lose or misplace pixels without a word is refused,
naming the frame or the value: a segment number described twice, a frame or a label-map value
that no segment describes, a fractional SEG without a usable MaximumFractionalValue or with a
pixel above it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from ..errors import DicomMaskError, shown
from ..scan import Scan
from .labels import Region
from .lesion_rule import SEG_CATEGORIES, UNCODED
from .seg_frames import attribute, frame_groups, frame_slices, item

SEGMENTATION_TYPES = ("BINARY", "FRACTIONAL", "LABELMAP")
#: A FRACTIONAL pixel belongs to its segment when its fraction is at least this (see the user guide).
FRACTION_THRESHOLD = 0.5


def _pixels(path: Path, ds: Dataset) -> np.ndarray:
    try:
        frames = ds.pixel_array
    except Exception as exc:
        raise DicomMaskError(path, f"SEG pixel data cannot be decoded ({exc})") from exc
    return frames.reshape(-1, int(ds.Rows), int(ds.Columns))


def _described(path: Path, ds: Dataset) -> dict[int, Dataset]:
    """The segments described, by number; a number described twice is refused (which would it be?)."""
    described: dict[int, Dataset] = {}
    for segment in ds.get("SegmentSequence", []):
        number = int(segment.SegmentNumber)
        if number in described:
            raise DicomMaskError(path, f"segment number {number} is described twice in the SegmentSequence")
        described[number] = segment
    return described


def _frame_segments(path: Path, ds: Dataset, count: int, described: dict[int, Dataset]) -> np.ndarray:
    """The segment number of each frame of a BINARY or FRACTIONAL SEG, each one described."""
    numbers = []
    for frame, groups in enumerate(frame_groups(ds, count), start=1):
        number = attribute(groups, "SegmentIdentificationSequence", "ReferencedSegmentNumber")
        # ReferencedSegmentNumber is US: pydicom reads it as an int unless the file is malformed.
        if not isinstance(number, int) or number not in described or number == 0:
            raise DicomMaskError(
                path,
                f"SEG frame {frame} refers to segment {number}, which no segment of the SegmentSequence "
                f"describes (described: {', '.join(map(str, described)) or 'none'})",
            )
        numbers.append(number)
    return np.array(numbers, dtype=int)


def _check_label_values(path: Path, frames: np.ndarray, described: dict[int, Dataset]) -> None:
    """Refuse a LABELMAP pixel value that no segment describes: its pixels would silently be no lesion."""
    values = np.unique(frames)
    unknown = [int(v) for v in values if v != 0 and int(v) not in described]
    if unknown:
        frame = int(np.argmax((frames == unknown[0]).any(axis=(1, 2)))) + 1
        raise DicomMaskError(
            path,
            f"LABELMAP pixel value {unknown[0]} (first in frame {frame}) is described by no segment "
            f"(described: {', '.join(map(str, described)) or 'none'})",
        )


def _fraction_top(path: Path, ds: Dataset, frames: np.ndarray) -> int:
    """MaximumFractionalValue, checked: present, above 0, within the bit depth and above every pixel."""
    stated = ds.get("MaximumFractionalValue")
    bits = int(ds.get("BitsStored", 8) or 8)
    if stated in (None, "") or not 0 < int(stated) <= 2**bits - 1:
        raise DicomMaskError(
            path,
            f"FRACTIONAL SEG with MaximumFractionalValue {stated if stated not in (None, '') else 'missing'}: "
            f"it must be 1 to {2**bits - 1} ({bits}-bit pixels), else no fraction can be read",
        )
    top = int(stated)
    if frames.size and frames.max() > top:
        frame = int(np.argmax(frames.reshape(len(frames), -1).max(axis=1) > top)) + 1
        raise DicomMaskError(
            path,
            f"SEG frame {frame} holds the fraction value {int(frames[frame - 1].max())}, above the "
            f"MaximumFractionalValue {top}",
        )
    return top


def _members(kind: str, frames: np.ndarray, segment: int, which: np.ndarray, top: int) -> np.ndarray:
    """Boolean pixels of ``segment`` in the frames ``which`` (those that carry it)."""
    if kind == "LABELMAP":
        return frames == segment
    if kind == "FRACTIONAL":
        # Fractions are stored as 0..MaximumFractionalValue (the fraction times that value).
        return (frames[which] >= FRACTION_THRESHOLD * top) & (frames[which] > 0)
    return frames[which] != 0


def _coding(segment: Dataset) -> tuple[str, str]:
    """What a segment's coded category says it is, and that in words."""
    category = item(segment, "SegmentedPropertyCategoryCodeSequence")
    if category is None:
        return UNCODED, ""
    key = (str(category.get("CodingSchemeDesignator", "")), str(category.get("CodeValue", "")))
    meaning = shown(category.get("CodeMeaning", "") or f"{key[0]} {key[1]}")
    return SEG_CATEGORIES.get(key, UNCODED), f"coded as category {meaning}"


def read_seg(
    path: Path, ds: Dataset, scan: Scan, instances: dict[str, int]
) -> tuple[list[Region], list[str]]:
    """The segments of the SEG ``ds`` as regions on the scan's grid, and warnings.

    ``instances`` maps the scan's SOPInstanceUIDs to slices (empty when they cannot be checked).

    Raises
    ------
    DicomMaskError
        Another segmentation type, frames off the scan's grid or placed ambiguously, referenced
        images that disagree with the positions, and the values the module lists.
    """
    kind = str(ds.get("SegmentationType", "")).upper()
    if kind not in SEGMENTATION_TYPES:
        raise DicomMaskError(path, f"SEG of type '{kind}': only {', '.join(SEGMENTATION_TYPES)} are read")
    described = _described(path, ds)
    slice_list, warnings = frame_slices(path, ds, scan, instances)
    slices = np.array(slice_list, dtype=int)
    frames = _pixels(path, ds)
    top = _fraction_top(path, ds, frames) if kind == "FRACTIONAL" else 1
    if kind == "LABELMAP":
        _check_label_values(path, frames, described)
        frame_segments = None
    else:
        frame_segments = _frame_segments(path, ds, len(frames), described)
    regions = []
    for number, segment in described.items():
        if number == 0:
            continue  # a label map's background (pixel value 0), described as a segment by some writers
        name = str(segment.get("SegmentLabel", "") or "")
        which = np.ones(len(frames), bool) if frame_segments is None else frame_segments == number
        pixels: dict[int, np.ndarray] = {}
        for k, member in zip(slices[which], _members(kind, frames, number, which, top), strict=True):
            pixels[k] = pixels[k] | member if k in pixels else member  # frames of one slice: union
        regions.append(Region.of_slices(f"segment {number} '{shown(name)}'", name, pixels, *_coding(segment)))
    return regions, warnings
