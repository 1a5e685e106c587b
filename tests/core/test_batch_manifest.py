"""The batch manifest: what it accepts, and every problem it refuses listed at once with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SAMPLES

from onfh_volume.batch.manifest import read_manifest
from onfh_volume.cli import main
from onfh_volume.errors import ManifestError

HEADER = "patient_id,timepoint,scan,mask,side,reader,group"


def dicom(patient: str, timepoint: str) -> str:
    return str(SAMPLES / "dicom" / patient / timepoint)


def mask(patient: str, timepoint: str) -> str:
    return str(SAMPLES / "masks" / f"{patient}_{timepoint}_lesions.nii.gz")


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sample_cohort_hips_and_relative_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Paths are relative to the manifest's folder, not to the working folder.
    monkeypatch.chdir(tmp_path)
    manifest = read_manifest(SAMPLES / "cohort.csv")
    assert sorted(manifest.hips()) == [
        ("sub-01", "left", "R1"),
        ("sub-01", "right", "R1"),
        ("sub-02", "right", "R1"),  # side 'right' only: the left hip gets no row
        ("sub-03", "left", "R1"),
        ("sub-03", "right", "R1"),
    ]
    first = manifest.entries[0]
    assert (first.line, first.side, first.group) == (2, "", "core decompression")
    assert first.scan == "dicom/sub-01/baseline"
    assert first.scan_path == SAMPLES / "dicom" / "sub-01" / "baseline"
    assert {tuple(sorted(times)) for times in manifest.hips().values()} == {("baseline", "followup")}


def test_spreadsheet_csv_semicolons_byte_order_mark_and_capitals(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    lines = [
        HEADER.replace(",", ";"),
        f"P1;Baseline;{dicom('sub-01', 'baseline')};{mask('sub-01', 'baseline')};RIGHT;;",
        "",
        ";;;;;;",
        f" P1 ;FOLLOWUP;{dicom('sub-01', 'followup')};{mask('sub-01', 'followup')};right;;",
    ]
    path.write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    manifest = read_manifest(path)
    assert [(e.line, e.patient_id, e.timepoint, e.side) for e in manifest.entries] == [
        (2, "P1", "baseline", "right"),
        (5, "P1", "followup", "right"),
    ]


def test_bad_rows_are_all_listed_with_their_lines_and_nothing_is_measured(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = write(
        tmp_path / "bad.csv",
        HEADER,
        f"P1,baseline,{dicom('sub-01', 'baseline')},{mask('sub-01', 'baseline')},,R1,A",  # 2: fine
        f"P1,follow-up,{dicom('sub-01', 'followup')},{mask('sub-01', 'followup')},,R1,A",  # 3
        f"P2,baseline,{dicom('sub-02', 'baseline')},{mask('sub-02', 'baseline')},middle,R1,A",  # 4
        f"P3,baseline,scans/missing,{mask('sub-03', 'baseline')},,R1,A",  # 5
        f"P1,baseline,{dicom('sub-02', 'baseline')},{mask('sub-02', 'baseline')},left,R1,A",  # 6
        f"P4,baseline,{dicom('sub-03', 'baseline')},{mask('sub-03', 'baseline')},,R1,A",  # 7
        f"P4,followup,{dicom('sub-03', 'followup')},{mask('sub-03', 'followup')},,R1,B",  # 8
        f"P5,baseline,{dicom('sub-02', 'baseline')},{mask('sub-02', 'baseline')},,R1,A",  # 9
        f"P5,followup,{dicom('sub-02', 'baseline')},{mask('sub-02', 'followup')},,R1,A",  # 10
        f"P6,baseline,{dicom('sub-02', 'baseline')}",  # 11
        f",baseline,{dicom('sub-02', 'baseline')},{SAMPLES / 'masks'},,R1,A",  # 12
    )
    output = tmp_path / "results.csv"
    code, out, err = run(capsys, "batch", manifest, "-o", output)
    assert code == 2
    assert out == ""
    assert not output.exists()
    prefix = f"onfh-volume: error: {manifest}: "
    assert err.splitlines() == [
        prefix + "line 3: timepoint 'follow-up' is neither 'baseline' nor 'followup'",
        prefix + "line 4: side 'middle' is neither 'right' nor 'left' (or empty: every lesion of the mask)",
        prefix + f"line 5: scan 'scans/missing' does not exist (looked for {tmp_path / 'scans/missing'})",
        prefix
        + "line 6: the left hip of patient 'P1' (reader 'R1') at baseline is already on line 2 (one row "
        "per hip, reader and timepoint; a row without side covers both hips)",
        prefix
        + "line 8: group 'B' differs from group 'A' on line 7 for both hips of patient 'P4' (reader 'R1')",
        prefix
        + "line 10: both hips of patient 'P5' (reader 'R1'): the followup scan is the baseline scan of line 9",
        prefix + "line 11: 3 values but the header has 7 columns",
        prefix + "line 12: empty patient_id",
        prefix + f"line 12: mask '{SAMPLES / 'masks'}' is a folder, not a NIfTI label file",
    ]


def test_bad_header_lists_missing_unknown_and_repeated_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path / "header.csv",
        "patient_id,timepoint,scan,sides,reader,reader,",
        f"P1,baseline,{dicom('sub-01', 'baseline')},right,R1,R1,",
    )
    with pytest.raises(ManifestError) as refused:
        read_manifest(path)
    assert refused.value.path == str(path)
    assert refused.value.problems == [
        "line 1: unknown column 'sides', like a misspelt 'side' (known columns: patient_id, timepoint, scan, "
        "mask, side, reader, group, series, study_uid, series_uid, roi; any other column is carried through to the results)",
        "line 1: column 'reader' appears twice",
        "line 1: column 7 has no name",
        "line 1: missing column 'mask'",
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "line 1: no header line (expected columns patient_id, timepoint, scan, mask)"),
        (HEADER.encode() + b"\n\n", "line 1: no rows under the header: nothing to measure"),
        (HEADER.encode() + b"\nP\xe9,baseline,a,b,,,\n", "line 2: not UTF-8 text"),
        (
            HEADER.encode() + b'\nP1,baseline,"' + b"x" * 200_000 + b'"\n',
            "line 2: not readable as CSV from here on",
        ),
    ],
)
def test_empty_or_undecodable_manifest_is_refused(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    with pytest.raises(ManifestError) as refused:
        read_manifest(path)
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(problem)


def test_missing_manifest_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "batch", tmp_path / "none.csv", "-o", tmp_path / "r.csv")
    assert (code, err) == (2, f"onfh-volume: error: {tmp_path / 'none.csv'}: no such file\n")


def test_validate_checks_and_measures_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "batch", SAMPLES / "cohort.csv", "--validate")
    assert code == 0
    assert err == ""
    assert out.replace("\n", "") == (
        f"{SAMPLES / 'cohort.csv'}: 6 rows, 5 hips of 3 patients; columns, values and paths are fine"
    )


def test_output_is_required_unless_validating(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["batch", str(SAMPLES / "cohort.csv")])
    assert exit_info.value.code == 2
    assert "batch needs -o RESULTS.csv" in capsys.readouterr().err


def test_a_row_may_name_a_pacs_series_instead_of_a_scan(tmp_path: Path) -> None:
    mask = SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz"
    path = write(
        tmp_path / "pacs.csv",
        "patient_id,timepoint,scan,study_uid,series_uid,mask",
        f"P1,baseline,,1.2.3,1.2.3.4,{mask}",
        f"P1,followup,,1.2.3,1.2.3.5,{mask}",
        f"P2,baseline,,1.2.3,,{mask}",
        f"P2,followup,{dicom('sub-01', 'baseline')},1.2.3,1.2.3.6,{mask}",
    )
    with pytest.raises(ManifestError) as refused:
        read_manifest(path)
    assert [problem.split(": ", 1)[1] for problem in refused.value.problems] == [
        "give both study_uid and series_uid (the series to measure), or a scan folder",
        f"scan '{dicom('sub-01', 'baseline')}' and study_uid/series_uid: give one or the other",
    ]
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3]) + "\n")
    assert [entry.scan for entry in read_manifest(path).entries] == [
        "pacs:1.2.3/1.2.3.4",
        "pacs:1.2.3/1.2.3.5",
    ]
