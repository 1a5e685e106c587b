"""The femoral head, its measures and the side on realistic phantoms of one hip with exact truth."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from onfh_volume import measure
from onfh_volume.cli import main
from onfh_volume.head import head_from_image, lesions_in_heads
from onfh_volume.head.measures import SUBCHONDRAL_MM
from onfh_volume.mask import save_mask
from onfh_volume.testing.head_truth import (
    CORONAL_NORMAL,
    SAGITTAL_NORMAL,
    kerboul_truth,
    necrotic_ratio_truth,
)
from onfh_volume.testing.phantom import Phantom, make_phantom
from onfh_volume.testing.phantom_set import SMALL
from onfh_volume.trace.segment import trace_lesion


@cache
def one_hip(side: int) -> Phantom:
    """A small field of one hip (105 x 120 mm) centred 20 mm lateral of the head: the field's centre,
    which the old side rule took for the midline, lies on the wrong side of the head's lesion."""
    acquisition = dataclasses.replace(SMALL.acquisition, centre=(side * 110.0, 0.0, -6.0))
    lesions = tuple(dataclasses.replace(lesion, side=side) for lesion in SMALL.lesions)
    name = "small-right-lateral" if side < 0 else "small-left-lateral"
    return make_phantom(dataclasses.replace(SMALL, name=name, acquisition=acquisition, lesions=lesions))


@pytest.mark.parametrize(("side", "name"), [(-1, "right"), (1, "left")])
def test_head_and_measures_match_the_phantom_s_truth(side: int, name: str) -> None:
    phantom = one_hip(side)
    measurement = measure(phantom.scan, phantom.labels)
    (lesion,) = measurement.lesions
    (head_truth,) = phantom.heads
    assert lesion.side == name == head_truth.side
    result = lesions_in_heads(measurement, phantom.labels)[lesion.label]
    assert result.head is not None
    assert abs(result.head.radius_mm - head_truth.radius_mm) < 1.0
    assert np.linalg.norm(np.subtract(result.head.centre_ras, head_truth.centre_ras)) < 1.5
    truth_pct = necrotic_ratio_truth(phantom, lesion.label)
    assert result.necrotic_ratio_pct == pytest.approx(truth_pct, abs=3.0)
    assert result.steinberg_extent == "A" and truth_pct < 12  # away from the 15% boundary
    coronal = kerboul_truth(phantom, lesion.label, CORONAL_NORMAL, SUBCHONDRAL_MM)
    sagittal = kerboul_truth(phantom, lesion.label, SAGITTAL_NORMAL, SUBCHONDRAL_MM)
    assert result.kerboul is not None
    assert result.kerboul.combined == pytest.approx(coronal + sagittal, abs=15)


@pytest.mark.parametrize("side", [-1, 1])
def test_the_band_fill_and_the_measures_find_the_same_drawn_head(side: int) -> None:
    """One image head finder: the head the band fill traces in (from a click) and the one the
    measures report (from the traced lesion) are both the drawn sphere, so they agree."""
    phantom = one_hip(side)
    (truth,) = phantom.heads
    label = 1 if side < 0 else 2
    inside = np.argwhere(phantom.inside)
    band_fill = trace_lesion(phantom.scan, tuple(inside[len(inside) // 2])).head
    measures = head_from_image(phantom.scan, phantom.labels == label)
    for centre, radius in (
        (band_fill.centre_ras(phantom.scan), band_fill.radius_mm),
        (np.array(measures.centre_ras), measures.radius_mm),
    ):
        assert np.linalg.norm(centre - truth.centre_ras) < 1.0
        assert abs(radius - truth.radius_mm) < 0.5


@pytest.mark.parametrize(("side", "name"), [(-1, "right"), (1, "left")])
def test_measure_json_of_a_one_hip_scan(side: int, name: str, tmp_path: Path, capsys) -> None:
    phantom = one_hip(side)
    phantom.write_dicom(tmp_path / "series")
    save_mask(tmp_path / "mask.nii.gz", phantom.labels, phantom.scan)
    assert main(["measure", str(tmp_path / "series"), str(tmp_path / "mask.nii.gz"), "--json"]) == 0
    (lesion,) = json.loads(capsys.readouterr().out)["lesions"]
    (head_truth,) = phantom.heads
    assert lesion["side"] == name
    assert lesion["head"]["source"] == "image"
    assert lesion["head"]["radius_mm"] == pytest.approx(head_truth.radius_mm, abs=1.0)
    assert lesion["head"]["volume_cm3"] == pytest.approx(
        4 / 3 * np.pi * lesion["head"]["radius_mm"] ** 3 / 1000
    )
    assert lesion["steinberg_extent"] == "A"
    assert set(lesion["kerboul_angle_deg"]) == {"coronal", "sagittal", "combined"}
    assert (
        main(["measure", str(tmp_path / "series"), str(tmp_path / "mask.nii.gz"), "--json", "--no-head"]) == 0
    )
    (lesion,) = json.loads(capsys.readouterr().out)["lesions"]
    assert "head" not in lesion and "necrotic_ratio_pct" not in lesion
