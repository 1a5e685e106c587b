"""Measures of a lesion relative to its femoral head: necrotic ratio, Steinberg extent, Kerboul angle.

References
----------
Steinberg ME, Hayken GD, Steinberg DR. A quantitative system for staging avascular necrosis.
J Bone Joint Surg Br 1995;77:34-41 (extent of head involvement: A < 15%, B 15-30%, C > 30%).
Ha YC et al. Prediction of collapse in femoral head osteonecrosis: a modified Kerboul method with
use of magnetic resonance images. J Bone Joint Surg Am 2006;88 Suppl 3:35-40 (the necrotic arc on
the mid-coronal and mid-sagittal images, summed: <= 190° low, 190-240° moderate, >= 240° high risk).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..scan import Scan
from .fit import HeadSphere

#: Steinberg extent classes: upper bounds (%), the last one open.
STEINBERG = (("A", 15.0), ("B", 30.0), ("C", float("inf")))
#: Directions around the head centre at which the Kerboul arc is sampled, and the step along a ray (mm).
ARC_STEP_DEG = 0.5
RAY_STEP_MM = 0.25
#: The arc is where the lesion reaches the subchondral zone: within this depth (mm) under the head's
#: outer surface, i.e. the 2 mm plate and about 3 mm of bone beneath it.
SUBCHONDRAL_MM = 5.0
#: The signed distance far from a lesion: any positive value reads as outside.
FAR_MM = 1000.0


def necrotic_ratio_pct(lesion_cavalieri_cm3: float, head: HeadSphere) -> float:
    """Lesion volume / head sphere volume x 100.

    The lesion's Cavalieri volume (Σ area x slice spacing) is used, not area x thickness: both it
    and the sphere estimate true volumes, so a slice gap does not shrink the ratio.

    Examples
    --------
    >>> head = HeadSphere((0.0, 0.0, 0.0), 20.0, 0.3, "image", 400)
    >>> round(necrotic_ratio_pct(head.volume_cm3 / 4, head), 6)
    25.0
    """
    return 100.0 * lesion_cavalieri_cm3 / head.volume_cm3


def steinberg_extent(ratio_pct: float) -> str:
    """Steinberg (University of Pennsylvania) extent of head involvement: A < 15%, B 15-30%, C > 30%.

    Examples
    --------
    >>> [steinberg_extent(p) for p in (14.99, 15.0, 30.0, 30.01)]
    ['A', 'B', 'B', 'C']
    """
    if ratio_pct < STEINBERG[0][1]:
        return "A"
    return "B" if ratio_pct <= STEINBERG[1][1] else "C"


@dataclass(frozen=True)
class KerboulAngle:
    """Necrotic arc (degrees) seen from the head centre on the mid-coronal and mid-sagittal planes."""

    coronal: float
    sagittal: float

    @property
    def combined(self) -> float:
        """Coronal + sagittal arc: the modified Kerboul combined necrotic angle."""
        return self.coronal + self.sagittal


def signed_distance(scan: Scan, lesion: np.ndarray) -> np.ndarray:
    """In-plane signed distance (mm) to the lesion's outline on each slice, negative inside.

    Interpolated linearly between slices, its zero level moves the outline from one slice's to the
    next (shape-based interpolation, Raya & Udupa 1990), where interpolating the mask itself would
    jump between their union and their intersection at the midpoint. A slice without lesion reads
    as far outside as its nearest traced slice reads inside, so the lesion's last outline reaches
    halfway to it: where between the two the lesion ended is unknown, halfway is the best guess.
    """
    spacing = scan.pixel_spacing
    # Only around the lesion does the distance matter; farther out it only has to be positive.
    distance = np.full(lesion.shape, FAR_MM, dtype=np.float32)
    traced = np.flatnonzero(lesion.any(axis=(1, 2)))
    if not len(traced):
        return distance
    rows, columns = (np.flatnonzero(lesion.any(axis=axes)) for axes in ((0, 2), (0, 1)))
    box = tuple(slice(max(int(found[0]) - 2, 0), int(found[-1]) + 3) for found in (rows, columns))
    for k in traced:
        plane = lesion[k][box]
        outside = ndimage.distance_transform_edt(~plane, sampling=spacing)
        distance[k][box] = outside - ndimage.distance_transform_edt(plane, sampling=spacing)
    for k in np.flatnonzero(~lesion.any(axis=(1, 2))):
        distance[k] = np.abs(distance[traced[np.argmin(np.abs(traced - k))]])
    return distance


def necrotic_arc_deg(
    scan: Scan, distance: np.ndarray, head: HeadSphere, in_plane: tuple[np.ndarray, np.ndarray]
) -> float:
    """Arc (degrees) of the head's surface under which the lesion reaches the subchondral zone, on the
    plane through the head centre spanned by ``in_plane`` (RAS unit vectors), seen from the centre.

    A direction counts when its ray meets the lesion within :data:`SUBCHONDRAL_MM` of the surface:
    the arc of articular surface the necrosis undermines, as the lines drawn from the centre to the
    lesion's ends on the surface measure it; a lesion that reaches into the head's core does not
    make the whole circumference necrotic.

    The lesion is reformatted onto the plane from the scan's grid with its exact geometry, by
    shape-based interpolation (:func:`signed_distance`): between two slices its outline lies
    between theirs, in proportion.
    """
    angles = np.radians(np.arange(0.0, 360.0, ARC_STEP_DEG))
    directions = np.cos(angles)[:, None] * in_plane[0] + np.sin(angles)[:, None] * in_plane[1]
    rho = np.arange(head.radius_mm - SUBCHONDRAL_MM, head.radius_mm + RAY_STEP_MM / 2, RAY_STEP_MM)
    points = np.asarray(head.centre_ras) + rho[None, :, None] * directions[:, None, :]
    inverse = np.linalg.inv(scan.affine)
    index = points.reshape(-1, 3) @ inverse[:3, :3].T + inverse[:3, 3]
    inside = ndimage.map_coordinates(distance, index.T, order=1, mode="nearest") < 0
    covered = inside.reshape(len(angles), len(rho)).any(axis=1)
    return float(covered.sum() * ARC_STEP_DEG)


def kerboul_angle(scan: Scan, lesion: np.ndarray, head: HeadSphere) -> KerboulAngle:
    """The modified Kerboul angles of ``lesion`` (boolean volume on the scan grid) in ``head``.

    The mid-coronal plane is the patient's coronal plane (left-right and head-foot) through the
    head centre, the mid-sagittal plane its sagittal plane (front-back and head-foot) through it,
    whatever the scan's own slice orientation.
    """
    right, anterior, superior = np.eye(3)
    distance = signed_distance(scan, lesion)
    return KerboulAngle(
        coronal=necrotic_arc_deg(scan, distance, head, (right, superior)),
        sagittal=necrotic_arc_deg(scan, distance, head, (anterior, superior)),
    )
