"""ICC(2,1) and ICC(3,1) with 95% CIs: Shrout & Fleiss's worked example, and pingouin's intraclass_corr."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin
import pytest

from onfh_volume.analysis.bland_altman import sem_from_differences
from onfh_volume.analysis.icc import icc_2_1, icc_3_1, mean_squares

# Shrout & Fleiss 1979, Psychol Bull 86:420-428, Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], dtype=float
)


def pingouin_icc(table: np.ndarray) -> dict[str, tuple[float, list[float]]]:
    n, k = table.shape
    long = pd.DataFrame(
        [(i, j, table[i, j]) for i in range(n) for j in range(k)], columns=["target", "reader", "volume"]
    )
    result = pingouin.intraclass_corr(long, targets="target", raters="reader", ratings="volume")
    return {row.Type: (row.ICC, list(row.CI95)) for row in result.itertuples()}


def test_shrout_fleiss_published_values() -> None:
    # Published to two decimals: ICC(2,1) = 0.29, ICC(3,1) = 0.71.
    assert round(icc_2_1(SHROUT_FLEISS).value, 2) == 0.29
    assert round(icc_3_1(SHROUT_FLEISS).value, 2) == 0.71


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("readers", [2, 3, 4])
def test_icc_and_ci_equal_pingouin(seed: int, readers: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.gamma(4.0, 3.0, size=12)
    offsets = rng.normal(0.0, 0.8, size=readers)  # a reader's systematic bias
    table = truth[:, None] + offsets[None, :] + rng.normal(0.0, 1.2, size=(12, readers))
    reference = pingouin_icc(table)
    for ours, name in ((icc_2_1(table), "ICC(A,1)"), (icc_3_1(table), "ICC(C,1)")):
        value, ci = reference[name]
        assert ours.value == pytest.approx(value, abs=1e-10)
        # pingouin rounds its CI to 2 decimals.
        assert ours.ci95 == pytest.approx(ci, abs=0.005 + 1e-9)


def test_shrout_fleiss_ci_equal_pingouin() -> None:
    reference = pingouin_icc(SHROUT_FLEISS)
    assert icc_2_1(SHROUT_FLEISS).ci95 == pytest.approx(reference["ICC(A,1)"][1], abs=0.005 + 1e-9)
    assert icc_3_1(SHROUT_FLEISS).ci95 == pytest.approx(reference["ICC(C,1)"][1], abs=0.005 + 1e-9)


def test_agreement_form_punishes_an_offset_the_consistency_form_ignores() -> None:
    truth = np.array([5.0, 9.0, 12.0, 20.0, 7.0])
    table = np.column_stack([truth, truth + 3.0])  # reader 2 always 3 cm³ more
    assert icc_3_1(table).value == 1.0
    assert icc_3_1(table).ci95 is None and "agree exactly" in icc_3_1(table).note
    expected = np.var(truth, ddof=1) / (np.var(truth, ddof=1) + 9.0 / 2)  # σ²_t / (σ²_t + σ²_r), exact here
    assert icc_2_1(table).value == pytest.approx(expected, rel=1e-12)


def test_no_variance_at_all_is_undefined_not_nan() -> None:
    table = np.full((4, 2), 7.5)
    for estimate in (icc_2_1(table), icc_3_1(table)):
        assert estimate.value is None and estimate.ci95 is None
        assert "no variance" in estimate.note


def test_one_target_or_one_reader_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 targets and 2 readers"):
        icc_2_1(np.array([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="at least 2 targets and 2 readers"):
        icc_3_1(np.array([[1.0], [2.0]]))


def test_sem_from_residual_mean_square_equals_sd_of_differences_over_root_2() -> None:
    rng = np.random.default_rng(3)
    table = rng.normal(10, 3, size=(9, 2))
    differences = table[:, 1] - table[:, 0]
    assert np.sqrt(mean_squares(table).error) == pytest.approx(
        sem_from_differences(float(np.std(differences, ddof=1))), rel=1e-12
    )


def test_equal_targets_with_an_offset_are_undefined() -> None:
    table = np.column_stack([np.full(5, 4.0), np.full(5, 6.5)])
    for estimate in (icc_2_1(table), icc_3_1(table)):
        assert estimate.value is None and "differ by a constant" in estimate.note


def test_rounding_noise_reads_as_exact_agreement() -> None:
    volumes = np.array([14.336, 8.192, 11.4688, 7.7824, 6.144])
    table = np.column_stack([volumes, volumes * (1 + 1e-16)])
    assert icc_2_1(table).value == 1.0 and icc_3_1(table).value == 1.0
