"""``onfh-volume agreement`` and ``stats`` in a real process: outputs, JSON, one-line refusals, exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import SAMPLES, two_reader_manifest

from onfh_volume.cli import main

MANIFEST = SAMPLES / "cohort-two-readers.csv"


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The batch's results of the two-reader cohort, with the manifest's clinical columns."""
    path = tmp_path_factory.mktemp("batch") / "results.csv"
    assert main(["batch", str(MANIFEST), "-o", str(path), "--quiet", "--jobs", "1"]) == 0
    return path


def test_batch_carries_the_clinical_columns(results: Path) -> None:
    with open(results, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-3:] == ["age", "collapse", "followup_months"]
    sub04_left = next(
        r for r in rows if r["patient_id"] == "sub-04" and r["side"] == "left" and r["reader"] == "R1"
    )
    assert (sub04_left["age"], sub04_left["collapse"], sub04_left["followup_months"]) == ("36", "1", "14")


def test_agreement_outputs_and_verdict(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pairs, report = tmp_path / "pairs.csv", tmp_path / "agreement.html"
    code, out, err = run(capsys, "agreement", MANIFEST, "-o", pairs, "--report", report)
    assert code == 0, err
    assert "the 15% threshold is above it" in out
    assert "ICC(2,1)" in out and "Cohen's kappa" in out
    page = report.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 1 and "<script" not in page
    assert len(pairs.read_text(encoding="utf-8").splitlines()) == 16  # header + 15 targets
    # Never over an existing file without --force; nothing written when refused.
    code, _, err = run(capsys, "agreement", MANIFEST, "-o", pairs)
    assert code == 2 and err.count("\n") == 1 and "file exists" in err
    code, _, err = run(capsys, "agreement", MANIFEST, "-o", MANIFEST, "--force")
    assert code == 2 and "this output would write over the input" in err
    mask = SAMPLES / "two_readers" / "masks" / "R2" / "sub-05_followup_lesions.nii.gz"
    before = mask.read_bytes()
    code, _, err = run(capsys, "agreement", MANIFEST, "--report", mask, "--force")
    assert code == 2 and err.count("\n") == 1 and mask.read_bytes() == before


def test_agreement_json_is_strict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "agreement", MANIFEST, "--json", "--method", "spacing")
    assert code == 0
    data = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert data["method"] == "spacing"
    # The Cavalieri volume is the thickness volume x 4.4 / 4.0: a relative SDC does not change.
    thickness = json.loads(run(capsys, "agreement", MANIFEST, "--json")[1])
    assert data["volume"]["sdc_pct"] == pytest.approx(thickness["volume"]["sdc_pct"], rel=1e-9)
    assert data["volume"]["sdc_cm3"] == pytest.approx(thickness["volume"]["sdc_cm3"] * 1.1, rel=1e-9)


def test_one_reader_only_is_one_line_exit_2(tmp_path: Path) -> None:
    one = two_reader_manifest(tmp_path / "one.csv", lambda row: row["reader"] == "R1")
    process = subprocess.run(
        [sys.executable, "-m", "onfh_volume.cli", "agreement", str(one)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == 2
    assert process.stderr == (
        f"onfh-volume: error: {one}: one reader only ('R1'): agreement needs the same hips traced by two or "
        "more readers (the 'reader' column)\n"
    )


def test_stats_outputs(capsys: pytest.CaptureFixture[str], results: Path, tmp_path: Path) -> None:
    report = tmp_path / "stats.html"
    code, out, err = run(
        capsys,
        "stats",
        results,
        "--reader",
        "R1",
        "--event",
        "collapse",
        "--time",
        "followup_months",
        "--report",
        report,
    )
    assert code == 0, err
    for name in (
        "Pearson's chi-squared",
        "Fisher-Freeman-Halton exact test",
        "Welch's t-test",
        "log-rank test",
    ):
        assert name in out
    assert "paired Student's t-test" in " ".join(out.split())
    assert report.read_text(encoding="utf-8").count("data:image/png;base64,") == 2  # categories, Kaplan-Meier
    code, out, _ = run(capsys, "stats", results, "--reader", "R2", "--json")
    data = json.loads(out)
    assert set(data["groups"]["control"]) >= {"n_hips", "baseline_mean_cm3", "paired_t", "median_change_pct"}
    assert "survival" not in data
    before = results.read_bytes()
    code, _, err = run(capsys, "stats", results, "--reader", "R1", "--report", results, "--force")
    assert code == 2 and "this output would write over the input" in err and results.read_bytes() == before


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        ([], "hips of 2 readers (R1, R2): choose one with --reader"),
        (
            ["--reader", "R1", "--event", "age", "--time", "followup_months"],
            "age '52' is neither 0 (no event) nor 1",
        ),
        (["--reader", "R1", "--event", "collapse", "--time", "side"], "side 'right' is not a number"),
    ],
)
def test_stats_refusals_are_one_line(
    capsys: pytest.CaptureFixture[str], results: Path, argv, problem: str
) -> None:
    code, out, err = run(capsys, "stats", results, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and problem in err and err.startswith(f"onfh-volume: error: {results}: ")
