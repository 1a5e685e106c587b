"""The checks ``detect`` and ``propagate`` run on their inputs, and what the field does to a draft."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from onfh_volume.batch.manifest import read_manifest
from onfh_volume.draft.checked import checked_detect
from onfh_volume.draft.cohort import refuse_shared_draft_names
from onfh_volume.draft.field_edge import field_edge_reasons, missing_sides
from onfh_volume.draft.inputs import (
    check_hip_labels,
    check_label_sides,
    patient_id,
    refuse_non_finite,
    refuse_other_patient,
    refuse_same_scan,
)
from onfh_volume.errors import ManifestError, MaskError, NonFiniteError, ScanError
from onfh_volume.load import load_scan
from onfh_volume.scan import Scan
from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series
from onfh_volume.testing.phantom_set import small_bilateral_phantom

SHAPE = (6, 10, 12)


def grid_scan(voxels: np.ndarray | None = None, source: str = "s.nii.gz") -> Scan:
    """A coronal grid: slices front to back (2 mm), rows head to foot, columns right to left (1 mm)."""
    affine = np.array([[0, 0, -1.0, 6], [2.0, 0, 0, 0], [0, -1.0, 0, 5], [0, 0, 0, 1]])
    return Scan(voxels, (1.0, 1.0), 2.0, 2.0, affine, source, grid=SHAPE if voxels is None else None)


def test_a_lesion_on_the_first_slice_is_told_with_its_voxels() -> None:
    mask = np.zeros(SHAPE, dtype=bool)
    mask[0:3, 4:6, 4:7] = True  # 2 x 3 = 6 voxels of 1 x 1 x 2 mm on slice 0: 0.012 cm³
    (reason,) = field_edge_reasons(grid_scan(), mask)
    assert "6 voxels (0.01 cm³)" in reason and "first slice" in reason


def test_a_lesion_on_the_last_column_and_row_is_told_for_each() -> None:
    mask = np.zeros(SHAPE, dtype=bool)
    mask[2:4, 7:, 9:] = True
    reasons = field_edge_reasons(grid_scan(), mask)
    assert [("last row" in r, "last column" in r) for r in reasons] == [(True, False), (False, True)]


@given(st.tuples(*(st.integers(0, n - 1) for n in SHAPE)), st.tuples(*(st.integers(1, 4) for _ in SHAPE)))
def test_reasons_are_given_exactly_when_the_lesion_reaches_a_border(start, size) -> None:
    stop = [min(s + k, n) for s, k, n in zip(start, size, SHAPE, strict=True)]
    mask = np.zeros(SHAPE, dtype=bool)
    mask[start[0] : stop[0], start[1] : stop[1], start[2] : stop[2]] = True
    borders = sum((s == 0) + (e == n) for s, e, n in zip(start, stop, SHAPE, strict=True))
    assert len(field_edge_reasons(grid_scan(), mask)) == borders


def test_both_heads_are_expected_on_a_field_of_both_hips_and_the_row_s_own_on_any() -> None:
    phantom = small_bilateral_phantom()  # heads at x = +90 and -90 mm
    assert missing_sides(phantom.scan, []) == ["right", "left"]
    assert missing_sides(phantom.scan, ["left"], side="left") == []
    assert missing_sides(grid_scan(), []) == []  # 12 mm: a one-hip field says nothing of the other
    assert missing_sides(grid_scan(), ["right"], side="left") == ["left"]


def test_non_finite_pixels_are_refused_with_their_count() -> None:
    voxels = np.ones(SHAPE, dtype=np.float32)
    voxels[1, 2, 3], voxels[2, 2, 2] = np.nan, -np.inf
    with pytest.raises(NonFiniteError, match=r"s\.nii\.gz: 2 voxels are not finite"):
        refuse_non_finite(grid_scan(voxels))
    refuse_non_finite(grid_scan(np.ones(SHAPE, dtype=np.float32)))


@pytest.mark.parametrize(("bad", "named"), [([255], "label 255"), ([3, 7], "labels 3, 7")])
def test_labels_other_than_the_hips_are_named(bad: list[int], named: str) -> None:
    labels = np.array([0, 1, 2, *bad])
    with pytest.raises(MaskError, match=rf"m\.nii\.gz: holds {named}:"):
        check_hip_labels(labels, "m.nii.gz")
    check_hip_labels(np.array([0, 1, 2]), "m.nii.gz")


def test_swapped_hip_labels_are_refused_by_the_side_rule() -> None:
    phantom = small_bilateral_phantom()
    assert not any("label" in note for note in check_label_sides(phantom.scan, phantom.labels, "m.nii.gz"))
    swapped = np.choose(phantom.labels, [0, 2, 1]).astype(np.uint8)
    with pytest.raises(
        MaskError, match=r"m\.nii\.gz: label 1 is the right hip's, but its lesion lies in the left"
    ):
        check_label_sides(phantom.scan, swapped, "m.nii.gz")


def test_the_baseline_scan_as_its_own_follow_up_is_refused(tmp_path) -> None:
    scan = grid_scan(source=str(tmp_path / "a.nii.gz"))
    again = grid_scan(source=str(tmp_path / ".." / tmp_path.name / "a.nii.gz"))
    with pytest.raises(ScanError, match="the follow-up scan is the baseline scan"):
        refuse_same_scan(scan, again)
    refuse_same_scan(scan, grid_scan(source=str(tmp_path / "b.nii.gz")))


def dicom_folder(folder, patient: str):
    """A small coronal series of ``patient`` (PatientID), written as DICOM files."""
    voxels = np.full((3, 8, 8), 100, np.uint16)
    positions = stack_positions((0.0, 0.0, 0.0), CORONAL, 4.0, 3)
    datasets = dicom_slices(
        voxels, pixel_spacing=(1.0, 1.0), slice_thickness=4.0, positions=positions, patient_id=patient
    )
    write_series(folder, datasets, [f"IM{k}" for k in range(3)])
    return load_scan(folder)


def test_a_follow_up_of_another_patient_is_refused_unless_said(tmp_path) -> None:
    before, same, other = (dicom_folder(tmp_path / name, name[:5]) for name in ("PAT-A", "PAT-A2", "PAT-B"))
    assert patient_id(before) == "PAT-A"
    refuse_other_patient(before, same, allowed=False)
    with pytest.raises(ScanError, match=r"PAT-B: its PatientID is PAT-B, the baseline's is PAT-A"):
        refuse_other_patient(before, other, allowed=False)
    refuse_other_patient(before, other, allowed=True)


def test_a_hip_never_found_on_a_field_of_both_is_returned_missing() -> None:
    phantom = small_bilateral_phantom()
    voxels = phantom.scan.voxels.copy()
    voxels[:, :, phantom.scan.shape[2] // 2 :] = 20  # the left half of the field (RAS x < 0) blank
    scan = dataclasses.replace(phantom.scan, voxels=voxels)
    _, hips, missing, _ = checked_detect(scan)
    assert ([hip.side for hip in hips], missing) == (["right"], ["left"])


def test_patients_drafted_to_one_file_name_are_refused_and_hips_of_one_scan_share_it(tmp_path) -> None:
    for name in ("a.nii.gz", "b.nii.gz"):
        (tmp_path / name).write_bytes(b"")
    cohort = tmp_path / "cohort.csv"
    rows = ["P1,baseline,a.nii.gz,,right", "P1,baseline,a.nii.gz,,left", "p1,baseline,b.nii.gz,,left"]
    cohort.write_text("patient_id,timepoint,scan,mask,side\n" + "\n".join(rows) + "\n")
    with pytest.raises(ManifestError, match=r"lines 2 and 4: patient 'P1' \(baseline\) and patient 'p1'"):
        refuse_shared_draft_names(read_manifest(cohort, drafting=True))
    cohort.write_text("patient_id,timepoint,scan,mask,side\n" + "\n".join(rows[:2]) + "\n")
    assert [
        entry.line for entry in refuse_shared_draft_names(read_manifest(cohort, drafting=True)).values()
    ] == [2]
