"""Find the femoral heads of a coronal T1 scan without a click.

On the slices through the middle of the field, a circular Hough transform of the dark ridges (as
:func:`onfh_volume.head.find.slice_circle` does around a click, here over the whole slice) gives
the strongest rings of head size; the project's head finder (:func:`onfh_volume.head.find.find_head`)
is started from each ring's centre, strongest first, and a sphere it fits is a head unless it
overlaps a head already found. At most one head per side is kept (the side rule of
:mod:`onfh_volume.side`), the better supported one.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.filters import sato
from skimage.transform import hough_circle, hough_circle_peaks

from ..errors import HeadError, HeadNotFoundError, ScanError
from ..head.find import RADIUS_MM, STEP_MM, find_head
from ..head.fit import HeadSphere
from ..scan import Scan
from ..side import side_of

RINGS_PER_SLICE = 4  # strongest rings of each slice tried as head centres
MIN_RING_SHARE = 0.55  # a ring with less of its circle on a dark ridge is no head's outline
MAX_TRIES = 12  # head finder starts before giving up: bounds the time on a scan with no head


def rings(scan: Scan) -> list[tuple[float, int, float, float]]:
    """Rings of head size on the middle half of the slices: (score, slice, row, column), best first.

    The score is the ring's share on a dark ridge squared times its radius, as the head finder
    ranks its rings: a long, well-supported ring.
    """
    assert scan.voxels is not None
    zoom = (scan.pixel_spacing[0] / STEP_MM, scan.pixel_spacing[1] / STEP_MM)
    radii = np.arange(*RADIUS_MM, STEP_MM) / STEP_MM
    count = scan.shape[0]
    found = []
    for k in range(count // 4, count - count // 4):
        iso = ndimage.zoom(scan.voxels[k].astype(np.float32), zoom, order=1)
        ridges = sato(iso, sigmas=[1.0, 1.5], black_ridges=True)
        votes = hough_circle(ridges > np.percentile(ridges, 85), radii, normalize=True)
        shares, columns, rows, sizes = hough_circle_peaks(
            votes, radii, total_num_peaks=RINGS_PER_SLICE, min_xdistance=10, min_ydistance=10
        )
        for share, column, row, size in zip(shares, columns, rows, sizes, strict=True):
            if share >= MIN_RING_SHARE:
                found.append((float(share**2 * size), k, row / zoom[0], column / zoom[1]))
    return sorted(found, reverse=True)


def find_heads(scan: Scan) -> dict[str, HeadSphere]:
    """The femoral heads in the field, by side (``"right"``, ``"left"``).

    Raises
    ------
    ScanError
        When the slices are not coronal.
    HeadNotFoundError
        When no head is found (no ring of head size, or none the head finder fits a head to).

    Examples
    --------
    >>> from onfh_volume.testing.phantom_set import small_bilateral_phantom
    >>> phantom = small_bilateral_phantom()
    >>> heads = find_heads(phantom.scan)
    >>> sorted(heads)
    ['left', 'right']
    >>> truth = {head.side: head for head in phantom.heads}
    >>> all(np.linalg.norm(np.subtract(heads[s].centre_ras, truth[s].centre_ras)) < 1.5 for s in heads)
    True
    """
    if scan.orientation_known and scan.orientation[0] not in "AP":
        plane = "axial" if scan.orientation[0] in "SI" else "sagittal"
        raise ScanError(scan.source, f"its slices are {plane}: the heads are searched on coronal slices")
    heads: dict[str, HeadSphere] = {}
    tries = 0
    for _, k, row, column in rings(scan):
        centre = (k, round(row), round(column))
        if any(_inside(scan, centre, head) for head in heads.values()):
            continue
        if tries == MAX_TRIES or len(heads) == 2:
            break
        tries += 1
        try:
            head = find_head(scan, centre, where=scan.source)
        except HeadError:
            continue
        index = np.linalg.solve(scan.affine[:3, :3], np.subtract(head.centre_ras, scan.affine[:3, 3]))
        if not 0 <= index[0] <= scan.shape[0] - 1:
            continue  # centred beyond the scanned slices: the acetabulum cut obliquely, not a head
        side = side_of(scan, index[None], "the head").side
        if side and side not in heads:
            heads[side] = head
    if not heads:
        raise HeadNotFoundError(scan.source, "no femoral head found in the field (no dark ring of head size)")
    return heads


def _inside(scan: Scan, voxel: tuple[int, int, int], head: HeadSphere) -> bool:
    """Whether ``voxel`` lies within the sphere ``head``."""
    point = scan.index_to_patient(np.array([voxel]))[0]
    return bool(np.linalg.norm(point - np.asarray(head.centre_ras)) < head.radius_mm)
