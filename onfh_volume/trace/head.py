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
    """
    try:
        head = Head.from_sphere(scan, find_head_sphere(scan, seed, where=scan.source))
    except HeadError:
        return None
    # A sphere centred beyond the scanned slices is a ring around the field's edge (the acetabulum
    # cut obliquely), not a head this scan shows.
    return head if 0 <= head.centre[0] <= scan.shape[0] - 1 else None
