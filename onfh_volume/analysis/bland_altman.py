"""Bland–Altman limits of agreement, standard error of measurement and smallest detectable change.

For two readers measuring the same targets (Bland & Altman, Lancet 1986;1:307-310; de Vet et al.,
Measurement in Medicine, 2011):

* bias = mean of the differences (second reader minus first); limits of agreement =
  bias ± 1.96 SD of the differences (SD with n - 1);
* the same on the percentage scale: difference / mean of the pair x 100, for an error that grows
  with the lesion;
* SEM = SD of the differences / √2; SDC = 1.96 x √2 x SEM, the smallest change of one reader's
  measurement that exceeds the measurement error with 95% confidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .estimate import finite

#: "1.96" of the published definitions (the normal distribution's two-sided 95% quantile, rounded).
Z95 = 1.96


@dataclass(frozen=True)
class BlandAltman:
    """Bias and 95% limits of agreement of two readers, in cm³ and in % of the pair's mean."""

    bias_cm3: float
    loa_cm3: tuple[float, float]
    bias_pct: float
    loa_pct: tuple[float, float]
    sd_difference_cm3: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data with the issue's keys."""
        return {
            "bias_cm3": self.bias_cm3,
            "loa_cm3": list(self.loa_cm3),
            "bias_pct": self.bias_pct,
            "loa_pct": list(self.loa_pct),
        }


def _limits(differences: np.ndarray, what: str) -> tuple[float, tuple[float, float], float]:
    bias = finite(differences.mean(), f"bias ({what})")
    sd = finite(differences.std(ddof=1), f"SD of the differences ({what})")
    return bias, (bias - Z95 * sd, bias + Z95 * sd), sd


def bland_altman(first: np.ndarray, second: np.ndarray) -> BlandAltman:
    """Bland–Altman statistics of ``second - first`` over paired measurements.

    Every pair needs a positive mean (the percentage scale divides by it); at least 2 pairs.

    Examples
    --------
    >>> result = bland_altman(np.array([10.0, 20.0, 30.0]), np.array([11.0, 20.0, 32.0]))
    >>> result.bias_cm3, [round(x, 3) for x in result.loa_cm3]
    (1.0, [-0.96, 2.96])
    """
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if len(first) < 2:
        raise ValueError("limits of agreement need at least 2 pairs of measurements")
    means = (first + second) / 2
    if not np.all(means > 0):
        raise ValueError("every pair needs a positive mean for the percentage scale")
    bias, loa, sd = _limits(second - first, "cm³")
    bias_pct, loa_pct, _ = _limits((second - first) / means * 100, "%")
    return BlandAltman(bias, loa, bias_pct, loa_pct, sd)


def sem_from_differences(sd_difference: float) -> float:
    """Standard error of measurement from the SD of paired differences: SD / √2.

    Examples
    --------
    >>> round(sem_from_differences(2 ** 0.5), 12)
    1.0
    """
    return sd_difference / math.sqrt(2)


def sdc_from_sem(sem: float) -> float:
    """Smallest detectable change: 1.96 x √2 x SEM (de Vet et al. 2011).

    Examples
    --------
    >>> round(sdc_from_sem(1.0), 3)
    2.772
    """
    return Z95 * math.sqrt(2) * sem
