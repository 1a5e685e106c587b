"""``measure`` and ``compare`` with the femoral head measures: reader's points, --no-head, refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLES

from onfh_volume.cli import main

SCAN = str(SAMPLES / "dicom" / "sub-02" / "baseline")
MASK = str(SAMPLES / "masks" / "sub-02_baseline_lesions.nii.gz")
FOLLOWUP_SCAN = str(SAMPLES / "nifti" / "sub-02_followup.nii.gz")
FOLLOWUP_MASK = str(SAMPLES / "masks" / "sub-02_followup_lesions.nii.gz")
#: sub-02's right femoral head as sample_scans/generate.py draws it: RAS (88, 0, 0), radius 23.5 mm.
CENTRE, RADIUS = np.array([88.0, 0.0, 0.0]), 23.5


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_reader_s_surface_points_replace_the_image_s_head(tmp_path: Path, capsys) -> None:
    t = np.radians(np.arange(0, 360, 45))
    ring = np.c_[RADIUS * np.cos(t), np.zeros(8), RADIUS * np.sin(t)]
    cap = np.c_[RADIUS / 2 * np.cos(t), np.full(8, -RADIUS * np.sqrt(0.75)), RADIUS / 2 * np.sin(t)]
    points = tmp_path / "points.csv"
    rows = "".join(f"right,{x:.3f},{y:.3f},{z:.3f}\n" for x, y, z in np.r_[ring, cap] + CENTRE)
    points.write_text("side,x_mm,y_mm,z_mm\n" + rows)
    (lesion,) = run_json(capsys, "measure", SCAN, MASK, "--head-points", str(points))["lesions"]
    assert lesion["head"]["source"] == "points"
    assert lesion["head"]["radius_mm"] == pytest.approx(RADIUS, abs=0.01)
    assert lesion["head"]["centre_ras_mm"] == pytest.approx(list(CENTRE), abs=0.01)
    # 1000 voxels of 1.6 x 1.6 mm every 4.4 mm in a sphere of radius 23.5 mm.
    truth = 100 * 1000 * 1.6 * 1.6 * 4.4 / (4 / 3 * np.pi * RADIUS**3)
    assert lesion["necrotic_ratio_pct"] == pytest.approx(truth, rel=1e-6)
    assert lesion["steinberg_extent"] == "B"


def test_a_bad_points_file_is_one_line_naming_it(tmp_path: Path, capsys) -> None:
    points = tmp_path / "points.csv"
    points.write_text("side,x_mm,y_mm,z_mm\nright,90,0,abc\n")
    assert main(["measure", SCAN, MASK, "--head-points", str(points)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"onfh-volume: error: {points}: line 2: x_mm, y_mm and z_mm must be numbers (mm)"]


def test_a_head_not_found_leaves_the_volumes_and_says_why(tmp_path: Path, capsys) -> None:
    points = tmp_path / "points.csv"
    points.write_text("side,x_mm,y_mm,z_mm\n" + "right,90,0,0\n" * 3)
    data = run_json(capsys, "measure", SCAN, MASK, "--head-points", str(points))
    (lesion,) = data["lesions"]
    assert lesion["volume_cm3"] == pytest.approx(1000 * 1.6 * 1.6 * 4.0 / 1000)
    assert lesion["head"] is None and lesion["necrotic_ratio_pct"] is None
    assert lesion["head_failure"] == "3 head surface points given: at least 5 needed"
    assert any("label 1: no femoral head measures" in w for w in data["warnings"])


def test_compare_gives_each_hip_s_ratio_at_both_timepoints(capsys) -> None:
    data = run_json(capsys, "compare", SCAN, MASK, FOLLOWUP_SCAN, FOLLOWUP_MASK)
    right = next(hip for hip in data["hips"] if hip["side"] == "right")
    for when, voxels in (("baseline", 1000), ("followup", 1150)):
        truth = 100 * voxels * 1.6 * 1.6 * 4.4 / (4 / 3 * np.pi * RADIUS**3)
        assert right[f"{when}_necrotic_ratio_pct"] == pytest.approx(truth, abs=3.0)
        assert right[f"{when}_steinberg_extent"] == "B"
        assert 0 < right[f"{when}_kerboul_combined_deg"] < 360
        # The sample heads are drawn round: no collapse, and the quality is given with its reasons.
        assert right[f"{when}_collapse_arco"].startswith("no collapse seen")
        assert right[f"{when}_head_quality"] == ("review" if right[f"{when}_head_review_reasons"] else "ok")
    left = next(hip for hip in data["hips"] if hip["side"] == "left")
    assert left["baseline_necrotic_ratio_pct"] is None
    plain = run_json(capsys, "compare", SCAN, MASK, FOLLOWUP_SCAN, FOLLOWUP_MASK, "--no-head")
    assert "baseline_necrotic_ratio_pct" not in plain["hips"][0]


def test_measure_prints_the_head_table(capsys) -> None:
    assert main(["measure", SCAN, MASK]) == 0
    out = capsys.readouterr().out
    assert "each lesion in its femoral head" in out
    assert "collapse" in out and "(none" in out  # "none seen", wrapped in an 80-column table
    assert main(["measure", SCAN, MASK, "--no-head"]) == 0
    assert "femoral head" not in capsys.readouterr().out


def test_batch_head_adds_each_timepoint_s_measures(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    manifest = str(SAMPLES / "cohort.csv")
    assert main(["batch", manifest, "-o", str(results), "--head", "--quiet", "--jobs", "1"]) == 0
    rows = {(row["patient_id"], row["side"]): row for row in csv.DictReader(results.open())}
    sub02 = rows["sub-02", "right"]
    for when, voxels in (("baseline", 1000), ("followup", 1150)):
        truth = 100 * voxels * 1.6 * 1.6 * 4.4 / (4 / 3 * np.pi * RADIUS**3)
        assert float(sub02[f"{when}_necrotic_ratio_pct"]) == pytest.approx(truth, abs=3.0)
        assert sub02[f"{when}_steinberg_extent"] == "B"
        assert sub02[f"{when}_collapse_arco"].startswith("no collapse seen")
        assert sub02[f"{when}_head_quality"] in ("ok", "review")
    # No lesion at baseline: no head was fitted, nothing is made up.
    new = rows["sub-03", "left"]
    assert (new["baseline_necrotic_ratio_pct"], new["baseline_steinberg_extent"]) == ("", "")
    assert new["followup_steinberg_extent"] == "A"
    plain = tmp_path / "plain.csv"
    assert main(["batch", manifest, "-o", str(plain), "--quiet", "--jobs", "1"]) == 0
    assert "baseline_necrotic_ratio_pct" not in plain.read_text().splitlines()[0]


def test_a_traced_head_mask_gives_each_lesion_the_head_it_lies_in(tmp_path: Path, capsys) -> None:
    from onfh_volume import load_scan
    from onfh_volume.mask import save_mask

    scan = load_scan(SCAN, pixels=False)
    points = scan.index_to_patient(np.indices(scan.shape).reshape(3, -1).T)
    inside = (np.linalg.norm(points - CENTRE, axis=1) <= RADIUS).reshape(scan.shape)
    save_mask(tmp_path / "heads.nii.gz", inside.astype(np.uint8) * 7, scan)  # any label value
    (lesion,) = run_json(capsys, "measure", SCAN, MASK, "--head-mask", str(tmp_path / "heads.nii.gz"))[
        "lesions"
    ]
    assert lesion["head"]["source"] == "mask"
    assert lesion["head"]["radius_mm"] == pytest.approx(RADIUS, abs=0.5)
    assert np.linalg.norm(np.subtract(lesion["head"]["centre_ras_mm"], CENTRE)) < 0.5
