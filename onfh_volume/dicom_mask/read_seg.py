"""DICOM Segmentation (SEG) objects placed on the scan's grid by their frames' positions, exactly.

Every frame of a SEG states where its first pixel lies (Plane Position), the direction of its rows
and columns (Plane Orientation) and its pixel size (Pixel Measures). A frame is put on the scan's
slice it lies on when those coincide with the scan's grid; nothing is resampled. Frames also name
the scan images they were derived from, which must be the images at the same place.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from ..errors import DicomMaskError
from ..load.decimal_strings import ds_values
from ..mask import GRID_TOLERANCE_VOXELS
from ..scan import Scan
from .labels import Region
from .source import patient_to_index

SEGMENTATION_TYPES = ("BINARY", "FRACTIONAL", "LABELMAP")
#: A FRACTIONAL pixel belongs to its segment when its fraction is at least this (see the user guide).
FRACTION_THRESHOLD = 0.5
AXES = ("slice", "row", "column")
#: Segment categories of anatomy, not lesions (SCT "Anatomical Structure", and its older code):
#: a femoral head segmented beside the lesion must not be measured as one.
ANATOMY = {("SCT", "123037004"), ("SRT", "T-D000A"), ("SCT", "91723000")}


def _item(group: Dataset | None, sequence: str) -> Dataset | None:
    value = None if group is None else group.get(sequence)
    return value[0] if value else None


def _frame_groups(ds: Dataset, count: int) -> Iterator[tuple[Dataset | None, Dataset | None]]:
    """(per-frame functional group, shared functional group) of each frame."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or [None] * count
    shared = _item(ds, "SharedFunctionalGroupsSequence")
    if len(per_frame) != count:
        raise DicomMaskError(ds.filename, f"{len(per_frame)} per-frame functional groups for {count} frames")
    for frame in per_frame:
        yield frame, shared


def _attribute(groups: tuple[Dataset | None, Dataset | None], sequence: str, name: str) -> Any:
    for group in groups:
        value = getattr(_item(group, sequence), name, None)
        if value not in (None, ""):
            return value
    return None


def _referenced_images(frame: Dataset | None) -> list[str]:
    return [
        str(source.ReferencedSOPInstanceUID)
        for derivation in (frame.get("DerivationImageSequence", []) if frame else [])
        for source in derivation.get("SourceImageSequence", [])
        if "ReferencedSOPInstanceUID" in source
    ]


def _check_plane(path: Path, scan: Scan, orientation: object, spacing: object) -> None:
    """Refuse frames whose rows, columns or pixel size are not the scan's (no resampling)."""
    if orientation is None or spacing is None:
        raise DicomMaskError(path, "SEG frames state no orientation or pixel spacing: their grid is unknown")
    orientation = ds_values(path, "a SEG frame", "ImageOrientationPatient", orientation, 6, DicomMaskError)
    row_direction, column_direction = orientation[:3], orientation[3:]
    ps = ds_values(path, "a SEG frame", "PixelSpacing", spacing, 2, DicomMaskError)
    origin = patient_to_index(scan, np.zeros((1, 3)))[0]
    steps = patient_to_index(scan, np.array([column_direction * ps[0], row_direction * ps[1]])) - origin
    if np.abs(steps - np.eye(3)[1:]).max() > GRID_TOLERANCE_VOXELS / max(scan.shape):
        difference = (
            f"pixel spacing {ps.round(4).tolist()} mm vs the scan's {list(scan.pixel_spacing)} mm"
            if not np.allclose(ps, scan.pixel_spacing, rtol=1e-3)
            else "same pixel spacing, another orientation of the rows and columns"
        )
        raise DicomMaskError(
            path, f"SEG grid does not coincide with the grid of the scan {scan.source} ({difference})"
        )


def _frame_slices(path: Path, ds: Dataset, scan: Scan, instances: dict[str, int]) -> list[int]:
    """The scan slice of each frame, from its position; its source images must be at that slice."""
    count = int(ds.get("NumberOfFrames", 1) or 1)
    if (int(ds.Rows), int(ds.Columns)) != scan.shape[1:]:
        raise DicomMaskError(
            path,
            f"SEG frames are {ds.Rows}x{ds.Columns} pixels, the scan {scan.source}'s images are "
            f"{scan.shape[1]}x{scan.shape[2]}: not the scan's grid",
        )
    planes = set()
    slices = []
    for number, groups in enumerate(_frame_groups(ds, count), start=1):
        plane = (
            _attribute(groups, "PlaneOrientationSequence", "ImageOrientationPatient"),
            _attribute(groups, "PixelMeasuresSequence", "PixelSpacing"),
        )
        key = repr(plane)
        if key not in planes:
            _check_plane(path, scan, *plane)
            planes.add(key)
        position = _attribute(groups, "PlanePositionSequence", "ImagePositionPatient")
        by_image = {instances[uid] for uid in _referenced_images(groups[0]) if uid in instances}
        if position is None:
            if len(by_image) != 1:
                raise DicomMaskError(
                    path, f"SEG frame {number} states no position and no single image of the scan it lies on"
                )
            slices.append(by_image.pop())
            continue
        position = ds_values(path, f"SEG frame {number}", "ImagePositionPatient", position, 3, DicomMaskError)
        index = patient_to_index(scan, position[None])[0]
        off = index - np.array([round(index[0]), 0, 0])
        if np.abs(off).max() > GRID_TOLERANCE_VOXELS:
            axis = int(np.argmax(np.abs(off)))
            raise DicomMaskError(
                path,
                f"SEG frame {number} is shifted by {off[axis]:.3g} voxel(s) along the scan's "
                f"{AXES[axis]} axis: it is not on the scan {scan.source}'s grid",
            )
        k = round(index[0])
        if not 0 <= k < scan.shape[0]:
            raise DicomMaskError(
                path,
                f"SEG frame {number} lies at slice {k + 1}, outside the scan {scan.source}'s slices "
                f"1 to {scan.shape[0]}",
            )
        if by_image and by_image != {k}:
            raise DicomMaskError(
                path,
                f"SEG frame {number} lies on slice {k + 1} but was derived from the image of slice "
                f"{min(by_image) + 1}: its positions and its referenced images disagree",
            )
        slices.append(k)
    return slices


def _pixels(path: Path, ds: Dataset) -> np.ndarray:
    try:
        frames = ds.pixel_array
    except Exception as exc:
        raise DicomMaskError(path, f"SEG pixel data cannot be decoded ({exc})") from exc
    return frames.reshape(-1, int(ds.Rows), int(ds.Columns))


def _members(ds: Dataset, kind: str, frames: np.ndarray, segment: int, which: np.ndarray) -> np.ndarray:
    """Boolean pixels of ``segment`` in the frames ``which`` (those that carry it)."""
    if kind == "LABELMAP":
        return frames == segment
    if kind == "FRACTIONAL":
        # Fractions are stored as 0..MaximumFractionalValue (the fraction times that value).
        top = int(ds.get("MaximumFractionalValue", 255))
        return (frames[which] >= FRACTION_THRESHOLD * top) & (frames[which] > 0)
    return frames[which] != 0


def _not_a_lesion(segment: Dataset) -> str:
    """Why a segment's coded category says it is no lesion ("" when it may be one)."""
    category = _item(segment, "SegmentedPropertyCategoryCodeSequence")
    if (
        category is not None
        and (category.get("CodingSchemeDesignator"), category.get("CodeValue")) in ANATOMY
    ):
        return f"coded as an anatomical structure ({category.get('CodeMeaning', 'SCT')})"
    return ""


def read_seg(path: Path, ds: Dataset, scan: Scan, instances: dict[str, int]) -> list[Region]:
    """The segments of the SEG ``ds`` as regions on the scan's grid.

    ``instances`` maps the scan's SOPInstanceUIDs to slices (empty when they cannot be checked).

    Raises
    ------
    DicomMaskError
        Another segmentation type, frames off the scan's grid, or frames whose referenced images
        are at another slice than their positions say.
    """
    kind = str(ds.get("SegmentationType", "")).upper()
    if kind not in SEGMENTATION_TYPES:
        raise DicomMaskError(path, f"SEG of type '{kind}': only {', '.join(SEGMENTATION_TYPES)} are read")
    slices = np.array(_frame_slices(path, ds, scan, instances), dtype=int)
    frames = _pixels(path, ds)
    if kind == "LABELMAP":
        frame_segments = None
    else:
        frame_segments = np.array(
            [
                int(_attribute(groups, "SegmentIdentificationSequence", "ReferencedSegmentNumber") or 0)
                for groups in _frame_groups(ds, len(frames))
            ]
        )
    regions = []
    for segment in ds.get("SegmentSequence", []):
        number = int(segment.SegmentNumber)
        if number == 0:
            continue  # a label map's background (pixel value 0), described as a segment by some writers
        name = str(segment.get("SegmentLabel", "") or "")
        which = np.ones(len(frames), bool) if frame_segments is None else frame_segments == number
        pixels: dict[int, np.ndarray] = {}
        for k, member in zip(slices[which], _members(ds, kind, frames, number, which), strict=True):
            pixels[k] = pixels[k] | member if k in pixels else member  # frames of one slice: union
        regions.append(Region.of_slices(f"segment {number} '{name}'", name, pixels, _not_a_lesion(segment)))
    return regions
