"""``agreement`` on the two-reader sample cohort, checked against nibabel counts, pingouin and scikit-learn."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pingouin
import pytest
from helpers import SAMPLES, two_reader_manifest
from sklearn.metrics import cohen_kappa_score

from onfh_volume.analysis.agreement import agreement
from onfh_volume.analysis.outputs import write_agreement
from onfh_volume.errors import AnalysisError, OutputExistsError

MANIFEST = SAMPLES / "cohort-two-readers.csv"
VOXEL_CM3 = 1.6 * 1.6 * 4.0 / 1000  # area x slice thickness of one voxel
LABEL = {"right": 1, "left": 2}


def manifest_rows() -> list[dict[str, str]]:
    with open(MANIFEST, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def independent_volumes() -> dict[tuple[str, str, str], dict[str, float]]:
    """(patient, side, timepoint) -> reader -> cm³, from nibabel voxel counts alone."""
    volumes: dict[tuple[str, str, str], dict[str, float]] = {}
    for row in manifest_rows():
        data = np.asanyarray(nib.load(SAMPLES / row["mask"]).dataobj)
        count = int((data == LABEL[row["side"]]).sum())
        volumes.setdefault((row["patient_id"], row["side"], row["timepoint"]), {})[row["reader"]] = (
            count * VOXEL_CM3
        )
    return {target: v for target, v in volumes.items() if any(x > 0 for x in v.values())}


@pytest.fixture(scope="module")
def result():
    return agreement(MANIFEST)


def test_targets_and_icc_equal_pingouin(result) -> None:
    volumes = independent_volumes()
    assert result.readers == ("R1", "R2")
    assert result.n_targets == len(volumes) == 15
    assert result.n_empty == 1  # sub-03's left hip at baseline: no lesion for either reader
    long = pd.DataFrame(
        [(str(t), r, v) for t, by_reader in volumes.items() for r, v in by_reader.items()],
        columns=["target", "reader", "volume"],
    )
    reference = pingouin.intraclass_corr(long, targets="target", raters="reader", ratings="volume")
    reference = {row.Type: (row.ICC, list(row.CI95)) for row in reference.itertuples()}
    assert result.volume.icc_2_1.value == pytest.approx(reference["ICC(A,1)"][0], abs=1e-9)
    assert result.volume.icc_3_1.value == pytest.approx(reference["ICC(C,1)"][0], abs=1e-9)
    assert result.volume.icc_2_1.ci95 == pytest.approx(reference["ICC(A,1)"][1], abs=0.005 + 1e-9)


def test_bland_altman_sem_sdc_and_verdict_by_hand(result) -> None:
    volumes = independent_volumes()
    r1 = np.array([v["R1"] for v in volumes.values()])
    r2 = np.array([v["R2"] for v in volumes.values()])
    d = r2 - r1
    sd = d.std(ddof=1)
    ba = result.volume.bland_altman
    assert ba.bias_cm3 == pytest.approx(d.mean(), abs=1e-9)
    assert ba.loa_cm3 == pytest.approx((d.mean() - 1.96 * sd, d.mean() + 1.96 * sd), abs=1e-9)
    assert result.volume.sem_cm3 == pytest.approx(sd / np.sqrt(2), rel=1e-9)
    assert result.volume.sdc_cm3 == pytest.approx(1.96 * sd, rel=1e-9)
    sdc_pct = 1.96 * sd / np.concatenate([r1, r2]).mean() * 100
    assert result.volume.sdc_pct == pytest.approx(sdc_pct, rel=1e-9)
    assert 5 < sdc_pct < 15
    assert result.verdict == (
        f"SDC is {sdc_pct:.1f}%: a change smaller than that is within the readers' disagreement; "
        "the 15% threshold is above it"
    )


def test_category_kappa_equals_scikit_learn(result) -> None:
    volumes = independent_volumes()

    def category(baseline: float, followup: float) -> str:
        if baseline == 0:
            return "new lesion"
        change = (followup - baseline) / baseline * 100
        return "increase" if change >= 15 - 1e-4 else "decrease" if change <= -15 + 1e-4 else "no change"

    hips = sorted({(p, s) for p, s, _ in volumes})
    ratings = {
        reader: [category(volumes.get((p, s, "baseline"), {reader: 0.0})[reader], volumes[p, s, "followup"][reader]) for p, s in hips]
        for reader in ("R1", "R2")
    }  # fmt: skip
    assert result.category.name == "Cohen's kappa"
    assert result.category.subjects == 8
    assert result.category.value == pytest.approx(cohen_kappa_score(ratings["R1"], ratings["R2"]), abs=1e-12)
    agree = np.mean([a == b for a, b in zip(ratings["R1"], ratings["R2"], strict=True)]) * 100
    assert result.category.percent_agreement == pytest.approx(agree)


def test_overlap_and_json(result) -> None:
    data = json.loads(result.to_json())
    assert set(data["volume"]["icc_2_1"]) >= {"value", "ci95"}
    assert set(data["volume"]["bland_altman"]) == {"bias_cm3", "loa_cm3", "bias_pct", "loa_pct"}
    assert {"sem_cm3", "sdc_cm3", "sdc_pct"} <= set(data["volume"])
    assert set(data["category"]) >= {"kappa", "percent_agreement"}
    assert set(data["overlap"]) >= {"dice_median", "dice_min", "hd95_median_mm"}
    assert data["readers"] == ["R1", "R2"] and data["n_targets"] == 15
    # R2's outline moves by 1-2 pixels of 1.6 mm along arcs: HD95 is a pixel or two.
    assert 0.8 < data["overlap"]["dice_min"] <= data["overlap"]["dice_median"] < 1
    assert 1.6 <= data["overlap"]["hd95_median_mm"] <= 3.2
    assert all(row["dice"] is not None for row in result.pairs)


def test_per_pair_csv(result, tmp_path: Path) -> None:
    (path,) = write_agreement(result, pairs=tmp_path / "pairs.csv")
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 15
    assert list(rows[0])[:9] == [
        "patient_id", "side", "timepoint", "reader_a", "reader_b", "volume_a_cm3", "volume_b_cm3", "dice", "hd95_mm"
    ]  # fmt: skip
    volumes = independent_volumes()
    for row in rows:
        target = volumes[row["patient_id"], row["side"], row["timepoint"]]
        assert float(row["volume_a_cm3"]) == pytest.approx(target["R1"], abs=1e-6)
        assert float(row["volume_b_cm3"]) == pytest.approx(target["R2"], abs=1e-6)
    with pytest.raises(OutputExistsError):
        write_agreement(result, pairs=path)


def test_one_reader_only_is_refused(tmp_path: Path) -> None:
    path = two_reader_manifest(tmp_path / "manifest.csv", lambda row: row["reader"] == "R1")
    with pytest.raises(AnalysisError) as refused:
        agreement(path)
    assert str(refused.value) == (
        f"{path}: one reader only ('R1'): agreement needs the same hips traced by two or more readers "
        "(the 'reader' column)"
    )


def test_targets_missing_a_reader_are_listed_and_left_out(tmp_path: Path) -> None:
    path = two_reader_manifest(
        tmp_path / "manifest.csv", lambda row: row["patient_id"] in ("sub-01", "sub-02") and not (
            row["reader"] == "R2" and row["patient_id"] == "sub-02" and row["timepoint"] == "followup"
        )
    )  # fmt: skip
    result = agreement(path)
    assert result.missing == ("sub-02 right followup: not traced by R2",)
    assert result.n_targets == 5


def test_unreadable_mask_is_listed_not_fatal(tmp_path: Path) -> None:
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(b"not a nifti file")
    path = two_reader_manifest(
        tmp_path / "manifest.csv", lambda row: row["patient_id"] in ("sub-01", "sub-02")
    )
    text = path.read_text(encoding="utf-8").replace(
        str(SAMPLES / "two_readers/masks/R2/sub-02_baseline_lesions.nii.gz"), str(broken)
    )
    path.write_text(text, encoding="utf-8")
    result = agreement(path)
    assert len(result.missing) == 1
    # The manifest's folder is tmp_path: the path is written relative to it, as in the results.
    assert result.missing[0].startswith("sub-02 right baseline: reader R2: broken.nii.gz: ")
    assert result.n_targets == 5
