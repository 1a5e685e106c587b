"""The follow-up lesion from the mapped baseline lesion: the change the band fill sees, carried over.

The band fill does not trace as a reader does: it takes the band and plate by its own rule, so its
volume differs from a reader's tracing of the same lesion by a share of its own. Comparing the band
fill's follow-up lesion with the reader's baseline lesion would add that difference to the change.
So the band fill traces **both** timepoints, seeded alike (the deepest voxels of the baseline
lesion at baseline, of the mapped lesion at follow-up), and only where the two tracings differ
does the follow-up lesion differ from the mapped baseline lesion: the follow-up lesion is the
mapped lesion, less what the baseline tracing (mapped) holds and the follow-up tracing does not
(``lost``), plus what the follow-up tracing holds and the baseline tracing does not (``gained``).
What both tracings hold, or neither, is the reader's outline, carried.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from ..change import DEFAULT_THRESHOLD_PCT, classify_change
from ..errors import OnfhError
from ..scan import Scan
from ..trace.segment import trace_lesion
from ..vocabulary import Method
from ..volume import check_method

# The least a carried change may be off, in points: on the development hips the band fill's
# change was off by up to 9 points (one by 16, near the boundary).
MIN_UNCERTAINTY_PCT = 8.0
SEEDS = 4  # the lesion's deepest voxels (on different slices) tried as band fill seeds
MAX_LEAK = 2.0  # a tracing larger than this many times the lesion it was seeded from leaked


@dataclass(frozen=True)
class Refinement:
    """The follow-up lesion and the two band fill tracings it was made from (follow-up grid)."""

    lesion: np.ndarray
    traced_baseline: np.ndarray  # the baseline's band fill, mapped onto the follow-up grid
    traced_followup: np.ndarray

    @property
    def agreement(self) -> float:
        """Dice of the two tracings: low when one of them went astray, or the lesion changed shape."""
        return dice(self.traced_baseline, self.traced_followup)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient of two masks; 0 when both are empty."""
    both = np.count_nonzero(a) + np.count_nonzero(b)
    return 2 * np.count_nonzero(a & b) / both if both else 0.0


def band_fill(scan: Scan, lesion: np.ndarray, tracings_needed: int = 1) -> np.ndarray | None:
    """The band fill's lesion on ``scan`` from ``lesion``'s deepest voxels; ``None`` unless enough trace.

    The deepest voxel (in-plane distance to the lesion's outline) of each of the ``SEEDS`` slices
    where the lesion is thickest seeds a tracing; the tracings are joined, so one that stopped
    early is completed by another. A tracing more than ``MAX_LEAK`` times ``lesion``'s size ran
    out of the lesion through an open band, and is left out. Fewer than ``tracings_needed``
    tracings give ``None``: on a follow-up, where no reader's mask checks it, a lesion that one seed
    alone traces is often the part of it that one slice's gap in the band cut off.
    """
    if not lesion.any():
        return None
    depth = np.stack([ndimage.distance_transform_edt(plane, sampling=scan.pixel_spacing) for plane in lesion])
    deepest = np.argsort(depth.max(axis=(1, 2)))[::-1][:SEEDS]
    traced = np.zeros(scan.shape, dtype=bool)
    tracings = 0
    for k in deepest:
        if depth[k].max() <= 0:
            break
        row, column = np.unravel_index(np.argmax(depth[k]), depth[k].shape)
        try:
            mask = trace_lesion(scan, (int(k), int(row), int(column))).mask
        except OnfhError:
            continue
        if 0 < np.count_nonzero(mask) <= MAX_LEAK * np.count_nonzero(lesion):
            traced |= mask
            tracings += 1
    return traced if tracings >= max(tracings_needed, 1) else None


def carried_change(
    mapped: np.ndarray, traced_baseline: np.ndarray, traced_followup: np.ndarray
) -> Refinement:
    """The mapped lesion with the tracings' change applied (see the module's description).

    Examples
    --------
    A lesion of 10 voxels the band fill traces with one voxel more at each timepoint; at follow-up
    it grew by 3 voxels:

    >>> mapped = np.zeros(20, dtype=bool); mapped[0:10] = True
    >>> before = np.zeros(20, dtype=bool); before[0:11] = True
    >>> after = np.zeros(20, dtype=bool); after[0:14] = True
    >>> int(carried_change(mapped, before, after).lesion.sum())
    13
    """
    lost = traced_baseline & ~traced_followup
    gained = traced_followup & ~traced_baseline
    return Refinement((mapped & ~lost) | gained, traced_baseline, traced_followup)


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

    Two other readings of the same change bound its uncertainty: the band fill's own change between
    its tracings at the two timepoints (``traced_change_pct``), and what moving onto the follow-up
    grid did to a lesion's volume (``resampling_pct``: the baseline tracing mapped, against itself,
    less the volume change that the protocols' slice gaps alone make; the mapping keeps the volume,
    so it is about 0 unless the follow-up's field cuts the lesion).
    """

    baseline_cm3: float
    followup_cm3: float
    method: Method  # the volume both timepoints are measured by
    traced_change_pct: float | None = None  # None: the mapped lesion was kept, untraced
    resampling_pct: float | None = None
    agreement: float | None = None  # Dice of the two tracings, the follow-up's on its grid

    @property
    def change_pct(self) -> float:
        """Relative change, % of the baseline mask's volume."""
        return 100.0 * (self.followup_cm3 / self.baseline_cm3 - 1.0)

    @property
    def uncertainty_pct(self) -> float | None:
        """Points of change either way the reading may be off; ``None`` when it cannot be told."""
        if self.traced_change_pct is None or self.resampling_pct is None:
            return None
        return max(
            MIN_UNCERTAINTY_PCT, abs(self.change_pct - self.traced_change_pct), abs(self.resampling_pct)
        )

    def as_dict(self) -> dict[str, object]:
        """The change as the JSON gives it (percentages rounded to 0.1 point)."""

        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "baseline_cm3": self.baseline_cm3,
            "followup_cm3": self.followup_cm3,
            "volume_method": self.method,
            "change_pct": rounded(self.change_pct),
            "category": classify_change(self.baseline_cm3, self.followup_cm3).category,
            "uncertainty_pct": rounded(self.uncertainty_pct),
            "band_fill_change_pct": rounded(self.traced_change_pct),
            "resampling_pct": rounded(self.resampling_pct),
            "band_fill_agreement": None if self.agreement is None else round(self.agreement, 3),
        }

    def reasons(self, threshold_pct: float = DEFAULT_THRESHOLD_PCT) -> list[str]:
        """Why the change's category needs review: the change lies within its uncertainty of ±threshold."""
        uncertainty = self.uncertainty_pct
        if uncertainty is None or abs(abs(self.change_pct) - threshold_pct) > uncertainty:
            return []
        return [
            f"the change {self.change_pct:+.1f}% lies within its uncertainty ({uncertainty:.1f} points) of "
            f"±{threshold_pct:g}%: its category may be either"
        ]


def account(
    baseline: Scan,
    lesion: np.ndarray,
    followup: Scan,
    carried: np.ndarray,
    refinement: Refinement | None,
    traced_baseline: np.ndarray | None,
) -> CarriedChange:
    """The change from ``lesion`` (baseline grid) to ``carried`` (follow-up grid), with its uncertainty."""
    method = change_method(baseline, followup)
    before, after = voxel_cm3(baseline, method), voxel_cm3(followup, method)
    change = CarriedChange(np.count_nonzero(lesion) * before, np.count_nonzero(carried) * after, method)
    if refinement is None or traced_baseline is None:
        return change
    traced = np.count_nonzero(traced_baseline) * before
    # Area x thickness of the same lesion differs between protocols by the share of the slice
    # spacing each slice covers: that part of the move to the follow-up grid is no error.
    protocol = _covered(followup) / _covered(baseline)
    resampled = np.count_nonzero(refinement.traced_baseline) * after / protocol
    return replace(
        change,
        traced_change_pct=100.0 * (np.count_nonzero(refinement.traced_followup) * after / traced - 1.0),
        resampling_pct=100.0 * (resampled / traced - 1.0),
        agreement=refinement.agreement,
    )


def _covered(scan: Scan) -> float:
    """The share of the slice spacing that a slice's thickness covers (1 without a gap)."""
    if scan.slice_thickness and scan.slice_spacing:
        return scan.slice_thickness / scan.slice_spacing
    return 1.0
