"""``export-seg`` writes a right PACS object, says every load warning, or refuses in one line.

The SEGs are read back by pydicom and highdicom; the truth is the NIfTI mask resampled by SimpleITK.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers import SAMPLES, copy_sample, sitk_series, write_sitk_mask
from test_dicom_seg_roundtrip import highdicom_labels, sitk_mask_on_series

from onfh_volume.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:The string .* person name:UserWarning")


def export(capsys, scan: Path, mask: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["export-seg", str(scan), str(mask), "-o", str(out), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rewrite_series(folder: Path, change) -> None:
    """Apply ``change(dataset, index)`` to every file of a copied series, in file name order."""
    for index, file in enumerate(sorted(folder.iterdir())):
        ds = pydicom.dcmread(file)
        change(ds, index)
        ds.save_as(file)


def test_a_label_spanning_both_hips_is_refused(tmp_path: Path, capsys) -> None:
    folder = SAMPLES / "dicom" / "sub-01" / "baseline"
    both = (sitk_mask_on_series(SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", folder) > 0).astype(
        np.uint8
    )
    mask = write_sitk_mask(sitk_series(folder), both, tmp_path / "one-label.nii.gz")
    out = tmp_path / "seg.dcm"
    code, _, err = export(capsys, folder, mask, out)
    assert code == 2 and err.count("\n") == 1
    assert "label 1 lies on both sides of the patient's midline: a SEG segment is one hip's lesion" in err
    assert not out.exists()


def test_a_mask_from_another_series_is_warned_about(tmp_path: Path, capsys) -> None:
    baseline = SAMPLES / "dicom" / "sub-01" / "baseline"
    seg = tmp_path / "baseline.dcm"
    assert export(capsys, baseline, SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", seg)[0] == 0
    code, out, err = export(capsys, SAMPLES / "dicom" / "sub-01" / "followup", seg, tmp_path / "followup.dcm")
    assert code == 0 and "Wrote" in out
    source = pydicom.dcmread(next(baseline.iterdir()), stop_before_pixels=True).SeriesInstanceUID
    assert f"warning: mask {seg} was saved on series {source}" in err
    assert "is it another timepoint's mask?" in err


@pytest.fixture
def full_folder(tmp_path: Path):
    """A real filesystem (tmpfs) of 40 kB: too small for the SEG."""
    folder = tmp_path / "full"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=40k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_is_one_line(full_folder: Path, capsys) -> None:
    folder = SAMPLES / "dicom" / "sub-01" / "baseline"
    code, _, err = export(
        capsys, folder, SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz", full_folder / "seg.dcm"
    )
    assert code == 2
    assert err.splitlines()[-1] == (
        f"onfh-volume: error: {full_folder}: cannot write in this folder (No space left on device); nothing was replaced"
    )
    assert "Traceback" not in err and list(full_folder.iterdir()) == []


def test_an_empty_specific_character_set_is_the_default_repertoire(tmp_path: Path, capsys) -> None:
    folder, mask = copy_sample(tmp_path, "sub-01", "baseline")
    rewrite_series(folder, lambda ds, _: setattr(ds, "SpecificCharacterSet", ""))
    out = tmp_path / "seg.dcm"
    code, _, err = export(capsys, folder, mask, out)
    assert code == 0, err
    assert np.array_equal(highdicom_labels(out, folder), sitk_mask_on_series(mask, folder))
    assert "SpecificCharacterSet" not in pydicom.dcmread(out, stop_before_pixels=True)


def test_a_series_of_three_studies_is_refused(tmp_path: Path, capsys) -> None:
    folder, mask = copy_sample(tmp_path, "sub-01", "baseline")
    studies = [pydicom.uid.generate_uid() for _ in range(3)]
    rewrite_series(folder, lambda ds, k: setattr(ds, "StudyInstanceUID", studies[k % 3]))
    code, _, err = export(capsys, folder, mask, tmp_path / "seg.dcm")
    assert code == 2 and err.count("\n") == 1
    assert "the series' images name 3 different studies (StudyInstanceUID): a SEG belongs to one study" in err


EXTRA_PATIENT_FIELDS = {
    "PatientComments": "HIV+, alcohol use",
    "AdditionalPatientHistory": "steroids since 2019",
    "OtherPatientNames": "Roe^Jane",
    "ClinicalTrialSubjectID": "TRIAL-0042",
    "ClinicalTrialSponsorName": "Sponsor Inc",
    "ClinicalTrialProtocolID": "ONFH-3",
    "PatientAge": "041Y",
    "PatientWeight": "71",
    "EthnicGroup": "X",
    "StudyDescription": "HIP MRI, HIV clinic",
}


def test_only_the_listed_patient_and_study_fields_are_copied(tmp_path: Path, capsys) -> None:
    folder, mask = copy_sample(tmp_path, "sub-01", "baseline")

    def identify(ds: pydicom.Dataset, _: int) -> None:
        ds.PatientBirthDate, ds.PatientSex = "19840102", "F"
        for keyword, value in EXTRA_PATIENT_FIELDS.items():
            setattr(ds, keyword, value)

    rewrite_series(folder, identify)
    out = tmp_path / "seg.dcm"
    assert export(capsys, folder, mask, out)[0] == 0
    seg = pydicom.dcmread(out, stop_before_pixels=True)
    source = pydicom.dcmread(next(folder.iterdir()), stop_before_pixels=True)
    for keyword in (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "StudyInstanceUID",
        "StudyDate",
    ):
        assert seg.get(keyword) == source.get(keyword), keyword
    assert [keyword for keyword in EXTRA_PATIENT_FIELDS if keyword in seg] == []


@pytest.mark.parametrize(
    ("reader", "says"),
    [
        ("A\\B", "holds '\\\\', which a DICOM person name cannot hold"),
        ("Jane\nDoe", "holds '\\n', which a DICOM person name cannot hold"),
        ("A=B", "holds '=', which a DICOM person name cannot hold"),
        ("x" * 65, "--reader is 65 characters long; a DICOM person name holds at most 64"),
    ],
)
def test_a_reader_name_that_is_not_one_person_name_is_refused(
    tmp_path: Path, capsys, reader: str, says: str
) -> None:
    out = tmp_path / "seg.dcm"
    code, _, err = export(
        capsys, SAMPLES / "dicom" / "sub-02" / "baseline", SAMPLES / "masks" / "sub-02_baseline_lesions.nii.gz",
        out, "--reader", reader,
    )  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and says in err
    assert not out.exists()
