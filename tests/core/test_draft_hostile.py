"""Hostile use of ``detect``, ``propagate`` and ``batch --draft-masks``, as users and coordinators meet them.

Every test runs the command line as a user does, on the small bilateral phantom (or its first
columns: the right hip alone) written as NIfTI or DICOM, spoiled in one way each: another plane,
a cut field, a void hip, odd labels, a mistaken path. Seventeen of them failed on the first
commands (a draft of NaN pixels, a lesion cut by the field drafted whole, another patient's follow-up,
a hip never found measured as healthy...); they guard the fixes.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series
from onfh_volume.testing.phantom_set import small_bilateral_phantom

RIGHT_COLUMNS = 150  # the field's first columns hold the right hip alone (RAS x from 124 to 4 mm)


def cli(*argv: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onfh_volume.cli", *map(str, argv)], capture_output=True, text=True
    )


def refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 with one line on stderr holding each of ``words``."""
    assert result.returncode == 2, (result.returncode, result.stderr[-400:])
    assert result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def finite_json(text: str) -> dict:
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))


def nifti(path: Path, voxels: np.ndarray, affine: np.ndarray, sidecar: dict | None = None, **form) -> Path:
    """A NIfTI as a converter writes it (sform and qform, mm), with a BIDS sidecar unless ``sidecar={}``.

    ``oriented=False`` writes no orientation at all; ``qform=`` another qform than the sform.
    """
    oriented = form.get("oriented", True)
    image = nib.Nifti1Image(np.asarray(voxels), affine if oriented else None)
    image.header.set_xyzt_units("mm")
    if oriented:
        image.header.set_sform(affine, code=1)
        image.header.set_qform(form.get("qform", affine), code=1)
    else:
        image.header.set_zooms(tuple(float(v) for v in np.linalg.norm(affine[:3, :3], axis=0)))
        image.header["qform_code"] = image.header["sform_code"] = 0
    nib.save(image, path)
    if sidecar != {}:
        fields = {"SliceThickness": 4.0, **(sidecar or {})}
        path.with_name(path.name.replace(".nii.gz", ".json")).write_text(json.dumps(fields))
    return path


def crop(voxels: np.ndarray, affine: np.ndarray, axis: int, start: int, stop: int | None = None):
    """The voxels from ``start`` to ``stop`` along ``axis`` and the affine of that part of the grid."""
    part = affine.copy()
    part[:3, 3] += start * affine[:3, axis]
    return np.take(voxels, range(start, stop or voxels.shape[axis]), axis=axis), part


def ras_of(path: Path, label: int) -> np.ndarray:
    """RAS mm of a written mask's ``label`` voxels, read with nibabel."""
    image = nib.load(path)
    return nib.affines.apply_affine(image.affine, np.argwhere(np.asarray(image.dataobj) == label))


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory):
    """The bilateral phantom as NIfTI, its truth mask, and the right hip's field with its own."""
    phantom = small_bilateral_phantom()
    folder = tmp_path_factory.mktemp("hostile")
    scan, affine = phantom.scan.voxels, phantom.scan.affine
    nifti(folder / "both.nii.gz", scan, affine)
    right, right_affine = crop(scan, affine, 2, 0, RIGHT_COLUMNS)
    nifti(folder / "right.nii.gz", right, right_affine)
    nifti(folder / "right_mask.nii.gz", phantom.labels[:, :, :RIGHT_COLUMNS], right_affine, {})
    copied(folder / "right.nii.gz", folder / "right_again.nii.gz")  # a follow-up with nothing changed
    return phantom, folder


def right_dicom(phantom, folder: Path, **tags) -> list[Path]:
    """The right hip's field as a DICOM series (the first columns keep the first voxel's position)."""
    a = phantom.spec.acquisition
    datasets = dicom_slices(
        phantom.scan.voxels[:, :, :RIGHT_COLUMNS], pixel_spacing=(a.row_mm, a.column_mm),
        slice_thickness=a.thickness_mm, uid_seed=str(tags), **tags,
        positions=stack_positions(a.first_position(), CORONAL, a.spacing_mm, a.slices),
    )  # fmt: skip
    number = tags.get("series_number", 1)
    return write_series(folder, datasets, [f"S{number}_{k}" for k in range(a.slices)])


def copied(scan: Path, to: Path) -> Path:
    """A copy of a NIfTI scan and its sidecar: another file of the same pixels."""
    sidecar = scan.with_name(scan.name.replace(".nii.gz", ".json"))
    shutil.copy(sidecar, to.with_name(to.name.replace(".nii.gz", ".json")))
    return Path(shutil.copy(scan, to))


def propagate(folder: Path, *argv: object) -> subprocess.CompletedProcess[str]:
    return cli("propagate", *argv, "-o", folder / "o.nii.gz")


def spoiled(phantom, folder: Path, how: str) -> Path:
    scan, affine = phantom.scan.voxels, phantom.scan.affine.copy()
    if how == "sagittal":  # slices along left-right
        affine[:3, :3] = affine[:3, :3][[1, 0, 2]]
    elif how == "4-D":
        scan = np.stack([scan, scan], axis=-1)
    elif how == "sheared":
        affine[0, 1] = 0.3
    elif how == "constant":
        scan = np.full(scan.shape, 500, np.int16)
    return nifti(folder / f"{how}.nii.gz", scan, affine, oriented=how != "unoriented")


@pytest.mark.parametrize(
    ("how", "word"),
    [("sagittal", "sagittal"), ("4-D", "4-D"), ("sheared", "sheared"), ("unoriented", "left and right"),
     ("constant", "no femoral head")],
)  # fmt: skip
def test_detect_refuses_a_scan_it_cannot_read_in_one_line(study, tmp_path: Path, how: str, word: str) -> None:
    path = spoiled(study[0], tmp_path, how)
    result = cli("detect", path, "-o", tmp_path / "draft.nii.gz", "--json")
    refused(result, path.name, word)
    assert not (tmp_path / "draft.nii.gz").exists()


def test_flipped_axes_keep_each_hip_on_its_side(study, tmp_path: Path) -> None:
    # The same image stored with its columns and slices in the other order: the same hips.
    phantom, _ = study
    scan, affine = phantom.scan.voxels[::-1, :, ::-1], phantom.scan.affine.copy()
    affine[:3, 0], affine[:3, 2] = -affine[:3, 0], -affine[:3, 2]
    affine[:3, 3] = phantom.scan.index_to_patient(np.array([np.subtract(scan.shape, 1) * [1, 0, 1]]))[0]
    path = nifti(tmp_path / "flipped.nii.gz", scan, affine)
    result = cli("detect", path, "-o", tmp_path / "draft.nii.gz", "--json")
    assert result.returncode == 0, result.stderr
    hips = finite_json(result.stdout)["hips"]
    assert [(hip["side"], hip["label"]) for hip in hips] == [("right", 1), ("left", 2)]
    assert (ras_of(tmp_path / "draft.nii.gz", 1)[:, 0] > 0).all()
    assert (ras_of(tmp_path / "draft.nii.gz", 2)[:, 0] < 0).all()


#: ``detect`` whose head search says it started (a file) and then waits: Ctrl-C lands mid-search.
SLOW_DETECT = """
import pathlib, sys, time
import onfh_volume.draft.heads as heads
started, search = pathlib.Path(sys.argv[1]), heads.find_heads

def slowly(*args, **kwargs):
    started.touch()
    time.sleep(60)
    return search(*args, **kwargs)

heads.find_heads = slowly  # before detect is imported, so that detect calls it
from onfh_volume.entry import run
sys.argv[1:] = sys.argv[2:]
run()
"""


def test_detect_never_writes_over_an_input_or_a_file_and_ctrl_c_leaves_nothing(study, tmp_path: Path) -> None:
    _, folder = study
    scan = folder / "right.nii.gz"
    before = scan.read_bytes()
    refused(cli("detect", scan, "-o", folder / ".." / folder.name / "right.nii.gz", "--force"), "input")
    mine = tmp_path / "mine.nii.gz"
    mine.write_bytes(b"traced by hand")
    refused(cli("detect", scan, "-o", mine), "exists")
    assert scan.read_bytes() == before and mine.read_bytes() == b"traced by hand"
    out, started = tmp_path / "later" / "draft.nii.gz", tmp_path / "started"
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_DETECT, started, "detect", scan, "-o", out],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # As from a terminal: a suite run in the background ignores SIGINT, and so would the command.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)  # mid-search, whatever the machine's speed
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (130, "onfh-volume: interrupted\n")
    assert not out.exists() and not any(tmp_path.glob("later/*"))


def test_detect_refuses_nan_pixels_as_trace_does(study, tmp_path: Path) -> None:
    phantom, _ = study
    scan = phantom.scan.voxels.astype(np.float32)
    scan[5, 40, 100:110], scan[6, 40, 50] = np.nan, np.inf
    path = nifti(tmp_path / "nan.nii.gz", scan, phantom.scan.affine)
    assert cli("trace", path, "--seed-voxel", "5,30,40", "-o", tmp_path / "t.nii.gz").returncode == 2
    result = cli("detect", path, "-o", tmp_path / "draft.nii.gz")
    refused(result, "nan.nii.gz", "not finite")
    assert not (tmp_path / "draft.nii.gz").exists()


def test_a_lesion_cut_by_the_first_slice_is_flagged(study, tmp_path: Path) -> None:
    phantom, _ = study
    assert (phantom.labels[:5] == 1).any() and (phantom.labels[5] == 1).any()  # the truth goes on beyond
    path = nifti(tmp_path / "cut.nii.gz", *crop(phantom.scan.voxels, phantom.scan.affine, 0, 5))
    result = cli("detect", path, "-o", tmp_path / "draft.nii.gz")
    assert result.returncode == 0, result.stderr
    assert "first slice" in result.stderr or "right hip: uncertain" in result.stdout, result.stdout


def test_a_hip_at_the_isocentre_is_not_labelled_silently(study, tmp_path: Path) -> None:
    phantom, _ = study
    assert [head.side for head in phantom.heads if head.centre_ras[0] > 0] == ["right"]
    right, affine = crop(phantom.scan.voxels, phantom.scan.affine, 2, 0, RIGHT_COLUMNS)
    affine[0, 3] -= 100.0  # the same right hip, moved to the scanner's isocentre
    path = nifti(tmp_path / "centred.nii.gz", right, affine)
    mask = nifti(tmp_path / "mask.nii.gz", phantom.labels[:, :, :RIGHT_COLUMNS], affine, {})
    assert "doubtful" in cli("measure", path, mask).stderr  # the side rule's own warning
    result = cli("detect", path, "-o", tmp_path / "draft.nii.gz")
    assert result.returncode == 0, result.stderr
    assert "doubtful" in result.stderr or "uncertain" in result.stdout, result.stdout


def test_a_description_naming_the_other_hip_is_told(study, tmp_path: Path) -> None:
    right = crop(study[0].scan.voxels, study[0].scan.affine, 2, 0, RIGHT_COLUMNS)
    path = nifti(tmp_path / "said_left.nii.gz", *right, {"SeriesDescription": "COR T1 LEFT HIP"})
    result = cli("detect", path, "-o", tmp_path / "draft.nii.gz")
    assert result.stdout.startswith("right hip: lesion"), result.stdout  # by position, as the rule says
    assert "series description" in result.stderr, result.stderr


def test_detect_json_keeps_the_scans_warnings(study, tmp_path: Path) -> None:
    phantom, folder = study
    right, affine = crop(phantom.scan.voxels, phantom.scan.affine, 2, 0, RIGHT_COLUMNS)
    qform = affine.copy()
    qform[0, 3] += 10.0  # a qform 10 mm to the side of the sform
    path = nifti(tmp_path / "forms.nii.gz", right, affine, qform=qform)
    assert "qform" in cli("measure", path, folder / "right_mask.nii.gz", "--json").stdout
    result = cli("detect", path, "-o", tmp_path / "draft.nii.gz", "--json")
    assert result.returncode == 0, result.stderr
    assert "qform" in result.stderr or "qform" in json.dumps(finite_json(result.stdout).get("warnings"))


def test_propagate_refuses_a_mask_it_cannot_carry_and_a_path_it_must_not_write(study, tmp_path: Path) -> None:
    phantom, folder = study
    scan, mask, later = folder / "right.nii.gz", folder / "right_mask.nii.gz", folder / "right_again.nii.gz"
    affine = nib.load(mask).affine
    labels = phantom.labels[:, :, :RIGHT_COLUMNS]
    other = nifti(tmp_path / "other_grid.nii.gz", *crop(labels, affine, 0, 1), {})
    refused(propagate(tmp_path, scan, other, later), "other_grid.nii.gz", "slice")
    half = nifti(tmp_path / "half.nii.gz", labels.astype(np.float32) / 2, affine, {})
    refused(propagate(tmp_path, scan, half, later), "half.nii.gz", "non-integer")
    before = mask.read_bytes()
    refused(cli("propagate", scan, mask, later, "-o", mask, "--force"), "input")
    (tmp_path / "o.nii.gz").write_bytes(b"mine")
    refused(propagate(tmp_path, scan, mask, later), "exists")
    assert mask.read_bytes() == before and (tmp_path / "o.nii.gz").read_bytes() == b"mine"


def test_a_mask_of_255_is_named_and_its_label_told(study, tmp_path: Path) -> None:
    phantom, folder = study
    labels = (phantom.labels[:, :, :RIGHT_COLUMNS] > 0).astype(np.uint8) * 255
    mask = nifti(tmp_path / "binary.nii.gz", labels, nib.load(folder / "right_mask.nii.gz").affine, {})
    refused(
        propagate(tmp_path, folder / "right.nii.gz", mask, folder / "right_again.nii.gz"),
        "binary.nii.gz",
        "255",
    )


def test_a_label_propagate_does_not_carry_is_refused(study, tmp_path: Path) -> None:
    phantom, folder = study
    labels = phantom.labels[:, :, :RIGHT_COLUMNS].copy()
    labels[phantom.band[:, :, :RIGHT_COLUMNS] & (labels == 1)] = 3  # a reader's own label for the band
    mask = nifti(tmp_path / "band3.nii.gz", labels, nib.load(folder / "right_mask.nii.gz").affine, {})
    refused(
        propagate(tmp_path, folder / "right.nii.gz", mask, folder / "right_again.nii.gz"), "band3.nii.gz", "3"
    )


def test_propagate_refuses_the_baseline_scan_as_follow_up(study, tmp_path: Path) -> None:
    _, folder = study
    scan = folder / "right.nii.gz"
    refused(propagate(tmp_path, scan, folder / "right_mask.nii.gz", scan), "right.nii.gz")


def test_a_follow_up_of_another_patient_is_told(study, tmp_path: Path) -> None:
    phantom, folder = study
    for patient in ("PAT-A", "PAT-B"):
        right_dicom(phantom, tmp_path / patient, patient_id=patient)
    result = propagate(tmp_path, tmp_path / "PAT-A", folder / "right_mask.nii.gz", tmp_path / "PAT-B")
    told = result.stderr + result.stdout
    assert "PAT-A" in told and "PAT-B" in told, told


def test_a_follow_up_field_cutting_the_lesion_is_for_review(study, tmp_path: Path) -> None:
    phantom, folder = study
    truth = phantom.labels == 1
    assert truth[:, :, :42].any() and truth[:, :, 42:].any()  # the cut runs through the lesion
    cut = crop(phantom.scan.voxels, phantom.scan.affine, 2, 42, RIGHT_COLUMNS)
    later = nifti(tmp_path / "cut.nii.gz", *cut)
    result = propagate(tmp_path, folder / "right.nii.gz", folder / "right_mask.nii.gz", later, "--json")
    assert result.returncode == 0, result.stderr
    (hip,) = finite_json(result.stdout)["hips"]
    assert hip["status"] == "review", hip["change"]


def test_propagate_refuses_a_follow_up_without_orientation(study, tmp_path: Path) -> None:
    phantom, folder = study
    right = crop(phantom.scan.voxels, phantom.scan.affine, 2, 0, RIGHT_COLUMNS)
    later = nifti(tmp_path / "unoriented.nii.gz", *right, oriented=False)
    result = propagate(tmp_path, folder / "right.nii.gz", folder / "right_mask.nii.gz", later)
    refused(result, "unoriented.nii.gz", "left and right")


def test_swapped_hip_labels_are_named_not_carried_across(study, tmp_path: Path) -> None:
    phantom, folder = study
    swapped = np.choose(phantom.labels, [0, 2, 1]).astype(np.uint8)
    mask = nifti(tmp_path / "swapped.nii.gz", swapped, phantom.scan.affine, {})
    later = copied(folder / "both.nii.gz", tmp_path / "later.nii.gz")
    result = propagate(tmp_path, folder / "both.nii.gz", mask, later, "--json")
    if result.returncode == 2:
        refused(result, "swapped.nii.gz")
    else:
        changes = [hip["change"]["change_pct"] for hip in finite_json(result.stdout)["hips"]]
        assert np.abs(changes).max() <= 3, changes  # the follow-up is the baseline's pixels


def test_propagate_lets_a_user_choose_the_follow_up_series(study, tmp_path: Path) -> None:
    phantom, folder = study
    for number in (1, 2):
        right_dicom(phantom, tmp_path / "study", series_number=number)
    result = propagate(tmp_path, folder / "right.nii.gz", folder / "right_mask.nii.gz", tmp_path / "study")
    refused(result, "2 series")
    assert re.search(r"--\S*series", cli("propagate", "--help").stdout)


def manifest(folder: Path, *rows: str) -> Path:
    path = folder / "cohort.csv"
    path.write_text("patient_id,timepoint,scan,mask,side\n" + "".join(f"{row}\n" for row in rows))
    return path


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    return {row["patient_id"]: row for row in csv.DictReader(path.open(encoding="utf-8"))}


def draft(folder: Path, cohort: Path, drafts: str = "drafts") -> subprocess.CompletedProcess[str]:
    """``batch`` of ``cohort`` into ``folder/r.csv``, drafting into ``folder/drafts``."""
    return cli("batch", cohort, "-o", folder / "r.csv", "--draft-masks", folder / drafts, "--quiet")


def test_batch_refuses_a_drafted_row_whose_scan_is_missing(study, tmp_path: Path) -> None:
    _, folder = study
    cohort = manifest(
        tmp_path, f"P1,baseline,{folder}/right.nii.gz,,", f"P2,baseline,{tmp_path}/gone.nii.gz,,"
    )
    refused(draft(tmp_path, cohort), "line 3", "gone.nii.gz")
    assert not (tmp_path / "drafts").exists()


def test_batch_refuses_a_draft_folder_that_is_a_file(study, tmp_path: Path) -> None:
    _, folder = study
    cohort = manifest(tmp_path, f"P1,baseline,{folder}/right.nii.gz,,right")
    refused(draft(tmp_path, cohort, "cohort.csv"), "cohort.csv")


def test_a_hip_never_found_is_not_measured_as_healthy(study, tmp_path: Path) -> None:
    phantom, _ = study
    scan = phantom.scan.voxels.copy()
    points = phantom.scan.index_to_patient(np.argwhere(np.ones(scan.shape, dtype=bool)))
    left = next(head for head in phantom.heads if head.side == "left")
    void = (np.linalg.norm(points - left.centre_ras, axis=1) < left.radius_mm + 6).reshape(scan.shape)
    scan[void] = np.abs(np.random.default_rng(5).normal(0, 20, void.sum())).astype(np.int16)
    for when in ("baseline", "followup"):
        nifti(tmp_path / f"{when}.nii.gz", scan, phantom.scan.affine)
    cohort = manifest(
        tmp_path, *(f"P1,{when},{tmp_path}/{when}.nii.gz,,left" for when in ("baseline", "followup"))
    )
    result = draft(tmp_path, cohort)
    assert result.returncode in (0, 3), result.stderr
    assert rows_of(tmp_path / "r.csv")["P1"]["status"] != "ok"
    listed = csv.DictReader((tmp_path / "drafts" / "drafts.csv").open(encoding="utf-8"))
    assert [row["side"] for row in listed] == ["left", "left"]


def test_two_patients_never_share_a_drafted_mask(study, tmp_path: Path) -> None:
    phantom, folder = study
    empty = nifti(tmp_path / "no_head.nii.gz", *crop(np.full(phantom.scan.shape, 500, np.int16),
                                                    phantom.scan.affine, 2, 0, RIGHT_COLUMNS))  # fmt: skip
    cohort = manifest(tmp_path, f"P 1,baseline,{folder}/right.nii.gz,,right", f"P_1,baseline,{empty},,right")
    if draft(tmp_path, cohort).returncode != 2:
        rows = rows_of(tmp_path / "r.csv")
        assert rows["P 1"]["baseline_mask"] != rows["P_1"]["baseline_mask"]
        assert rows["P_1"]["baseline_volume_cm3"] == "", rows["P_1"]  # its scan shows no head


def test_an_existing_review_list_is_refused_before_any_draft(study, tmp_path: Path) -> None:
    _, folder = study
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    (drafts / "drafts.csv").write_text("a coordinator's notes\n")
    cohort = manifest(tmp_path, f"P1,baseline,{folder}/right.nii.gz,,right")
    refused(draft(tmp_path, cohort), "drafts.csv", "--force")
    assert sorted(path.name for path in drafts.iterdir()) == ["drafts.csv"]
