"""``stats`` on the batch results of the two-reader sample cohort, and its refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pingouin
import pytest
from helpers import SAMPLES
from lifelines.statistics import logrank_test

from onfh_volume.analysis.statistics import study_statistics
from onfh_volume.batch.manifest import read_manifest
from onfh_volume.batch.results import hip_rows, result_columns, write_csv
from onfh_volume.batch.run import measure_cohort
from onfh_volume.errors import AnalysisError

VOXEL_CM3 = 1.6 * 1.6 * 4.0 / 1000
# Reader R1's voxel counts (sample_scans/README.md, and generate_two_readers.py for sub-04, sub-05).
R1 = {
    "denosumab": [(1400, 1120), (800, 760), (1200, 900), (700, 680)],
    "control": [(1000, 1150), (900, 1150), (650, 700)],  # and sub-03's new lesion (0 -> 600)
}
# collapse, follow-up months per hip, as in cohort-two-readers.csv (sorted by patient, right first).
CLINICAL = {"denosumab": [(0, 30), (0, 30), (0, 24), (1, 14)], "control": [(1, 8), (0, 26), (1, 11), (1, 19)]}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    manifest = read_manifest(SAMPLES / "cohort-two-readers.csv")
    rows = hip_rows(manifest, measure_cohort(manifest, "thickness"), "thickness", 15.0)
    return write_csv(tmp_path_factory.mktemp("stats") / "results.csv", result_columns(manifest), rows)


def test_groups_equal_independent_arithmetic_and_pingouin(results: Path) -> None:
    result = study_statistics(results, reader="R1")
    assert list(result.groups) == ["control", "denosumab"]
    for name, counts in R1.items():
        group = result.groups[name]
        baseline = np.array([b for b, _ in counts]) * VOXEL_CM3
        followup = np.array([f for _, f in counts]) * VOXEL_CM3
        assert group.n_hips == len(counts)
        assert group.baseline == pytest.approx((baseline.mean(), baseline.std(ddof=1)), rel=1e-9)
        assert group.followup == pytest.approx((followup.mean(), followup.std(ddof=1)), rel=1e-9)
        reference = pingouin.ttest(followup, baseline, paired=True)
        assert group.paired_t.p_value == pytest.approx(reference["p_val"].iloc[0], rel=1e-6)
        assert group.median_change_pct == pytest.approx(
            np.median((followup - baseline) / baseline * 100), abs=1e-5
        )
    assert result.groups["denosumab"].categories["decrease"] == 2
    assert result.groups["control"].categories == {
        "decrease": 0, "no change": 1, "increase": 2, "new lesion": 1, "no lesion": 0
    }  # fmt: skip


def test_between_groups_names_every_test(results: Path) -> None:
    between = study_statistics(results, reader="R1").between
    assert between["categories_table"]["counts"] == [[0, 1, 2], [2, 2, 0]]
    assert between["categories_chi2"]["test"] == "Pearson's chi-squared test (no continuity correction)"
    assert between["categories_chi2"]["expected_under_5"] is True
    assert between["categories_fisher"]["test"] == "Fisher-Freeman-Halton exact test"
    assert between["baseline_t"]["test"] == "Student's t-test (equal variances)"
    assert between["baseline_welch_t"]["test"] == "Welch's t-test"


def test_survival_equals_lifelines(results: Path) -> None:
    result = study_statistics(results, reader="R1", event="collapse", time="followup_months")
    data = json.loads(result.to_json())["survival"]
    control, denosumab = (np.array(CLINICAL[g]) for g in ("control", "denosumab"))
    reference = logrank_test(control[:, 1], denosumab[:, 1], control[:, 0], denosumab[:, 0])
    assert data["logrank"]["p_value"] == pytest.approx(reference.p_value, rel=1e-9)
    assert data["groups"]["control"]["events"] == 3
    assert data["groups"]["denosumab"]["n_hips"] == 4


def rewrite(source: Path, target: Path, change) -> Path:
    with open(source, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows = [r for r in (change(dict(row)) for row in rows) if r is not None]
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_several_readers_need_a_choice(results: Path) -> None:
    with pytest.raises(AnalysisError, match=r"hips of 2 readers \(R1, R2\): choose one with --reader"):
        study_statistics(results)
    with pytest.raises(AnalysisError, match="no hip of reader 'R3'"):
        study_statistics(results, reader="R3")


def test_a_group_with_one_hip_is_refused(results: Path, tmp_path: Path) -> None:
    path = rewrite(results, tmp_path / "r.csv", lambda r: r if r["patient_id"] != "sub-05" else None)
    with pytest.raises(AnalysisError) as refused:
        study_statistics(path, reader="R1")
    assert str(refused.value) == (
        f"{path}: group 'control' has 1 hip(s) with status ok and a baseline volume > 0: a mean ± SD and a "
        "paired t-test need at least 2"
    )


def test_non_numeric_event_or_time_is_refused(results: Path, tmp_path: Path) -> None:
    def text(row):
        row["collapse"] = "yes" if row["patient_id"] == "sub-04" else row["collapse"]
        return row

    path = rewrite(results, tmp_path / "r.csv", text)
    with pytest.raises(AnalysisError, match=r"line \d+: collapse 'yes' is not a number"):
        study_statistics(path, reader="R1", event="collapse", time="followup_months")
    with pytest.raises(AnalysisError, match="no column 'months'"):
        study_statistics(results, reader="R1", event="collapse", time="months")
    with pytest.raises(AnalysisError, match="both --event COLUMN and --time COLUMN"):
        study_statistics(results, reader="R1", event="collapse")


def test_not_a_results_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(AnalysisError, match="not a results file of onfh-volume batch"):
        study_statistics(path)


def test_one_group_says_there_is_nothing_to_compare(results: Path, tmp_path: Path) -> None:
    def one(row):
        row["group"] = ""
        return row

    result = study_statistics(rewrite(results, tmp_path / "r.csv", one), reader="R1")
    assert list(result.groups) == ["(no group)"] and result.groups["(no group)"].n_hips == 7
    data = json.loads(result.to_json())
    assert data["between_groups"] == {"note": "one group only: no comparison between groups"}


def test_a_number_the_results_writer_guarded_is_read_back(results: Path, tmp_path: Path) -> None:
    def guarded(row):
        row["followup_months"] = "'+" + row["followup_months"]  # as the writer stores "+30"
        return row

    path = rewrite(results, tmp_path / "r.csv", guarded)
    plain = study_statistics(results, reader="R1", event="collapse", time="followup_months")
    quoted = study_statistics(path, reader="R1", event="collapse", time="followup_months")
    assert quoted.survival.to_dict() == plain.survival.to_dict()
