"""Cohen's κ against scikit-learn, Fleiss' κ against statsmodels; undefined κ is None, never NaN."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from onfh_volume.analysis.kappa import category_agreement, cohen_kappa, fleiss_kappa

CATEGORIES = ["decrease", "no change", "increase", "new lesion"]


@pytest.mark.parametrize("seed", range(8))
def test_cohen_equals_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    first = list(rng.choice(CATEGORIES, size=25))
    # The second reader agrees most of the time.
    second = [c if rng.random() < 0.7 else str(rng.choice(CATEGORIES)) for c in first]
    assert cohen_kappa(first, second) == pytest.approx(cohen_kappa_score(first, second), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("readers", [3, 5])
def test_fleiss_equals_statsmodels(seed: int, readers: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.choice(CATEGORIES, size=20)
    ratings = [
        [t if rng.random() < 0.75 else str(rng.choice(CATEGORIES)) for _ in range(readers)] for t in truth
    ]
    codes = np.array([[CATEGORIES.index(c) for c in subject] for subject in ratings])
    table, _ = aggregate_raters(codes)
    assert fleiss_kappa(ratings) == pytest.approx(statsmodels_fleiss(table, method="fleiss"), abs=1e-12)


def test_fleiss_worked_example() -> None:
    # Fleiss 1971's own illustration is large; Wikipedia's 10 x 14 example gives κ = 0.210.
    counts = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    ratings = [[str(c) for c, n in enumerate(row) for _ in range(n)] for row in counts]
    assert round(fleiss_kappa(ratings), 3) == 0.210


def test_choice_of_kappa_and_percent_agreement() -> None:
    two = category_agreement([["decrease", "decrease"], ["increase", "no change"], ["increase", "increase"]])
    assert two.name == "Cohen's kappa"
    assert two.percent_agreement == pytest.approx(200 / 3)
    three = category_agreement([["a", "a", "b"], ["b", "b", "b"]])
    assert three.name == "Fleiss' kappa"
    assert three.percent_agreement == 50.0


def test_one_category_for_everything_is_undefined_with_the_reason() -> None:
    result = category_agreement([["no change", "no change"]] * 4)
    assert result.value is None
    assert result.percent_agreement == 100.0
    assert "chance agreement is certain" in result.note
    assert result.to_dict()["kappa"] is None
