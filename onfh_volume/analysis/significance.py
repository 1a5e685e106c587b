"""Named hypothesis tests as the study ran them, each result carrying its test's name.

Thin wrappers on scipy.stats that refuse to return NaN: an undefined statistic is ``None`` with the
reason. The exact test for a 2 x c table (Fisher–Freeman–Halton) is computed here by enumeration,
since scipy's r x c Fisher test is a Monte Carlo estimate.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class NamedTest:
    """A test's name, statistic, p-value (and degrees of freedom), or why it is undefined."""

    name: str
    statistic: float | None
    p_value: float | None
    dof: float | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: ``test`` (the name), ``statistic``, ``p_value``, and ``dof``/``note`` if any."""
        data: dict[str, Any] = {"test": self.name, "statistic": self.statistic, "p_value": self.p_value}
        if self.dof is not None:
            data["dof"] = self.dof
        if self.note:
            data["note"] = self.note
        return data


def result(name: str, statistic: float, p_value: float, dof: float | None, undefined: str) -> NamedTest:
    """A NamedTest, or an undefined one (``undefined`` as its note) when scipy gave NaN or infinity.

    Examples
    --------
    >>> result("t", float("nan"), float("nan"), None, "no variance").to_dict()
    {'test': 't', 'statistic': None, 'p_value': None, 'note': 'no variance'}
    """
    if not (math.isfinite(statistic) and math.isfinite(p_value)):
        return NamedTest(name, None, None, None, undefined)
    return NamedTest(name, float(statistic), float(p_value), None if dof is None else float(dof))


def paired_t(after: Sequence[float], before: Sequence[float]) -> NamedTest:
    """Paired Student's t-test of ``after - before`` (two-sided).

    Examples
    --------
    >>> round(paired_t([2.0, 3.0, 5.0], [1.0, 1.0, 2.0]).p_value, 4)
    0.0742
    """
    with warnings.catch_warnings():
        # Identical differences: scipy warns, then gives NaN or infinity, which result() names.
        warnings.simplefilter("ignore", RuntimeWarning)
        test = stats.ttest_rel(after, before)
    return result(
        "paired Student's t-test", test.statistic, test.pvalue, test.df, "the differences are all equal"
    )


def independent_t(a: Sequence[float], b: Sequence[float], *, welch: bool) -> NamedTest:
    """Student's t-test (equal variances) or Welch's t-test of two independent samples (two-sided)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        test = stats.ttest_ind(a, b, equal_var=not welch)
    name = "Welch's t-test" if welch else "Student's t-test (equal variances)"
    return result(name, test.statistic, test.pvalue, test.df, "no variance in either group")


def chi2(table: np.ndarray) -> NamedTest:
    """Pearson's χ² test of independence without continuity correction.

    Examples
    --------
    The seed paper's change categories (denosumab 13/40/59, control 26/36/12):

    >>> test = chi2(np.array([[13, 40, 59], [26, 36, 12]]))
    >>> test.dof, test.p_value < 0.001
    (2.0, True)
    """
    test = stats.chi2_contingency(table, correction=False)
    return result(
        "Pearson's chi-squared test (no continuity correction)",
        test.statistic,
        test.pvalue,
        test.dof,
        "a row or column of the table is empty",
    )


def expected_counts(table: np.ndarray) -> np.ndarray:
    """Counts expected under independence (row total x column total / grand total)."""
    return np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()


def _first_rows(columns: Sequence[int], total: int) -> Iterator[tuple[int, ...]]:
    """Every first row of a 2 x c table with these column totals and this first-row total."""
    if len(columns) == 1:
        if 0 <= total <= columns[0]:
            yield (total,)
        return
    for x in range(max(0, total - sum(columns[1:])), min(columns[0], total) + 1):
        for rest in _first_rows(columns[1:], total - x):
            yield (x, *rest)


def fisher_exact(table: np.ndarray) -> NamedTest:
    """Fisher's exact test of a 2 x 2 table, or Fisher–Freeman–Halton's of a 2 x c table (two-sided).

    The p-value sums the probabilities (hypergeometric, margins fixed) of every table no more
    probable than the one observed.

    Examples
    --------
    >>> round(fisher_exact(np.array([[8, 2], [1, 5]])).p_value, 4)
    0.035
    """
    table = np.asarray(table, dtype=int)
    if table.shape[0] != 2:
        raise ValueError("the exact test is computed for two groups (a 2 x c table)")
    if table.shape == (2, 2):
        test = stats.fisher_exact(table)
        return result("Fisher's exact test", test.statistic, test.pvalue, None, "a row or column is empty")
    columns = [int(c) for c in table.sum(axis=0)]
    first = int(table[0].sum())
    log_total = math.lgamma(sum(columns) + 1) - math.lgamma(first + 1) - math.lgamma(sum(columns) - first + 1)

    def log_p(row: Sequence[int]) -> float:
        return (
            sum(
                math.lgamma(c + 1) - math.lgamma(x + 1) - math.lgamma(c - x + 1)
                for c, x in zip(columns, row, strict=True)
            )
            - log_total
        )

    observed = log_p([int(x) for x in table[0]])
    # Tables as probable as the observed one, up to rounding, count as "no more probable".
    p = sum(math.exp(q) for q in (log_p(row) for row in _first_rows(columns, first)) if q <= observed + 1e-7)
    return NamedTest("Fisher-Freeman-Halton exact test", None, min(p, 1.0))
