"""Kaplan–Meier with 95% CIs and the log-rank test, against lifelines."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test

from onfh_volume.analysis.survival import kaplan_meier, logrank


def sample(seed: int, n: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    event_time = np.round(rng.exponential(scale, n), 0) + 1  # months, with ties
    follow_up = rng.uniform(6, 40, n).round(0)
    return np.minimum(event_time, follow_up), (event_time <= follow_up).astype(int)


@pytest.mark.parametrize("seed", range(5))
def test_kaplan_meier_and_ci_equal_lifelines(seed: int) -> None:
    times, events = sample(seed, 30, 25.0)
    curve = kaplan_meier(times, events)
    fitter = KaplanMeierFitter().fit(times, events)
    at = fitter.survival_function_.index.to_numpy()
    reference = fitter.survival_function_.iloc[:, 0].to_numpy()
    lower, upper = (fitter.confidence_interval_.iloc[:, i].to_numpy() for i in (0, 1))
    for k, t in enumerate(curve.times):
        j = int(np.flatnonzero(at == t)[0])
        assert curve.survival[k] == pytest.approx(reference[j], abs=1e-12)
        assert curve.lower[k] == pytest.approx(lower[j], abs=1e-9)
        assert curve.upper[k] == pytest.approx(upper[j], abs=1e-9)
    assert curve.events == events.sum()


def test_curve_reaching_zero_has_a_zero_interval_as_in_lifelines() -> None:
    curve = kaplan_meier([3, 5, 7], [1, 0, 1])
    fitter = KaplanMeierFitter().fit([3, 5, 7], [1, 0, 1])
    assert curve.survival[-1] == 0.0
    assert (curve.lower[-1], curve.upper[-1]) == tuple(fitter.confidence_interval_.iloc[-1])


def test_no_event_stays_at_one() -> None:
    curve = kaplan_meier([4, 9, 12], [0, 0, 0])
    assert curve.survival == curve.lower == curve.upper == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("seed", range(5))
def test_logrank_equals_lifelines(seed: int) -> None:
    a = sample(seed, 25, 18.0)
    b = sample(seed + 100, 20, 35.0)
    reference = logrank_test(a[0], b[0], a[1], b[1])
    test = logrank(a, b)
    assert test.statistic == pytest.approx(reference.test_statistic, rel=1e-9)
    assert test.p_value == pytest.approx(reference.p_value, rel=1e-9)
    assert test.dof == 1 and test.name == "log-rank test"


def test_a_hip_censored_at_time_0_keeps_the_curve_at_1_as_in_lifelines() -> None:
    times, events = [0, 5, 8, 12, 12], [0, 1, 1, 0, 1]
    curve = kaplan_meier(times, events)
    fitter = KaplanMeierFitter().fit(times, events)
    assert curve.times == tuple(fitter.survival_function_.index)
    assert curve.survival == pytest.approx(tuple(fitter.survival_function_.iloc[:, 0]), abs=1e-12)
    assert curve.lower == pytest.approx(tuple(fitter.confidence_interval_.iloc[:, 0]), abs=1e-9)
    assert curve.upper == pytest.approx(tuple(fitter.confidence_interval_.iloc[:, 1]), abs=1e-9)
    assert (curve.lower[0], curve.upper[0]) == (1.0, 1.0)
