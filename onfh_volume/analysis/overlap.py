"""Overlap of two readers' masks of one lesion on the same scan: Dice and HD95 in millimetres.

HD95, as computed here (the definition of MedPy's ``hd95``; tools differ, so it is stated):

1. the **surface** of a mask is its boundary voxels: voxels of the mask with at least one of their
   6 face neighbours (in-plane and through-plane) outside it; each is a point at its voxel's
   centre, in mm on the scan's grid (slice spacing through-plane, pixel spacing in-plane);
2. the directed distances: from every surface point of A to the nearest surface point of B, and
   from every surface point of B to the nearest of A (exact Euclidean distances in mm);
3. HD95 is the 95th percentile (linear interpolation) of both sets pooled together.

Identical masks give 0; two parallel one-slice plates 2 slices apart give exactly 2 x spacing.
Other tools take the larger of the two directed 95th percentiles, or the surface as a mesh: their
figures differ, mostly by less than a voxel but more on thin or fragmented lesions.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .estimate import finite

#: The 6-connected neighbourhood that decides which voxels are on the surface.
FACES = ndimage.generate_binary_structure(3, 1)
PERCENTILE = 95.0


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient 2|A ∩ B| / (|A| + |B|) of two boolean masks (at least one non-empty).

    Examples
    --------
    >>> a = np.zeros((1, 4, 4), bool); a[0, :2] = True
    >>> b = np.zeros((1, 4, 4), bool); b[0, 1:3] = True
    >>> dice(a, b)
    0.5
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    total = int(a.sum()) + int(b.sum())
    if total == 0:
        raise ValueError("Dice of two empty masks is undefined")
    return 2 * int(np.logical_and(a, b).sum()) / total


def surface(mask: np.ndarray) -> np.ndarray:
    """Boolean array of the mask's boundary voxels (face-connected to the outside).

    Examples
    --------
    >>> cube = np.zeros((5, 5, 5), bool); cube[1:4, 1:4, 1:4] = True
    >>> int(surface(cube).sum())  # 27 voxels, all but the centre on the surface
    26
    """
    mask = np.asarray(mask, bool)
    # Voxels beyond the array's edge count as outside (border_value=0).
    return mask & ~ndimage.binary_erosion(mask, structure=FACES, border_value=0)


def _distances_to(target: np.ndarray, spacing: tuple[float, float, float]) -> np.ndarray:
    """Distance (mm) from every voxel to the nearest ``target`` voxel's centre."""
    return ndimage.distance_transform_edt(~target, sampling=spacing)


def hd95(a: np.ndarray, b: np.ndarray, spacing: tuple[float, float, float]) -> float:
    """95th-percentile Hausdorff distance (mm) between two non-empty masks on one grid.

    ``spacing`` is the voxel spacing in mm along the array's axes (slice, row, column).

    Examples
    --------
    Two one-slice plates, 2 slices of 4.4 mm apart:

    >>> a = np.zeros((4, 6, 6), bool); a[0, 1:5, 1:5] = True
    >>> b = np.zeros((4, 6, 6), bool); b[2, 1:5, 1:5] = True
    >>> round(hd95(a, b, (4.4, 1.6, 1.6)), 6)
    8.8
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if not a.any() or not b.any():
        raise ValueError("HD95 of an empty mask is undefined")
    # Every nearest surface point lies within the masks' joint bounding box: measure only there.
    box = ndimage.find_objects((a | b).astype(np.uint8))[0]
    surface_a, surface_b = surface(a[box]), surface(b[box])
    lengths = (float(spacing[0]), float(spacing[1]), float(spacing[2]))
    pooled = np.concatenate(
        [_distances_to(surface_b, lengths)[surface_a], _distances_to(surface_a, lengths)[surface_b]]
    )
    return finite(np.percentile(pooled, PERCENTILE), "HD95")
