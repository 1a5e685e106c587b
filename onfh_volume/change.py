"""Step 5 of the pipeline: change between a baseline and a follow-up, classified per hip."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import GeometryError, NonFiniteError
from .scan import Scan, tolerance
from .volume import UNKNOWN_SIDE, Measurement, Method

DECREASE, NO_CHANGE, INCREASE, NEW_LESION, NO_LESION = (
    "decrease",
    "no change",
    "increase",
    "new lesion",
    "no lesion",
)
CATEGORIES = (DECREASE, NO_CHANGE, INCREASE, NEW_LESION, NO_LESION)

DEFAULT_THRESHOLD_PCT = 15.0
#: Changes this close (percentage points) to the threshold count as reaching it: (115 - 100) / 100
#: is 15.000000000000002 or 14.999999999999998 depending on rounding, and must be "increase" either
#: way; 1e-4 also absorbs float32 rounding in scanner geometry, far below any measurable change.
BOUNDARY_TOLERANCE_PCT = 1e-4

SIDES = ("right", "left")


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

    Raises
    ------
    NonFiniteError
        When a volume is NaN or infinite.
    """
    if not (math.isfinite(baseline_cm3) and math.isfinite(followup_cm3)):
        # NaN fails every comparison below and would fall through to "no change".
        raise NonFiniteError(
            None, f"volumes must be finite (baseline {baseline_cm3} cm³, follow-up {followup_cm3} cm³)"
        )
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
class HipChange:
    """Baseline vs follow-up of one hip: the lesions on that side, summed."""

    side: str
    baseline_labels: tuple[int, ...]
    followup_labels: tuple[int, ...]
    baseline_cavalieri_cm3: float | None
    followup_cavalieri_cm3: float | None
    change: Change


@dataclass
class Comparison:
    """Per-hip change between two measurements."""

    method: Method
    threshold_pct: float
    hips: list[HipChange]
    warnings: list[str] = field(default_factory=list)


def hip_total(
    measurement: Measurement, side: str, method: Method
) -> tuple[tuple[int, ...], float, float | None]:
    """One hip's lesions in a measurement: their labels, summed volume by ``method``, summed Cavalieri.

    The Cavalieri sum is ``None`` when the scan states no slice spacing; no lesion on that side
    is a volume of 0.
    """
    lesions = [lesion for lesion in measurement.lesions if lesion.side == side]
    volume = sum(lesion.volume(method) or 0.0 for lesion in lesions)
    cavalieri = (
        None
        if measurement.scan.slice_spacing is None
        else sum(lesion.volume_cavalieri_cm3 or 0.0 for lesion in lesions)
    )
    return tuple(lesion.label for lesion in lesions), volume, cavalieri


def check_sides_known(measurement: Measurement) -> None:
    """Refuse to sum lesions per hip when the scan does not say where left and right are."""
    if any(lesion.side == UNKNOWN_SIDE for lesion in measurement.lesions):
        raise GeometryError(
            measurement.scan.source,
            "the scan states no orientation: hips cannot be matched between timepoints",
        )


def compare(
    baseline: Measurement, followup: Measurement, threshold_pct: float = DEFAULT_THRESHOLD_PCT
) -> Comparison:
    """Compare two measurements hip by hip (both hips are always reported).

    A hip's volume is the sum of the lesions on that side (usually one). The method is the
    baseline's; both measurements must use the same one.
    """
    if baseline.method != followup.method:
        raise ValueError("baseline and follow-up were measured by different methods")
    for measurement in (baseline, followup):
        check_sides_known(measurement)
    warnings = [f"baseline: {w}" for w in baseline.warnings] + [f"follow-up: {w}" for w in followup.warnings]
    warnings += protocol_warnings(baseline.scan, followup.scan)
    hips = []
    for side in SIDES:
        before_labels, before, before_cavalieri = hip_total(baseline, side, baseline.method)
        after_labels, after, after_cavalieri = hip_total(followup, side, baseline.method)
        for when, labels in (("baseline", before_labels), ("follow-up", after_labels)):
            if len(labels) > 1:
                warnings.append(
                    f"{when}: {side} hip has {len(labels)} lesion labels {list(labels)}; their sum is used"
                )
        hips.append(
            HipChange(
                side=side,
                baseline_labels=before_labels,
                followup_labels=after_labels,
                baseline_cavalieri_cm3=before_cavalieri,
                followup_cavalieri_cm3=after_cavalieri,
                change=classify_change(before, after, threshold_pct),
            )
        )
    return Comparison(method=baseline.method, threshold_pct=threshold_pct, hips=hips, warnings=warnings)
