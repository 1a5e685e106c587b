"""The femoral head a lesion lies in, as a sphere: from the reader's points or a traced mask (from the image:
:mod:`onfh_volume.head.find`), and the checks every fit passes.

The sphere is the head's outer bone surface (the articular surface: the outer edge of the cortex and
subchondral plate), not the edge of the bright marrow 1.5-2 mm inside it. Whatever the source, the
fit is checked the same way, and an implausible one is refused with its reason, never passed on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from skimage.measure import find_contours

from ..errors import HeadFitError, HeadNotFoundError, LesionOutsideHeadError
from ..scan import Scan
from .sphere import SphereFit, fit_sphere

Source = Literal["image", "points", "mask"]
#: Adult femoral heads: radius about 18-30 mm (diameter 36-60 mm).
ADULT_RADIUS_MM = (18.0, 30.0)
#: A surface whose points stray more than this (RMS, mm) from their sphere is not a sphere.
MAX_RMS_MM = 1.5
#: Share of the image's surface points the fit must keep (the others are neck or acetabulum edges).
MIN_KEPT_SHARE = 0.5
#: Surface points the image must give before a sphere is fitted to them (a few slices' worth).
MIN_IMAGE_POINTS = 60
#: Reader's points: at least this many, spread at least this far (mm, RMS) out of their best plane.
MIN_READER_POINTS = 5
MIN_OUT_OF_PLANE_MM = 1.0
#: Share of a lesion's voxels allowed beyond its head's surface (+ LESION_MARGIN_MM: partial volume).
MAX_OUTSIDE_SHARE = 0.05
LESION_MARGIN_MM = 1.5


@dataclass(frozen=True)
class HeadSphere:
    """The sphere of a femoral head's outer bone surface.

    Attributes
    ----------
    centre_ras
        Centre in patient RAS coordinates, mm.
    radius_mm
        Radius, mm.
    fit_rms_mm
        RMS distance of the surface points kept from the sphere, mm.
    source
        ``"image"`` (found automatically), ``"points"`` (given by the reader) or ``"mask"`` (a
        traced head).
    points
        Surface points the sphere was fitted to (kept ones), RAS mm.
    fitted_to
        For a head found in the image: the "intact surface" (the lesion's left out) or the
        "surface over the lesion" (too little intact surface: a lesion over most of the head).
    reasons
        Why the head needs a reader's review (:mod:`onfh_volume.head.quality`); empty when none.
    collapse_depth_mm
        Depth of the surface over the lesion below the sphere (image heads whose lesion reaches
        the surface), mm; None otherwise.
    radius_spread_mm
        The radius's ± (95%, leave-one-slice-out jackknife: :mod:`onfh_volume.head.spread`) for a
        head found in the image around a lesion, mm; None otherwise.
    """

    centre_ras: tuple[float, float, float]
    radius_mm: float
    fit_rms_mm: float
    source: Source
    points: int
    fitted_to: str | None = None
    reasons: tuple[str, ...] = ()
    collapse_depth_mm: float | None = None
    radius_spread_mm: float | None = None

    @property
    def quality(self) -> str:
        """``"review"`` when there are reasons to check the head, else ``"ok"``."""
        return "review" if self.reasons else "ok"

    @property
    def volume_cm3(self) -> float:
        """4/3 π r³, in cm³.

        Examples
        --------
        >>> round(HeadSphere((0.0, 0.0, 0.0), 24.0, 0.4, "image", 500).volume_cm3, 3)
        57.906
        """
        return 4.0 / 3.0 * np.pi * self.radius_mm**3 / 1000.0


def checked(fit: SphereFit, source: Source, where: str | None, minimum_kept: int) -> HeadSphere:
    """The fit as a head, or HeadFitError naming what is implausible."""
    low, high = ADULT_RADIUS_MM
    kept = int(fit.kept.sum())
    if not np.isfinite(fit.radius) or not low <= fit.radius <= high:
        raise HeadFitError(
            where, f"the fitted head radius {fit.radius:.1f} mm is outside adult heads' {low:g}-{high:g} mm"
        )
    if fit.rms > MAX_RMS_MM:
        raise HeadFitError(
            where, f"the head surface points lie {fit.rms:.2f} mm RMS from their sphere (over {MAX_RMS_MM:g})"
        )
    if kept < minimum_kept:
        raise HeadFitError(
            where, f"only {kept} of {len(fit.kept)} head surface points fit one sphere (need {minimum_kept})"
        )
    x, y, z = (float(v) for v in fit.centre)
    return HeadSphere((x, y, z), float(fit.radius), float(fit.rms), source, kept)


def head_from_points(points_ras: np.ndarray, where: str | None = None) -> HeadSphere:
    """The head through surface points the reader gave (RAS mm), e.g. clicked on its outline.

    Raises
    ------
    HeadFitError
        Fewer than five points, points (nearly) in one plane, or an implausible sphere.

    Examples
    --------
    >>> t = np.radians(np.arange(0, 360, 40))
    >>> ring = np.c_[24 * np.cos(t), np.zeros(9), 24 * np.sin(t)]
    >>> cap = np.c_[12 * np.cos(t), np.full(9, 24 * np.sqrt(0.75)), 12 * np.sin(t)]
    >>> head = head_from_points(np.r_[ring, cap] + [80.0, 5.0, -10.0])
    >>> np.round(head.centre_ras, 3).tolist(), round(head.radius_mm, 3), head.source
    ([80.0, 5.0, -10.0], 24.0, 'points')
    """
    points = np.asarray(points_ras, dtype=float).reshape(-1, 3)
    if len(points) < MIN_READER_POINTS:
        raise HeadFitError(
            where, f"{len(points)} head surface points given: at least {MIN_READER_POINTS} needed"
        )
    spread = np.linalg.svd(points - points.mean(axis=0), compute_uv=False)[-1] / np.sqrt(len(points))
    if spread < MIN_OUT_OF_PLANE_MM:
        raise HeadFitError(
            where, "the head surface points lie in one plane: give points on at least two slices"
        )
    return checked(fit_sphere(points), "points", where, MIN_READER_POINTS)


def head_from_mask(scan: Scan, head: np.ndarray, where: str | None = None) -> HeadSphere:
    """The head traced as a mask (boolean volume on the scan grid): a sphere through its outlines.

    The outline of each slice is taken halfway between the pixels inside and outside (sub-pixel),
    as the image's surface is; the sphere is fitted to all of them.
    """
    points = []
    for k in np.flatnonzero(head.any(axis=(1, 2))):
        for contour in find_contours(np.pad(head[k], 1).astype(float), 0.5):
            points.append(scan.index_to_patient(np.c_[np.full(len(contour), k), contour - 1]))
    if not points:
        raise HeadNotFoundError(where, "the femoral head mask is empty")
    return checked(fit_sphere(np.concatenate(points)), "mask", where, MIN_READER_POINTS)


def check_lesion_inside(scan: Scan, lesion: np.ndarray, head: HeadSphere) -> None:
    """Refuse a lesion that is not inside its head: the ratio and angles would mean nothing.

    Raises
    ------
    LesionOutsideHeadError
        When more than 5% of the lesion's voxels lie beyond the head's surface (by over 1.5 mm).
    """
    distance = np.linalg.norm(scan.index_to_patient(np.argwhere(lesion)) - head.centre_ras, axis=1)
    outside = float(np.mean(distance > head.radius_mm + LESION_MARGIN_MM))
    if outside > MAX_OUTSIDE_SHARE:
        raise LesionOutsideHeadError(
            scan.source,
            f"{100 * outside:.0f}% of the lesion lies outside the femoral head fitted around it (centre "
            f"{', '.join(f'{v:.1f}' for v in head.centre_ras)} mm RAS, radius {head.radius_mm:.1f} mm)",
        )
