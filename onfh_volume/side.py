"""Which hip a lesion is in: from the patient's midline in the scanner frame, checked against what the
file states.

The rule, documented in the user guide ("The side rule"):

1. **Scanner frame.** A hip MRI is done with the patient centred on the table, so the patient's
   midline is at the scanner's left-right isocentre, x = 0 of the patient coordinates; a lesion
   right of it (RAS x > 0) is in the right hip. This holds on a small field of one hip, whose own
   centre lies on that hip, not on the midline.
2. **Bilateral field.** A field wide enough for both hips (:data:`BILATERAL_FIELD_MM`) is centred
   on the pelvis, the heads symmetric about its centre: where its centre and x = 0 put a lesion on
   different sides (a patient lying off the table's centre), the field's centre is used.
3. **Stated laterality.** DICOM Laterality (0020,0060), Image Laterality (0020,0062) and a side
   named in the series description (RIGHT/RT, LEFT/LT) are checked against the position. A lesion
   within :data:`MIDLINE_MARGIN_MM` of the midline on a one-hip field cannot be placed by position
   alone: a statement is then used. Every disagreement is a warning saying what was used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .scan import Scan
from .vocabulary import LEFT, RIGHT

#: Narrower fields of view than this (mm, left-right) cannot hold both hips.
BILATERAL_FIELD_MM = 250.0
#: Femoral heads lie 80-100 mm from the midline: a lesion closer than this to x = 0 on a one-hip
#: field is too near for the position to tell the side of a patient not exactly centred.
MIDLINE_MARGIN_MM = 30.0
#: Where a side can be stated in a DICOM header, as the user guide names them.
STATEMENTS = {
    "Laterality": "Laterality (0020,0060)",
    "ImageLaterality": "Image Laterality (0020,0062)",
    "SeriesDescription": "the series description",
}
_WORDS = {
    RIGHT: re.compile(r"(?<![A-Z])(RIGHT|RT|R(?=[ _-]*(HIP|FEMUR|FEMORAL)))(?![A-Z])"),
    LEFT: re.compile(r"(?<![A-Z])(LEFT|LT|L(?=[ _-]*(HIP|FEMUR|FEMORAL)))(?![A-Z])"),
}


def stated_sides(header: Mapping[str, object]) -> dict[str, str]:
    """The hip side each laterality element of ``header`` states: ``{"Laterality": "right", ...}``.

    Laterality values are R and L (B, both, states no single side); the series description
    counts when it names exactly one side.

    Examples
    --------
    >>> stated_sides({"Laterality": "L", "ImageLaterality": "B", "SeriesDescription": "COR T1 RT HIP"})
    {'Laterality': 'left', 'SeriesDescription': 'right'}
    >>> stated_sides({"SeriesDescription": "COR T1 BOTH HIPS"})
    {}
    """
    sides = {}
    for key in ("Laterality", "ImageLaterality"):
        value = str(header.get(key) or "").strip().upper()
        if value in ("R", "L"):
            sides[key] = RIGHT if value == "R" else LEFT
    description = str(header.get("SeriesDescription") or "").upper()
    named = [side for side, words in _WORDS.items() if words.search(description)]
    if len(named) == 1:
        sides["SeriesDescription"] = named[0]
    return sides


@dataclass(frozen=True)
class SideDecision:
    """A lesion's side, its RAS centroid, whether it straddles the midline used, and what to tell."""

    side: str
    centroid: np.ndarray
    straddles: bool
    warnings: list[str] = field(default_factory=list)


def _by_position(x: float, midline: float) -> str:
    return "" if abs(x - midline) < 1e-6 else (RIGHT if x > midline else LEFT)


def side_of(scan: Scan, indices: np.ndarray, label: int | str = "") -> SideDecision:
    """The hip side of the voxels ``indices`` (N, 3) of lesion ``label`` on ``scan`` (see the module rule).

    ``label`` names the lesion in the warnings.

    ``side`` is ``""`` when the lesion's centroid lies exactly on the midline and nothing states a side.
    """
    name = f"label {label}" if isinstance(label, int) else label or "the lesion"
    points = scan.index_to_patient(indices)
    centroid = points.mean(axis=0)
    x = float(centroid[0])
    bilateral = scan.left_right_extent_mm() >= BILATERAL_FIELD_MM
    midline, side = 0.0, _by_position(x, 0.0)
    warnings = []
    if bilateral and _by_position(x, float(scan.centre()[0])) != side:
        midline = float(scan.centre()[0])
        side = _by_position(x, midline)
        warnings.append(
            f"{name}: the field holds both hips but is centred at x = {midline:.0f} mm, not on the "
            f"scanner's midline (x = 0): the side is taken from the field's centre ({side})"
        )
    stated = stated_sides(scan.laterality)
    near = not bilateral and abs(x) < MIDLINE_MARGIN_MM
    if near and stated:
        source, stated_side = next(iter(stated.items()))
        warnings.append(
            f"{name} lies {abs(x):.0f} mm from the scanner's midline on a one-hip field: the side is "
            f"taken from {STATEMENTS[source]} ({stated_side})"
        )
        side = stated_side
    elif near:
        warnings.append(
            f"{name} lies only {abs(x):.0f} mm from the scanner's midline on a one-hip field and the "
            f"file states no laterality: the side ({side or 'none'}) is doubtful"
        )
    for source, stated_side in stated.items():
        if stated_side != side and not near:
            warnings.append(
                f"{name}: {STATEMENTS[source]} says {stated_side}, but the lesion lies {abs(x - midline):.0f} "
                f"mm {side} of the patient's midline: the side is taken from its position ({side})"
            )
    straddles = bool(points[:, 0].min() < midline < points[:, 0].max())
    return SideDecision(side=side, centroid=centroid, straddles=straddles, warnings=warnings)
