"""Necrotic ratio, Steinberg extent and the modified Kerboul angle against analytic shapes."""

from __future__ import annotations

import numpy as np
import pytest

from onfh_volume.head import HeadSphere, kerboul_angle, necrotic_ratio_pct, steinberg_extent
from onfh_volume.scan import LPS_TO_RAS, Scan
from onfh_volume.testing.dicom_series import CORONAL

#: The Kerboul arc is read in the subchondral zone: the outer 5 mm of the head (see the user guide).
DEPTH_MM = 5.0
#: Traced lesions stop at the marrow, under a 2 mm cortex.
CORTEX_MM = 2.0


def clinical_grid(slices: int = 16, size: int = 64) -> Scan:
    """A coronal protocol as in the clinic: 1.6 mm pixels, 4 mm slices every 4.4 mm, around RAS (0, 0, 0)."""
    affine = np.eye(4)
    affine[:3, 0] = 4.4 * np.cross(CORONAL[:3], CORONAL[3:])
    affine[:3, 1] = 1.6 * np.array(CORONAL[3:])
    affine[:3, 2] = 1.6 * np.array(CORONAL[:3])
    affine[:3, 3] = -(affine[:3, :3] @ ((np.array([slices, size, size]) - 1) / 2))
    affine = LPS_TO_RAS @ affine
    return Scan(None, (1.6, 1.6), 4.0, 4.4, affine, "grid", grid=(slices, size, size))


def ball_lesion(scan: Scan, centre: np.ndarray, radius: float, head_radius: float) -> np.ndarray:
    """The voxels whose centre is in a ball lesion, clipped to the marrow of a head centred at 0."""
    points = scan.index_to_patient(np.indices(scan.shape).reshape(3, -1).T)
    inside = (np.linalg.norm(points - centre, axis=1) <= radius) & (
        np.linalg.norm(points, axis=1) <= head_radius - CORTEX_MM
    )
    return inside.reshape(scan.shape)


def arc_truth(centre: np.ndarray, radius: float, head_radius: float, normal: np.ndarray) -> float:
    """Arc (deg) under which a ball lesion reaches the subchondral zone, on the plane through 0 with ``normal``.

    The ball cuts the plane in a circle (radius a, centre at distance D); at distance rho from the
    head centre it spans ± arccos((rho² + D² - a²) / (2 rho D)), widest where rho is tangent to it
    (sqrt(D² - a²)) or as near as the zone [R - 5 mm, R - 2 mm] (the marrow's edge) allows.
    """
    off_plane = centre @ normal
    if abs(off_plane) >= radius:
        return 0.0
    a = np.sqrt(radius**2 - off_plane**2)
    d = np.linalg.norm(centre - off_plane * normal)
    low, high = head_radius - DEPTH_MM, min(head_radius - CORTEX_MM, d + a)
    if low > high:
        return 0.0
    rho = np.clip(np.sqrt(max(d**2 - a**2, 0.0)), low, high)
    return 2 * np.degrees(np.arccos(np.clip((rho**2 + d**2 - a**2) / (2 * rho * d), -1, 1)))


@pytest.mark.parametrize(
    ("centre", "radius"),
    [
        ((0.0, 0.0, 14.0), 10.0),  # under the dome, in both planes
        ((6.0, -4.0, 13.0), 11.0),  # lateral and anterior: off both planes
        ((-3.0, 5.0, 10.0), 14.0),  # large, reaching into the core
        ((9.0, 0.0, 12.0), 8.0),  # small, superolateral
    ],
)
def test_kerboul_angle_matches_the_arc_of_a_ball_lesion(
    centre: tuple[float, float, float], radius: float
) -> None:
    scan = clinical_grid()
    head = HeadSphere((0.0, 0.0, 0.0), 24.0, 0.0, "points", 20)
    c = np.array(centre)
    angle = kerboul_angle(scan, ball_lesion(scan, c, radius, head.radius_mm), head)
    coronal = arc_truth(c, radius, head.radius_mm, np.array([0.0, 1.0, 0.0]))
    sagittal = arc_truth(c, radius, head.radius_mm, np.array([1.0, 0.0, 0.0]))
    assert angle.coronal == pytest.approx(coronal, abs=10)
    assert angle.sagittal == pytest.approx(sagittal, abs=10)
    assert angle.combined == pytest.approx(coronal + sagittal, abs=15)


def test_a_lesion_deep_in_the_head_undermines_no_articular_surface() -> None:
    scan = clinical_grid()
    head = HeadSphere((0.0, 0.0, 0.0), 24.0, 0.0, "points", 20)
    angle = kerboul_angle(scan, ball_lesion(scan, np.zeros(3), 8.0, 24.0), head)
    assert (angle.coronal, angle.sagittal) == (0.0, 0.0)


def test_necrotic_ratio_and_steinberg_extent_with_the_class_boundaries() -> None:
    head = HeadSphere((0.0, 0.0, 0.0), 25.0, 0.0, "points", 20)
    sphere_cm3 = 4 / 3 * np.pi * 25.0**3 / 1000  # 65.45 cm³
    assert necrotic_ratio_pct(6.545, head) == pytest.approx(100 * 6.545 / sphere_cm3, rel=1e-12)
    cases = {14.999: "A", 15.0: "B", 22.0: "B", 30.0: "B", 30.001: "C", 80.0: "C"}
    assert {pct: steinberg_extent(pct) for pct in cases} == cases
