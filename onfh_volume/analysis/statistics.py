"""The study's statistics from the batch's results (``onfh-volume stats``), every test named.

Per group: hips, baseline and follow-up mean ± SD (n - 1), paired t-test of follow-up against
baseline, median relative change, counts per change category. Between groups: Pearson's χ² of the
decrease / no change / increase counts (and Fisher's exact test for a 2 x 2 table or when an
expected count is under 5), Student's and Welch's t-tests of the baseline volumes. Optionally
Kaplan–Meier survival per group and the log-rank test (:mod:`~onfh_volume.analysis.survival`).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np

from .. import __version__
from ..errors import AnalysisError
from ..vocabulary import CATEGORIES, DECREASE, INCREASE, NO_CHANGE
from .estimate import finite
from .results_table import HipResult, read_results
from .significance import NamedTest, chi2, expected_counts, fisher_exact, independent_t, paired_t
from .survival import Survival, survival

CHANGE_CATEGORIES = (DECREASE, NO_CHANGE, INCREASE)
WHICH_HIPS = (
    "volumes, means, t-tests and the median change are over the hips with status ok and a baseline volume > 0; "
    "category counts over every hip with status ok"
)


@dataclass(frozen=True)
class GroupStatistics:
    """One group's hips, volumes, paired t-test, median change and category counts."""

    n_hips: int
    baseline: tuple[float, float]  # mean, SD (cm³)
    followup: tuple[float, float]
    paired_t: NamedTest
    median_change_pct: float
    categories: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data with the issue's keys."""
        return {
            "n_hips": self.n_hips,
            "baseline_mean_cm3": self.baseline[0],
            "baseline_sd_cm3": self.baseline[1],
            "followup_mean_cm3": self.followup[0],
            "followup_sd_cm3": self.followup[1],
            "paired_t": self.paired_t.to_dict(),
            "median_change_pct": self.median_change_pct,
            "categories": self.categories,
        }


def _mean_sd(values: list[float], what: str) -> tuple[float, float]:
    return finite(float(np.mean(values)), what), finite(float(np.std(values, ddof=1)), what)


def group_statistics(path: str, name: str, hips: list[HipResult]) -> GroupStatistics:
    """Statistics of one group; refuses a group with fewer than 2 measured hips."""
    measured = [hip for hip in hips if hip.measured]
    volumes = [(hip.baseline_cm3, hip.followup_cm3, hip.change_pct) for hip in measured]
    known = [(b, f, c) for b, f, c in volumes if b is not None and f is not None and c is not None]
    if len(measured) < 2 or len(known) < len(measured):
        raise AnalysisError(
            path,
            f"group '{name}' has {len(measured)} hip(s) with status ok and a baseline volume > 0: "
            "a mean ± SD and a paired t-test need at least 2",
        )
    baseline = [b for b, _, _ in known]
    followup = [f for _, f, _ in known]
    counts = Counter(hip.category for hip in hips if hip.ok)
    return GroupStatistics(
        n_hips=len(measured),
        baseline=_mean_sd(baseline, f"group {name} baseline"),
        followup=_mean_sd(followup, f"group {name} follow-up"),
        paired_t=paired_t(followup, baseline),
        median_change_pct=statistics.median(c for _, _, c in known),
        categories={category: counts[category] for category in CATEGORIES},
    )


def category_tests(groups: dict[str, GroupStatistics]) -> dict[str, Any]:
    """χ² (and Fisher's exact test where asked for) of decrease / no change / increase x groups."""
    names = list(groups)
    full = np.array([[groups[g].categories[c] for c in CHANGE_CATEGORIES] for g in names])
    kept = [j for j in range(len(CHANGE_CATEGORIES)) if full[:, j].sum() > 0]
    table = full[:, kept]
    out: dict[str, Any] = {
        "categories_table": {
            "groups": names,
            "categories": [CHANGE_CATEGORIES[j] for j in kept],
            "counts": table.tolist(),
            "note": "hips with status ok; new lesion and no lesion are not part of the table"
            + ("; categories no hip fell into are left out" if len(kept) < len(CHANGE_CATEGORIES) else ""),
        }
    }
    if len(kept) < 2 or (table.sum(axis=1) == 0).any():
        why = "fewer than 2 categories, or a group without a categorised hip: no table to test"
        out["categories_chi2"] = NamedTest("Pearson's chi-squared test", None, None, None, why).to_dict()
        return out
    out["categories_chi2"] = chi2(table).to_dict()
    small = bool((expected_counts(table) < 5).any())
    out["categories_chi2"]["expected_under_5"] = small
    if table.shape == (2, 2) or small:
        out["categories_fisher"] = (
            fisher_exact(table).to_dict()
            if len(names) == 2
            else NamedTest(
                "Fisher-Freeman-Halton exact test", None, None, None, "computed for two groups only"
            ).to_dict()
        )
    return out


def between_groups(
    path: str, by_group: dict[str, list[HipResult]], groups: dict[str, GroupStatistics]
) -> dict[str, Any]:
    """Tests between the groups (t-tests for exactly two groups)."""
    out = category_tests(groups)
    if len(groups) == 2:
        first, second = (
            [hip.baseline_cm3 for hip in by_group[g] if hip.measured and hip.baseline_cm3 is not None]
            for g in groups
        )
        out["baseline_t"] = independent_t(first, second, welch=False).to_dict()
        out["baseline_welch_t"] = independent_t(first, second, welch=True).to_dict()
    else:
        out["baseline_t"] = None
        out["baseline_t_note"] = f"t-tests compare two groups; there are {len(groups)}"
    return out


@dataclass(frozen=True)
class Statistics:
    """Everything ``onfh-volume stats`` reports; :meth:`to_json` gives its JSON."""

    results: str
    reader: str | None
    groups: dict[str, GroupStatistics]
    #: The tests between groups; with one group, only a note saying so.
    between: dict[str, Any]
    survival: Survival | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data with the issue's keys."""
        data: dict[str, Any] = {
            "software": f"onfh-volume {__version__}",
            "results": self.results,
            "reader": self.reader,
            "hips": WHICH_HIPS,
            "groups": {name: group.to_dict() for name, group in self.groups.items()},
            "between_groups": self.between,
        }
        if self.survival is not None:
            data["survival"] = self.survival.to_dict()
        return data

    def to_json(self) -> str:
        """The result as JSON text (never NaN: an undefined statistic is null with a note)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)


def study_statistics(
    results_path: str | PathLike[str],
    *,
    reader: str | None = None,
    event: str | None = None,
    time: str | None = None,
) -> Statistics:
    """The study's statistics from a batch's RESULTS.csv.

    Parameters
    ----------
    reader
        The reader whose hips to use, required when the file holds several.
    event, time
        Columns (carried from the manifest) of the event (0 or 1, e.g. collapse) and of the time
        to it or to the last follow-up: Kaplan–Meier per group and the log-rank test.

    Raises
    ------
    AnalysisError
        A file that is not the batch's results, several readers and none chosen, a group with
        fewer than 2 hips with status ok and a baseline volume > 0, event or time columns missing
        or not numeric.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.csv"
    >>> _ = path.write_text(
    ...     "patient_id,side,reader,group,baseline_volume_cm3,followup_volume_cm3,change_pct,category,status\\n"
    ...     "p1,right,,A,10,8,-20,decrease,ok\\n" "p1,left,,A,12,12,0,no change,ok\\n"
    ...     "p2,right,,B,9,11,22.2,increase,ok\\n" "p3,right,,B,8,8.4,5,no change,ok\\n"
    ... )
    >>> result = study_statistics(path)
    >>> result.groups["A"].baseline, result.between["categories_chi2"]["test"]
    ((11.0, 1.4142135623730951), "Pearson's chi-squared test (no continuity correction)")
    """
    path = str(results_path)
    hips = read_results(results_path, reader)
    by_group: dict[str, list[HipResult]] = {}
    for hip in hips:
        by_group.setdefault(hip.group, []).append(hip)
    groups = {name: group_statistics(path, name, by_group[name]) for name in sorted(by_group)}
    if (event is None) != (time is None):
        raise AnalysisError(path, "survival needs both --event COLUMN and --time COLUMN")
    return Statistics(
        results=path,
        reader=reader,
        groups=groups,
        between=(
            between_groups(path, by_group, groups)
            if len(groups) > 1
            else {"note": "one group only: no comparison between groups"}
        ),
        survival=None if event is None or time is None else survival(path, by_group, event, time),
    )
