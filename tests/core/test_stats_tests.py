"""The named tests against statsmodels, pingouin, an enumeration of tables, and published figures."""

from __future__ import annotations

import itertools

import numpy as np
import pingouin
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import Table
from statsmodels.stats.weightstats import ttest_ind as statsmodels_ttest_ind

from onfh_volume.analysis.significance import chi2, fisher_exact, independent_t, paired_t

# The seed paper's change categories: increase / no change / decrease per group.
STUDY = np.array([[13, 40, 59], [26, 36, 12]])


def test_study_category_table_reproduces_p_below_0_001() -> None:
    test = chi2(STUDY)
    assert test.p_value < 0.001  # as published
    reference = Table(STUDY).test_nominal_association()
    assert test.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert test.dof == reference.df == 2
    assert test.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_collapse_example_gives_0_017_not_the_published_0_012() -> None:
    # measures.md: collapse 36/146 vs 48/126 by Pearson's chi-squared gives P ≈ 0.017.
    test = chi2(np.array([[36, 146 - 36], [48, 126 - 48]]))
    assert round(test.p_value, 3) == 0.017
    assert "no continuity correction" in test.name


def test_fisher_lady_tasting_tea() -> None:
    # Fisher 1935: 3 of 4 cups right each way, two-sided P = 34/70 = 0.4857.
    assert fisher_exact(np.array([[3, 1], [1, 3]])).p_value == pytest.approx(34 / 70, rel=1e-9)


def enumerated_p(table: np.ndarray) -> float:
    """Fisher–Freeman–Halton P by summing scipy's random_table pmf over every table with these margins."""
    rows, columns = table.sum(axis=1), table.sum(axis=0)
    distribution = stats.random_table(rows, columns)
    observed = distribution.pmf(table)
    total = 0.0
    for first in itertools.product(*(range(c + 1) for c in columns)):
        if sum(first) != rows[0]:
            continue
        candidate = np.array([first, columns - np.array(first)])
        p = distribution.pmf(candidate)
        if p <= observed * (1 + 1e-7):
            total += p
    return total


@pytest.mark.parametrize(
    "table",
    [[[1, 4, 2], [5, 1, 1]], [[0, 3, 6], [4, 2, 1]], [[2, 2, 2], [2, 3, 1]], [[3, 0, 1, 2], [0, 4, 1, 1]]],
)
def test_fisher_freeman_halton_equals_enumeration(table: list[list[int]]) -> None:
    table = np.array(table)
    test = fisher_exact(table)
    assert test.name == "Fisher-Freeman-Halton exact test"
    assert test.p_value == pytest.approx(enumerated_p(table), rel=1e-9)


def test_paired_t_equals_pingouin() -> None:
    rng = np.random.default_rng(1)
    before = rng.gamma(4, 3, 15)
    after = before * rng.normal(0.9, 0.15, 15)
    reference = pingouin.ttest(after, before, paired=True)
    test = paired_t(after, before)
    assert test.statistic == pytest.approx(reference["T"].iloc[0], rel=1e-9)
    assert test.p_value == pytest.approx(reference["p_val"].iloc[0], rel=1e-9)
    assert test.dof == 14


@pytest.mark.parametrize("welch", [False, True])
def test_independent_t_equals_statsmodels(welch: bool) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(10, 2, 12), rng.normal(12, 4, 9)
    statistic, p, dof = statsmodels_ttest_ind(a, b, usevar="unequal" if welch else "pooled")
    test = independent_t(a, b, welch=welch)
    assert (test.statistic, test.p_value, test.dof) == pytest.approx((statistic, p, dof), rel=1e-9)
    assert test.name == ("Welch's t-test" if welch else "Student's t-test (equal variances)")


def test_equal_differences_give_an_undefined_t_not_nan() -> None:
    test = paired_t([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert test.statistic is None and test.p_value is None
    assert test.note == "the differences are all equal"
