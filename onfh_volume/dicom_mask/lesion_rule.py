"""Which segments of a SEG and ROIs of an RTSTRUCT are lesions, and so measured (the user guide's rule).

1. **Named by the reader** (``--roi NAME``): exactly the regions of that name are measured,
   whatever their coding (a conflict is warned about); the others are not.
2. **Coded as a lesion**: an RT ROI Interpreted Type GTV; a SEG segment of category
   *Morphologically Abnormal Structure*. Measured.
3. **Coded as something that is never a lesion**: the body outline, devices, markers, planning
   margins and dose regions (RT types EXTERNAL, PTV, CTV, BOLUS...), a SEG segment of category
   *Physical Object* or *Substance*. Not measured, with a warning.
4. **Coded as anatomy** (RT types ORGAN, OAR, AVOIDANCE, CAVITY; SEG category *Anatomical
   Structure*): not measured, with a warning, unless the name says lesion (a tool's default type
   on a region the reader named "necrosis R"), then measured with a warning.
5. **Not coded** (an empty RT type, a SEG category such as *Tissue*): the name decides. A name
   with a lesion word ("necrosis R", "lesion", "AVN") or of generic words only ("ROI-1",
   "Segment_1", "right hip", "L") is measured; a name of something else ("Femoral head R",
   "Liver", "bladder") is not.

When regions exist but none is measured, the file is refused: a measurement of "no lesion" from
a file that holds only a femoral head would be a wrong number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..errors import DicomMaskError, shown
from .labels import Region

LESION, NEVER, ANATOMY, UNCODED = "lesion", "never", "anatomy", ""

#: RT ROI Interpreted Types (DICOM PS3.3 C.8.8.8) by what they say a region is.
RT_TYPES = {
    "GTV": LESION,
    **dict.fromkeys(("ORGAN", "OAR", "AVOIDANCE", "CAVITY"), ANATOMY),
    **dict.fromkeys(
        (
            "EXTERNAL",
            "PTV",
            "CTV",
            "TREATED_VOLUME",
            "IRRAD_VOLUME",
            "BOLUS",
            "SUPPORT",
            "FIXATION",
            "MARKER",
            "REGISTRATION",
            "ISOCENTER",
            "CONTROL",
            "CONTRAST_AGENT",
            "DOSE_REGION",
            "DOSE_MEASUREMENT",
            "BRACHY_CHANNEL",
            "BRACHY_ACCESSORY",
            "BRACHY_SRC_APP",
            "BRACHY_CHNL_SHLD",
        ),
        NEVER,
    ),
}
#: SEG Segmented Property Categories (SCT, and the older SRT codes) by what they say a segment is.
SEG_CATEGORIES = {
    **dict.fromkeys((("SCT", "49755003"), ("SRT", "M-01000")), LESION),
    **dict.fromkeys((("SCT", "123037004"), ("SRT", "T-D000A"), ("SCT", "91723000")), ANATOMY),
    **dict.fromkeys(
        (("SCT", "260787004"), ("SRT", "A-00004"), ("SCT", "105590001"), ("SRT", "C-20005")), NEVER
    ),
}
LESION_WORDS = re.compile(
    r"lesion|necros|necrot|osteonecro|onfh|avn|infarct|gtv|tumou?r|defect|abnormal", re.IGNORECASE
)
#: Words of a name that say nothing of what a region is: tools' default names, sides, numbers.
GENERIC_WORDS = frozenset(
    {"roi", "segment", "seg", "structure", "contour", "label", "region", "mask", "object", "new"}
    | {"right", "left", "r", "l", "rt", "lt", "hip", "side", "bilateral"}
)


def _reason(region: Region) -> str | None:
    """Why ``region`` is not measured by rules 2 to 5 (None: it is)."""
    if region.coding == LESION:
        return None
    if region.coding == NEVER:
        return f"{region.coded_as}, not a lesion"
    names_lesion = bool(LESION_WORDS.search(region.name))
    if region.coding == ANATOMY:
        return None if names_lesion else f"{region.coded_as}, not a lesion"
    words = set(re.findall(r"[a-z]+", region.name.lower()))
    if names_lesion or words <= GENERIC_WORDS:
        return None
    return f"named '{shown(region.name)}', not as a lesion"


def lesion_regions(
    path: Path, regions: list[Region], roi: Sequence[str] = ()
) -> tuple[list[Region], list[str]]:
    """The regions to measure as lesions, and warnings; see the module for the rule.

    Raises
    ------
    DicomMaskError
        A name given in ``roi`` that no region has, or regions of which none is to be measured.
    """
    if roi:
        return _named(path, regions, roi)
    measured, warnings = [], []
    for region in regions:
        reason = _reason(region)
        if reason is None:
            measured.append(region)
            if region.coding == ANATOMY:
                warnings.append(f"{path}: {region.what} is {region.coded_as} but named as a lesion: measured")
        else:
            warnings.append(f"{path}: {region.what} is {reason}: not measured (--roi NAME would measure it)")
    if regions and not measured:
        raise DicomMaskError(
            path,
            "no segment or ROI is a lesion ("
            + "; ".join(f"{region.what} is {_reason(region)}" for region in regions)
            + "): name the one to measure with --roi NAME",
        )
    return measured, warnings


def _named(path: Path, regions: list[Region], roi: Sequence[str]) -> tuple[list[Region], list[str]]:
    wanted = {name.strip().casefold() for name in roi}
    measured = [region for region in regions if region.name.strip().casefold() in wanted]
    missing = sorted(wanted - {region.name.strip().casefold() for region in measured})
    if missing:
        names = ", ".join(f"'{region.name}'" for region in regions) or "none"
        raise DicomMaskError(path, f"no segment or ROI named '{missing[0]}' (its names: {names})")
    warnings = [
        f"{path}: {region.what} ({_reason(region) or region.coded_as}) is measured as a lesion "
        "because --roi names it"
        for region in measured
        if _reason(region) is not None or region.coding == ANATOMY
    ]
    return measured, warnings
