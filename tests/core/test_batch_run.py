"""``onfh-volume batch`` on the sample cohort: exact volumes, broken rows, identical output everywhere.

Expected volumes are the sample scans' voxel counts (sample_scans/README.md) times the protocol's
voxel: 1.6 x 1.6 mm x 4.0 mm (area x thickness) or x 4.4 mm (Cavalieri), never the code's output.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from distributed import LocalCluster
from helpers import COUNTS, SAMPLES

from onfh_volume import load_scan, save_mask
from onfh_volume.batch import run as cohort_run
from onfh_volume.cli import main

AREA_MM2 = 1.6 * 1.6
THICKNESS_MM, SPACING_MM = 4.0, 4.4
LABELS = {"right": 1, "left": 2}
# The sample cohort: (patient, side) -> (change %, category), in the order rows must come.
EXPECTED = {
    ("sub-01", "right"): (-20.0, "decrease"),
    ("sub-01", "left"): (-5.0, "no change"),
    ("sub-02", "right"): (15.0, "increase"),  # exactly +15%: a change
    ("sub-03", "right"): (None, "no lesion"),
    ("sub-03", "left"): (None, "new lesion"),
}
GROUPS = {"sub-01": "core decompression", "sub-02": "conservative", "sub-03": "conservative"}
HEADER = "patient_id,timepoint,scan,mask,side,reader,group"


def cm3(count: int, depth_mm: float) -> float:
    return count * AREA_MM2 * depth_mm / 1000


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def row_of(
    patient: str, timepoint: str, *, scan: Path | None = None, mask: Path | None = None, side: str = ""
) -> str:
    scan = scan or SAMPLES / "dicom" / patient / timepoint
    mask = mask or SAMPLES / "masks" / f"{patient}_{timepoint}_lesions.nii.gz"
    return f"{patient},{timepoint},{scan},{mask},{side},R1,{GROUPS.get(patient, 'other')}"


def test_sample_cohort_volumes_changes_and_categories(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "results.csv"
    code, out, err = run(capsys, "batch", SAMPLES / "cohort.csv", "-o", output, "--jobs", "1")
    assert (code, err) == (0, "")
    rows = read_csv(output)
    assert [(row["patient_id"], row["side"]) for row in rows] == list(EXPECTED)
    for row in rows:
        patient, side = row["patient_id"], row["side"]
        before, after = COUNTS[patient, "baseline"].get(side, 0), COUNTS[patient, "followup"].get(side, 0)
        assert float(row["baseline_volume_cm3"]) == pytest.approx(cm3(before, THICKNESS_MM), rel=1e-9)
        assert float(row["followup_volume_cm3"]) == pytest.approx(cm3(after, THICKNESS_MM), rel=1e-9)
        assert float(row["baseline_cavalieri_cm3"]) == pytest.approx(cm3(before, SPACING_MM), rel=1e-9)
        assert float(row["followup_cavalieri_cm3"]) == pytest.approx(cm3(after, SPACING_MM), rel=1e-9)
        change, category = EXPECTED[patient, side]
        assert row["change_pct"] == ("" if change is None else repr(change))
        assert row["category"] == category
        assert row["reader"] == "R1" and row["group"] == GROUPS[patient]
        for when in ("baseline", "followup"):
            assert float(row[f"{when}_slice_thickness_mm"]) == THICKNESS_MM
            assert float(row[f"{when}_slice_spacing_mm"]) == SPACING_MM
        assert row["method"] == "thickness" and float(row["threshold_pct"]) == 15
        gap = (
            "baseline and follow-up: slice gap of 0.4 mm: slices are 4 mm thick every 4.4 mm, so the area x "
            "thickness volume is 9.1% below the Cavalieri (area x spacing) volume"
        )
        # sub-03's baseline mask is all zero (a new lesion at follow-up): said, not silent.
        empty = " | baseline: mask masks/sub-03_baseline_lesions.nii.gz is empty (every voxel is 0): no lesion is measured on it"
        assert row["warnings"] == gap + (empty if patient == "sub-03" else "")
        assert row["status"] == "ok"
    assert rows[0]["baseline_scan"] == "dicom/sub-01/baseline"  # as the manifest writes it
    # The summary: hips per category (rows) and group (columns), then the totals.
    lines = {
        line.split("│")[1].strip(): line.split("│")[2:-1] for line in out.splitlines() if line.count("│") > 3
    }
    assert [cell.strip() for cell in lines["increase"]] == ["1", "0", "1"]
    assert [cell.strip() for cell in lines["hips"]] == ["3", "2", "5"]
    assert "5 hips of 3 patients: 5 ok, 0 failed" in out


def test_spacing_method_and_threshold(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    output = tmp_path / "results.csv"
    code, _, _ = run(
        capsys, "batch", SAMPLES / "cohort.csv", "-o", output, "--method", "spacing", "--threshold", "21"
    )
    assert code == 0
    rows = {(row["patient_id"], row["side"]): row for row in read_csv(output)}
    assert float(rows["sub-01", "right"]["baseline_volume_cm3"]) == pytest.approx(
        cm3(1400, SPACING_MM), rel=1e-9
    )
    assert rows["sub-01", "right"]["category"] == "no change"  # -20% < 21%
    assert rows["sub-01", "right"]["method"] == "spacing"


def test_per_slice_areas_match_the_mask_counted_by_nibabel(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    per_slice = tmp_path / "per-slice.csv"
    code, _, _ = run(
        capsys, "batch", SAMPLES / "cohort.csv", "-o", tmp_path / "r.csv", "--per-slice", per_slice
    )
    assert code == 0
    rows = read_csv(per_slice)
    assert list(rows[0]) == [
        "patient_id",
        "side",
        "reader",
        "group",
        "timepoint",
        "label",
        "slice",
        "pixels",
        "area_mm2",
    ]
    found: dict[tuple[str, str, str], dict[int, int]] = {}
    for row in rows:
        assert float(row["area_mm2"]) == pytest.approx(int(row["pixels"]) * AREA_MM2, rel=1e-9)
        assert int(row["label"]) == LABELS[row["side"]]
        found.setdefault((row["patient_id"], row["timepoint"], row["side"]), {})[int(row["slice"])] = int(
            row["pixels"]
        )
    expected: dict[tuple[str, str, str], dict[int, int]] = {}
    for (patient, timepoint), sides in COUNTS.items():
        # The sample masks are laid out (column, row, slice), slice 0 first (sample_scans/README.md).
        data = np.asanyarray(nib.load(SAMPLES / "masks" / f"{patient}_{timepoint}_lesions.nii.gz").dataobj)
        for side, count in sides.items():
            if patient == "sub-02" and side != "right":
                continue
            per = (data == LABELS[side]).sum(axis=(0, 1))
            expected[patient, timepoint, side] = {int(k): int(per[k]) for k in np.flatnonzero(per)}
            assert sum(expected[patient, timepoint, side].values()) == count
    assert found == expected
    # Long format, sorted: patient, right before left, reader, baseline before follow-up, label, slice.
    keys = [
        (r["patient_id"], r["side"] == "left", r["timepoint"] == "followup", int(r["slice"])) for r in rows
    ]
    assert keys == sorted(keys)


def copy_series(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def test_broken_rows_do_not_stop_the_batch_and_exit_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    truncated = copy_series(SAMPLES / "dicom/sub-02/followup", tmp_path / "scans/sub-02-followup")
    cut = truncated / "IM0007"
    cut.write_bytes(cut.read_bytes()[:900])  # cut before the pixel data (at byte 1010)
    other_grid = tmp_path / "masks/sub-01-followup-other-grid.nii.gz"
    other_grid.parent.mkdir()
    image = nib.load(SAMPLES / "masks/sub-01_followup_lesions.nii.gz")
    nib.save(nib.Nifti1Image(np.asanyarray(image.dataobj)[:, :, :12], image.affine, image.header), other_grid)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "\n".join(
            [
                HEADER,
                row_of("sub-01", "baseline"),
                row_of("sub-01", "followup", mask=Path("masks/sub-01-followup-other-grid.nii.gz")),
                row_of("sub-02", "baseline", side="right"),
                row_of("sub-02", "followup", scan=Path("scans/sub-02-followup"), side="right"),
                row_of("sub-03", "baseline", side="left"),
                row_of("sub-03", "followup", side="left"),
                row_of(
                    "sub-04",
                    "baseline",
                    scan=SAMPLES / "dicom/sub-02/baseline",
                    mask=SAMPLES / "masks/sub-02_baseline_lesions.nii.gz",
                    side="right",
                ),
            ]
        )
        + "\n"
    )
    output = tmp_path / "results.csv"
    code, out, err = run(capsys, "batch", manifest, "-o", output)
    assert code == 3
    rows = {(row["patient_id"], row["side"]): row for row in read_csv(output)}
    assert list(rows) == [
        ("sub-01", "right"),
        ("sub-01", "left"),
        ("sub-02", "right"),
        ("sub-03", "left"),
        ("sub-04", "right"),
    ]
    for side in ("right", "left"):
        assert rows["sub-01", side]["status"] == (
            "follow-up: masks/sub-01-followup-other-grid.nii.gz: mask has 12 voxels along the scan's slice axis, "
            f"the scan {SAMPLES / 'dicom/sub-01/followup'} has 14"
        )
    assert float(rows["sub-01", "right"]["baseline_volume_cm3"]) == pytest.approx(
        cm3(1400, THICKNESS_MM), rel=1e-9
    )
    assert rows["sub-01", "right"]["followup_volume_cm3"] == rows["sub-01", "right"]["category"] == ""
    assert rows["sub-02", "right"]["status"].startswith(
        "follow-up: scans/sub-02-followup/IM0007: truncated or incomplete DICOM file"
    )
    assert rows["sub-03", "left"]["status"] == "ok"
    assert rows["sub-03", "left"]["category"] == "new lesion"
    assert rows["sub-04", "right"]["status"] == "no follow-up row in the manifest for this hip"
    assert float(rows["sub-04", "right"]["baseline_volume_cm3"]) == pytest.approx(
        cm3(1000, THICKNESS_MM), rel=1e-9
    )
    assert "1 ok, 4 failed" in out
    assert err.count("failed: ") == 4
    assert "failed: sub-04 right (reader R1): no follow-up row in the manifest for this hip" in err


def test_bilateral_mask_split_by_side_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two rows with sides share one bilateral mask: each hip gets its own lesion, measured once."""
    monkeypatch.setattr(cohort_run, "MIN_PER_WORKER", 1)  # --jobs 2: two processes, even here
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "\n".join(
            [HEADER]
            + [
                row_of("sub-01", when, side=side)
                for side in ("left", "right")
                for when in ("baseline", "followup")
            ]
        )
        + "\n"
    )
    per_slice = tmp_path / "per-slice.csv"
    code, _, _ = run(
        capsys, "batch", manifest, "-o", tmp_path / "r.csv", "--per-slice", per_slice, "--jobs", "2"
    )
    assert code == 0
    rows = {row["side"]: row for row in read_csv(tmp_path / "r.csv")}
    assert float(rows["right"]["baseline_volume_cm3"]) == pytest.approx(cm3(1400, THICKNESS_MM), rel=1e-9)
    assert float(rows["left"]["followup_volume_cm3"]) == pytest.approx(cm3(760, THICKNESS_MM), rel=1e-9)
    assert (rows["right"]["category"], rows["left"]["category"]) == ("decrease", "no change")
    assert (rows["right"]["baseline_labels"], rows["left"]["baseline_labels"]) == ("1", "2")
    pixels: dict[tuple[str, str], int] = {}
    for row in read_csv(per_slice):
        pixels[row["side"], row["timepoint"]] = pixels.get((row["side"], row["timepoint"]), 0) + int(
            row["pixels"]
        )
    assert pixels == {
        ("right", "baseline"): 1400,
        ("right", "followup"): 1120,
        ("left", "baseline"): 800,
        ("left", "followup"): 760,
    }


def failing_cohort(tmp_path: Path) -> Path:
    """The sample cohort plus a patient whose follow-up series is cut short, in one manifest."""
    truncated = copy_series(SAMPLES / "dicom/sub-02/followup", tmp_path / "cut")
    (truncated / "IM0003").write_bytes((truncated / "IM0003").read_bytes()[:900])  # before the pixel data
    lines = (SAMPLES / "cohort.csv").read_text().splitlines()
    absolute = [lines[0]] + [
        ",".join(str(SAMPLES / v) if k in (2, 3) else v for k, v in enumerate(line.split(",")))
        for line in lines[1:]
    ]
    manifest = tmp_path / "cohort.csv"
    manifest.write_text(
        "\n".join(
            [
                *absolute,
                row_of(
                    "sub-05",
                    "baseline",
                    scan=SAMPLES / "dicom/sub-02/baseline",
                    mask=SAMPLES / "masks/sub-02_baseline_lesions.nii.gz",
                ),
                row_of(
                    "sub-05",
                    "followup",
                    scan=Path("cut"),
                    mask=SAMPLES / "masks/sub-02_followup_lesions.nii.gz",
                ),
            ]
        )
        + "\n"
    )
    return manifest


def test_identical_bytes_with_1_or_2_processes_and_on_dask(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cohort_run, "MIN_PER_WORKER", 1)  # --jobs 2: two processes, even here
    manifest = failing_cohort(tmp_path)
    outputs = {}
    for name, how in (("jobs1", ["--jobs", "1"]), ("jobs2", ["--jobs", "2"]), ("dask", None)):
        results, per_slice = tmp_path / f"{name}.csv", tmp_path / f"{name}-slices.csv"
        if how is None:
            with LocalCluster(
                n_workers=2, processes=True, host="127.0.0.1", dashboard_address=None
            ) as cluster:
                how = ["--dask-scheduler", cluster.scheduler_address]
                code, _, _ = run(
                    capsys, "batch", manifest, "-o", results, "--per-slice", per_slice, "--quiet", *how
                )
        else:
            code, _, _ = run(
                capsys, "batch", manifest, "-o", results, "--per-slice", per_slice, "--quiet", *how
            )
        assert code == 3
        outputs[name] = (results.read_bytes(), per_slice.read_bytes())
    assert outputs["jobs1"] == outputs["jobs2"] == outputs["dask"]
    rows = read_csv(tmp_path / "jobs1.csv")
    assert [row["status"] == "ok" for row in rows] == [True] * 5 + [False, False]
    assert "cut/IM0003: truncated or incomplete DICOM file" in rows[-1]["status"]


def test_never_overwrites_without_force(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    output, per_slice = tmp_path / "results.csv", tmp_path / "per-slice.csv"
    output.write_text("earlier results\n")
    code, out, err = run(capsys, "batch", SAMPLES / "cohort.csv", "-o", output)
    assert (code, out) == (2, "")
    assert err == f"onfh-volume: error: {output}: file exists; refusing to overwrite it (use --force)\n"
    assert output.read_text() == "earlier results\n"
    per_slice.write_text("earlier areas\n")
    other = tmp_path / "new.csv"
    code, _, err = run(capsys, "batch", SAMPLES / "cohort.csv", "-o", other, "--per-slice", per_slice)
    assert code == 2 and "per-slice.csv: file exists" in err
    assert not other.exists()  # refused before measuring anything
    code, _, _ = run(
        capsys, "batch", SAMPLES / "cohort.csv", "-o", output, "--per-slice", per_slice, "--force"
    )
    assert code == 0
    assert read_csv(output)[0]["patient_id"] == "sub-01"
    assert read_csv(per_slice)[0]["patient_id"] == "sub-01"
    manifest = tmp_path / "cohort.csv"
    manifest.write_text(f"{HEADER}\n{row_of('sub-01', 'baseline')}\n")
    code, _, err = run(capsys, "batch", manifest, "-o", manifest, "--force")
    assert code == 2 and "this output would write over the input" in err


def test_no_patient_name_or_dicom_uid_in_any_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Not the PatientName (SAMPLE^SUB0X), not the series UIDs a warning would name, anywhere."""
    baseline = load_scan(SAMPLES / "dicom/sub-01/baseline", pixels=False)
    # A baseline mask given as the follow-up's: onfh-volume's masks name the series they were
    # traced on, so the measurement warns, naming two series UIDs.
    swapped = tmp_path / "swapped.nii.gz"
    save_mask(
        swapped,
        np.asanyarray(nib.load(SAMPLES / "masks/sub-01_baseline_lesions.nii.gz").dataobj).transpose(2, 1, 0),
        baseline,
    )
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "\n".join([HEADER, row_of("sub-01", "baseline"), row_of("sub-01", "followup", mask=swapped)]) + "\n"
    )
    outputs = [tmp_path / "r.csv", tmp_path / "s.csv", tmp_path / "report.html"]
    code, out, err = run(
        capsys, "batch", manifest, "-o", outputs[0], "--per-slice", outputs[1], "--report", outputs[2]
    )
    assert code == 0, err
    texts = [out, err] + [path.read_text() for path in outputs]
    uids = {
        str(pydicom.dcmread(SAMPLES / f"dicom/sub-01/{when}/IM0001").SeriesInstanceUID)
        for when in ("baseline", "followup")
    }
    assert all(len(uid) > 20 for uid in uids)
    for text in texts:
        assert "SAMPLE" not in text
        assert not any(uid in text for uid in uids)
    assert "was saved on series [UID], not on this scan's series [UID]" in read_csv(outputs[0])[0]["warnings"]


def test_row_about_a_hip_without_lesion_warns_where_the_lesion_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """sub-02's lesion is in the right hip: a manifest saying 'left' measures 0, and says so."""
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "\n".join(
            [HEADER, row_of("sub-02", "baseline", side="left"), row_of("sub-02", "followup", side="left")]
        )
        + "\n"
    )
    code, _, _ = run(capsys, "batch", manifest, "-o", tmp_path / "r.csv")
    assert code == 0
    (row,) = read_csv(tmp_path / "r.csv")
    assert (row["side"], row["category"], row["baseline_volume_cm3"]) == ("left", "no lesion", "0")
    assert row["warnings"].startswith(
        "baseline and follow-up: no lesion in the left hip this row is about, but label(s) 1 of the mask lie "
        "in the right hip | "
    )
