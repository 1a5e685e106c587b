"""Rigid registration of one femoral head of a follow-up to the baseline, with SimpleITK.

SimpleITK (the ``register`` extra: ``pip install 'onfh-volume[register]'``) is imported only here,
and its absence is one line. The baseline image around its head (a sphere of the head's radius
plus ``MARGIN_MM``) is the fixed image; the follow-up is moving; the transform is rigid (Euler
3-D about the baseline head's centre), started from the shift of the head centres found in each
image, and optimised on the normalised correlation (the same sequence at both timepoints, its
scaling free) in two resolutions. Patient coordinates are the scans' (RAS mm).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..extras import require
from ..scan import Scan

MARGIN_MM = 8.0  # around the head: its cortex, cartilage and the acetabulum's edge steer the fit
MAX_RESIDUAL_MM = 2.0  # head centre mapped farther than this from the follow-up's own: review
MIN_CORRELATION = 0.5  # a poorer final correlation than this: review


@dataclass(frozen=True)
class Registration:
    """Follow-up to baseline: ``to_baseline`` maps follow-up RAS points to the baseline's."""

    matrix: np.ndarray  # 3 x 3, follow-up point -> baseline point: matrix @ (p - centre) + centre + shift
    centre: np.ndarray  # the baseline head's centre, about which the transform turns
    shift: np.ndarray
    correlation: float  # the final normalised correlation, 1 = identical
    residual_mm: float  # the baseline head centre mapped to the follow-up, against the follow-up's own

    def to_baseline(self, points: np.ndarray) -> np.ndarray:
        """Follow-up RAS points (N, 3) in baseline RAS."""
        return (points - self.centre) @ self.matrix.T + self.centre + self.shift

    def to_followup(self, points: np.ndarray) -> np.ndarray:
        """Baseline RAS points (N, 3) in follow-up RAS: the inverse of :meth:`to_baseline`."""
        return np.linalg.solve(self.matrix, (points - self.centre - self.shift).T).T + self.centre

    def residual_to(self, followup_centre: np.ndarray) -> float:
        """Distance (mm) of the baseline head's centre, mapped to the follow-up, from ``followup_centre``."""
        return float(np.linalg.norm(self.to_followup(self.centre[None])[0] - followup_centre))

    def reasons(self) -> list[str]:
        """Why the registration needs review; empty when none."""
        reasons = []
        if self.correlation < MIN_CORRELATION:
            reasons.append(f"registration correlation {self.correlation:.2f} below {MIN_CORRELATION}")
        if self.residual_mm > MAX_RESIDUAL_MM:
            reasons.append(f"head centres {self.residual_mm:.1f} mm apart after registration")
        return reasons


def simpleitk() -> Any:
    """The SimpleITK module, or a one-line refusal naming the extra."""
    require("register", "propagate")
    import SimpleITK

    return SimpleITK


def sitk_image(scan: Scan, voxels: np.ndarray | None = None) -> Any:
    """``scan`` (or ``voxels`` on its grid) as a SimpleITK image in RAS millimetres."""
    sitk = simpleitk()
    image = sitk.GetImageFromArray(np.asarray(scan.voxels if voxels is None else voxels, dtype=np.float32))
    steps = np.linalg.norm(scan.affine[:3, :3], axis=0)
    axes = scan.affine[:3, :3] / steps  # columns: slice, row, column directions
    image.SetSpacing(tuple(float(v) for v in steps[::-1]))
    image.SetOrigin(tuple(float(v) for v in scan.affine[:3, 3]))
    image.SetDirection(tuple(float(v) for v in axes[:, ::-1].ravel()))
    return image


def register_head(
    baseline: Scan, followup: Scan, baseline_centre: np.ndarray, followup_centre: np.ndarray, radius_mm: float
) -> Registration:
    """Register the follow-up's head to the baseline's (see the module's description)."""
    sitk = simpleitk()
    fixed, moving = sitk_image(baseline), sitk_image(followup)
    points = baseline.index_to_patient(np.argwhere(np.ones(baseline.shape, dtype=bool)))
    near = np.linalg.norm(points - baseline_centre, axis=1) <= radius_mm + MARGIN_MM
    mask = sitk.GetImageFromArray(near.reshape(baseline.shape).astype(np.uint8))
    mask.CopyInformation(fixed)
    transform = sitk.Euler3DTransform()
    transform.SetCenter(tuple(float(v) for v in baseline_centre))
    transform.SetTranslation(tuple(float(v) for v in np.subtract(followup_centre, baseline_centre)))
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsCorrelation()
    method.SetMetricFixedMask(mask)
    method.SetMetricSamplingStrategy(method.NONE)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=2.0, minStep=0.01, numberOfIterations=150, relaxationFactor=0.6
    )
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel([2, 1])
    method.SetSmoothingSigmasPerLevel([1.0, 0.0])
    method.SetInitialTransform(transform, inPlace=True)
    method.Execute(fixed, moving)
    correlation = -float(method.GetMetricValue())
    # The fitted transform maps baseline points to follow-up points; its inverse is what we keep.
    forward = np.reshape(transform.GetMatrix(), (3, 3))
    centre = np.array(transform.GetCenter())
    inverse = forward.T
    registration = Registration(
        matrix=inverse,
        centre=centre,
        shift=-(inverse @ np.array(transform.GetTranslation())),
        correlation=correlation,
        residual_mm=0.0,
    )
    return replace(registration, residual_mm=registration.residual_to(followup_centre))
