"""Carry a baseline lesion to the follow-up: rigid registration per hip, mapping, band fill refinement.

Per hip of the baseline mask (label 1 right, 2 left):

1. the head is found around the baseline lesion (:func:`onfh_volume.head.head_from_image`) and on
   the follow-up without a click (:func:`onfh_volume.draft.heads.find_heads`);
2. the follow-up's head region is registered rigidly to the baseline's
   (:func:`onfh_volume.draft.register.register_head`): patients lie differently, slices fall elsewhere;
3. the baseline lesion is mapped onto the follow-up grid (trilinear, kept at one half);
4. the band fill traces the follow-up lesion from the mapped lesion's deepest voxels (the lesion may
   have grown, shrunk or collapsed): the follow-up's own band decides its outline. Where no seed
   gives a lesion, the mapped lesion is kept and the hip flagged for review.

Each hip says how well it registered and, for review, why; and where the lesion changed: the volume
gained (traced at follow-up, not in the mapped baseline) and lost (the reverse).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..errors import HeadError, MaskError, OnfhError
from ..head import head_from_image
from ..head.fit import HeadSphere
from ..scan import Scan
from ..trace.segment import trace_lesion
from ..vocabulary import LABEL_OF_SIDE
from .heads import find_heads
from .register import Registration, register_head

SEEDS = 4  # the mapped lesion's deepest voxels (on different slices) tried as band fill seeds
MIN_AGREEMENT = 0.4  # Dice of the traced follow-up lesion with the mapped one below this: review


@dataclass
class HipCarry:
    """One hip carried to the follow-up."""

    side: str
    label: int
    status: str  # "propagated" or "review"
    reasons: list[str] = field(default_factory=list)
    registration: Registration | None = None
    head: HeadSphere | None = None
    mapped: np.ndarray | None = None  # the baseline lesion on the follow-up grid
    lesion: np.ndarray | None = None  # the follow-up lesion


def propagate(
    baseline: Scan, baseline_labels: np.ndarray, followup: Scan
) -> tuple[np.ndarray, list[HipCarry]]:
    """Follow-up labels (1 right, 2 left) carried from the baseline, and each hip's account.

    Raises
    ------
    MaskError
        When the baseline mask holds no lesion.
    HeadNotFoundError
        When the follow-up shows no femoral head.
    MissingExtraError
        When SimpleITK is not installed.
    """
    present = [label for label in sorted(LABEL_OF_SIDE.values()) if np.any(baseline_labels == label)]
    if not present:
        raise MaskError(baseline.source, "the baseline mask holds no lesion (label 1 or 2): nothing to carry")
    heads = find_heads(followup)
    labels = np.zeros(followup.shape, dtype=np.uint8)
    hips = []
    for label in present:
        side = next(s for s, value in LABEL_OF_SIDE.items() if value == label)
        hip = _carry(baseline, baseline_labels == label, followup, heads.get(side), side, label)
        if hip.lesion is not None:
            labels[hip.lesion & (labels == 0)] = label
        hips.append(hip)
    return labels, hips


def _carry(
    baseline: Scan, lesion: np.ndarray, followup: Scan, head: HeadSphere | None, side: str, label: int
) -> HipCarry:
    """Carry one hip's lesion (see the module's description)."""
    if head is None:
        return HipCarry(side, label, "review", [f"no {side} femoral head found on the follow-up"])
    try:
        baseline_head = head_from_image(baseline, lesion)
    except HeadError as exc:
        return HipCarry(
            side, label, "review", [f"no baseline head around the lesion: {exc.problem}"], head=head
        )
    registration = register_head(
        baseline,
        followup,
        np.asarray(baseline_head.centre_ras),
        np.asarray(head.centre_ras),
        baseline_head.radius_mm,
    )
    mapped = map_lesion(baseline, lesion, followup, registration)
    reasons = registration.reasons()
    traced = _refined(followup, mapped)
    if traced is None:
        reasons.append("band fill found no lesion from the mapped baseline lesion: the mapped lesion is kept")
        traced = mapped
    else:
        both = int(np.count_nonzero(traced)) + int(np.count_nonzero(mapped))
        agreement = 2 * int(np.count_nonzero(traced & mapped)) / max(both, 1)
        if agreement < MIN_AGREEMENT:
            reasons.append(
                f"the follow-up lesion overlaps the mapped baseline lesion little (Dice {agreement:.2f})"
            )
    status = "review" if reasons else "propagated"
    return HipCarry(side, label, status, reasons, registration, head, mapped, traced)


def map_lesion(baseline: Scan, lesion: np.ndarray, followup: Scan, registration: Registration) -> np.ndarray:
    """The baseline ``lesion`` on the follow-up grid: trilinear in baseline index space, kept at 0.5."""
    found = np.argwhere(lesion)
    corners = baseline.index_to_patient(np.array([found.min(axis=0) - 2, found.max(axis=0) + 2]))
    reach = np.linalg.norm(corners[1] - corners[0]) / 2 + 5.0
    middle = registration.to_baseline(corners.mean(axis=0)[None])[0]
    # Follow-up voxels near the lesion only: the mapping is local to the hip.
    followup_middle = np.linalg.solve(registration.matrix, middle - registration.centre - registration.shift)
    followup_middle += registration.centre
    grid = np.argwhere(np.ones(followup.shape, dtype=bool))
    points = followup.index_to_patient(grid)
    near = np.linalg.norm(points - followup_middle, axis=1) <= reach
    inverse = np.linalg.inv(baseline.affine)
    at = registration.to_baseline(points[near]) @ inverse[:3, :3].T + inverse[:3, 3]
    values = ndimage.map_coordinates(lesion.astype(np.float32), at.T, order=1, mode="constant")
    mapped = np.zeros(followup.shape, dtype=bool)
    mapped.reshape(-1)[np.flatnonzero(near)[values >= 0.5]] = True
    return mapped


def _refined(followup: Scan, mapped: np.ndarray) -> np.ndarray | None:
    """The band fill's lesion on the follow-up from the mapped lesion's deepest voxels; ``None`` if none."""
    if not mapped.any():
        return None
    depth = np.stack(
        [ndimage.distance_transform_edt(plane, sampling=followup.pixel_spacing) for plane in mapped]
    )
    deepest = np.argsort(depth.max(axis=(1, 2)))[::-1][:SEEDS]
    lesion = np.zeros(followup.shape, dtype=bool)
    for k in deepest:
        if depth[k].max() <= 0:
            break
        row, column = np.unravel_index(np.argmax(depth[k]), depth[k].shape)
        if lesion[k, row, column]:
            continue
        try:
            lesion |= trace_lesion(followup, (int(k), int(row), int(column))).mask
        except OnfhError:
            continue
    return lesion if lesion.any() else None


def hip_dict(followup: Scan, hip: HipCarry) -> dict[str, object]:
    """One hip as the JSON gives it: registration quality, status and reasons, volumes gained and lost."""
    from .output import head_dict

    voxel_cm3 = (
        float(np.prod(followup.pixel_spacing))
        * float(followup.slice_thickness or followup.slice_spacing or 1.0)
        / 1000
    )
    registration = hip.registration
    data: dict[str, object] = {
        "side": hip.side,
        "label": hip.label,
        "status": hip.status,
        "reasons": hip.reasons,
        "registration": None
        if registration is None
        else {
            "metric": "normalised correlation",
            "correlation": round(registration.correlation, 4),
            "head_centre_residual_mm": round(registration.residual_mm, 2),
            "quality": "review" if registration.reasons() else "ok",
        },
        "head": None if hip.head is None else head_dict(hip.head),
    }
    if hip.mapped is not None and hip.lesion is not None:
        data.update(
            mapped_baseline_cm3=np.count_nonzero(hip.mapped) * voxel_cm3,
            followup_cm3=np.count_nonzero(hip.lesion) * voxel_cm3,
            gained_cm3=np.count_nonzero(hip.lesion & ~hip.mapped) * voxel_cm3,
            lost_cm3=np.count_nonzero(hip.mapped & ~hip.lesion) * voxel_cm3,
        )
    return data
