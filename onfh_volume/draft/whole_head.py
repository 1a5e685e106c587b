"""A lesion that fills the femoral head: the head's marrow darker than the trochanter's fatty marrow.

A lesion from most of the head to all of it leaves no healthy marrow on the head's far side, so
the band fill's test (marrow enclosed away from the far side of the head) finds nothing, and its
band may lie at or beyond the head-neck junction, outside the head. What is left to see is that
the head's marrow has lost the fatty-marrow signal that the same hip's greater trochanter keeps.
The trochanter, not the neck, is the reference: oedema of the neck's marrow (about two thirds of
fatty marrow on T1), common with or without a lesion, and the lesion's reactive oedema, which
fades over about 8 mm from its band, both darken the neck.

The trochanter's marrow is the brightest tenth of the pixels ``TROCHANTER_MM`` beyond the head's
surface, within ``TROCHANTER_DEG`` of the lateral direction tilted ``TROCHANTER_TILT_DEG``
inferiorly; the head's marrow lies deeper than ``PLATE_MM`` on the slices that cut the head steeply.
A lesion filling the head reaches its far side, across from the dome (below ``FAR_SIDE`` of the
radius under the centre), and darkens or mottles it; a large lesion covering two thirds of the
head, its band inside the head, leaves fatty marrow there that is bright and even (its 90th
percentile at ``WHOLE_P90`` of the trochanter's or above, within ``EVEN`` of its median): then
the head is neither lost all over nor mottled all over, whatever the rest of it shows.
A whole-head lesion is traced as the band fill traces: the head out to its outer bone surface,
subchondral plate included, on every slice through it.

Examples
--------
The trochanter lies lateral and inferior: towards the patient's right for a right hip, so
down the rows and back along the columns of a coronal scan whose columns run to the left.

>>> from onfh_volume.scan import Scan
>>> coronal = np.array([[0, 0, -0.7, 0], [-4.0, 0, 0, 0], [0, -0.7, 0, 0], [0, 0, 0, 1]])
>>> scan = Scan(None, (0.7, 0.7), 4.0, 4.0, coronal, "scan", grid=(20, 200, 200))
>>> scan.orientation
'PIL'
>>> np.round(lateral_direction(scan, "right", 20.0), 2).tolist()
[0.34, -0.94]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..scan import Scan
from ..trace.barrier import span
from ..trace.head import Head

TROCHANTER_MM = (10.0, 30.0)
TROCHANTER_DEG = 35.0
TROCHANTER_TILT_DEG = 20.0
PLATE_MM = 3.0
STEEP = 0.5  # slices whose cross-section of the head is at least this share of its radius
#: A whole-head lesion: half the head's marrow below WHOLE_MEDIAN of the trochanter's, nine tenths
#: below WHOLE_P90 (a bias field darkens a healthy head evenly by a few per cent, no more).
WHOLE_MEDIAN = 0.82
WHOLE_P90 = 0.95
#: Half the head's marrow below this share of the trochanter's: the reader looks.
DARKER_MEDIAN = 0.86
#: A mixed-signal lesion filling the head: its 90th percentile this far (in the trochanter's
#: units) above its median; a healthy head's marrow, noise and grain, stays within 0.1. A head
#: half dark and half bright (MOTTLED[1] and over) holds a lesion covering part of it, not all.
MOTTLED = (0.15, 0.28)
#: The head's far side: more than this share of its radius below the centre, across from the dome.
FAR_SIDE = 0.25
#: Healthy marrow's 90th percentile lies within this of its median (noise and grain, as above); a
#: mixed lesion's mottle spreads it by MOTTLED[0] and more.
EVEN = 0.10


@dataclass(frozen=True)
class MarrowContrast:
    """The head's deep marrow relative to the trochanter's fatty marrow: its median and 90th
    percentile, over the head and over its far side."""

    median: float
    p90: float
    far_median: float
    far_p90: float

    @property
    def whole_head(self) -> bool:
        """Whether the whole head has lost its fatty marrow signal (not half of it only: ``patchy``,
        nor all but its far side: ``far_fatty``)."""
        return self.median < WHOLE_MEDIAN and self.p90 < WHOLE_P90 and not self.patchy and not self.far_fatty

    @property
    def far_fatty(self) -> bool:
        """Whether the head's far side keeps bright, even fatty marrow: a lesion short of filling the head."""
        return self.far_p90 >= WHOLE_P90 and self.far_p90 - self.far_median < EVEN

    @property
    def patchy(self) -> bool:
        """Whether the head's marrow is half dark and half bright: a lesion covering part of it."""
        return self.p90 - self.median >= MOTTLED[1]

    @property
    def mottled(self) -> bool:
        """Whether the head's marrow is mottled all over, as a mixed-signal lesion filling it is."""
        return MOTTLED[0] <= self.p90 - self.median < MOTTLED[1] and not self.far_fatty

    @property
    def darker(self) -> bool:
        """Whether most of the head is darker than a healthy head's marrow is."""
        return self.median < DARKER_MEDIAN


def lateral_direction(scan: Scan, side: str, tilt_deg: float = TROCHANTER_TILT_DEG) -> np.ndarray:
    """In-plane unit vector (row, column, in mm) from the head's centre, lateral and ``tilt_deg`` down."""
    lateral = 1.0 if side == "right" else -1.0  # RAS: +x is the patient's right
    tilt = np.radians(tilt_deg)
    towards = np.array([lateral * np.cos(tilt), 0.0, -np.sin(tilt)])
    axes = scan.affine[:3, 1:3] / np.linalg.norm(scan.affine[:3, 1:3], axis=0)
    inplane = towards @ axes
    return inplane / np.linalg.norm(inplane)


def marrow_contrast(scan: Scan, head: Head, side: str) -> MarrowContrast | None:
    """The head's deep marrow against the trochanter's; ``None`` when the field does not show it."""
    assert scan.voxels is not None
    row_mm, column_mm = scan.pixel_spacing
    reach = head.radius_mm + TROCHANTER_MM[1] + 2.0
    rows = span(head.centre[1], reach / row_mm, scan.shape[1])
    columns = span(head.centre[2], reach / column_mm, scan.shape[2])
    signal = ndimage.gaussian_filter(
        scan.voxels[:, rows, columns].astype(np.float32), sigma=(0, 0.5 / row_mm, 0.5 / column_mm)
    )
    r = (np.arange(rows.start, rows.stop)[:, None] - head.centre[1]) * row_mm
    c = (np.arange(columns.start, columns.stop)[None, :] - head.centre[2]) * column_mm
    distance = np.hypot(r, c)
    towards = lateral_direction(scan, side)
    lateral = (r * towards[0] + c * towards[1]) >= distance * np.cos(np.radians(TROCHANTER_DEG))
    far = np.broadcast_to(r > FAR_SIDE * head.radius_mm, distance.shape)  # rows run down, the dome up
    heads, fars, trochanters = [], [], []
    for k in range(scan.shape[0]):
        radius = head.disc_radius_mm(scan, k)
        if radius < STEEP * head.radius_mm:
            continue
        deep = distance <= radius - PLATE_MM
        heads.append(signal[k][deep])
        fars.append(signal[k][deep & far])
        beyond = (distance >= radius + TROCHANTER_MM[0]) & (distance <= radius + TROCHANTER_MM[1])
        trochanters.append(signal[k][beyond & lateral])
    marrow, reference = np.concatenate(heads or [[]]), np.concatenate(trochanters or [[]])
    far_marrow = np.concatenate(fars or [[]])
    if far_marrow.size == 0 or reference.size < 100:
        return None
    fatty = float(np.percentile(reference, 90))
    median, far_median = (float(np.median(m)) / fatty for m in (marrow, far_marrow))
    p90, far_p90 = (float(np.percentile(m, 90)) / fatty for m in (marrow, far_marrow))
    return MarrowContrast(median, p90, far_median, far_p90)


def head_mask(scan: Scan, head: Head) -> np.ndarray:
    """The head within its sphere on every slice through it, on the scan grid: a whole-head lesion."""
    mask = np.zeros(scan.shape, dtype=bool)
    everything = slice(0, scan.shape[1]), slice(0, scan.shape[2])
    for k in range(scan.shape[0]):
        if head.disc_radius_mm(scan, k) > 0:
            mask[k] = head.disc(scan, k, *everything)
    return mask
