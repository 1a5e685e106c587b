"""Clinical columns of a manifest (age, collapse, follow-up time) reach the results unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SAMPLES

from onfh_volume.batch.columns import RESULT_COLUMNS
from onfh_volume.batch.manifest import read_manifest
from onfh_volume.batch.results import hip_rows, result_columns
from onfh_volume.batch.run import measure_cohort
from onfh_volume.errors import ManifestError

HEADER = "patient_id,timepoint,scan,mask,side,reader,group"


def row(patient: str, timepoint: str, side: str, *extra: str) -> str:
    scan = SAMPLES / "dicom" / patient / timepoint
    mask = SAMPLES / "masks" / f"{patient}_{timepoint}_lesions.nii.gz"
    return ",".join([patient, timepoint, str(scan), str(mask), side, "R1", "A", *extra])


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_extra_columns_are_carried_to_each_hip_unchanged(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.csv",
        HEADER + ",age,collapse,follow-up (months)",
        row("sub-01", "baseline", "right", "41", "0", "30"),
        row("sub-01", "followup", "right", "41", "0", "30"),
        row("sub-01", "baseline", "left", " 41 ", "1", "=1+2"),
        row("sub-01", "followup", "left", "41", "1", "=1+2"),
    )
    manifest = read_manifest(path)
    assert manifest.extra_columns == ("age", "collapse", "follow-up (months)")
    assert result_columns(manifest) == (*RESULT_COLUMNS, "age", "collapse", "follow-up (months)")
    rows = hip_rows(manifest, measure_cohort(manifest, "thickness"), "thickness", 15.0)
    by_side = {r["side"]: r for r in rows}
    # Text as written (stripped, like every manifest value): never parsed, rounded or reordered.
    assert [by_side["right"][c] for c in ("age", "collapse", "follow-up (months)")] == ["41", "0", "30"]
    assert [by_side["left"][c] for c in ("age", "collapse", "follow-up (months)")] == ["41", "1", "=1+2"]
    assert by_side["right"]["category"] == "decrease"


def test_a_hip_whose_rows_disagree_on_a_clinical_column_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.csv",
        HEADER + ",collapse",
        row("sub-01", "baseline", "right", "0"),
        row("sub-01", "followup", "right", "1"),
    )
    with pytest.raises(ManifestError) as refused:
        read_manifest(path)
    assert refused.value.problems == [
        "line 3: collapse '1' differs from collapse '0' on line 2 for the right hip of patient 'sub-01' "
        "(reader 'R1') (a hip's clinical columns hold one value for both timepoints)"
    ]


@pytest.mark.parametrize(
    ("column", "problem"),
    [
        ("Reader", "unknown column 'Reader', like a misspelt 'reader'"),
        ("patient", "unknown column 'patient', like a misspelt 'patient_id'"),
        ("status", "column 'status' is a column of the results: rename it"),
        ("change_pct", "column 'change_pct' is a column of the results: rename it"),
        # A column `batch --head` writes: carried through, it would appear twice in RESULTS.csv.
        (
            "baseline_necrotic_ratio_pct",
            "column 'baseline_necrotic_ratio_pct' is a column of the results: rename it",
        ),
    ],
)
def test_misspelt_or_clashing_columns_are_refused(tmp_path: Path, column: str, problem: str) -> None:
    path = write(tmp_path / "m.csv", f"{HEADER},{column}", row("sub-01", "baseline", "right", "x"))
    with pytest.raises(ManifestError) as refused:
        read_manifest(path)
    assert refused.value.problems[0].startswith(f"line 1: {problem}")
