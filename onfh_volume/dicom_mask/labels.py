"""Named regions of a DICOM SEG or RTSTRUCT become the project's labels, by the hip they lie in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DicomMaskError
from ..scan import Scan
from ..side import side_of
from ..vocabulary import LABEL_NAMES, LABEL_OF_SIDE


@dataclass
class Region:
    """One segment of a SEG or ROI of an RTSTRUCT, placed on the scan's grid.

    ``what`` names it for messages (``"segment 2 'right hip lesion'"``); ``voxels`` holds the
    (slice, row, column) indices of its voxels, one row each (a lesion is a small part of a scan).
    ``coding`` is what the file's own coding says it is (see
    :mod:`onfh_volume.dicom_mask.lesion_rule`), ``coded_as`` that coding in words.
    """

    what: str
    name: str
    voxels: np.ndarray
    coding: str = ""
    coded_as: str = ""

    @classmethod
    def of_slices(
        cls, what: str, name: str, slices: dict[int, np.ndarray], coding: str = "", coded_as: str = ""
    ) -> Region:
        """The region made of a boolean (row, column) image on each of some slices."""
        voxels = [
            np.column_stack([np.full(r.size, k), r, c])
            for k, (r, c) in ((k, np.nonzero(v)) for k, v in slices.items())
        ]
        empty = np.zeros((0, 3), dtype=int)
        return cls(what, name, np.concatenate(voxels) if voxels else empty, coding, coded_as)


def _named_side(name: str) -> str | None:
    words = set(re.findall(r"[a-z]+", name.lower()))
    sides = [side for side in LABEL_OF_SIDE if side in words]
    return sides[0] if len(sides) == 1 else None


def labels_by_side(path: Path, scan: Scan, regions: list[Region]) -> tuple[np.ndarray, list[str]]:
    """Labels on the scan's grid: 1 for regions in the patient's right hip, 2 for the left.

    The side comes from the position (:func:`onfh_volume.side.side_of`), never from the name: a
    name saying the other side is reported. A hip's lesion is the union of the regions in it
    (overlapping voxels counted once, with a warning saying how many).

    Raises
    ------
    DicomMaskError
        When the scan does not say where left and right are, a region is centred on the midline, or
        regions of the two hips share voxels (no voxel lies in both hips: one of them is wrong).
    """
    if not scan.orientation_known:
        raise DicomMaskError(
            path, f"the scan {scan.source} states no orientation: a DICOM mask cannot be placed on it"
        )
    warnings: list[str] = []
    by_side: dict[str, list[Region]] = {}
    for region in regions:
        if not len(region.voxels):
            warnings.append(f"{path}: {region.what} holds no voxel")
            continue
        side = side_of(scan, region.voxels, region.what).side
        if not side:
            raise DicomMaskError(
                path, f"{region.what} is centred on the patient's midline: cannot tell which hip"
            )
        named = _named_side(region.name)
        if named is not None and named != side:
            label = LABEL_OF_SIDE[side]
            warnings.append(
                f"{path}: {region.what} lies in the patient's {side} hip (the side comes from its "
                f"position, not its name): measured as label {label} ({LABEL_NAMES[label]})"
            )
        by_side.setdefault(side, []).append(region)
    labels = np.zeros(scan.shape, dtype=np.int32)
    # Voxels as flat indices: a lesion is a small part of a scan, so sets of indices are cheap.
    flat = {
        side: [np.ravel_multi_index(tuple(r.voxels.T), scan.shape) for r in members]
        for side, members in by_side.items()
    }
    counted = {side: np.unique(np.concatenate(indices), return_counts=True) for side, indices in flat.items()}
    union = {side: voxels for side, (voxels, _) in counted.items()}
    if len(union) == 2:
        one, other = union.values()
        shared = np.intersect1d(one, other).size
        if shared:
            raise DicomMaskError(path, _across_hips(by_side, shared))
    for side, members in by_side.items():
        labels.flat[union[side]] = LABEL_OF_SIDE[side]
        if len(members) > 1:
            overlap = int((counted[side][1] > 1).sum())
            warnings.append(
                f"{path}: {' and '.join(r.what for r in members)} all lie in the {side} hip: measured "
                f"together as label {LABEL_OF_SIDE[side]}, their union"
                + (f" ({overlap} voxels lie in more than one, counted once)" if overlap else "")
            )
    return labels, warnings


def _across_hips(by_side: dict[str, list[Region]], shared: int) -> str:
    (first, one), (second, other) = by_side.items()
    return (
        f"{', '.join(r.what for r in one)} (in the {first} hip) and {', '.join(r.what for r in other)} "
        f"(in the {second} hip) share {shared} voxels: no voxel lies in both hips, so one of them reaches "
        "across the midline"
    )
