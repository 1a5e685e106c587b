"""The 15% rule: exact at the boundary, configurable, zero baselines, per hip, protocol warnings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers import write_dicom_series

from onfh_volume import CATEGORIES, classify_change, compare, load_scan, measure


@pytest.mark.parametrize(
    ("baseline", "followup", "category"),
    [
        (100.0, 115.0, "increase"),  # exactly +15%
        (10.0, 11.5, "increase"),  # +15% with floating-point noise (11.5 / 10 - 1 != 0.15 exactly)
        (1.4, 1.61, "increase"),
        (0.2, 0.23, "increase"),
        (100.0, 85.0, "decrease"),  # exactly -15%
        (0.2, 0.17, "decrease"),
        (1.4, 1.19, "decrease"),
        (100.0, 114.99, "no change"),
        (100.0, 85.01, "no change"),
        (100.0, 100.0, "no change"),
        (100.0, 0.0, "decrease"),
        (5.0, 20.0, "increase"),
    ],
)
def test_categories_at_and_around_the_boundary(baseline: float, followup: float, category: str) -> None:
    change = classify_change(baseline, followup)
    assert change.category == category
    assert change.change_pct == pytest.approx((followup - baseline) / baseline * 100, rel=1e-12, abs=1e-12)


def test_boundary_holds_for_every_volume_pair_with_a_fifteen_percent_step() -> None:
    # Volumes as the pipeline computes them: counts x pixel area x thickness.
    for count in range(20, 4000, 20):
        before = count * 0.7 * 0.9 * 4.0 / 1000
        assert classify_change(before, count * 115 // 100 * 0.7 * 0.9 * 4.0 / 1000).category == "increase"
        assert classify_change(before, count * 85 // 100 * 0.7 * 0.9 * 4.0 / 1000).category == "decrease"


def test_threshold_is_configurable() -> None:
    assert classify_change(10.0, 11.0, threshold_pct=10).category == "increase"
    assert classify_change(10.0, 11.0, threshold_pct=15).category == "no change"
    assert classify_change(10.0, 7.9, threshold_pct=20).category == "decrease"
    with pytest.raises(ValueError, match="positive percentage"):
        classify_change(10.0, 11.0, threshold_pct=0)


def test_zero_baseline() -> None:
    new = classify_change(0.0, 2.5)
    assert (new.category, new.change_pct) == ("new lesion", None)
    none = classify_change(0.0, 0.0)
    assert (none.category, none.change_pct) == ("no lesion", None)


def test_categories_are_exactly_these_strings() -> None:
    assert CATEGORIES == ("decrease", "no change", "increase", "new lesion", "no lesion")


def _labels(shape: tuple[int, int, int], right: int, left: int) -> np.ndarray:
    """``right`` pixels in the right hip (label 1) and ``left`` in the left (label 2), on slice 2."""
    labels = np.zeros(shape, dtype=np.uint8)
    rows, cols = np.unravel_index(np.arange(right), (shape[1], 100))
    labels[2, rows, cols] = 1
    rows, cols = np.unravel_index(np.arange(left), (shape[1], 100))
    labels[3, rows, cols + 210] = 2
    return labels


def test_compare_reports_both_hips(tmp_path: Path) -> None:
    scan = load_scan(write_dicom_series(tmp_path / "s"))
    baseline = measure(scan, _labels(scan.shape, right=1000, left=0))
    followup = measure(scan, _labels(scan.shape, right=850, left=120))
    result = compare(baseline, followup)
    by_side = {hip.side: hip for hip in result.hips}
    assert set(by_side) == {"right", "left"}
    assert by_side["right"].change.category == "decrease"
    assert by_side["right"].change.change_pct == pytest.approx(-15.0)
    assert by_side["right"].change.baseline_cm3 == pytest.approx(1000 * 0.72 * 4.0 / 1000)
    assert by_side["right"].baseline.cavalieri_cm3 == pytest.approx(1000 * 0.72 * 4.4 / 1000)
    assert by_side["left"].change.category == "new lesion"
    assert by_side["left"].followup.labels == (2,)
    assert not any("differs between timepoints" in w for w in result.warnings)
    assert any(w.startswith("baseline: slice gap of 0.4 mm") for w in result.warnings)


def test_compare_with_no_lesion_anywhere_says_so(tmp_path: Path) -> None:
    scan = load_scan(write_dicom_series(tmp_path / "s"))
    empty = measure(scan, np.zeros(scan.shape, dtype=np.uint8))
    assert [hip.change.category for hip in compare(empty, empty).hips] == ["no lesion", "no lesion"]


def test_two_labels_in_one_hip_are_summed_with_a_warning(tmp_path: Path) -> None:
    scan = load_scan(write_dicom_series(tmp_path / "s"))
    labels = _labels(scan.shape, right=200, left=0)
    labels[4, 0:5, 0:20] = 3  # a second right-hip focus
    baseline = measure(scan, labels)
    result = compare(baseline, baseline)
    right = next(hip for hip in result.hips if hip.side == "right")
    assert right.baseline.labels == (1, 3)
    assert right.change.baseline_cm3 == pytest.approx(300 * 0.72 * 4.0 / 1000)
    assert any("right hip has 2 lesion labels [1, 3]" in w for w in result.warnings)


def test_protocol_change_is_warned(tmp_path: Path) -> None:
    before = load_scan(write_dicom_series(tmp_path / "a", thickness=4.0, spacing=4.4))
    after = load_scan(write_dicom_series(tmp_path / "b", thickness=3.0, spacing=3.3))
    result = compare(
        measure(before, _labels(before.shape, 500, 0)), measure(after, _labels(after.shape, 500, 0))
    )
    assert any(
        "slice thickness differs between timepoints (baseline 4 mm, follow-up 3 mm, -25.0%)" in w
        for w in result.warnings
    )
    assert any("slice spacing differs" in w for w in result.warnings)
    right = next(hip for hip in result.hips if hip.side == "right")
    # Same traced area, thinner slices: area x thickness drops 25%, a "decrease" the reader must doubt.
    assert right.change.change_pct == pytest.approx(-25.0)


def test_float32_noise_in_scanner_positions_does_not_tip_an_exact_fifteen_percent(tmp_path: Path) -> None:
    """Positions written from float32 (-28.599998474121) must not turn +15.000% into 'no change'."""
    scans = []
    for name, first_y in (("a", -28.6), ("b", -31.3)):
        folder = write_dicom_series(tmp_path / name, first=(-143.6, float(np.float32(first_y)), 60.0))
        for k, path in enumerate(sorted(folder.iterdir())):
            ds = pydicom.dcmread(path)
            ds.ImagePositionPatient = [
                f"{float(np.float32(v)):.12g}" for v in (-143.6, first_y + 4.4 * k, 60.0)
            ]
            ds.save_as(path)
        scans.append(load_scan(folder))
    before = measure(scans[0], _labels(scans[0].shape, right=1000, left=0), method="spacing")
    after = measure(scans[1], _labels(scans[1].shape, right=1150, left=0), method="spacing")
    right = next(hip for hip in compare(before, after).hips if hip.side == "right")
    assert right.change.category == "increase"
