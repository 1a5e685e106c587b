"""The femoral head on the scan grid, as the tracing needs it: its cross-section on each slice.

The head is found by the project's one image head finder (:func:`onfh_volume.head.find.find_head`)
from the seed; :class:`Head` is that sphere in index space (centre as a fractional index), with the
disc it cuts out of each slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import HeadError
from ..head.find import find_head as find_head_sphere
from ..head.fit import HeadSphere
from ..scan import Scan

NEIGHBOUR_SLICES = 2  # slices either way the head search is started from when it fails at the seed
HELD_MM = 3.0  # a seed this deep in a head found from a neighbouring slice: under the subchondral plate


@dataclass(frozen=True)
class Head:
    """A femoral head on a scan grid: centre as a fractional index (slice, row, column), radius in mm.

    ``radius_mm`` is that of the outer bone surface (the articular surface of the subchondral plate).

    Examples
    --------
    >>> from onfh_volume.scan import Scan
    >>> scan = Scan(None, (0.5, 0.5), 4.0, 4.0, np.diag([4.0, 0.5, 0.5, 1.0]), "scan", grid=(20, 200, 200))
    >>> head = Head.from_sphere(scan, HeadSphere((40.0, 50.0, 50.0), 24.0, 0.3, "image", 500))
    >>> head.centre, head.centre_ras(scan).tolist()
    ((10.0, 100.0, 100.0), [40.0, 50.0, 50.0])
    >>> round(head.disc_radius_mm(scan, 13), 3), head.disc_radius_mm(scan, 17)
    (20.785, 0.0)
    >>> head.depth_mm(scan, (12, 100, 100)), head.depth_mm(scan, (10, 100, 152))
    (16.0, -2.0)
    """

    centre: tuple[float, float, float]
    radius_mm: float

    @classmethod
    def from_sphere(cls, scan: Scan, sphere: HeadSphere) -> Head:
        """The head ``sphere`` (RAS mm) on the grid of ``scan``."""
        index = np.linalg.solve(scan.affine[:3, :3], np.subtract(sphere.centre_ras, scan.affine[:3, 3]))
        return cls((float(index[0]), float(index[1]), float(index[2])), sphere.radius_mm)

    def centre_ras(self, scan: Scan) -> np.ndarray:
        """The centre in patient RAS millimetres."""
        return scan.index_to_patient(np.array([self.centre]))[0]

    def disc_radius_mm(self, scan: Scan, k: int) -> float:
        """Radius of the head's cross-section on slice ``k`` (0 where the slice misses the head)."""
        depth = (k - self.centre[0]) * _spacing(scan)
        return float(np.sqrt(max(self.radius_mm**2 - depth**2, 0.0)))

    def depth_mm(self, scan: Scan, index: tuple[int, int, int]) -> float:
        """How deep (mm) the voxel ``index`` lies inside the sphere; negative outside it."""
        where = scan.index_to_patient(np.array([index], dtype=float))[0]
        return float(self.radius_mm - np.linalg.norm(where - self.centre_ras(scan)))

    def disc(self, scan: Scan, k: int, rows: slice, columns: slice, margin_mm: float = 0.0) -> np.ndarray:
        """Pixels of ``rows`` x ``columns`` of slice ``k`` whose centre lies inside the head."""
        r, c = _in_plane_mm(scan, self.centre, rows, columns)
        return np.hypot(r, c) <= self.disc_radius_mm(scan, k) + margin_mm


def _spacing(scan: Scan) -> float:
    return float(scan.slice_spacing or scan.slice_thickness or 1.0)


def _in_plane_mm(
    scan: Scan, centre: tuple[float, float, float], rows: slice, columns: slice
) -> tuple[np.ndarray, np.ndarray]:
    """Row and column offsets (mm) of a window's pixels from ``centre``, broadcastable."""
    row_mm, column_mm = scan.pixel_spacing
    r = (np.arange(rows.start, rows.stop)[:, None] - centre[1]) * row_mm
    c = (np.arange(columns.start, columns.stop)[None, :] - centre[2]) * column_mm
    return r, c


def find_head(scan: Scan, seed: tuple[int, int, int]) -> Head | None:
    """The femoral head around ``seed`` (slice, row, column) on the scan grid, or ``None`` when the
    image shows no head there (no cortical ring encloses the seed, no plausible sphere fits, or
    the sphere is centred beyond the scanned slices).

    Where the search from the seed fails, it is started from the same point on the nearest slices,
    up to ``NEIGHBOUR_SLICES`` each way, and a head found there is the seed's when its sphere holds
    the seed ``HELD_MM`` inside its surface: towards a head's end, thick slices cut the cortex so
    obliquely that the ring around a point inside the head may fit no plausible sphere, though the
    slices nearer the head's middle show it whole.
    """
    head = _head_from(scan, seed)
    for k in _nearest_slices(seed[0], scan.shape[0]):
        if head is not None:
            break
        found = _head_from(scan, (k, seed[1], seed[2]))
        if found is not None and found.depth_mm(scan, seed) >= HELD_MM:
            head = found
    return head


def _nearest_slices(k: int, count: int) -> list[int]:
    """The slices up to ``NEIGHBOUR_SLICES`` from ``k``, nearest first (the lower one first on a tie)."""
    near = [k + step * d for d in range(1, NEIGHBOUR_SLICES + 1) for step in (-1, 1)]
    return [n for n in near if 0 <= n < count]


def _head_from(scan: Scan, seed: tuple[int, int, int]) -> Head | None:
    """The head the image head finder fits from ``seed``, or ``None``."""
    try:
        head = Head.from_sphere(scan, find_head_sphere(scan, seed, where=scan.source))
    except HeadError:
        return None
    # A sphere centred beyond the scanned slices is a ring around the field's edge (the acetabulum
    # cut obliquely), not a head this scan shows.
    return head if 0 <= head.centre[0] <= scan.shape[0] - 1 else None
