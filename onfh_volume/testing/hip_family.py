"""A family of one-hip coronal T1 phantoms whose anatomy is drawn from ranges, with exact truth.

Each seed gives one hip (a small off-centre field, as a one-hip protocol) whose joint and head are
drawn from ranges: articular cartilage 1-3 mm on the head and on the acetabulum, joint fluid of
0-3 mm (none; a film of about 0.6 mm between the cartilages under the acetabular roof; an effusion
distending the capsule around head and neck), the acetabulum's coverage, a slightly ellipsoidal
head (axes up to 5% apart, equal in volume to the sphere of ``head_radius``), a necrotic lesion from
about 5% of the head to all of it, oedema of the neck's marrow (low T1), red-marrow islands, and
collapse: the articular surface over the lesion pushed in by 0-4 mm (a flat-bottomed dimple).

The truth is exact: the bone-surface sphere (the drawn head's centre and equal-volume radius, the
intact surface's sphere), the lesion mask, and the collapse depth below that sphere
(:func:`collapse_truth_mm`, solved along the radius).

:data:`DEVELOPMENT_SEEDS` are for building and tuning: the seeds the head finder was built on
(:data:`BUILT_ON_SEEDS`) and two sets held out in turn and since looked at hip by hip
(:data:`SEEN_SEEDS`, :data:`SEEN_AGAIN_SEEDS`). :data:`HELD_OUT_SEEDS` (701-730) were declared
before the last tuning (the review checks on the fit's spread, the dome kept in the intact
surface) and measured once, after it (``benchmarks/bench_head.py``), never looked at hip by hip
before.

Examples
--------
>>> spec = family_spec(3)
>>> spec.name, 1.0 <= spec.cartilage_head_mm <= 3.0, spec.fluid in ("none", "film", "effusion")
('hip-003', True, True)
>>> bool(abs(np.prod(spec.head_axes) - 1.0) < 1e-9)
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .necrosis import LesionSpec
from .pelvis import CARTILAGE, Textures, acetabular_cover, head_centre
from .phantom import Acquisition, PhantomSpec
from .shapes import capsule, ellipsoid_gradient_scaled, point, sphere

Fluid = Literal["none", "film", "effusion"]
FLUID = 190.0  # joint fluid on T1: darker than muscle, brighter than cortex
NECK_OEDEMA = 560.0
RED_MARROW = 620.0
RIGHT, LEFT = -1, 1
#: Seeds the head finder was built and tuned on.
BUILT_ON_SEEDS = tuple(range(1, 25))
#: Held out while the finder was built, looked at hip by hip when the collapse reading was reworked.
SEEN_SEEDS = tuple(range(501, 521))
#: Held out while the collapse reading was reworked, looked at hip by hip since (its silent misses).
SEEN_AGAIN_SEEDS = tuple(range(601, 621))
#: Every seed looked at hip by hip: what the head is tuned on.
DEVELOPMENT_SEEDS = BUILT_ON_SEEDS + SEEN_SEEDS + SEEN_AGAIN_SEEDS
#: Only measured, once, after the last tuning: never looked at hip by hip before that run.
HELD_OUT_SEEDS = tuple(range(701, 731))


@dataclass(frozen=True)
class HipSpec(PhantomSpec):
    """A phantom of one hip whose joint is drawn by this module (see the module's description).

    ``head_axes`` scale ``head_radius`` along left-right, anterior-posterior and superior-inferior
    (their product is 1); ``cover_deg`` tilts the acetabulum's axis from the vertical towards the
    midline; ``collapse_mm`` is how far the surface over the lesion is pushed in at the dimple's
    flat bottom, ``collapse_deg`` the dimple's half-angle from the head centre.
    """

    side: int = RIGHT
    cartilage_head_mm: float = 2.0
    cartilage_acetabulum_mm: float = 2.0
    fluid: Fluid = "none"
    fluid_mm: float = 0.0
    cover_deg: float = 53.0
    head_axes: tuple[float, float, float] = (1.0, 1.0, 1.0)
    collapse_mm: float = 0.0
    collapse_deg: float = 20.0
    neck_oedema: bool = False
    red_islands: tuple[tuple[float, float, float, float], ...] = ()  # offset from the head centre, radius

    @property
    def acetabulum_radius(self) -> float:
        """The socket's bone surface about the head centre: head, both cartilages and the fluid film."""
        film = self.fluid_mm if self.fluid == "film" else 0.0
        return self.head_radius + self.cartilage_head_mm + film + self.cartilage_acetabulum_mm

    def cover_direction(self, side: int) -> np.ndarray:
        """The acetabulum's axis: superior, tilted ``cover_deg`` towards the midline."""
        angle = np.radians(self.cover_deg)
        return point(-side * np.sin(angle), 0.0, np.cos(angle))

    def collapse_axis(self) -> np.ndarray:
        """Unit vector from the head centre to the middle of the dimple: towards the lesion's centre."""
        (lesion,) = self.lesions
        towards = lesion.centre(self) - head_centre(self, self.side)
        return towards / np.linalg.norm(towards)

    def collapse_weight(self, p: np.ndarray, side: int) -> np.ndarray:
        """0-1: how much of ``collapse_mm`` the surface at the direction of ``p`` is pushed in."""
        offsets = p - head_centre(self, side)
        cosine = offsets @ self.collapse_axis() / np.maximum(np.linalg.norm(offsets, axis=-1), 1e-9)
        angle = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
        # Flat for the inner half of the dimple, a smooth shoulder out to its edge.
        shoulder = np.clip((angle - self.collapse_deg / 2) / (self.collapse_deg / 2), 0.0, 1.0)
        return 0.5 * (1 + np.cos(np.pi * shoulder))

    def head_shape(self, p: np.ndarray, side: int) -> np.ndarray:
        """Signed distance from the head's outer bone surface: an ellipsoid, dimpled over the lesion."""
        axes = self.head_radius * np.array(self.head_axes)
        distance = ellipsoid_gradient_scaled(p, head_centre(self, side), axes)
        if side == self.side and self.collapse_mm > 0:
            distance = distance + self.collapse_mm * self.collapse_weight(p, side)
        return distance

    def paint_joint(self, draw: Callable[[np.ndarray, float], None], p: np.ndarray, side: int) -> None:
        """Joint fluid, then the acetabular and the head's articular cartilage (before the bones)."""
        h = head_centre(self, side)
        head = self.head_shape(p, side)
        cover = acetabular_cover(p, self, side)
        if self.fluid == "effusion":
            neck = capsule(p, h, h + point(side * 30, 6, -24), 15.0 + self.fluid_mm, 16.0 + self.fluid_mm)
            draw(np.minimum(head - self.cartilage_head_mm - self.fluid_mm, neck), FLUID)
        socket = sphere(p, h, self.acetabulum_radius)
        draw(np.maximum(socket, cover), FLUID)
        half = self.cartilage_acetabulum_mm / 2
        draw(np.maximum(np.abs(socket + half) - half, cover), CARTILAGE)
        neck_axis = point(side * 38, 8, -30) / np.linalg.norm([38, 8, 30])
        offsets = p - h
        towards_neck = offsets @ neck_axis / np.maximum(np.linalg.norm(offsets, axis=-1), 1e-9)
        draw(np.maximum(head - self.cartilage_head_mm, (towards_neck - 0.55) * self.head_radius), CARTILAGE)

    def paint_marrow(
        self, draw: Callable[[np.ndarray, float], None], p: np.ndarray, side: int, textures: Textures, k: int
    ) -> None:
        """Oedema of the neck's marrow and red-marrow islands in the head (after the femur)."""
        if side != self.side:
            return
        h = head_centre(self, side)
        grain = 1 + 0.05 * textures.marrow[k]
        if self.neck_oedema:
            neck = capsule(p, h + point(side * 12, 3, -10), h + point(side * 38, 8, -30), 10.0, 11.0)
            draw(
                np.maximum(neck, 0.7 * self.head_radius - np.linalg.norm(p - h, axis=-1)), NECK_OEDEMA * grain
            )
        for *offset, radius in self.red_islands:
            draw(sphere(p, h + point(side * offset[0], offset[1], offset[2]), radius), RED_MARROW * grain)


def _island(rng: np.random.Generator, radius: float) -> tuple[float, float, float, float]:
    """A red-marrow island: its centre (mm from the head's centre) and its radius (mm)."""
    x, y, z = (float(v) for v in rng.uniform(-0.4, 0.4, 3) * radius)
    return x, y, z, float(rng.uniform(1.5, 3.5))


def _lesion(rng: np.random.Generator, side: int, radius: float, whole: bool) -> LesionSpec:
    """A subchondral lesion under the dome: from a small cap (~5% of the head) to the whole head."""
    size = 1.0 if whole else rng.uniform(0.0, 0.8)
    axes = (10.0 + 24.0 * size) * np.array([1.0, rng.uniform(0.85, 1.0), rng.uniform(0.7, 0.85)])
    superior = radius + 4.0 - axes[2] + (0.0 if whole else rng.uniform(-1.5, 1.5))
    gaps = [(rng.uniform(-0.7, 0.7), rng.uniform(-0.5, 0.5), -1.0) for _ in range(rng.integers(0, 3))]
    return LesionSpec(
        side,
        offset=(float(rng.uniform(-3.0, 5.0)), float(rng.uniform(-5.0, 3.0)), float(superior)),
        axes=tuple(float(a) for a in axes),  # type: ignore[arg-type]
        band_mm=float(rng.uniform(1.5, 3.0)),
        interior=str(rng.choice(["fat", "intermediate", "mixed"])),  # type: ignore[arg-type]
        gaps=tuple(gaps),
        gap_mm=float(rng.uniform(2.0, 3.0)),
        oedema=bool(rng.random() < 0.3),
    )


def _acquisition(rng: np.random.Generator, side: int) -> Acquisition:
    """A one-hip coronal protocol: 3-5 mm slices with gaps, 0.6-0.9 mm rectangular pixels, off-centre field."""
    column_mm = float(rng.uniform(0.6, 0.9))
    row_mm = column_mm * float(rng.choice([1.0, 1.1, 1.25]))
    thickness = float(rng.choice([3.0, 4.0, 5.0]))
    spacing = thickness + float(rng.choice([0.0, 0.3, 0.5, 1.0]))
    return Acquisition(
        rows=int(130 / row_mm), columns=int(120 / column_mm), slices=int(np.ceil(66.0 / spacing)),
        row_mm=row_mm, column_mm=column_mm, thickness_mm=thickness, spacing_mm=spacing,
        centre=(side * float(rng.uniform(78.0, 92.0)), float(rng.uniform(-2.0, 2.0)), float(rng.uniform(-10.0, 0.0))),
        noise_sigma=float(rng.uniform(18.0, 35.0)), bias=float(rng.uniform(0.1, 0.25)),
    )  # fmt: skip


def family_spec(seed: int) -> HipSpec:
    """The hip of ``seed``: every draw from ``seed`` alone. Fluid cycles none, film, effusion by seed;
    every fifth hip has a whole-head lesion; about two hips in three have collapsed."""
    rng = np.random.default_rng([20261206, seed])
    side = RIGHT if seed % 2 else LEFT
    radius = float(rng.uniform(21.0, 26.0))
    fluid: Fluid = ("none", "film", "effusion")[seed % 3]
    fluid_mm = {"none": 0.0, "film": rng.uniform(0.4, 0.8), "effusion": rng.uniform(1.5, 3.0)}[fluid]
    ratios = 1 + rng.uniform(-0.025, 0.025, 2)
    collapse = float(rng.uniform(0.0, 4.0)) if rng.random() < 0.65 else 0.0
    lesion = _lesion(rng, side, radius, whole=seed % 5 == 0)
    islands = tuple(_island(rng, radius) for _ in range(rng.integers(0, 4)))
    return HipSpec(
        name=f"hip-{seed:03d}",
        number=seed,
        acquisition=_acquisition(rng, side),
        lesions=(lesion,),
        head_x=float(rng.uniform(86.0, 94.0)),
        head_radius=radius,
        body_scale=float(rng.uniform(0.95, 1.05)),
        fat_mm=float(rng.uniform(14.0, 30.0)),
        side=side,
        cartilage_head_mm=float(rng.uniform(1.0, 3.0)),
        cartilage_acetabulum_mm=float(rng.uniform(1.0, 3.0)),
        fluid=fluid,
        fluid_mm=float(fluid_mm),
        cover_deg=float(rng.uniform(40.0, 60.0)),
        head_axes=(float(ratios[0]), float(ratios[1]), float(1 / np.prod(ratios))),
        collapse_mm=collapse,
        # The necrotic fragment sinks as a whole: the dimple spans most of the lesion's surface.
        collapse_deg=float(np.clip(0.8 * np.degrees(np.arctan2(lesion.axes[0], radius)), 15.0, 40.0)),
        neck_oedema=bool(rng.random() < 0.4),
        red_islands=islands,
    )


def collapse_truth_mm(spec: HipSpec) -> float:
    """Depth of the drawn surface below the truth sphere at the dimple's middle (0 without collapse).

    The surface's radius along the dimple's axis is solved (bisection) on the drawn shape, so an
    ellipsoidal head's own departure from its sphere is counted, as a measure against the intact
    surface's sphere would count it.

    Examples
    --------
    A round head dimpled by 2.5 mm is 2.5 mm below its sphere there:

    >>> from dataclasses import replace
    >>> round(collapse_truth_mm(replace(family_spec(3), head_axes=(1.0, 1.0, 1.0), collapse_mm=2.5)), 3)
    2.5
    """
    if spec.collapse_mm <= 0:
        return 0.0
    h = head_centre(spec, spec.side)
    axis = spec.collapse_axis()
    inside, outside = 0.0, 2.0 * spec.head_radius
    for _ in range(60):
        middle = (inside + outside) / 2
        if spec.head_shape(h + middle * axis, spec.side) < 0:
            inside = middle
        else:
            outside = middle
    return float(spec.head_radius - inside)
