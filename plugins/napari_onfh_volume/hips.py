"""Which hip each lesion label's voxels lie in, slice by slice: a blob painted with the other hip's
label is told to the reader as it is painted.

Qt-free, kept by the live readout (:class:`~napari_onfh_volume.readout.LiveReadout`). Label 1 is
the right hip's lesion and label 2 the left's (:data:`onfh_volume.vocabulary.LABEL_NAMES`); a
reader who forgets to switch labels paints a left hip lesion with label 1, and the readout would
file it, with its volume, under "right hip lesion". Decision: each connected blob of a label on a
slice gets its hip from the core's side rule (:func:`onfh_volume.side.side_of`: the patient's
midline from the scan's geometry, checked against what the file states), as the saved record
does for the whole lesion. Blobs, not the whole label: on a coronal slice both femoral heads
are side by side, and a small slip of label 1 in the left head moves the centroid of a large
right hip lesion nowhere. A scan that states no orientation has no left or right: nothing is
checked there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from onfh_volume.scan import Scan
from onfh_volume.side import side_of
from onfh_volume.vocabulary import LABEL_NAMES, LABEL_OF_SIDE

#: The hip each named label stands for: {1: "right", 2: "left"}.
SIDE_OF_LABEL = {label: side for side, label in LABEL_OF_SIDE.items()}


@dataclass(frozen=True)
class Misplaced:
    """Voxels of ``label`` that lie in the other hip (``side``), on ``slices``.

    Examples
    --------
    >>> print(Misplaced(1, "left", [7, 8], 312).message())
    right hip lesion (label 1): 312 voxels on slices 7-8 lie in the patient's left hip: erase them, or paint them with label 2 (left hip lesion)
    """

    label: int
    side: str
    slices: list[int]
    voxels: int

    def message(self) -> str:
        first, last = self.slices[0], self.slices[-1]
        where = f"slice {first}" if first == last else f"slices {first}-{last}"
        other = LABEL_OF_SIDE[self.side]
        return (
            f"{LABEL_NAMES[self.label]} (label {self.label}): {self.voxels} voxels on {where} lie in the "
            f"patient's {self.side} hip: erase them, or paint them with label {other} ({LABEL_NAMES[other]})"
        )


class HipCheck:
    """Per slice, the voxels of each named label that lie in the other hip.

    Parameters
    ----------
    scan
        The geometry of the scan the labels lie on.

    Examples
    --------
    >>> from onfh_volume.scan import Scan
    >>> coronal = np.array([[0, 0, -1, 200], [-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1.0]])  # x = 200 - column
    >>> scan = Scan(None, (1.0, 1.0), 4.0, 4.0, coronal, "s.nii.gz", grid=(2, 4, 400))
    >>> labels = np.zeros(scan.shape, dtype=np.uint8)
    >>> labels[1, 1:3, 50:52] = 2  # x = 150 mm: the patient's right hip, as label 1 would be
    >>> labels[1, 1:3, 350:352] = 1  # x = -150 mm: the left hip, painted with the right hip's label
    >>> check = HipCheck(scan)
    >>> check.update(labels)
    >>> [(m.label, m.side, m.slices, m.voxels) for m in check.misplaced()]
    [(1, 'left', [1], 4), (2, 'right', [1], 4)]
    >>> check.note(1)
    "slice 1: right hip lesion (label 1) painted in the patient's left hip, left hip lesion (label 2) painted in the patient's right hip"
    """

    def __init__(self, scan: Scan) -> None:
        self.scan = scan
        self._wrong: dict[int, dict[int, tuple[str, int]]] = {}  # slice: label: (hip, voxels)

    def update(self, labels: np.ndarray, slices: Iterable[int] | None = None) -> None:
        """Check ``slices`` of ``labels`` again (all of them when None)."""
        if not self.scan.orientation_known:
            return
        for k in range(len(labels)) if slices is None else slices:
            found = {label: self._wrong_hip(labels[k], k, label) for label in SIDE_OF_LABEL}
            self._wrong[k] = {label: hit for label, hit in found.items() if hit is not None}

    def _wrong_hip(self, plane: np.ndarray, k: int, label: int) -> tuple[str, int] | None:
        """The other hip and how many voxels of ``label`` on slice ``k`` lie in it (None: none do)."""
        blobs, count = ndimage.label(plane == label)
        wrong, side = 0, ""
        for blob in range(1, count + 1):
            rows, columns = np.nonzero(blobs == blob)
            indices = np.column_stack([np.full(len(rows), k), rows, columns])
            hip = side_of(self.scan, indices, label).side
            if hip and hip != SIDE_OF_LABEL[label]:
                wrong, side = wrong + len(rows), hip
        return (side, wrong) if wrong else None

    def misplaced(self) -> list[Misplaced]:
        """Every named label with voxels in the other hip, in label order."""
        found = []
        for label in SIDE_OF_LABEL:
            slices = sorted(k for k, wrong in self._wrong.items() if label in wrong)
            if slices:
                voxels = sum(self._wrong[k][label][1] for k in slices)
                found.append(Misplaced(label, self._wrong[slices[0]][label][0], slices, voxels))
        return found

    def note(self, k: int) -> str:
        """The line shown on the canvas on slice ``k`` ("" when every label there is in its own hip)."""
        parts = [
            f"{LABEL_NAMES[label]} (label {label}) painted in the patient's {side} hip"
            for label, (side, _voxels) in sorted(self._wrong.get(k, {}).items())
        ]
        return f"slice {k}: {', '.join(parts)}" if parts else ""
