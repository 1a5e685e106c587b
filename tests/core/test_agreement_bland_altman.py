"""Bland–Altman and SDC: the published PEFR example, and the definitions by plain arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest

from onfh_volume.analysis.bland_altman import bland_altman, sdc_from_sem, sem_from_differences

# Bland & Altman, Lancet 1986;1:307-310, Table 1: peak expiratory flow (l/min), first readings.
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI_WRIGHT = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def test_bland_altman_1986_published_figures() -> None:
    # Published: mean difference (Wright - mini) -2.1 l/min, SD 38.8; limits -79.7 to 75.5 with 2 SD.
    result = bland_altman(np.array(MINI_WRIGHT, float), np.array(WRIGHT, float))
    assert round(result.bias_cm3, 1) == -2.1
    assert round(result.sd_difference_cm3, 1) == 38.8
    # The paper's limits are its rounded figures ± 2 SD (-2.1 ± 77.6); ours use 1.96 SD, as Bland &
    # Altman's later papers and current guidelines do.
    assert result.loa_cm3 == pytest.approx((-2.1176 - 1.96 * 38.7651, -2.1176 + 1.96 * 38.7651), abs=1e-3)


def test_percentage_scale_and_sdc_by_hand() -> None:
    a = np.array([10.0, 4.0, 8.0, 12.0])
    b = np.array([11.0, 4.0, 7.0, 12.6])
    pct = [(y - x) / ((x + y) / 2) * 100 for x, y in zip(a, b, strict=True)]
    mean_pct = sum(pct) / 4
    sd_pct = math.sqrt(sum((p - mean_pct) ** 2 for p in pct) / 3)
    result = bland_altman(a, b)
    assert result.bias_pct == pytest.approx(mean_pct, rel=1e-12)
    assert result.loa_pct == pytest.approx((mean_pct - 1.96 * sd_pct, mean_pct + 1.96 * sd_pct), rel=1e-12)
    sd = float(np.std(b - a, ddof=1))
    assert sem_from_differences(sd) == pytest.approx(sd / math.sqrt(2))
    assert sdc_from_sem(sem_from_differences(sd)) == pytest.approx(1.96 * sd)  # 1.96 x √2 x SD/√2


def test_fewer_than_two_pairs_or_zero_means_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 pairs"):
        bland_altman(np.array([1.0]), np.array([2.0]))
    with pytest.raises(ValueError, match="positive mean"):
        bland_altman(np.array([0.0, 1.0]), np.array([0.0, 2.0]))
