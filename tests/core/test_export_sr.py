"""``export-sr`` and ``compare --sr``: the TID 1500 report read back by highdicom, dcmqi and dciodvfy equals ``--json``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import pydicom
import pytest

from onfh_volume.cli import main

SCANS = Path("sample_scans/dicom")
MASKS = Path("sample_scans/masks")
DCMQI = Path(hd.__file__).parents[1] / "dcmqi" / "bin" / "tid1500reader"


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def expected_values(lesion: dict) -> dict[str, float]:
    """The numbers of one lesion of ``measure --json``, by the concept meaning the report must give them."""
    kerboul = lesion["kerboul_angle_deg"]
    return {
        "Sum of traced area x slice thickness": lesion["volume_thickness_cm3"],
        "Cavalieri: sum of traced area x slice spacing": lesion["volume_cavalieri_cm3"],
        "Necrotic ratio of the femoral head volume": lesion["necrotic_ratio_pct"],
        "Kerboul necrotic angle, mid-coronal": kerboul["coronal"],
        "Kerboul necrotic angle, mid-sagittal": kerboul["sagittal"],
        "Kerboul combined necrotic angle": kerboul["combined"],
        **(
            {}
            if lesion.get("collapse_depth_mm") is None
            else {"Depth of femoral head collapse": lesion["collapse_depth_mm"]}
        ),
    }


def read_values(group: object) -> dict[str, float]:
    """A group's numbers by their method (the two volumes) or their name."""
    return {
        (m.method.meaning if m.method is not None else m.name.meaning): m.value
        for m in group.get_measurements()  # type: ignore[attr-defined]
    }


def units(group: object) -> dict[str, str]:
    return {m.name.meaning: m.unit.value for m in group.get_measurements()}  # type: ignore[attr-defined]


def collapse_reading(group: object) -> str | None:
    """The report's ARCO reading of the collapse, in the words ``measure --json`` uses."""
    readings = [
        q.value.meaning  # type: ignore[attr-defined]
        for q in group.get_qualitative_evaluations()  # type: ignore[attr-defined]
        if q.name.meaning.startswith("ARCO 2019")  # type: ignore[attr-defined]
    ]
    if not readings:
        return None
    [reading] = readings
    return "no collapse seen" if reading.startswith("No collapse seen") else reading.split(":")[0].split()[1]


def steinberg(group: object) -> str:
    [evaluation] = [
        q
        for q in group.get_qualitative_evaluations()
        if q.name.meaning.startswith("Steinberg")  # type: ignore[attr-defined]
    ]
    return evaluation.value.meaning.split()[2]


@pytest.fixture(scope="module")
def sub01(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sr")
    scan, mask = SCANS / "sub-01" / "baseline", MASKS / "sub-01_baseline_lesions.nii.gz"
    assert main(["export-seg", str(scan), str(mask), "-o", str(folder / "seg.dcm")]) == 0
    return {"scan": scan, "mask": mask, "seg": folder / "seg.dcm", "folder": folder}


def test_report_values_equal_measure_json(capsys, sub01) -> None:
    out = sub01["folder"] / "report.dcm"
    code, _, err = run(
        capsys, "export-sr", sub01["scan"], sub01["mask"], "-o", out, "--seg", sub01["seg"], "--reader", "JD"
    )
    assert code == 0, err
    code, text, _ = run(capsys, "measure", sub01["scan"], sub01["mask"], "--json")
    measured = json.loads(text)

    sr = hd.sr.srread(out)
    report = hd.sr.MeasurementReport.from_sequence([sr])
    groups = report.get_volumetric_roi_measurement_groups()
    seg = pydicom.dcmread(sub01["seg"])
    compared = 0
    assert len(groups) == len(measured["lesions"]) == 2
    for group, lesion in zip(groups, measured["lesions"], strict=True):
        assert group.finding_type == hd.sr.CodedConcept("6574001", "SCT", "Necrosis")
        [site] = group.finding_sites
        assert site.value.value == "2812003"  # SCT femoral head
        assert site.laterality.meaning.lower() == lesion["side"]
        assert group.tracking_identifier.startswith(f"{lesion['side']} hip lesion")
        assert pydicom.uid.UID(group.tracking_uid).is_valid
        segment = group.referenced_segment
        assert segment.referenced_sop_instance_uid == seg.SOPInstanceUID
        [number] = segment.referenced_segment_numbers  # its segment is the one named after its hip
        assert seg.SegmentSequence[number - 1].SegmentLabel == f"{lesion['side']} hip lesion"
        values = read_values(group)
        for name, value in expected_values(lesion).items():
            assert values.pop(name) == value, name  # exact: the report stores the float itself
            compared += 1
        assert not values, f"values not in measure --json: {values}"
        assert steinberg(group) == lesion["steinberg_extent"]
        compared += 1
        # A depth below the detection limit is read "no collapse seen", never left as a bare depth.
        assert collapse_reading(group) == lesion["collapse_arco"].split(" (")[0]
        compared += 1
        collapse = {"mm"} if lesion.get("collapse_depth_mm") is not None else set()
        assert set(units(group).values()) == {"cm3", "%", "deg", *collapse}
    assert compared == 18  # 2 lesions x (2 volumes, ratio, 3 Kerboul angles, collapse, Steinberg, ARCO)
    [person] = [c for c in report.get_observer_contexts() if c.observer_type.meaning == "Person"]
    assert str(person.observer_identifying_attributes[0].value) == "JD^"
    assert sr.PatientID == pydicom.dcmread(next(sub01["scan"].iterdir())).PatientID


def head_quality(group: object) -> tuple[str, list[str]]:
    """The group's head quality (by highdicom) and its reasons to review (TEXT items, by pydicom), in
    the words of ``measure --json``."""
    [quality] = [
        q.value.value  # type: ignore[attr-defined]
        for q in group.get_qualitative_evaluations()  # type: ignore[attr-defined]
        if q.name.value == "HEAD-QUALITY"  # type: ignore[attr-defined]
    ]
    reasons = [
        item.TextValue
        for item in group[0].ContentSequence  # type: ignore[index]
        if item.ValueType == "TEXT" and item.ConceptNameCodeSequence[0].CodeValue == "HEAD-REASON"
    ]
    return {"HEAD-OK": "ok", "HEAD-REVIEW": "review"}[quality], reasons


@pytest.mark.parametrize(
    ("subject", "timepoint", "seg"),
    [("sub-01", "baseline", True), ("sub-03", "followup", False)],  # sub-03's left head needs review
)
def test_report_carries_each_heads_quality_and_reasons(capsys, tmp_path, subject, timepoint, seg) -> None:
    scan, mask = SCANS / subject / timepoint, MASKS / f"{subject}_{timepoint}_lesions.nii.gz"
    options: list[object] = []
    if seg:
        assert main(["export-seg", str(scan), str(mask), "-o", str(tmp_path / "seg.dcm")]) == 0
        options = ["--seg", tmp_path / "seg.dcm"]
    code, _, err = run(capsys, "export-sr", scan, mask, "-o", tmp_path / "r.dcm", *options)
    assert code == 0, err
    lesions = json.loads(run(capsys, "measure", scan, mask, "--json")[1])["lesions"]
    report = hd.sr.MeasurementReport.from_sequence([hd.sr.srread(tmp_path / "r.dcm")])
    groups = [*report.get_volumetric_roi_measurement_groups(), *report.get_image_measurement_groups()]
    assert len(groups) == len(lesions)
    read = [head_quality(group) for group in groups]
    assert read == [(lesion["head"]["quality"], lesion["head"]["review_reasons"]) for lesion in lesions]
    assert any(reasons for _, reasons in read) == (subject == "sub-03")  # both cases are exercised
    # dciodvfy (dicom3tools) still finds no error with the text items added.
    dciodvfy = shutil.which("dciodvfy")
    if dciodvfy is None:
        pytest.fail("dciodvfy is missing: apt-get install dicom3tools (make test does)")
    checked = subprocess.run([dciodvfy, str(tmp_path / "r.dcm")], capture_output=True, text=True)
    assert not [line for line in (checked.stderr + checked.stdout).splitlines() if line.startswith("Error")]


def test_dcmqi_reads_the_same_values(capsys, sub01) -> None:
    if not DCMQI.exists():
        pytest.fail(f"dcmqi's tid1500reader is missing at {DCMQI}: the [seg] extra installs dcmqi")
    out, metadata = sub01["folder"] / "for-dcmqi.dcm", sub01["folder"] / "dcmqi.json"
    assert run(capsys, "export-sr", sub01["scan"], sub01["mask"], "-o", out, "--seg", sub01["seg"])[0] == 0
    subprocess.run(
        [str(DCMQI), "--inputDICOM", str(out), "--outputMetadata", str(metadata)],
        check=True,
        capture_output=True,
    )
    _, text, _ = run(capsys, "measure", sub01["scan"], sub01["mask"], "--json")
    measured = json.loads(text)
    groups = json.loads(metadata.read_text())["Measurements"]
    compared = 0
    for group, lesion in zip(groups, measured["lesions"], strict=True):
        assert group["Finding"]["CodeValue"] == "6574001"
        assert group["Laterality"]["CodeMeaning"].lower() == lesion["side"]
        # dcmqi reads the decimal string (16 characters) beside the report's double: 1e-12 relative.
        values = [float(item["value"]) for item in group["measurementItems"]]
        assert values == pytest.approx(list(expected_values(lesion).values()), rel=1e-12)
        compared += len(values)
    assert compared == 14  # 2 lesions x (2 volumes, ratio, 3 Kerboul angles, collapse)


def test_dciodvfy_finds_no_error(capsys, sub01) -> None:
    dciodvfy = shutil.which("dciodvfy")
    if dciodvfy is None:
        pytest.fail("dciodvfy is missing: apt-get install dicom3tools (make test does)")
    out = sub01["folder"] / "for-dciodvfy.dcm"
    assert run(capsys, "export-sr", sub01["scan"], sub01["mask"], "-o", out, "--seg", sub01["seg"])[0] == 0
    checked = subprocess.run([dciodvfy, str(out)], capture_output=True, text=True)
    assert "Comprehensive3DSR" in checked.stderr + checked.stdout
    assert not [line for line in (checked.stderr + checked.stdout).splitlines() if line.startswith("Error")]


def test_compare_report_holds_change_and_both_series(capsys, tmp_path) -> None:
    base, follow = SCANS / "sub-01" / "baseline", SCANS / "sub-01" / "followup"
    masks = MASKS / "sub-01_baseline_lesions.nii.gz", MASKS / "sub-01_followup_lesions.nii.gz"
    argv = ["compare", base, masks[0], follow, masks[1]]
    code, text, _ = run(capsys, *argv, "--json")
    expected = json.loads(text)
    code, _, err = run(capsys, *argv, "--sr", tmp_path / "change.dcm")
    assert code == 0, err
    sr = hd.sr.srread(tmp_path / "change.dcm")
    report = hd.sr.MeasurementReport.from_sequence([sr])
    groups = {g.tracking_identifier: g for g in report.get_image_measurement_groups()}
    compared = 0
    for hip in expected["hips"]:
        group = groups[f"{hip['side']} hip change"]
        assert read_values(group)["Change of necrotic volume since baseline"] == hip["change_pct"]
        [category] = [
            q for q in group.get_qualitative_evaluations() if q.name.meaning.startswith("Change category")
        ]
        # SNOMED CT's codes of the categories (SCT Increased, Decreased, No change).
        assert (
            category.value.value
            == {"increase": "35105006", "decrease": "1250004", "no change": "260388006"}[hip["category"]]
        )
        compared += 2
    assert compared == 2 * len(expected["hips"]) == 4
    lesions = [g for name, g in groups.items() if "lesion" in name]
    assert len(lesions) == len(expected["baseline"]["lesions"]) + len(expected["followup"]["lesions"])
    evidence = {series for _, series, _, _ in ((s, se, c, i) for s, se, c, i in sr.get_evidence())}
    assert evidence == {
        expected["baseline"]["series_instance_uid"],
        expected["followup"]["series_instance_uid"],
    }


def test_compare_report_refers_to_each_timepoints_seg(capsys, sub01, tmp_path) -> None:
    base, follow = SCANS / "sub-01" / "baseline", SCANS / "sub-01" / "followup"
    masks = MASKS / "sub-01_baseline_lesions.nii.gz", MASKS / "sub-01_followup_lesions.nii.gz"
    follow_seg = tmp_path / "followup-seg.dcm"
    assert main(["export-seg", str(follow), str(masks[1]), "-o", str(follow_seg)]) == 0
    argv = ["compare", base, masks[0], follow, masks[1], "--no-head"]
    segs = {"baseline": pydicom.dcmread(sub01["seg"]), "followup": pydicom.dcmread(follow_seg)}
    for given, out in (
        ({"followup"}, tmp_path / "one.dcm"),
        ({"baseline", "followup"}, tmp_path / "two.dcm"),
    ):
        options = [
            item
            for when in sorted(given)
            for item in (f"--{when}-seg", sub01["folder"] / "seg.dcm" if when == "baseline" else follow_seg)
        ]
        code, text, err = run(capsys, *argv, "--sr", out, *options)
        assert code == 0, err
        assert "referring to their SEG segments" in text
        report = hd.sr.MeasurementReport.from_sequence([hd.sr.srread(out)])
        referred = {
            g.tracking_identifier: g.referenced_segment
            for g in report.get_volumetric_roi_measurement_groups()
        }
        # "right hip lesion 1 (followup)": each lesion of a timepoint given a SEG refers to the segment
        # of its own hip in that SEG; the others keep their traced images.
        assert sorted(referred) == sorted(
            f"{side} hip lesion {label} ({when})"
            for when in given
            for side, label in (("right", 1), ("left", 2))
        )
        for name, segment in referred.items():
            when, side = name.split("(")[1].rstrip(")"), name.split()[0]
            assert segment.referenced_sop_instance_uid == segs[when].SOPInstanceUID
            [number] = segment.referenced_segment_numbers
            assert segs[when].SegmentSequence[number - 1].SegmentLabel == f"{side} hip lesion"
        assert len(report.get_image_measurement_groups()) == 2 * (2 - len(given)) + 2  # + both hips' change
    # The baseline's SEG given as the follow-up's: refused in one line, nothing written.
    code, _, err = run(capsys, *argv, "--sr", tmp_path / "wrong.dcm", "--followup-seg", sub01["seg"])
    assert code == 2 and "not on the scan's series" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "wrong.dcm").exists()
    # A SEG without --sr would be silently unused: refused.
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in (*argv, "--followup-seg", follow_seg)])
    assert exit_info.value.code == 2 and "give --sr" in capsys.readouterr().err


def test_compare_report_with_roi_matches_the_lesions_measured_to_the_seg(capsys, tmp_path) -> None:
    import nibabel as nib

    base, follow = SCANS / "sub-01" / "baseline", SCANS / "sub-01" / "followup"
    masks = {}
    for when, scan in (("baseline", base), ("followup", follow)):
        masks[when] = tmp_path / f"{when}.dcm"  # segments "right hip lesion" and "left hip lesion"
        nifti = MASKS / f"sub-01_{when}_lesions.nii.gz"
        assert main(["export-seg", str(scan), str(nifti), "-o", str(masks[when])]) == 0
    # A SEG of the follow-up's left lesion alone: the one --roi measures.
    image = nib.load(MASKS / "sub-01_followup_lesions.nii.gz")
    left = (image.get_fdata() == 2).astype("uint8") * 2
    nib.save(nib.Nifti1Image(left, image.affine, image.header), tmp_path / "left.nii.gz")
    assert (
        main(["export-seg", str(follow), str(tmp_path / "left.nii.gz"), "-o", str(tmp_path / "left.dcm")])
        == 0
    )
    argv = [
        "compare",
        base,
        masks["baseline"],
        follow,
        masks["followup"],
        "--roi",
        "left hip lesion",
        "--no-head",
    ]
    code, _, err = run(capsys, *argv, "--sr", tmp_path / "r.dcm", "--followup-seg", tmp_path / "left.dcm")
    assert code == 0, err
    report = hd.sr.MeasurementReport.from_sequence([hd.sr.srread(tmp_path / "r.dcm")])
    [group] = report.get_volumetric_roi_measurement_groups()
    assert group.tracking_identifier == "left hip lesion 2 (followup)"
    assert (
        group.referenced_segment.referenced_sop_instance_uid
        == pydicom.dcmread(tmp_path / "left.dcm").SOPInstanceUID
    )


def test_a_seg_of_one_lesion_is_referred_to(capsys, tmp_path) -> None:
    # highdicom states the one segment of such a SEG once for all frames (shared functional groups).
    scan, mask = SCANS / "sub-02" / "baseline", MASKS / "sub-02_baseline_lesions.nii.gz"
    assert main(["export-seg", str(scan), str(mask), "-o", str(tmp_path / "seg.dcm")]) == 0
    code, _, err = run(
        capsys, "export-sr", scan, mask, "-o", tmp_path / "r.dcm", "--seg", tmp_path / "seg.dcm"
    )
    assert code == 0, err
    seg = pydicom.dcmread(tmp_path / "seg.dcm")
    report = hd.sr.MeasurementReport.from_sequence([hd.sr.srread(tmp_path / "r.dcm")])
    [group] = report.get_volumetric_roi_measurement_groups()
    assert group.referenced_segment.referenced_sop_instance_uid == seg.SOPInstanceUID
    assert group.referenced_segment.referenced_segment_numbers == [1]
    # Its source images: the images the SEG's frames are derived from, each once.
    sources = {
        item.ReferencedSOPInstanceUID
        for frame in seg.PerFrameFunctionalGroupsSequence
        for derivation in frame.DerivationImageSequence
        for item in derivation.SourceImageSequence
    }
    referred = group.referenced_segment.source_images_for_segmentation
    assert {item.referenced_sop_instance_uid for item in referred} == sources
    assert len(referred) == len(sources) == seg.NumberOfFrames


def test_refusals(capsys, sub01, tmp_path) -> None:
    code, _, err = run(
        capsys,
        "export-sr",
        "sample_scans/nifti/sub-01_baseline.nii.gz",
        sub01["mask"],
        "-o",
        tmp_path / "r.dcm",
    )
    assert code == 2 and "NIfTI" in err and len(err.strip().splitlines()) == 1
    other = tmp_path / "other-seg.dcm"
    assert (
        main(
            [
                "export-seg",
                str(SCANS / "sub-01" / "followup"),
                str(MASKS / "sub-01_followup_lesions.nii.gz"),
                "-o",
                str(other),
            ]
        )
        == 0
    )
    capsys.readouterr()
    code, _, err = run(
        capsys, "export-sr", sub01["scan"], sub01["mask"], "-o", tmp_path / "r.dcm", "--seg", other
    )
    assert code == 2 and "not on the scan's series" in err and not (tmp_path / "r.dcm").exists()
