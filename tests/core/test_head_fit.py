"""The femoral head found around each lesion, against the spheres the sample scans were drawn with."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from types import ModuleType

import numpy as np
import pytest
from helpers import SAMPLES

from onfh_volume import load_mask, load_scan, measure
from onfh_volume.errors import HeadFitError, HeadNotFoundError, LesionOutsideHeadError
from onfh_volume.head import head_from_image, head_from_mask, head_from_points, lesions_in_heads
from onfh_volume.head.fit import check_lesion_inside
from onfh_volume.scan import Scan


@cache
def generator() -> ModuleType:
    """sample_scans/generate.py, which knows each femoral head's centre and radius."""
    spec = importlib.util.spec_from_file_location("sample_generate", SAMPLES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@cache
def sample(patient_id: str, timepoint: str) -> tuple[Scan, np.ndarray]:
    scan = load_scan(SAMPLES / "dicom" / patient_id / timepoint)
    return scan, load_mask(SAMPLES / "masks" / f"{patient_id}_{timepoint}_lesions.nii.gz", scan)


def true_head(patient_id: str, timepoint: str, side: int) -> tuple[np.ndarray, float]:
    """Centre (RAS mm) and radius of the femoral head the generator drew: its outer bone surface."""
    g = generator()
    patient = next(p for p in g.PATIENTS if p.patient_id == patient_id)
    lps = g.head_centre(patient, side) + patient.shift(timepoint)
    return np.array([-lps[0], -lps[1], lps[2]]), patient.head_radius


LESIONS = [
    ("sub-01", "baseline", -1),
    ("sub-01", "baseline", 1),
    ("sub-01", "followup", -1),
    ("sub-01", "followup", 1),
    ("sub-02", "baseline", -1),
    ("sub-02", "followup", -1),
    ("sub-03", "followup", 1),
]


@pytest.mark.parametrize(("patient_id", "timepoint", "side"), LESIONS)
def test_the_head_found_in_the_image_is_the_drawn_sphere(patient_id: str, timepoint: str, side: int) -> None:
    scan, labels = sample(patient_id, timepoint)
    head = head_from_image(scan, labels == (1 if side < 0 else 2))
    centre, radius = true_head(patient_id, timepoint, side)
    assert head.source == "image"
    assert abs(head.radius_mm - radius) < 1.0
    assert np.linalg.norm(np.array(head.centre_ras) - centre) < 1.5
    assert head.fit_rms_mm < 1.0


@pytest.mark.parametrize(("patient_id", "timepoint", "side"), LESIONS)
def test_necrotic_ratio_and_steinberg_against_the_drawn_sphere(
    patient_id: str, timepoint: str, side: int
) -> None:
    scan, labels = sample(patient_id, timepoint)
    label = 1 if side < 0 else 2
    found = lesions_in_heads(measure(scan, labels), labels)[label]
    _, radius = true_head(patient_id, timepoint, side)
    # Truth: the lesion's voxels x pixel area x slice spacing over the drawn sphere's volume.
    lesion_mm3 = np.count_nonzero(labels == label) * 1.6 * 1.6 * 4.4
    truth = 100 * lesion_mm3 / (4 / 3 * np.pi * radius**3)
    assert found.necrotic_ratio_pct == pytest.approx(truth, abs=3.0)
    if min(abs(truth - 15), abs(truth - 30)) > 3.0:
        assert found.steinberg_extent == ("A" if truth < 15 else "B" if truth <= 30 else "C")


def test_the_reader_s_points_and_traced_head_give_the_same_sphere() -> None:
    scan, _ = sample("sub-01", "baseline")
    centre, radius = true_head("sub-01", "baseline", -1)
    rng = np.random.default_rng(1)
    directions = rng.normal(size=(12, 3))
    directions[:, 2] = np.abs(directions[:, 2])  # clicked on the upper half, as the acetabulum shows it
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    clicked = head_from_points(centre + radius * directions + rng.normal(0, 0.3, (12, 3)))
    assert clicked.source == "points"
    assert abs(clicked.radius_mm - radius) < 0.5
    # A traced head: the voxels whose centre lies inside the sphere.
    inside = np.linalg.norm(scan.index_to_patient(np.indices(scan.shape).reshape(3, -1).T) - centre, axis=1)
    traced = head_from_mask(scan, (inside <= radius).reshape(scan.shape))
    assert traced.source == "mask"
    assert abs(traced.radius_mm - radius) < 0.5
    assert np.linalg.norm(np.array(traced.centre_ras) - centre) < 0.5


def test_no_head_near_a_lesion_drawn_in_the_pelvis_is_refused() -> None:
    scan, _ = sample("sub-01", "baseline")
    lesion = np.zeros(scan.shape, dtype=bool)
    lesion[6, 150:156, 108:116] = True  # below the pubic symphysis, between the thighs
    with pytest.raises(HeadNotFoundError, match="no femoral head"):
        head_from_image(scan, lesion)


def test_a_lesion_outside_its_head_is_refused() -> None:
    scan, labels = sample("sub-01", "baseline")
    centre, radius = true_head("sub-01", "baseline", 1)  # the left head, for the right hip's lesion
    t = np.radians(np.arange(0, 360, 30))
    ring = np.c_[radius * np.cos(t), np.zeros(12), radius * np.sin(t)]
    cap = np.c_[radius / 2 * np.cos(t), np.full(12, radius * np.sqrt(0.75)), radius / 2 * np.sin(t)]
    wrong = head_from_points(np.r_[ring, cap] + centre)
    with pytest.raises(LesionOutsideHeadError, match="100% of the lesion lies outside"):
        check_lesion_inside(scan, labels == 1, wrong)
    measurement = measure(scan, labels)
    result = lesions_in_heads(measurement, labels, points={"right": np.r_[ring, cap] + centre})[1]
    assert result.head is None and result.necrotic_ratio_pct is None
    assert "outside the femoral head" in (result.failure or "")


@pytest.mark.parametrize(
    ("radius", "noise", "message"),
    [(40.0, 0.1, "outside adult heads' 18-30 mm"), (24.0, 3.0, "mm RMS from their sphere")],
)
def test_an_implausible_sphere_is_refused_never_passed_on(radius: float, noise: float, message: str) -> None:
    rng = np.random.default_rng(2)
    directions = rng.normal(size=(40, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    with pytest.raises(HeadFitError, match=message):
        head_from_points(radius * directions + rng.normal(0, noise, (40, 3)))


def test_points_in_one_plane_or_too_few_are_refused() -> None:
    t = np.radians(np.arange(0, 360, 30))
    with pytest.raises(HeadFitError, match="in one plane"):
        head_from_points(np.c_[24 * np.cos(t), np.zeros(12), 24 * np.sin(t)])
    with pytest.raises(HeadFitError, match="at least 5 needed"):
        head_from_points(np.eye(3) * 24)
