"""The necrotic segment of a synthetic femoral head: its shape, its T1 appearance and its exact truth.

A lesion is the part of the femoral head (out to the outer bone surface, subchondral plate included)
inside a wavy ellipsoid; its boundary inside the marrow is the band-like hypointense line, 1.5-3 mm
wide, with holes ("gaps") where the band is missing. Its interior is fat-like, intermediate or mixed
on T1. Optional reactive oedema darkens the healthy marrow just outside the band, as it often does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .pelvis import FEMORAL_MARROW, Body, Textures, femoral_cortex_mm, femur, head_centre, head_surface
from .shapes import ellipsoid, ellipsoid_gradient_scaled, paint, point

Interior = Literal["fat", "intermediate", "mixed"]

BAND = 230.0  # the band-like line: dark, a little above cortex
INTERMEDIATE = 560.0
OEDEMA = 600.0
WAVE_MM = 1.8  # how far the lesion outline wanders from its ellipsoid: a geographic, not geometric, shape


@dataclass(frozen=True)
class LesionSpec:
    """A necrotic lesion in one femoral head, in the head's own frame.

    ``side`` is +1 for the patient's left hip (LPS +x), -1 for the right. ``offset`` is the centre of
    the lesion's ellipsoid from the head centre in mm (lateral, posterior, superior); ``axes`` its
    semi-axes (left-right, anterior-posterior, superior-inferior). ``gaps`` are the band's holes, as
    (lateral, posterior, superior) directions from the ellipsoid centre; each hole is ``gap_mm`` wide.
    """

    side: int
    offset: tuple[float, float, float]
    axes: tuple[float, float, float]
    band_mm: float = 2.0
    interior: Interior = "mixed"
    gaps: tuple[tuple[float, float, float], ...] = ()
    gap_mm: float = 2.5
    oedema: bool = False

    @property
    def label(self) -> int:
        """Mask label: 1 for the right hip, 2 for the left."""
        return 1 if self.side < 0 else 2

    def centre(self, body: Body) -> np.ndarray:
        """Centre of the lesion's ellipsoid in body coordinates."""
        h = head_centre(body, self.side)
        return h + point(self.side * self.offset[0], self.offset[1], self.offset[2])


@dataclass
class LesionFields:
    """Signed distances (mm) of one lesion's parts at a set of points, each negative inside."""

    lesion: np.ndarray  # the necrotic segment within the femoral head (band and plate included)
    marrow: np.ndarray  # the segment's marrow (inside the subchondral plate)
    band: np.ndarray  # the band-like line, where present
    oedema: np.ndarray | None  # weight of reactive oedema in the healthy marrow (0-1), if any


def lesion_fields(p: np.ndarray, body: Body, spec: LesionSpec, textures: Textures, k: int) -> LesionFields:
    """The lesion's signed distances at points ``p`` (..., rows, columns, 3) of slice ``k``."""
    centre = spec.centre(body)
    outline = ellipsoid_gradient_scaled(p, centre, np.array(spec.axes)) + WAVE_MM * np.clip(
        textures.outline[k], -2, 2
    )
    head = head_surface(p, body, spec.side)
    marrow = head + femoral_cortex_mm(p)
    width = spec.band_mm * (1 + 0.15 * np.clip(textures.red_marrow[k], -1.5, 1.5))
    band = np.maximum(np.abs(outline + width / 2) - width / 2, marrow)
    band = np.minimum(band, junction_band(p, body, spec, outline, width))
    for hole in gap_centres(body, spec):
        # A hole through the band, elongated along the slice normal so it shows on the slice it crosses.
        gap = ellipsoid(p, hole, np.array([spec.gap_mm / 2, 3.0, spec.gap_mm / 2]))
        band = np.maximum(band, -gap)
    return LesionFields(
        lesion=np.maximum(outline, head),
        marrow=np.maximum(outline, marrow),
        band=band,
        oedema=oedema_weight(p, body, spec, outline) if spec.oedema else None,
    )


def junction_band(
    p: np.ndarray, body: Body, spec: LesionSpec, outline: np.ndarray, width: np.ndarray
) -> np.ndarray:
    """The band where a lesion larger than the head meets the neck's marrow: along the head's surface.

    The segment is the head within the lesion's ellipsoid. Where the ellipsoid runs on past the
    head into the femur, the segment's boundary crosses the marrow of the head-neck junction, and a
    real necrotic segment is bounded there by its reactive band too (the band is what outlines a
    lesion); without it, the lesion would end in marrow with no visible edge.
    """
    head = head_surface(p, body, spec.side)
    bone = femur(p, body, spec.side)
    cortex = femoral_cortex_mm(p)
    # Inside the ellipsoid, in the femur's marrow, just inside the head's surface, and where that
    # surface is not the bone's own (the articular surface has its subchondral plate instead).
    return np.maximum.reduce(
        [np.abs(head + width / 2) - width / 2, outline, bone + cortex, bone - head + cortex]
    )


def oedema_weight(p: np.ndarray, body: Body, spec: LesionSpec, outline: np.ndarray) -> np.ndarray:
    """Reactive oedema: strongest at the band, fading over ~8 mm into the femur's healthy marrow."""
    in_marrow = femur(p, body, spec.side) + femoral_cortex_mm(p) < 0
    return np.clip(1 - outline / 8.0, 0, 1) * (outline > 0) * in_marrow


def gap_centres(body: Body, spec: LesionSpec) -> list[np.ndarray]:
    """Points on the lesion's ellipsoid where the band is missing."""
    centre = spec.centre(body)
    axes = np.array(spec.axes)
    holes = []
    for direction in spec.gaps:
        d = np.array([spec.side * direction[0], direction[1], direction[2]], dtype=float)
        d /= np.linalg.norm(d / axes)  # onto the ellipsoid's surface
        holes.append(centre + d)
    return holes


def interior_signal(spec: LesionSpec, textures: Textures, k: int) -> np.ndarray:
    """T1 of the necrotic marrow inside the band (rows, columns)."""
    mottle = np.clip(textures.mottle[k], -2, 2)
    if spec.interior == "fat":
        return 0.97 * FEMORAL_MARROW * (1 + 0.05 * mottle)
    if spec.interior == "intermediate":
        return INTERMEDIATE * (1 + 0.08 * mottle)
    return 0.5 * (FEMORAL_MARROW + INTERMEDIATE) + 0.22 * (FEMORAL_MARROW - INTERMEDIATE) * 2 * mottle


def paint_lesion(
    image: np.ndarray, fields: LesionFields, spec: LesionSpec, textures: Textures, k: int, pixel_mm: float
) -> None:
    """Draw one lesion over the anatomy of sub-slices ``image`` (sub-slices, rows, columns)."""
    if fields.oedema is not None:
        # Oedema lowers the marrow's T1 signal, never down to the band's darkness.
        image += 0.35 * fields.oedema * (OEDEMA - image)
    paint(image, fields.marrow, interior_signal(spec, textures, k), pixel_mm)
    paint(image, fields.band, BAND * (1 + 0.12 * np.clip(textures.marrow[k], -2, 2)), pixel_mm)


def lesion_truth(fields: LesionFields) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lesion, its band, and its marrow within the band, at the points of ``fields`` (voxel centres)."""
    band = fields.band < 0
    return fields.lesion < 0, band, (fields.marrow < 0) & ~band
