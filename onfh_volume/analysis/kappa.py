"""Chance-corrected agreement of readers on categories: Cohen's κ (two readers), Fleiss' κ (more).

Cohen 1960 (Educ Psychol Meas 20:37-46): κ = (p_o - p_e) / (1 - p_e) with p_e from each reader's
own category frequencies. Fleiss 1971 (Psychol Bull 76:378-382): the same from the share of agreeing
reader pairs per subject and the pooled category frequencies. κ is undefined when chance agreement
is certain (every reader put every subject in one and the same category).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .estimate import finite

UNDEFINED = "every reader put every hip in the same category: chance agreement is certain and κ undefined"


@dataclass(frozen=True)
class Kappa:
    """κ with its name (Cohen's or Fleiss'), and the share of subjects all readers agree on."""

    name: str
    value: float | None
    percent_agreement: float
    subjects: int
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: ``kappa``, ``percent_agreement``, the test's name."""
        data: dict[str, Any] = {
            "kappa": self.value,
            "kappa_name": self.name,
            "percent_agreement": self.percent_agreement,
            "n_hips": self.subjects,
        }
        if self.note:
            data["note"] = self.note
        return data


def _counts(ratings: Sequence[Sequence[str]]) -> tuple[np.ndarray, list[str]]:
    """Subjects x categories table of how many readers chose each category."""
    categories = sorted({category for subject in ratings for category in subject})
    table = np.array([[subject.count(c) for c in categories] for subject in ratings], dtype=float)
    return table, categories


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's κ of two readers' categories for the same subjects (``None`` if undefined).

    Examples
    --------
    >>> round(cohen_kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"]), 3)
    0.5
    """
    first, second = list(first), list(second)
    categories = sorted(set(first) | set(second))
    a = np.array([[x == c for c in categories] for x in first], dtype=float)
    b = np.array([[x == c for c in categories] for x in second], dtype=float)
    observed = float(np.mean([x == y for x, y in zip(first, second, strict=True)]))
    expected = float(a.mean(axis=0) @ b.mean(axis=0))
    if expected >= 1:
        return None
    return finite((observed - expected) / (1 - expected), "Cohen's kappa")


def fleiss_kappa(ratings: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' κ of the same number of readers' categories per subject (``None`` if undefined).

    Examples
    --------
    >>> round(fleiss_kappa([["a", "a", "a"], ["a", "b", "b"], ["b", "b", "b"]]), 3)
    0.55
    """
    table, _ = _counts(ratings)
    readers = table.sum(axis=1)[0]
    shares = table.sum(axis=0) / table.sum()
    per_subject = ((table**2).sum(axis=1) - readers) / (readers * (readers - 1))
    expected = float((shares**2).sum())
    if expected >= 1:
        return None
    return finite((per_subject.mean() - expected) / (1 - expected), "Fleiss' kappa")


def category_agreement(ratings: Sequence[Sequence[str]]) -> Kappa:
    """Agreement of k readers' categories: one sequence of k categories per subject.

    Cohen's κ for two readers, Fleiss' κ for more; percent agreement is the share of subjects on
    which every reader chose the same category.

    Examples
    --------
    >>> result = category_agreement([["decrease", "decrease"], ["increase", "no change"]])
    >>> result.name, result.percent_agreement
    ("Cohen's kappa", 50.0)
    """
    if not ratings:
        raise ValueError("no subject rated by every reader")
    readers = len(ratings[0])
    if readers < 2 or any(len(subject) != readers for subject in ratings):
        raise ValueError("every subject needs the categories of the same 2 or more readers")
    percent = 100 * float(np.mean([len(set(subject)) == 1 for subject in ratings]))
    if readers == 2:
        name = "Cohen's kappa"
        value = cohen_kappa([s[0] for s in ratings], [s[1] for s in ratings])
    else:
        name = "Fleiss' kappa"
        value = fleiss_kappa(ratings)
    return Kappa(name, value, percent, len(ratings), None if value is not None else UNDEFINED)
