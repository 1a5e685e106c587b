"""Intraclass correlation of readers' measurements: ICC(2,1) and ICC(3,1) with 95% CIs.

Two-way ANOVA of an n targets x k readers table (Shrout & Fleiss 1979, Psychol Bull 86:420-428),
with the confidence intervals of McGraw & Wong 1996 (Psychol Methods 1:30-46):

* ICC(2,1), McGraw & Wong's ICC(A,1): two-way random effects, absolute agreement, single reader —
  a reader's systematic offset counts as disagreement;
* ICC(3,1), McGraw & Wong's ICC(C,1): two-way mixed effects, consistency, single reader — it
  does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import f

from .estimate import Estimate

#: Residual mean squares below this share of the table's scale are rounding, not disagreement.
EXACT = 1e-12


@dataclass(frozen=True)
class MeanSquares:
    """Mean squares of the two-way ANOVA without interaction (one measurement per cell)."""

    n: int
    k: int
    targets: float  # between targets (rows), n - 1 degrees of freedom
    readers: float  # between readers (columns), k - 1
    error: float  # residual, (n - 1)(k - 1)


def mean_squares(table: np.ndarray) -> MeanSquares:
    """Mean squares of an n x k table (targets in rows, readers in columns).

    Examples
    --------
    >>> ms = mean_squares(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]))
    >>> round(ms.targets, 4), round(ms.readers, 4), round(ms.error, 4)
    (10.1667, 2.6667, 0.1667)
    """
    x = np.asarray(table, dtype=float)
    n, k = x.shape
    if n < 2 or k < 2:
        raise ValueError(f"an ICC needs at least 2 targets and 2 readers, not {n} x {k}")
    grand = x.mean()
    rows, columns = x.mean(axis=1), x.mean(axis=0)
    residuals = x - rows[:, None] - columns[None, :] + grand
    scale = EXACT * max(float((x**2).mean()), np.finfo(float).tiny)

    def exact(value: float) -> float:
        # Equal readers leave 1e-30 of rounding where the arithmetic says 0: it must read as 0.
        return 0.0 if value <= scale else value

    return MeanSquares(
        n=n,
        k=k,
        targets=exact(k * float(((rows - grand) ** 2).sum()) / (n - 1)),
        readers=exact(n * float(((columns - grand) ** 2).sum()) / (k - 1)),
        error=exact(float((residuals**2).sum()) / ((n - 1) * (k - 1))),
    )


def icc_3_1(table: np.ndarray) -> Estimate:
    """ICC(3,1): consistency of single readers, with its 95% CI.

    Examples
    --------
    Shrout & Fleiss 1979, Table 2 (6 targets, 4 judges): ICC(3,1) = 0.71.

    >>> table = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> round(icc_3_1(np.array(table)).value, 2)
    0.71
    """
    ms = mean_squares(table)
    n, k = ms.n, ms.k
    if ms.error == 0:
        return _exact(ms)
    value = (ms.targets - ms.error) / (ms.targets + (k - 1) * ms.error)
    ratio = ms.targets / ms.error
    df_targets, df_error = n - 1, (n - 1) * (k - 1)
    lower = ratio / f.ppf(0.975, df_targets, df_error)
    upper = ratio * f.ppf(0.975, df_error, df_targets)
    return _with_ci(value, (lower - 1) / (lower + k - 1), (upper - 1) / (upper + k - 1))


def icc_2_1(table: np.ndarray) -> Estimate:
    """ICC(2,1): absolute agreement of single readers, with its 95% CI (McGraw & Wong's ICC(A,1)).

    Examples
    --------
    Shrout & Fleiss 1979, Table 2: ICC(2,1) = 0.29.

    >>> table = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> round(icc_2_1(np.array(table)).value, 2)
    0.29
    """
    ms = mean_squares(table)
    n, k = ms.n, ms.k
    if ms.error == 0 and (ms.readers == 0 or ms.targets == 0):
        return _exact(ms)
    msr, msc, mse = ms.targets, ms.readers, ms.error
    value = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    if value >= 1:
        return _exact(ms)
    # McGraw & Wong 1996, Table 7, case 2A: Satterthwaite's degrees of freedom of the denominator.
    a = k * value / (n * (1 - value))
    b = 1 + k * value * (n - 1) / (n * (1 - value))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    f_lower = f.ppf(0.975, n - 1, v)
    f_upper = f.ppf(0.975, v, n - 1)
    denominator = k * msc + (k * n - k - n) * mse
    lower = n * (msr - f_lower * mse) / (f_lower * denominator + n * msr)
    upper = n * (f_upper * msr - mse) / (denominator + n * f_upper * msr)
    return _with_ci(value, lower, upper)


def _with_ci(value: float, lower: float, upper: float) -> Estimate:
    """The ICC with its interval, or without one where the F quantiles give none."""
    if not (np.isfinite(lower) and np.isfinite(upper)):
        return Estimate(value, None, "the confidence interval is undefined for these data")
    return Estimate(value, (float(lower), float(upper)))


def _exact(ms: MeanSquares) -> Estimate:
    """Readers who agree exactly (up to a constant offset for consistency): ICC 1, CI degenerate."""
    if ms.targets == 0 and ms.readers == 0:
        return Estimate(None, None, "every measurement is the same: there is no variance to apportion")
    if ms.targets == 0:
        return Estimate(None, None, "every target has the same value and the readers differ by a constant")
    return Estimate(
        1.0, None, "the readers agree exactly: the ICC is 1 and its confidence interval degenerate"
    )
