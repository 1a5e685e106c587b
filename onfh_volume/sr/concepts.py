"""The coded concepts of the ONFH measurement report: SNOMED CT and DICOM where they exist, ours otherwise.

Standard codes name what other viewers know: the finding (SCT 6574001 "Necrosis", as the SEG's
segments), the site (SCT 2812003 "Femoral head" with SCT "Right"/"Left" laterality), a volume
(SCT 118565006 "Volume") and the change categories increase, decrease, no change. The study's own
measures have no standard code: they are in the private coding scheme ``99ONFH`` (DICOM reserves
designators starting with "99" for such local codes), declared in the report's Coding Scheme
Identification, each with a meaning a reader can act on. Units are UCUM: cm3, %, deg, mm.
"""

from __future__ import annotations

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from ..vocabulary import DECREASE, INCREASE, LEFT, NEW_LESION, NO_CHANGE, NO_LESION, RIGHT

SCHEME = "99ONFH"
"""Our private coding scheme designator."""
SCHEME_NAME = "onfh-volume measures of osteonecrosis of the femoral head"


def _onfh(value: str, meaning: str) -> Code:
    return Code(value, SCHEME, meaning)


NECROSIS = codes.SCT.Necrosis
ABNORMAL_STRUCTURE = codes.SCT.MorphologicallyAbnormalStructure
FEMORAL_HEAD = codes.SCT.FemoralHead
LATERALITY = {RIGHT: codes.SCT.Right, LEFT: codes.SCT.Left}
VOLUME = codes.SCT.Volume

#: How each volume was computed, as the measurement's method (the report holds both).
METHOD_THICKNESS = _onfh("VOL-THICKNESS", "Sum of traced area x slice thickness")
METHOD_CAVALIERI = _onfh("VOL-CAVALIERI", "Cavalieri: sum of traced area x slice spacing")
NECROTIC_RATIO = _onfh("NECROTIC-RATIO", "Necrotic ratio of the femoral head volume")
KERBOUL_CORONAL = _onfh("KERBOUL-COR", "Kerboul necrotic angle, mid-coronal")
KERBOUL_SAGITTAL = _onfh("KERBOUL-SAG", "Kerboul necrotic angle, mid-sagittal")
KERBOUL_COMBINED = _onfh("KERBOUL-SUM", "Kerboul combined necrotic angle")
COLLAPSE_DEPTH = _onfh("COLLAPSE-DEPTH", "Depth of femoral head collapse")
#: The ARCO 2019 reading of the collapse depth, by the words of ``head.quality.collapse_reading``: a
#: depth below the detection limit is "no collapse seen", never a collapse of that depth.
COLLAPSE_READING = _onfh("ARCO-COLLAPSE", "ARCO 2019 reading of femoral head collapse")
COLLAPSE_READINGS = {
    "no collapse seen": _onfh("COLLAPSE-NONE-SEEN", "No collapse seen (below the detection limit)"),
    "IIIA": _onfh("ARCO-IIIA", "ARCO IIIA: collapse of 2 mm or less"),
    "IIIB": _onfh("ARCO-IIIB", "ARCO IIIB: collapse of more than 2 mm"),
}
#: The femoral head's quality as ``measure --json`` gives it (``ok`` or ``review``), and each reason
#: to review it as text: the reasons are sentences with their figures, not a closed list to code.
HEAD_QUALITY = _onfh("HEAD-QUALITY", "Quality of the femoral head fit")
HEAD_QUALITIES = {
    "ok": _onfh("HEAD-OK", "Femoral head fit ok"),
    "review": _onfh("HEAD-REVIEW", "Femoral head fit to be reviewed by a reader"),
}
HEAD_REVIEW_REASON = _onfh("HEAD-REASON", "Reason to review the femoral head fit")
STEINBERG_EXTENT = _onfh("STEINBERG-EXTENT", "Steinberg extent of femoral head involvement")
STEINBERG_CLASSES = {
    "A": _onfh("STEINBERG-A", "Steinberg extent A (< 15%)"),
    "B": _onfh("STEINBERG-B", "Steinberg extent B (15-30%)"),
    "C": _onfh("STEINBERG-C", "Steinberg extent C (> 30%)"),
}
VOLUME_CHANGE = _onfh("VOLUME-CHANGE", "Change of necrotic volume since baseline")
CHANGE_CATEGORY = _onfh("CHANGE-CATEGORY", "Change category of necrotic volume")
CATEGORIES = {
    INCREASE: Code("35105006", "SCT", "Increased"),
    DECREASE: codes.SCT.Decreased,
    NO_CHANGE: codes.SCT.NoChange,
    NEW_LESION: _onfh("NEW-LESION", "New lesion since baseline"),
    NO_LESION: _onfh("NO-LESION", "No lesion at either timepoint"),
}

CM3, PERCENT, DEGREE, MM = (
    codes.UCUM.CubicCentimeter,
    codes.UCUM.Percent,
    codes.UCUM.Degree,
    codes.UCUM.Millimeter,
)
