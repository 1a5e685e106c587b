"""The follow-up lesion from the mapped baseline lesion's outline shift, and the change from the baseline mask.

The band fill does not trace as a reader does (its band and plate by its own rule), and on lesions
over most of the head or with a band open to the neck it often traces nothing at one timepoint or
the other (:mod:`onfh_volume.draft.traced_change`). The outline's shift reads the change however:
the reader's baseline outline, mapped, with its outline in the marrow moved as far as the band moved
(:mod:`onfh_volume.draft.band_shift`). The change is measured as the truth's is, each timepoint's
volume on its own grid, by one method at both; its uncertainty comes from how well the band's move
was read on this hip, and how far the two readings lie apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..change import DEFAULT_THRESHOLD_PCT, classify_change
from ..head.fit import HeadSphere
from ..scan import Scan
from ..vocabulary import Method
from ..volume import check_method
from .band_shift import (
    BASELINE_WINDOW_MM,
    PROFILE_MM,
    SHIFT_WINDOW_MM,
    BandPoints,
    band_points,
    moved_outline,
    signed_distance,
)

MIN_POINTS = 20  # outline points with a band found, at each timepoint, below which the shift is not read
MIN_SLICES = 2  # ... and the slices they lie on
Z = 2.0  # standard errors either way: the uncertainty reaches ~95% of the shift's spread
SYSTEMATIC_MM = 0.5  # what the band's reading may be off by on every outline point alike
LOCAL = 0.5  # the share of a point's own departure from the mean shift that moves the outline there
AGREE_MM = 1.0  # the band's middle and outer edge at follow-up as far apart as at baseline, within this


@dataclass(frozen=True)
class Shift:
    """The follow-up lesion and how its outline was moved from the mapped one."""

    excess: np.ndarray  # mm beyond the moved outline (follow-up grid): at or below 0 is the lesion
    points: BandPoints  # follow-up outline points where the band was found
    shifts_mm: np.ndarray  # how far the outline moved at each of them (mm, outwards)
    spread_mm: float  # the mean shift's standard error, both timepoints' (slices as the units)

    @property
    def lesion(self) -> np.ndarray:
        """The follow-up lesion."""
        return self.excess <= 0


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient of two masks; 0 when both are empty."""
    both = np.count_nonzero(a) + np.count_nonzero(b)
    return 2 * np.count_nonzero(a & b) / both if both else 0.0


def shifted(
    baseline: Scan,
    lesion: np.ndarray,
    baseline_head: HeadSphere,
    followup: Scan,
    distance: np.ndarray,
    followup_head: HeadSphere,
) -> Shift | str:
    """The follow-up lesion: the mapped one (``distance <= 0``) moved to the follow-up's band.

    See :mod:`onfh_volume.draft.band_shift`. A one-line reason instead when the band is found on too
    few outline points at either timepoint to read how it moved.
    """
    marks = band_points(
        baseline, signed_distance(baseline, lesion), *_sphere(baseline_head), BASELINE_WINDOW_MM
    )
    if (problem := _too_few(marks, "baseline")) is not None:
        return problem
    middle, edge = float(np.median(marks.middle_mm)), float(np.median(marks.edge_mm))
    at_baseline = (marks.middle_mm - middle + marks.edge_mm - edge) / 2
    window = (min(middle, edge) + SHIFT_WINDOW_MM[0], max(middle, edge) + SHIFT_WINDOW_MM[1])
    clipped = np.clip(distance, -2 * PROFILE_MM[-1], 2 * PROFILE_MM[-1])
    found = band_points(followup, clipped, *_sphere(followup_head), window)
    # The band's middle and outer edge move together; where they do not keep the reader's gap
    # between them, one of them is something else (a dark patch inside the lesion, oedema beyond it).
    found = found.subset(np.abs(found.edge_mm - found.middle_mm - (edge - middle)) <= AGREE_MM)
    if (problem := _too_few(found, "follow-up")) is not None:
        return problem
    centre, radius = _sphere(followup_head)
    grid = followup.index_to_patient(np.argwhere(np.ones(followup.shape, dtype=bool)))
    depth = (radius - np.linalg.norm(grid - centre, axis=1)).reshape(followup.shape)
    shifts = (found.middle_mm - middle + found.edge_mm - edge) / 2
    spread = float(
        np.hypot(_standard_error(shifts, found.slices), _standard_error(at_baseline, marks.slices))
    )
    moved = moved_outline(followup, distance, depth, found, _shrunk(shifts, found.slices, spread))
    return Shift(moved, found, shifts, spread)


def _shrunk(shifts: np.ndarray, slices: np.ndarray, spread: float) -> np.ndarray:
    """The shifts drawn towards no change as far as their noise allows.

    The mean shift is kept in the share its square holds of its square plus its variance (a shift
    within its noise of 0 is mostly noise: most lesions change little), and each point's departure
    from the mean in the share ``LOCAL``: a few points' dips, off by a millimetre or two, would
    otherwise bend the outline where the band is faint.
    """
    mean = float(np.mean([shifts[slices == k].mean() for k in np.unique(slices)]))
    kept = mean**2 / (mean**2 + spread**2 + SYSTEMATIC_MM**2)
    return mean * kept + (shifts - mean) * LOCAL


def _standard_error(values: np.ndarray, slices: np.ndarray) -> float:
    """The standard error of ``values``' mean, each slice's mean one sample: neighbouring points on a
    slice share its noise and its outline's wander, slices far less."""
    means = np.array([values[slices == k].mean() for k in np.unique(slices)])
    return float(np.std(means, ddof=1) / np.sqrt(len(means)))


def _sphere(head: HeadSphere) -> tuple[np.ndarray, float]:
    return np.asarray(head.centre_ras, dtype=float), float(head.radius_mm)


def _too_few(points: BandPoints, when: str) -> str | None:
    slices = len(np.unique(points.slices))
    if len(points) >= MIN_POINTS and slices >= MIN_SLICES:
        return None
    return f"the band was found along the lesion's outline at {len(points)} points on {slices} slices only at {when}"


def change_method(baseline: Scan, followup: Scan) -> Method:
    """The volume both timepoints are measured by: area x thickness (the study's) when both scans
    state their thickness, else Cavalieri (area x spacing); never one method at each timepoint.

    Raises
    ------
    GeometryError
        A scan states neither a thickness nor a slice spacing.
    """
    method: Method = (
        "thickness"
        if baseline.slice_thickness is not None and followup.slice_thickness is not None
        else "spacing"
    )
    check_method(baseline, method)
    check_method(followup, method)
    return method


def voxel_cm3(scan: Scan, method: Method) -> float:
    """One voxel's volume in cm³ by ``method`` (see :func:`change_method`)."""
    check_method(scan, method)
    length = scan.slice_thickness if method == "thickness" else scan.slice_spacing
    return float(np.prod(scan.pixel_spacing)) * float(length or 0.0) / 1000


@dataclass(frozen=True)
class CarriedChange:
    """The change from the baseline mask to the carried follow-up lesion, and how sure it is.

    The follow-up lesion is the mapped one with its outline moved by how far the band moved
    (:func:`shifted`). That shift is read on many outline points, but the points on one slice share
    its noise: its standard error, with the slices as the units, at both timepoints (the reader's
    outline against the band at baseline, the band's move at follow-up), and ``SYSTEMATIC_MM`` for
    what the band's reading may be off by on every point alike, make the shift's uncertainty;
    ``Z`` times it, in either direction, moves the follow-up volume to ``low_cm3`` and ``high_cm3``.
    """

    baseline_cm3: float
    followup_cm3: float
    method: Method  # the volume both timepoints are measured by
    shift_mm: float | None = None  # the outline's mean move, outwards; None: the mapped lesion was kept
    shift_error_mm: float | None = None
    shifted_cm3: float | None = None  # the follow-up volume the outline's shift gives
    low_cm3: float | None = None
    high_cm3: float | None = None
    source: str = "mapped"  # the follow-up lesion: "band fill", "outline shift" or "mapped" (kept)

    @property
    def change_pct(self) -> float:
        """Relative change, % of the baseline mask's volume."""
        return 100.0 * (self.followup_cm3 / self.baseline_cm3 - 1.0)

    @property
    def uncertainty_pct(self) -> float | None:
        """Points of change either way the reading may be off; ``None`` when it cannot be told.

        The larger of what the outline's shift, moved in and out by its error, makes of the volume,
        and, where the band fill's lesion was taken, how far the shift's own reading lies from it:
        two readings of one change that disagree bound it by their distance.
        """
        if self.low_cm3 is None or self.high_cm3 is None or self.shifted_cm3 is None:
            return None
        spread = max(self.high_cm3 - self.shifted_cm3, self.shifted_cm3 - self.low_cm3)
        return 100.0 * max(spread, abs(self.followup_cm3 - self.shifted_cm3)) / self.baseline_cm3

    def as_dict(self) -> dict[str, object]:
        """The change as the JSON gives it (percentages rounded to 0.1 point, millimetres to 0.01)."""

        def rounded(value: float | None, digits: int = 1) -> float | None:
            return None if value is None else round(value, digits)

        return {
            "baseline_cm3": self.baseline_cm3,
            "followup_cm3": self.followup_cm3,
            "volume_method": self.method,
            "change_pct": rounded(self.change_pct),
            "category": classify_change(self.baseline_cm3, self.followup_cm3).category,
            "uncertainty_pct": rounded(self.uncertainty_pct),
            "followup_lesion_from": self.source,
            "outline_shift_mm": rounded(self.shift_mm, 2),
            "outline_shift_cm3": self.shifted_cm3,
            "outline_shift_error_mm": rounded(self.shift_error_mm, 2),
        }

    def reasons(self, threshold_pct: float = DEFAULT_THRESHOLD_PCT) -> list[str]:
        """Why the change's category needs review: the change lies within its uncertainty of ±threshold."""
        uncertainty = self.uncertainty_pct
        if uncertainty is None or abs(abs(self.change_pct) - threshold_pct) > uncertainty:
            return []
        other = ""
        if self.source == "band fill" and self.shifted_cm3 is not None:
            other = (
                f", the outline's shift reads {100.0 * (self.shifted_cm3 / self.baseline_cm3 - 1.0):+.1f}%"
            )
        return [
            f"the change {self.change_pct:+.1f}% ({self.source}) lies within its uncertainty ({uncertainty:.1f} "
            f"points: the outline moved {self.shift_mm:+.2f} ± {self.shift_error_mm:.2f} mm{other}) of "
            f"±{threshold_pct:g}%: its category may be either"
        ]


def account(
    baseline: Scan, lesion: np.ndarray, followup: Scan, carried: np.ndarray, shift: Shift | None, source: str
) -> CarriedChange:
    """The change from ``lesion`` (baseline grid) to ``carried`` (follow-up grid), with its uncertainty."""
    method = change_method(baseline, followup)
    before, after = voxel_cm3(baseline, method), voxel_cm3(followup, method)
    change = CarriedChange(
        np.count_nonzero(lesion) * before, np.count_nonzero(carried) * after, method, source=source
    )
    if shift is None:
        return change
    error = Z * float(np.hypot(shift.spread_mm, SYSTEMATIC_MM))
    return replace(
        change,
        shift_mm=float(np.mean(shift.shifts_mm)),
        shift_error_mm=error,
        shifted_cm3=np.count_nonzero(shift.excess <= 0) * after,
        low_cm3=np.count_nonzero(shift.excess <= -error) * after,
        high_cm3=np.count_nonzero(shift.excess <= error) * after,
    )
