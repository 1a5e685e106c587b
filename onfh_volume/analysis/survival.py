"""Kaplan–Meier survival per group with 95% CIs, and the log-rank test between two groups.

scipy.stats computes both: :func:`scipy.stats.ecdf` on right-censored data gives the Kaplan–Meier
estimate and its confidence interval by the log-log ("exponential Greenwood") method, the one
lifelines uses too; :func:`scipy.stats.logrank` the log-rank test, reported as the usual χ² with
1 degree of freedom (the square of scipy's z statistic). Where the estimate is 0 or 1 the log-log
interval is undefined (the log of 0); lifelines reports it as [0, 0] and [1, 1] (Greenwood's
variance is 0 there), and so does this module: a hip censored at time 0, before any event, keeps
the curve at 1 with the interval [1, 1].
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..errors import AnalysisError
from .estimate import finite
from .results_table import HipResult, number
from .significance import NamedTest, result

KM = "Kaplan-Meier estimate, 95% CI by the log-log (exponential Greenwood) method"


@dataclass(frozen=True)
class Curve:
    """A group's Kaplan–Meier curve: the survival just after each distinct time, with its 95% CI."""

    n: int
    events: int
    times: tuple[float, ...]
    survival: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "n_hips": self.n,
            "events": self.events,
            "times": list(self.times),
            "survival": list(self.survival),
            "ci95_lower": list(self.lower),
            "ci95_upper": list(self.upper),
        }


def kaplan_meier(times: Sequence[float] | np.ndarray, events: Sequence[int] | np.ndarray) -> Curve:
    """Kaplan–Meier estimate of ``times`` with ``events`` (1 = event, 0 = censored).

    Examples
    --------
    >>> curve = kaplan_meier([5, 8, 8, 12], [1, 1, 0, 1])
    >>> curve.times, [round(s, 3) for s in curve.survival]
    ((5.0, 8.0, 12.0), [0.75, 0.5, 0.0])
    """
    t, e = np.asarray(times, dtype=float), np.asarray(events, dtype=int)
    if not e.any():
        # No event: the curve stays at 1 and scipy has nothing to estimate.
        unique = tuple(float(x) for x in np.unique(t))
        ones = (1.0,) * len(unique)
        return Curve(len(t), 0, unique, ones, ones, ones)
    sf = stats.ecdf(stats.CensoredData(uncensored=t[e == 1], right=t[e == 0])).sf
    with warnings.catch_warnings():
        # "undefined at some observations": where the estimate is 0, handled just below.
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = sf.confidence_interval(0.95, method="log-log")
    survival = sf.probabilities
    at_bound = (survival == 0) | (survival == 1)
    lower = np.where(at_bound, survival, ci.low.probabilities)
    upper = np.where(at_bound, survival, ci.high.probabilities)
    return Curve(
        n=len(t),
        events=int(e.sum()),
        times=tuple(float(x) for x in sf.quantiles),
        survival=tuple(finite(x, "survival") for x in survival),
        lower=tuple(finite(x, "survival CI") for x in lower),
        upper=tuple(finite(x, "survival CI") for x in upper),
    )


def logrank(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]) -> NamedTest:
    """Log-rank test of two groups' (times, events), as χ² with 1 degree of freedom.

    Examples
    --------
    >>> a = (np.array([5.0, 8, 12, 15]), np.array([1, 1, 1, 0]))
    >>> b = (np.array([20.0, 22, 30, 31]), np.array([0, 1, 0, 0]))
    >>> round(logrank(a, b).p_value, 4)
    0.0401
    """
    data = [stats.CensoredData(uncensored=t[e == 1], right=t[e == 0]) for t, e in (first, second)]
    test = stats.logrank(*data)
    return result("log-rank test", float(test.statistic) ** 2, test.pvalue, 1, "no event in either group")


@dataclass(frozen=True)
class Survival:
    """Kaplan–Meier per group and the log-rank test (two groups), for one event and time column."""

    event: str
    time: str
    curves: dict[str, Curve]
    logrank: NamedTest | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "event": self.event,
            "time": self.time,
            "estimate": KM,
            "groups": {name: curve.to_dict() for name, curve in self.curves.items()},
            "logrank": (
                self.logrank.to_dict()
                if self.logrank is not None
                else {"test": "log-rank test", "note": "computed between two groups only"}
            ),
        }


def _event_time(path: str, hip: HipResult, event: str, time: str) -> tuple[float, int]:
    for column in (event, time):
        if column not in hip.columns:
            raise AnalysisError(
                path, f"no column '{column}' (carry it from the manifest: it must be a column there)"
            )
    when = number(path, hip.line, time, hip.columns[time])
    happened = number(path, hip.line, event, hip.columns[event])
    if when is None or happened is None:
        raise AnalysisError(path, f"line {hip.line}: {hip.name}: empty {time if when is None else event}")
    if happened not in (0, 1):
        raise AnalysisError(
            path, f"line {hip.line}: {event} '{hip.columns[event]}' is neither 0 (no event) nor 1"
        )
    if when < 0:
        raise AnalysisError(path, f"line {hip.line}: {time} '{hip.columns[time]}' is negative")
    return when, int(happened)


def survival(path: str, by_group: Mapping[str, list[HipResult]], event: str, time: str) -> Survival:
    """Kaplan–Meier per group over every hip (whatever its measurement status) and the log-rank test."""
    data = {}
    for name in sorted(by_group):
        pairs = [_event_time(path, hip, event, time) for hip in by_group[name]]
        data[name] = (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    curves = {name: kaplan_meier(*values) for name, values in data.items()}
    test = logrank(*data.values()) if len(data) == 2 else None
    return Survival(event, time, curves, test)
