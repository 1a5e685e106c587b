"""Step 5 of the pipeline: change between a baseline and a follow-up, classified per hip."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import GeometryError
from .notes import Note, notes
from .scan import Scan, tolerance
from .vocabulary import (
    DECREASE,
    DEFAULT_THRESHOLD_PCT,
    INCREASE,
    NEW_LESION,
    NO_CHANGE,
    NO_LESION,
    SIDES,
    UNKNOWN_SIDE,
    Method,
)
from .volume import Measurement

#: Changes this close (percentage points) to the threshold count as reaching it: (115 - 100) / 100
#: is 15.000000000000002 or 14.999999999999998 depending on rounding, and must be "increase" either
#: way; 1e-4 also absorbs float32 rounding in scanner geometry, far below any measurable change.
BOUNDARY_TOLERANCE_PCT = 1e-4


@dataclass(frozen=True)
class Change:
    """Relative change of a lesion volume and its category.

    ``change_pct`` is (follow-up - baseline) / baseline x 100, ``None`` when the baseline is 0.
    """

    baseline_cm3: float
    followup_cm3: float
    change_pct: float | None
    category: str


def classify_change(
    baseline_cm3: float, followup_cm3: float, threshold_pct: float = DEFAULT_THRESHOLD_PCT
) -> Change:
    """Classify a volume change against a threshold (15% in the study).

    ``|change| < threshold``: no change; ``change >= +threshold``: increase;
    ``change <= -threshold``: decrease; exactly at the threshold counts as a change. A zero
    baseline gives ``new lesion`` (follow-up > 0) or ``no lesion`` (both 0).

    Examples
    --------
    >>> classify_change(10.0, 11.5).category
    'increase'
    >>> classify_change(10.0, 8.6).category
    'no change'
    >>> classify_change(0.0, 2.0).category
    'new lesion'
    """
    if baseline_cm3 < 0 or followup_cm3 < 0:
        raise ValueError("volumes cannot be negative")
    if not threshold_pct > 0:
        raise ValueError(f"threshold must be a positive percentage, not {threshold_pct}")
    if baseline_cm3 == 0:
        return Change(baseline_cm3, followup_cm3, None, NEW_LESION if followup_cm3 > 0 else NO_LESION)
    change_pct = (followup_cm3 - baseline_cm3) / baseline_cm3 * 100.0
    if change_pct >= threshold_pct - BOUNDARY_TOLERANCE_PCT:
        category = INCREASE
    elif change_pct <= -threshold_pct + BOUNDARY_TOLERANCE_PCT:
        category = DECREASE
    else:
        category = NO_CHANGE
    return Change(baseline_cm3, followup_cm3, change_pct, category)


def protocol_warnings(baseline: Scan, followup: Scan) -> list[str]:
    """Warn when slice thickness or spacing differ between timepoints.

    With a different protocol, area x thickness moves by the thickness ratio (and partial-volume
    effects by the spacing) even if the lesion does not: possibly across the 15% threshold.
    """
    warnings = []
    for name, before, after in (
        ("slice thickness", baseline.slice_thickness, followup.slice_thickness),
        ("slice spacing", baseline.slice_spacing, followup.slice_spacing),
    ):
        if before is None or after is None or abs(before - after) <= tolerance(before):
            continue
        warnings.append(
            f"{name} differs between timepoints (baseline {before:.4g} mm, follow-up {after:.4g} mm, "
            f"{(after - before) / before * 100:+.1f}%): the protocol change alone shifts the volumes"
        )
    return warnings


@dataclass(frozen=True)
class HipVolume:
    """One hip at one timepoint: the labels of its lesions and their summed volumes (cm³).

    A volume is ``None`` where the scan does not state the slice length it needs; a hip without a
    lesion has volume 0.
    """

    labels: tuple[int, ...]
    thickness_cm3: float | None
    cavalieri_cm3: float | None

    def volume(self, method: Method) -> float | None:
        """The summed volume by ``method`` (``"thickness"`` or ``"spacing"``)."""
        return self.thickness_cm3 if method == "thickness" else self.cavalieri_cm3


def hip_volume(measurement: Measurement, side: str) -> HipVolume:
    """The lesions of ``measurement`` on ``side``, summed (usually one lesion)."""
    lesions = [lesion for lesion in measurement.lesions if lesion.side == side]
    scan = measurement.scan

    def total(method: Method, length: float | None) -> float | None:
        return None if length is None else sum(lesion.volume(method) or 0.0 for lesion in lesions)

    return HipVolume(
        labels=tuple(lesion.label for lesion in lesions),
        thickness_cm3=total("thickness", scan.slice_thickness),
        cavalieri_cm3=total("spacing", scan.slice_spacing),
    )


@dataclass(frozen=True)
class HipChange:
    """One hip at baseline and follow-up, and its change (when both were measured)."""

    side: str
    method: Method
    baseline: HipVolume | None
    followup: HipVolume | None
    change: Change | None


@dataclass
class Comparison:
    """Per-hip change between two measurements (either may be missing: a hip measured once)."""

    method: Method
    threshold_pct: float
    hips: list[HipChange]
    warnings: list[Note] = field(default_factory=list)


def check_sides_known(measurement: Measurement) -> None:
    """Refuse to sum lesions per hip when the scan does not say where left and right are."""
    if any(lesion.side == UNKNOWN_SIDE for lesion in measurement.lesions):
        raise GeometryError(
            measurement.scan.source,
            "the scan states no orientation: hips cannot be matched between timepoints",
        )


def _hip(
    side: str, measured: dict[str, HipVolume], method: Method, threshold_pct: float
) -> tuple[HipChange, list[Note]]:
    warnings = [
        Note(f"{side} hip has {len(hip.labels)} lesion labels {list(hip.labels)}; their sum is used").at(when)
        for when, hip in measured.items()
        if len(hip.labels) > 1
    ]
    before, after = measured.get("baseline"), measured.get("followup")
    change = None
    if before is not None and after is not None:
        # check_method refused a scan without the method's slice length, so both volumes exist.
        change = classify_change(before.volume(method) or 0.0, after.volume(method) or 0.0, threshold_pct)
    return HipChange(side, method, before, after, change), warnings


def compare(
    baseline: Measurement | None,
    followup: Measurement | None,
    threshold_pct: float = DEFAULT_THRESHOLD_PCT,
) -> Comparison:
    """Compare two measurements hip by hip (both hips are always reported).

    A hip's volume is the sum of the lesions on that side (usually one). Both measurements must
    use the same method. With one of them ``None`` (a timepoint missing from a cohort), each hip
    carries the volumes of the other and no change.

    Examples
    --------
    >>> from onfh_volume import load_scan, measure_file
    >>> def sample(when):
    ...     scan = load_scan(f"sample_scans/dicom/sub-02/{when}", pixels=False)
    ...     return measure_file(scan, f"sample_scans/masks/sub-02_{when}_lesions.nii.gz")
    >>> right = compare(sample("baseline"), sample("followup")).hips[0]
    >>> right.side, round(right.baseline.thickness_cm3, 6), round(right.followup.thickness_cm3, 6)
    ('right', 10.24, 11.776)
    >>> right.change.category  # +15.000%: the threshold itself counts as a change
    'increase'

    """
    measured = {when: m for when, m in (("baseline", baseline), ("followup", followup)) if m is not None}
    if not measured:
        raise ValueError("compare needs at least one measurement")
    methods = {m.method for m in measured.values()}
    if len(methods) > 1:
        raise ValueError("baseline and follow-up were measured by different methods")
    (method,) = methods
    warnings: list[Note] = []
    for when, measurement in measured.items():
        check_sides_known(measurement)
        warnings += [note.at(when) for note in notes(measurement.warnings)]
    if baseline is not None and followup is not None:
        warnings += notes(protocol_warnings(baseline.scan, followup.scan))
    hips = []
    for side in SIDES:
        hip, hip_warnings = _hip(
            side, {when: hip_volume(m, side) for when, m in measured.items()}, method, threshold_pct
        )
        hips.append(hip)
        warnings += hip_warnings
    return Comparison(method=method, threshold_pct=threshold_pct, hips=hips, warnings=warnings)
