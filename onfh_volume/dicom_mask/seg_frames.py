"""The scan slice each frame of a DICOM SEG lies on: by its plane position, checked by its source image.

Every frame of a SEG states where its first pixel lies (Plane Position), the direction of its rows
and columns (Plane Orientation) and its pixel size (Pixel Measures), in its own (per-frame) or the
shared functional group. A frame is put on the scan's slice it lies on when those coincide with the
scan's grid; nothing is resampled. Frames also name the scan images they were derived from, which
must be images of the scan's series at the same place.

A position in the shared functional group puts every frame at one place. When the frames' source
images are several slices, that position cannot be right for them all: each frame is then placed
by its source image alone (with a warning), and a frame without exactly one is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from ..errors import DicomMaskError
from ..load.decimal_strings import ds_values
from ..scan import GRID_TOLERANCE_VOXELS, Scan
from .source import patient_to_index

AXES = ("slice", "row", "column")

Groups = tuple[Dataset | None, Dataset | None]


def item(group: Dataset | None, sequence: str) -> Dataset | None:
    """The first item of ``sequence`` in ``group`` (None when either is absent or empty)."""
    value = None if group is None else group.get(sequence)
    return value[0] if value else None


def frame_groups(ds: Dataset, count: int) -> Iterator[Groups]:
    """(per-frame functional group, shared functional group) of each frame."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or [None] * count
    shared = item(ds, "SharedFunctionalGroupsSequence")
    if len(per_frame) != count:
        raise DicomMaskError(ds.filename, f"{len(per_frame)} per-frame functional groups for {count} frames")
    for frame in per_frame:
        yield frame, shared


def attribute(groups: Groups, sequence: str, name: str) -> object:
    """``name`` in the frame's own ``sequence``, else in the shared group's."""
    for group in groups:
        value = getattr(item(group, sequence), name, None)
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


def _slice_of_position(path: Path, scan: Scan, number: int, position: object) -> int:
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
    return k


def _source_slices(path: Path, number: int, frame: Dataset | None, instances: dict[str, int]) -> set[int]:
    """The scan slices of the images a frame was derived from; an image not in the scan's series is refused."""
    uids = _referenced_images(frame)
    missing = [uid for uid in uids if uid not in instances]
    if instances and missing:
        raise DicomMaskError(
            path,
            f"SEG frame {number} was derived from image {missing[0]}, which is not in the scan's "
            "series: it was not drawn on this scan",
        )
    return {instances[uid] for uid in uids if uid in instances}


def _position_is_shared(ds: Dataset, count: int) -> bool:
    groups = list(frame_groups(ds, count))
    return count > 1 and any(
        item(frame, "PlanePositionSequence") is None and item(shared, "PlanePositionSequence") is not None
        for frame, shared in groups
    )


def frame_slices(
    path: Path, ds: Dataset, scan: Scan, instances: dict[str, int]
) -> tuple[list[int], list[str]]:
    """The scan slice of each frame, and warnings; see the module for the rules.

    ``instances`` maps the scan's SOPInstanceUIDs to slices (empty when they cannot be checked).
    """
    count = int(ds.get("NumberOfFrames", 1) or 1)
    if (int(ds.Rows), int(ds.Columns)) != scan.shape[1:]:
        raise DicomMaskError(
            path,
            f"SEG frames are {ds.Rows}x{ds.Columns} pixels, the scan {scan.source}'s images are "
            f"{scan.shape[1]}x{scan.shape[2]}: not the scan's grid",
        )
    shared_position = _position_is_shared(ds, count)
    planes = set()
    slices = []
    for number, groups in enumerate(frame_groups(ds, count), start=1):
        plane = (
            attribute(groups, "PlaneOrientationSequence", "ImageOrientationPatient"),
            attribute(groups, "PixelMeasuresSequence", "PixelSpacing"),
        )
        if repr(plane) not in planes:
            _check_plane(path, scan, *plane)
            planes.add(repr(plane))
        position = attribute(groups, "PlanePositionSequence", "ImagePositionPatient")
        by_image = _source_slices(path, number, groups[0], instances)
        if position is None or shared_position:
            if len(by_image) != 1:
                stated = "one plane position for all its frames" if shared_position else "no position"
                raise DicomMaskError(
                    path, f"SEG frame {number} states {stated} and no single image of the scan it lies on"
                )
            slices.append(by_image.pop())
            continue
        k = _slice_of_position(path, scan, number, position)
        if by_image and by_image != {k}:
            raise DicomMaskError(
                path,
                f"SEG frame {number} lies on slice {k + 1} but was derived from the image of slice "
                f"{min(by_image) + 1}: its positions and its referenced images disagree",
            )
        slices.append(k)
    return slices, _shared_position_warnings(path, ds, scan, slices, shared_position)


def _shared_position_warnings(
    path: Path, ds: Dataset, scan: Scan, slices: list[int], shared_position: bool
) -> list[str]:
    plane = item(item(ds, "SharedFunctionalGroupsSequence"), "PlanePositionSequence")
    if not shared_position or plane is None:
        return []
    try:
        stated = _slice_of_position(path, scan, 1, plane.ImagePositionPatient)
    except DicomMaskError:
        stated = None  # off the grid as well: the frames are placed by their images all the same
    if set(slices) == {stated}:
        return []
    where = f" (slice {stated + 1})" if stated is not None else ""
    return [
        f"{path}: the SEG states one plane position{where} for all its {len(slices)} frames; "
        f"they were derived from images on {len(set(slices))} slices: each frame is placed on its source image"
    ]
