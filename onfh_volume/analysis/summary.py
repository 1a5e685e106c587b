"""The statistics as text: p-values, estimates and tests, the agreement's rows (console and report)."""

from __future__ import annotations

from typing import Any

from .agreement import Agreement
from .estimate import Estimate


def p_text(p: float | None) -> str:
    """A p-value as a reader expects it: ``< 0.001`` below that, 3 decimals otherwise.

    Examples
    --------
    >>> p_text(0.00004), p_text(0.0171), p_text(None)
    ('< 0.001', '0.017', 'undefined')
    """
    if p is None:
        return "undefined"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def number_text(value: float | None, digits: int = 3, unit: str = "") -> str:
    """A number with ``digits`` decimals and ``unit``, or ``undefined``."""
    return "undefined" if value is None else f"{value:.{digits}f}{unit}"


def estimate_text(estimate: Estimate) -> str:
    """An ICC with its CI (or why it is undefined), as text."""
    if estimate.value is None:
        return f"undefined: {estimate.note}"
    ci = "" if estimate.ci95 is None else f" (95% CI {estimate.ci95[0]:.3f} to {estimate.ci95[1]:.3f})"
    return f"{estimate.value:.3f}{ci}" + (f"; {estimate.note}" if estimate.note else "")


def agreement_rows(result: Agreement) -> list[tuple[str, str]]:
    """(statistic, value) rows of an agreement, each statistic named, as text."""
    volume, ba = result.volume, result.volume.bland_altman
    rows: list[tuple[str, str]] = [
        ("ICC(2,1): two-way random, absolute agreement", estimate_text(volume.icc_2_1)),
        ("ICC(3,1): two-way mixed, consistency", estimate_text(volume.icc_3_1)),
    ]
    if ba is not None:
        rows += [
            (
                f"Bland–Altman bias ({result.readers[1]} - {result.readers[0]})",
                f"{ba.bias_cm3:+.3f} cm³ ({ba.bias_pct:+.1f}%)",
            ),
            (
                "95% limits of agreement (bias ± 1.96 SD)",
                f"{ba.loa_cm3[0]:+.3f} to {ba.loa_cm3[1]:+.3f} cm³ ({ba.loa_pct[0]:+.1f}% to {ba.loa_pct[1]:+.1f}%)",
            ),
        ]
    rows += [
        ("SEM (SD of the differences / √2)", f"{volume.sem_cm3:.3f} cm³"),
        (
            "SDC (1.96 × √2 × SEM)",
            f"{volume.sdc_cm3:.3f} cm³ = {volume.sdc_pct:.1f}% of the mean volume {volume.mean_cm3:.3f} cm³",
        ),
    ]
    if result.category is not None:
        kappa = result.category
        value = "undefined: " + (kappa.note or "") if kappa.value is None else f"{kappa.value:.3f}"
        rows += [
            (f"{kappa.name} of the change categories ({kappa.subjects} hips)", value),
            ("percent agreement on the category", f"{kappa.percent_agreement:.1f}%"),
        ]
    overlap = result.overlap()
    rows += [
        (f"Dice, median (minimum) over {overlap['n_pairs_compared']} mask pairs",
         f"{number_text(overlap['dice_median'])} ({number_text(overlap['dice_min'])})"),
        ("HD95, median (" + overlap["hd95_definition"] + ")", number_text(overlap["hd95_median_mm"], 2, " mm")),
    ]  # fmt: skip
    return rows


def test_text(test: dict[str, Any] | None) -> str:
    """A named test's statistic, degrees of freedom and p-value (or why it is undefined), as text."""
    if test is None or test.get("p_value") is None:
        return "undefined" + (f": {test['note']}" if test and test.get("note") else "")
    statistic = "" if test["statistic"] is None else f"statistic {test['statistic']:.3f}, "
    dof = f"df {test['dof']:.3g}, " if test.get("dof") is not None else ""
    return f"{statistic}{dof}p {p_text(test['p_value'])}"
