"""Every CSV the tool writes opens in a spreadsheet as data: text that starts a formula is neutralised.

OWASP's rule for CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading apostrophe. The tool's own numbers (a change of -20.0%) stay numbers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from helpers import SAMPLES

from onfh_volume.cli import main
from onfh_volume.load import load_scan
from onfh_volume.mask import load_mask
from onfh_volume.record import save_record

HOSTILE = {
    "patient_id": '=HYPERLINK("http://example.com/x","open")',
    "reader": "+cmd|' /C calc'!A0",
    "group": "-2+3",
}


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_batch_csvs_neutralise_formulas_and_keep_negative_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = tmp_path / "cohort.csv"
    lines = ["patient_id,timepoint,scan,mask,reader,group"]
    for timepoint in ("baseline", "followup"):
        lines.append(
            f'"{HOSTILE["patient_id"].replace(chr(34), chr(34) * 2)}",{timepoint},'
            f"{SAMPLES / 'dicom' / 'sub-01' / timepoint},{SAMPLES / 'masks' / f'sub-01_{timepoint}_lesions.nii.gz'},"
            f"{HOSTILE['reader']},{HOSTILE['group']}"
        )
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results, per_slice = tmp_path / "results.csv", tmp_path / "per-slice.csv"
    code = main(
        ["batch", str(manifest), "-o", str(results), "--per-slice", str(per_slice), "--jobs", "1", "--quiet"]
    )
    assert code == 0, capsys.readouterr().err
    rows = read(results)
    assert {row["side"] for row in rows} == {"right", "left"}
    for path in (results, per_slice):
        for row in read(path):
            for column, value in HOSTILE.items():
                assert row[column] == "'" + value, (path.name, column)
    # sub-01: right -20%, left -5% (independently: test_batch_run's expected changes).
    changes = {row["side"]: row["change_pct"] for row in rows}
    assert changes == {"right": "-20.0", "left": "-5.0"}
    assert float(changes["right"]) == -20.0


@pytest.mark.parametrize(
    ("reader", "written"),
    [
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\tcalc", "'\tcalc"),
        ("\rcalc", "'\rcalc"),
        ("-", "'-"),
        ("Dr\0 Who", "Dr Who"),
        ("Dr Who", "Dr Who"),
    ],
)
def test_saved_tracing_csv_neutralises_the_reader(tmp_path: Path, reader: str, written: str) -> None:
    scan = load_scan(SAMPLES / "dicom" / "sub-01" / "baseline", pixels=False)
    labels = load_mask(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", scan)
    save_record(tmp_path / "lesions.nii.gz", labels, scan, reader=reader)
    rows = read(tmp_path / "lesions.csv")
    assert rows and {row["reader"] for row in rows} == {written}
    # The numbers stay numbers.
    assert all(float(row["area_mm2"]) > 0 for row in rows)
