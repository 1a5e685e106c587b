"""Carry a baseline lesion to the follow-up: rigid registration per hip, mapping, band fill refinement.

Per hip of the baseline mask (label 1 right, 2 left):

1. the head is found around the baseline lesion (:func:`onfh_volume.head.head_from_image`) and on
   the follow-up without a click (:func:`onfh_volume.draft.heads.find_heads`);
2. the follow-up's head region is registered rigidly to the baseline's
   (:func:`onfh_volume.draft.register.register_head`): patients lie differently, slices fall
   elsewhere. The residual is the baseline head's centre, mapped, against the nearer of two fits
   of the follow-up's head (found without a click, and fitted around the mapped lesion as at
   baseline); when it is poor, the registration starts again from the head fitted around the
   mapped lesion, and the better correlation is kept;
3. the baseline lesion is mapped onto the follow-up grid (its signed distance, trilinear), its
   volume kept;
4. the lesion may have grown, shrunk or collapsed: the band fill's change between its tracings at
   the two timepoints is applied to the mapped lesion where the band fill is trusted
   (:mod:`onfh_volume.draft.traced_change`), else the mapped outline is moved as far as its band
   moved (:mod:`onfh_volume.draft.refine`, :mod:`onfh_volume.draft.band_shift`); either way the
   reader's own outline, carried, keeps its convention. Where neither can be read, the mapped
   lesion is kept and the hip flagged for review; so is a follow-up lesion far from the mapped one.

Each hip says how well it registered and, for review, why; where the lesion changed (the volume
gained and lost against the mapped baseline lesion); and the change from the baseline mask with its
uncertainty, flagged for review when its category (±15%) may be either.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage

from ..errors import HeadError, MaskError
from ..head import head_from_image
from ..head.fit import HeadSphere
from ..scan import Scan
from ..vocabulary import LABEL_OF_SIDE
from .band_shift import FAR_MM, signed_distance
from .field_edge import flag_carried
from .heads import find_heads
from .refine import CarriedChange, account, dice, shifted, voxel_cm3
from .register import MAX_RESIDUAL_MM, Registration, register_head
from .traced_change import traced_lesion

MIN_KEPT = 0.75  # the follow-up lesion's Dice with the mapped one below this: review


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
    change: CarriedChange | None = None


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
    flag_carried(baseline, baseline_labels, followup, hips)
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
    registration, distance = _registered(baseline, lesion, followup, baseline_head, head)
    mapped = distance <= 0
    reasons = registration.reasons()
    try:
        followup_head = head_from_image(followup, mapped)
    except HeadError:
        followup_head = head
    shift_or_failure = shifted(baseline, lesion, baseline_head, followup, distance, followup_head)
    filled = traced_lesion(
        baseline, lesion, followup, mapped, lambda mask: map_lesion(baseline, mask, followup, registration)
    )
    shift = None if isinstance(shift_or_failure, str) else shift_or_failure
    if isinstance(shift_or_failure, str):
        kept = (
            "the mapped baseline lesion is kept unchanged" if filled is None else "its uncertainty is untold"
        )
        reasons.append(f"{shift_or_failure}: {kept}")
    if filled is not None:
        traced, source = filled, "band fill"
    elif shift is not None:
        traced, source = shift.lesion, "outline shift"
    else:
        traced, source = mapped, "mapped"
    if (overlap := dice(mapped, traced)) < MIN_KEPT:
        reasons.append(
            f"the follow-up lesion overlaps the mapped baseline lesion little (Dice {overlap:.2f}): "
            "its outline moved far, or the mapping is off"
        )
    change = account(baseline, lesion, followup, traced, shift, source)
    reasons.extend(change.reasons())
    status = "review" if reasons else "propagated"
    return HipCarry(side, label, status, reasons, registration, head, mapped, traced, change)


def _registered(
    baseline: Scan, lesion: np.ndarray, followup: Scan, baseline_head: HeadSphere, head: HeadSphere
) -> tuple[Registration, np.ndarray]:
    """The registration and the mapped lesion; the residual against the nearer of two head fits.

    The follow-up's head is fitted twice: without a click over the whole field, and around the
    mapped lesion (as at baseline, around the lesion). Either fit can lie a few millimetres off on
    its own; a registration that puts the baseline head's centre near either is kept as it is. When
    both lie farther than ``MAX_RESIDUAL_MM``, the registration starts again from the head fitted
    around the mapped lesion, and the better correlation is kept.
    """
    centre, radius = np.asarray(baseline_head.centre_ras), baseline_head.radius_mm
    found = np.asarray(head.centre_ras)
    best: tuple[Registration, np.ndarray] | None = None
    start = found
    for _ in range(2):
        registration = register_head(baseline, followup, centre, start, radius)
        distance = mapped_field(baseline, lesion, followup, registration)
        mapped = distance <= 0
        try:
            refitted = np.asarray(head_from_image(followup, mapped).centre_ras)
        except HeadError:
            refitted = start
        residual = min(registration.residual_to(found), registration.residual_to(refitted))
        registration = replace(registration, residual_mm=residual)
        if best is None or registration.correlation > best[0].correlation:
            best = registration, distance
        if residual <= MAX_RESIDUAL_MM or np.allclose(refitted, start):
            break
        start = refitted
    assert best is not None  # the loop ran at least once
    return best


def map_lesion(baseline: Scan, lesion: np.ndarray, followup: Scan, registration: Registration) -> np.ndarray:
    """The baseline ``lesion`` on the follow-up grid, its volume kept (see :func:`mapped_field`)."""
    return mapped_field(baseline, lesion, followup, registration) <= 0


def mapped_field(
    baseline: Scan, lesion: np.ndarray, followup: Scan, registration: Registration
) -> np.ndarray:
    """The baseline ``lesion``'s signed distance on the follow-up grid (mm), 0 where its volume is kept.

    The lesion's signed distance (mm, negative inside) is interpolated trilinearly in baseline index
    space, so between two slices the outline lies between theirs, not on the nearer slice's (which
    matters on 3-5 mm slices); it is offset so that the follow-up voxels at or below 0 hold the
    lesion's volume (voxels x voxel size by the slice spacing), none farther than a baseline voxel
    outside it. Fewer come out only where the follow-up's field cuts the lesion. Voxels far from
    the lesion are at ``FAR_MM``.
    """
    found = np.argwhere(lesion)
    corners = baseline.index_to_patient(np.array([found.min(axis=0) - 2, found.max(axis=0) + 2]))
    reach = np.linalg.norm(corners[1] - corners[0]) / 2 + 5.0
    # Follow-up voxels near the lesion only: the mapping is local to the hip.
    followup_middle = registration.to_followup(corners.mean(axis=0)[None])[0]
    grid = np.argwhere(np.ones(followup.shape, dtype=bool))
    points = followup.index_to_patient(grid)
    near = np.flatnonzero(np.linalg.norm(points - followup_middle, axis=1) <= reach)
    inverse = np.linalg.inv(baseline.affine)
    at = registration.to_baseline(points[near]) @ inverse[:3, :3].T + inverse[:3, 3]
    steps = np.linalg.norm(baseline.affine[:3, :3], axis=0)
    # Beyond the baseline's field is outside the lesion: far outside, finite so no NaN is interpolated.
    values = ndimage.map_coordinates(
        signed_distance(baseline, lesion).astype(np.float32), at.T, order=1, mode="constant", cval=FAR_MM
    )
    count = round(len(found) * np.prod(steps) / np.prod(np.linalg.norm(followup.affine[:3, :3], axis=0)))
    level = np.sort(values, kind="stable")[: max(count, 1)][-1]
    distance = np.full(followup.shape, FAR_MM, dtype=np.float32)
    distance.reshape(-1)[near] = values - min(level, np.nextafter(np.float32(steps.max()), np.float32(0)))
    return distance


def hip_dict(followup: Scan, hip: HipCarry) -> dict[str, object]:
    """One hip as the JSON gives it: registration quality, status and reasons, volumes gained and lost,
    and the change from the baseline mask with its uncertainty (``null`` when it cannot be told)."""
    from .output import head_dict

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
    if hip.mapped is not None and hip.lesion is not None and hip.change is not None:
        voxel = voxel_cm3(followup, hip.change.method)
        data.update(
            mapped_baseline_cm3=np.count_nonzero(hip.mapped) * voxel,
            followup_cm3=np.count_nonzero(hip.lesion) * voxel,
            gained_cm3=np.count_nonzero(hip.lesion & ~hip.mapped) * voxel,
            lost_cm3=np.count_nonzero(hip.mapped & ~hip.lesion) * voxel,
        )
    if hip.change is not None:
        data["change"] = hip.change.as_dict()
    return data
