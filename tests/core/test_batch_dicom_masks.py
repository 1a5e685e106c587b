"""``onfh-volume batch`` with DICOM SEG masks: a study folder of two series, and the manifest's ``roi``.

The SEGs are written by highdicom on the sample series sub-01 (224 x 224 pixels of 1.6 x 1.6 mm,
slices 4.0 mm thick); expected volumes are the voxel counts drawn here times that voxel, and the
other path, ``measure --series`` on the same folder.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLES, hd_seg, series_datasets

from onfh_volume.cli import main
from onfh_volume.testing.rtstruct import pixel_to_lps, write_rtstruct

pytestmark = pytest.mark.filterwarnings("ignore:The string .* person name:UserWarning")

VOXEL_CM3 = 1.6 * 1.6 * 4.0 / 1000
HEADER = "patient_id,timepoint,scan,mask,side,reader,roi"


def lesions(shape: tuple[int, ...]) -> np.ndarray:
    """Segment 1 in the patient's right hip (low columns), segment 2 in the left; 3 x 10 x 12 and 2 x 6 x 9."""
    labels = np.zeros(shape, dtype=np.uint8)
    labels[5:8, 100:110, 50:62] = 1
    labels[6:8, 100:106, 160:169] = 2
    return labels


RIGHT, LEFT = 3 * 10 * 12, 2 * 6 * 9


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """One folder holding the baseline and follow-up series of sub-01 (two series, as a PACS export)."""
    folder = tmp_path / "study"
    folder.mkdir()
    for timepoint in ("baseline", "followup"):
        for image in sorted((SAMPLES / "dicom" / "sub-01" / timepoint).iterdir()):
            shutil.copy(image, folder / f"{timepoint}-{image.name}")
    return folder


def seg_of(series: Path, path: Path, names: list[str]) -> Path:
    images = series_datasets(series)
    hd_seg(images, lesions((len(images), images[0].Rows, images[0].Columns)), names).save_as(path)
    return path


def batch(tmp_path: Path, rows: list[str], *options: str) -> tuple[int, list[dict[str, str]]]:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    output = tmp_path / "results.csv"
    code = main(["batch", str(manifest), "-o", str(output), *options])
    with open(output, newline="", encoding="utf-8") as f:
        return code, list(csv.DictReader(f))


def followup_row(reader: str = "R1") -> str:
    return (
        f"sub-01,followup,{SAMPLES / 'dicom/sub-01/followup'},"
        f"{SAMPLES / 'masks/sub-01_followup_lesions.nii.gz'},,{reader},"
    )


def volumes(rows: list[dict[str, str]], reader: str = "R1") -> dict[str, float]:
    return {row["side"]: float(row["baseline_volume_cm3"]) for row in rows if row["reader"] == reader}


def test_a_seg_on_a_study_folder_is_measured_on_the_series_it_references(tmp_path, study, capsys) -> None:
    seg = seg_of(SAMPLES / "dicom/sub-01/baseline", tmp_path / "seg.dcm", ["right lesion", "left lesion"])
    # A second reader's SEG on the other series of the same folder: each mask on its own series.
    other = seg_of(SAMPLES / "dicom/sub-01/followup", tmp_path / "other.dcm", ["right lesion", "left lesion"])
    nifti = SAMPLES / "masks/sub-01_baseline_lesions.nii.gz"
    code, rows = batch(
        tmp_path,
        [
            f"sub-01,baseline,{study},{seg},,R1,",
            followup_row(),
            f"sub-01,baseline,{study},{nifti},,R2,",
            f"sub-01,baseline,{study},{other},,R3,",
        ],
    )
    assert volumes(rows, "R3") == pytest.approx({"right": RIGHT * VOXEL_CM3, "left": LEFT * VOXEL_CM3})
    assert volumes(rows) == pytest.approx({"right": RIGHT * VOXEL_CM3, "left": LEFT * VOXEL_CM3})
    assert {row["status"] for row in rows if row["reader"] == "R1"} == {"ok"}
    # A NIfTI mask names no series: that row alone fails, listing the folder's two series.
    assert code == 3
    assert all("2 series in one folder" in row["status"] for row in rows if row["reader"] == "R2")
    # The other path: measure with the series named.
    uid = series_datasets(SAMPLES / "dicom/sub-01/baseline")[0].SeriesInstanceUID
    capsys.readouterr()
    assert main(["measure", str(study), str(seg), "--series", uid, "--json"]) == 0
    measured = json.loads(capsys.readouterr().out)
    assert volumes(rows) == pytest.approx(
        {lesion["side"]: lesion["volume_cm3"] for lesion in measured["lesions"]}
    )


def test_roi_picks_the_segments_to_measure(tmp_path) -> None:
    seg = seg_of(SAMPLES / "dicom/sub-01/baseline", tmp_path / "seg.dcm", ["femoral head", "Necrosis"])
    code, rows = batch(
        tmp_path,
        [
            f"sub-01,baseline,{SAMPLES / 'dicom/sub-01/baseline'},{seg},,R1,necrosis",
            followup_row(),
            f"sub-01,baseline,{SAMPLES / 'dicom/sub-01/baseline'},{seg},,R2,femoral head|necrosis",
            followup_row("R2"),
        ],
    )
    assert code == 0
    assert volumes(rows) == pytest.approx({"right": 0.0, "left": LEFT * VOXEL_CM3})
    assert volumes(rows, "R2") == pytest.approx({"right": RIGHT * VOXEL_CM3, "left": LEFT * VOXEL_CM3})


def test_results_and_report_name_the_roi_each_row_measured(tmp_path) -> None:
    seg = seg_of(SAMPLES / "dicom/sub-01/baseline", tmp_path / "seg.dcm", ["femoral head", "Necrosis"])
    report = tmp_path / "report.html"
    code, rows = batch(
        tmp_path,
        [
            f"sub-01,baseline,{SAMPLES / 'dicom/sub-01/baseline'},{seg},,R1,necrosis",
            followup_row(),
            f"sub-01,baseline,{SAMPLES / 'dicom/sub-01/baseline'},{seg},,R2,femoral head | Necrosis",
            followup_row("R2"),
        ],
        "--report",
        str(report),
    )
    assert code == 0
    # As the manifest names them (each name stripped), joined as there; empty for a row without roi.
    assert {(row["reader"], row["baseline_roi"], row["followup_roi"]) for row in rows} == {
        ("R1", "necrosis", ""),
        ("R2", "femoral head|Necrosis", ""),
    }
    page = report.read_text(encoding="utf-8")
    header = re.findall(r"<th>(.*?)</th>", page.rsplit("<table>", 1)[1])
    assert header[4] == "roi"
    cells = [
        re.findall(r"<td[^>]*>(.*?)</td>", line)
        for line in re.findall(r"<tr[^>]*>(.*?)</tr>", page.rsplit("<tbody>", 1)[1], re.S)
    ]
    assert {(line[2], line[4]) for line in cells} == {
        ("R1", "baseline: necrosis<br>follow-up: by the usual rule"),
        ("R2", "baseline: femoral head|Necrosis<br>follow-up: by the usual rule"),
    }


def square(image, row: float, column: float, size: float) -> np.ndarray:
    """The corners of a square contour on ``image``, in patient coordinates."""
    rows, columns = np.array([0, 0, size, size]) + row, np.array([0, size, size, 0]) + column
    return pixel_to_lps(image, rows, columns)


def test_roi_picks_the_lesion_of_an_rtstruct_with_an_anatomy_roi_on_a_study_folder(
    tmp_path, study, capsys
) -> None:
    baseline = SAMPLES / "dicom/sub-01/baseline"
    images = series_datasets(baseline)
    rois = {
        "Femoral head": [(k, square(images[k], 90, 40, 30)) for k in (5, 6, 7)],
        "ON area": [(k, square(images[k], 100, 160, 8)) for k in (6, 7)],
    }
    rtstruct = write_rtstruct(tmp_path / "rs.dcm", images, rois, {"Femoral head": "ORGAN"})
    code, rows = batch(tmp_path, [f"sub-01,baseline,{study},{rtstruct},,R1,on area", followup_row()])
    assert code == 0, [row["status"] for row in rows]
    # The other path: measure on the single series folder, with --roi.
    capsys.readouterr()
    assert main(["measure", str(baseline), str(rtstruct), "--roi", "ON area", "--json"]) == 0
    measured = {
        lesion["side"]: lesion["volume_cm3"] for lesion in json.loads(capsys.readouterr().out)["lesions"]
    }
    assert set(measured) == {"left"} and measured["left"] > 0
    assert volumes(rows) == pytest.approx({"right": 0.0, **measured})


def test_roi_on_a_nifti_mask_fails_its_row(tmp_path) -> None:
    nifti = SAMPLES / "masks/sub-01_baseline_lesions.nii.gz"
    code, rows = batch(
        tmp_path, [f"sub-01,baseline,{SAMPLES / 'dicom/sub-01/baseline'},{nifti},,R1,lesion", followup_row()]
    )
    assert code == 3
    assert all("names a segment or ROI of a DICOM SEG or RTSTRUCT" in row["status"] for row in rows)


@pytest.mark.parametrize("roi", ["|", "lesion||other", "lesion| "])
def test_an_empty_roi_name_is_refused(tmp_path, capsys, roi: str) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        f"{HEADER}\nsub-01,baseline,{SAMPLES / 'dicom/sub-01/baseline'},"
        f"{SAMPLES / 'masks/sub-01_baseline_lesions.nii.gz'},,R1,{roi}\n",
        encoding="utf-8",
    )
    assert main(["batch", str(manifest), "--validate"]) == 2
    assert f"line 2: roi '{roi.strip()}' has an empty name" in capsys.readouterr().err
