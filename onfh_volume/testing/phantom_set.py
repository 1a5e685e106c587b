"""The phantoms the tests and benchmarks use: a small fast one, and a set of studies with 20+ lesions.

Every phantom is generated on the fly from its spec (deterministic: seeded by its number), so
nothing large is committed.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .necrosis import Interior, LesionSpec
from .phantom import Acquisition, Phantom, PhantomSpec, make_phantom

RIGHT, LEFT = -1, 1

#: A small-field unilateral study of the right hip, centred off the head: fast enough for unit tests.
SMALL = PhantomSpec(
    name="small-right",
    number=101,
    acquisition=Acquisition(
        rows=150, columns=140, slices=12, row_mm=0.8, column_mm=0.75, thickness_mm=4.0, spacing_mm=4.5,
        centre=(-82.0, 0.0, -6.0), noise_sigma=25.0, bias=0.15,
    ),
    lesions=(
        LesionSpec(RIGHT, offset=(5.0, -5.0, 21.0), axes=(16.0, 15.0, 11.0), band_mm=2.0, interior="mixed",
                   gaps=((-0.6, 0.0, -0.8),)),
    ),
)  # fmt: skip


#: A coarse study of both hips, one lesion each, for command-line tests: a few seconds to render.
SMALL_BILATERAL = PhantomSpec(
    name="small-bilateral",
    number=102,
    acquisition=Acquisition(
        rows=84, columns=310, slices=12, row_mm=0.9, column_mm=0.8, thickness_mm=4.0, spacing_mm=4.4,
        centre=(0.0, 0.0, 4.0), noise_sigma=22.0, bias=0.15,
    ),
    lesions=(
        LesionSpec(RIGHT, offset=(5.0, -4.0, 20.0), axes=(16.0, 15.0, 11.0), band_mm=2.2, interior="intermediate"),
        LesionSpec(LEFT, offset=(3.0, -2.0, 21.0), axes=(15.0, 14.0, 10.0), band_mm=2.0, interior="fat",
                   gaps=((0.3, 0.0, -1.0),)),
    ),
)  # fmt: skip


@cache
def small_phantom() -> Phantom:
    """The :data:`SMALL` phantom, rendered once per process."""
    return make_phantom(SMALL)


@cache
def small_bilateral_phantom() -> Phantom:
    """The :data:`SMALL_BILATERAL` phantom, rendered once per process."""
    return make_phantom(SMALL_BILATERAL)


def _lesion(rng: np.random.Generator, side: int, interior: Interior) -> LesionSpec:
    """A necrotic segment under the weight-bearing dome, of random size, band and gaps."""
    axes = rng.uniform(13.0, 19.0, 3)
    gaps = [(rng.uniform(-0.7, 0.7), rng.uniform(-0.5, 0.5), -1.0) for _ in range(rng.integers(0, 4))]
    return LesionSpec(
        side,
        offset=(rng.uniform(2.0, 8.0), rng.uniform(-8.0, 2.0), rng.uniform(19.0, 24.0)),
        axes=(float(axes[0]), float(axes[1]), float(axes[2]) * 0.7),
        band_mm=float(rng.uniform(1.5, 3.0)),
        interior=interior,
        gaps=tuple(gaps),
        gap_mm=float(rng.uniform(2.0, 3.0)),
        oedema=bool(rng.random() < 0.3),
    )


def _bilateral(number: int, rng: np.random.Generator, lesions: tuple[LesionSpec, ...]) -> PhantomSpec:
    """A study of both hips with a clinical protocol drawn at random: 3-5 mm slices with gaps."""
    thickness = float(rng.choice([3.0, 4.0, 5.0]))
    column_mm = float(rng.uniform(0.7, 0.95))
    row_mm = column_mm * float(rng.choice([1.0, 1.15, 1.3]))
    coverage_mm = 64.0
    spacing = thickness + float(rng.choice([0.0, 0.3, 0.5, 1.0]))
    return PhantomSpec(
        name=f"bilateral-{number:02d}",
        number=number,
        acquisition=Acquisition(
            rows=int(200 / row_mm), columns=int(330 / column_mm), slices=int(np.ceil(coverage_mm / spacing)),
            row_mm=row_mm, column_mm=column_mm, thickness_mm=thickness, spacing_mm=spacing,
            centre=(float(rng.uniform(-8, 8)), float(rng.uniform(-3, 3)), float(rng.uniform(-30, -15))),
            noise_sigma=float(rng.uniform(18.0, 40.0)), bias=float(rng.uniform(0.1, 0.3)),
        ),
        lesions=lesions,
        head_x=float(rng.uniform(86.0, 94.0)),
        head_radius=float(rng.uniform(22.0, 26.0)),
        body_scale=float(rng.uniform(0.95, 1.05)),
        fat_mm=float(rng.uniform(14.0, 30.0)),
    )  # fmt: skip


def _unilateral(number: int, rng: np.random.Generator, side: int, interior: Interior) -> PhantomSpec:
    """A small-field study of one hip, centred off the head, with fine rectangular pixels."""
    column_mm = float(rng.uniform(0.45, 0.6))
    row_mm = column_mm * 1.2
    return PhantomSpec(
        name=f"unilateral-{number:02d}",
        number=number,
        acquisition=Acquisition(
            rows=int(140 / row_mm), columns=int(150 / column_mm), slices=20, row_mm=row_mm,
            column_mm=column_mm, thickness_mm=3.0, spacing_mm=3.3,
            centre=(side * 100.0, 0.0, -20.0), noise_sigma=float(rng.uniform(25.0, 40.0)), bias=0.25,
        ),
        lesions=(_lesion(rng, side, interior),),
        head_radius=float(rng.uniform(22.0, 26.0)),
    )  # fmt: skip


def benchmark_specs() -> list[PhantomSpec]:
    """Ten bilateral studies (both heads necrotic) and two unilateral ones: 22 lesions.

    Interiors cycle through fat-like, intermediate and mixed, so each kind appears on both sides.
    """
    interiors: tuple[Interior, ...] = ("fat", "intermediate", "mixed")
    specs = []
    for number in range(1, 11):
        rng = np.random.default_rng([20261201, number])
        lesions = tuple(
            _lesion(rng, side, interiors[(2 * number + i) % 3]) for i, side in enumerate((RIGHT, LEFT))
        )
        specs.append(_bilateral(number, rng, lesions))
    for number, side in ((11, RIGHT), (12, LEFT)):
        specs.append(
            _unilateral(number, np.random.default_rng([20261201, number]), side, interiors[number % 3])
        )
    return specs
