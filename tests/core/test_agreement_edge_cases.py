"""Agreement at its edges: three readers, readers who agree exactly, a reader who traced nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin
import pytest
from helpers import SAMPLES, two_reader_manifest
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from onfh_volume.analysis.agreement import agreement, categories_of
from onfh_volume.analysis.report import render_agreement
from onfh_volume.analysis.targets import collect
from onfh_volume.batch.manifest import read_manifest
from onfh_volume.batch.run import measure_cohort


def strict(text: str) -> dict:
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))


@pytest.fixture(scope="module")
def three_readers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """R1, R2 and a third reader R3 who traced with R2's masks on sub-01 and sub-04, R1's elsewhere."""
    folder = tmp_path_factory.mktemp("three")
    two = two_reader_manifest(folder / "two.csv")
    lines = two.read_text(encoding="utf-8").splitlines()
    third = []
    for line in lines[1:]:
        if ",R2," in line and ("sub-01" in line or "sub-04" in line):
            third.append(line.replace(",R2,", ",R3,"))
        elif ",R1," in line and not ("sub-01" in line or "sub-04" in line):
            third.append(line.replace(",R1,", ",R3,"))
    path = folder / "three.csv"
    path.write_text("\n".join([*lines, *third]) + "\n", encoding="utf-8")
    return path


def test_three_readers(three_readers: Path) -> None:
    result = agreement(three_readers)
    assert result.readers == ("R1", "R2", "R3")
    assert result.volume.bland_altman is None and len(result.volume.pairs) == 3
    assert len(result.pairs) == 3 * result.n_targets
    manifest = read_manifest(three_readers)
    targets = collect(manifest, measure_cohort(manifest, "thickness"), "thickness")
    table = [
        (str(t), r, targets.traced[t][r].volume_cm3) for t in targets.included() for r in targets.readers
    ]
    reference = pingouin.intraclass_corr(pd.DataFrame(table, columns=["t", "r", "v"]), "t", "r", "v")
    assert result.volume.icc_2_1.value == pytest.approx(reference.ICC.iloc[1], abs=1e-9)
    ratings = categories_of(targets, 15.0)
    codes = np.array([[sorted({c for s in ratings for c in s}).index(c) for c in s] for s in ratings])
    assert result.category.name == "Fleiss' kappa"
    assert result.category.value == pytest.approx(fleiss_kappa(aggregate_raters(codes)[0]), abs=1e-12)
    strict(result.to_json())
    assert render_agreement(result).count("data:image/png;base64,") == 1


def test_readers_who_agree_exactly(tmp_path: Path) -> None:
    def r1_masks(row: dict[str, str]) -> None:
        # R2 "traced" with R1's files: the same masks.
        if row["reader"] == "R2":
            r1 = row["mask"].replace("two_readers/masks/R2/", "masks/")
            if "sub-04" in r1 or "sub-05" in r1:
                r1 = row["mask"].replace("/R2/", "/R1/")
            row["mask"] = r1

    result = agreement(two_reader_manifest(tmp_path / "same.csv", change=r1_masks))
    data = strict(result.to_json())
    assert data["volume"]["icc_2_1"]["value"] == 1.0 and data["volume"]["icc_2_1"]["ci95"] is None
    assert "agree exactly" in data["volume"]["icc_3_1"]["note"]
    assert data["volume"]["sdc_pct"] == 0.0
    assert data["overlap"]["dice_min"] == 1.0 and data["overlap"]["hd95_median_mm"] == 0.0
    assert data["category"]["kappa"] == 1.0
    assert result.verdict.startswith("SDC is 0.0%")


def test_a_reader_who_traced_nothing_on_a_target(tmp_path: Path) -> None:
    empty = str(SAMPLES / "masks" / "sub-03_baseline_lesions.nii.gz")  # no lesion at all

    def blank(row: dict[str, str]) -> None:
        if row["reader"] == "R2" and row["patient_id"] == "sub-03" and row["timepoint"] == "followup":
            row["mask"] = empty

    result = agreement(two_reader_manifest(tmp_path / "blank.csv", change=blank))
    row = next(r for r in result.pairs if r["patient_id"] == "sub-03" and r["timepoint"] == "followup")
    assert row["volume_b_cm3"] == 0.0 and row["dice"] == 0.0
    assert row["hd95_mm"] is None and "HD95 undefined" in row["note"]
    assert result.overlap()["dice_min"] == 0.0
    strict(result.to_json())


def test_report_escapes_names(tmp_path: Path) -> None:
    def rename(row: dict[str, str]) -> None:
        row["reader"] = "<b>R2</b>" if row["reader"] == "R2" else row["reader"]

    result = agreement(
        two_reader_manifest(tmp_path / "names.csv", lambda r: r["patient_id"] == "sub-01", rename)
    )
    page = render_agreement(result)
    assert "<b>R2</b>" not in page and "&lt;b&gt;R2&lt;/b&gt;" in page


def test_masks_on_different_scans_are_not_compared(tmp_path: Path) -> None:
    def nifti(row: dict[str, str]) -> None:
        # R2 traced sub-01 on the NIfTI copy of the DICOM series R1 used: same volumes, other file.
        if row["reader"] == "R2" and row["patient_id"] == "sub-01":
            row["scan"] = str(SAMPLES / "nifti" / f"sub-01_{row['timepoint']}.nii.gz")

    result = agreement(
        two_reader_manifest(tmp_path / "other.csv", lambda r: r["patient_id"] <= "sub-02", nifti)
    )
    rows = {(r["patient_id"], r["side"], r["timepoint"]): r for r in result.pairs}
    assert rows["sub-01", "right", "baseline"]["dice"] is None
    assert rows["sub-01", "right", "baseline"]["note"] == "traced on different scans: masks not compared"
    assert rows["sub-02", "right", "baseline"]["dice"] is not None
    assert result.overlap()["n_pairs_compared"] == 2
