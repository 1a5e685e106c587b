"""Is the scan T1-like where it was traced? Its femoral head's fatty marrow must be the brighter.

Band fill looks for a dark band in bright marrow, the appearance of necrosis on coronal T1. On a
fat-suppressed, T2-weighted or STIR series (bright fluid, dark fat) the same click still finds a
head and traces something, but not the lesion. The check is made in the traced head itself: on
T1 its marrow (the head's inner part, the lesion left out) is far brighter than the muscle and
soft tissue around the head (about 2.4 times on the phantoms, and on the sample scans); where it
is not brighter at all, the tracing is returned with a warning rather than trusted silently.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..notes import Note
from ..scan import Scan
from .head import Head
from .segment import Tracing

#: The head's inner part: within this fraction of its cross-section's radius (the plate and band left out).
INNER = 0.7
#: The tissue around the head: this far (mm) outside its bone surface, cartilage and joint space excluded.
AROUND_MM = (3.0, 25.0)
#: Voxels below this fraction of the scan's 99th percentile are air or noise, not tissue.
TISSUE_FRACTION = 0.1


def contrast_notes(scan: Scan, tracings: Sequence[Tracing]) -> list[Note]:
    """A warning for each traced head whose marrow is not brighter than the tissue around it."""
    voxels = scan.voxels
    if voxels is None or not tracings:
        return []
    traced = np.logical_or.reduce([tracing.mask for tracing in tracings])
    tissue = float(np.percentile(voxels, 99)) * TISSUE_FRACTION
    notes, seen = [], set()
    for tracing in tracings:
        head = tracing.head
        if head in seen:
            continue
        seen.add(head)
        marrow, around = _marrow_and_around(scan, voxels, head, traced, tissue)
        if marrow.size and around.size and np.median(marrow) <= np.median(around):
            notes.append(
                Note(
                    f"the femoral head traced from seed voxel {tracing.seed} is darker inside than the tissue "
                    f"around it (median {np.median(marrow):.0f} against {np.median(around):.0f}): on T1 its "
                    "fatty marrow is the brighter. Is this a fat-suppressed, T2-weighted or STIR series? Band "
                    "fill is built for coronal T1: check the lesion, or trace on the T1 series"
                )
            )
    return notes


def _marrow_and_around(
    scan: Scan, voxels: np.ndarray, head: Head, traced: np.ndarray, tissue: float
) -> tuple[np.ndarray, np.ndarray]:
    """The head's inner voxels outside the traced lesions, and the tissue voxels around the head."""
    rows, columns = slice(0, scan.shape[1]), slice(0, scan.shape[2])
    marrow, around = [], []
    for k in range(scan.shape[0]):
        radius = head.disc_radius_mm(scan, k)
        if radius < 0.5 * head.radius_mm:
            continue  # a slice grazing the head: mostly plate and cartilage
        image = voxels[k]
        inner = head.disc(scan, k, rows, columns, margin_mm=-(1 - INNER) * radius) & ~traced[k]
        shell = head.disc(scan, k, rows, columns, AROUND_MM[1]) & ~head.disc(
            scan, k, rows, columns, AROUND_MM[0]
        )
        marrow.append(image[inner])
        around.append(image[shell & (image > tissue)])
    if not marrow:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(marrow), np.concatenate(around)
