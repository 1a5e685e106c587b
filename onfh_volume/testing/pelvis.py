"""A synthetic pelvis on coronal T1: body, muscles, fat planes, vessels, bowel, hip bones and femora.

Shared by the sample scans (``sample_scans/generate.py``) and the lesion phantoms
(:mod:`onfh_volume.testing.phantom`). Points are in body coordinates: LPS millimetres with the
origin midway between the femoral head centres. Signal values are T1 in arbitrary units before
shading and noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Protocol

import numpy as np

from .shapes import capsule, ellipsoid, paint, point, smooth_union, sphere

# --- T1 signal (arbitrary units) before shading and noise. ---
FAT = 950.0
PELVIC_FAT = 880.0
MUSCLE = 340.0
CORTEX = 70.0
FEMORAL_MARROW = 850.0
PELVIC_MARROW = 720.0  # more red marrow in the pelvis: a little darker and patchier
CARTILAGE = 400.0
URINE = 230.0
BOWEL = 480.0
FLOW_VOID = 40.0


class Body(Protocol):
    """The build of a synthetic patient.

    A body may also give its own hip joint (:mod:`onfh_volume.testing.hip_family`): ``head_shape(p,
    side)`` (the head's outer bone surface, signed distance), ``acetabulum_radius`` (the socket's
    bone surface about the head centre), ``cover_direction(side)`` (where the acetabulum covers the
    head), ``paint_joint(draw, p, side)`` (cartilage and joint fluid, before the bones) and
    ``paint_marrow(draw, p, side, textures, k)`` (marrow changes, after the femur). Without them the
    head is a sphere of ``head_radius`` under 3 mm of cartilage.
    """

    @property
    def head_x(self) -> float:  # mm from the midline to each femoral head centre
        ...

    @property
    def head_radius(self) -> float:  # outer bone surface of the femoral head
        ...

    @property
    def body_scale(self) -> float: ...

    @property
    def fat_mm(self) -> float:  # subcutaneous fat thickness
        ...


# --- Textures --------------------------------------------------------------------------------


def smooth_field(rng: np.random.Generator, sigma_px: float, shape: tuple[int, int, int]) -> np.ndarray:
    """Gaussian-filtered white noise per slice (slices, rows, columns), rescaled to unit std."""
    slices, rows, columns = shape
    noise = rng.standard_normal((slices, rows, columns))
    fr = np.fft.fftfreq(rows)[:, None]
    fc = np.fft.rfftfreq(columns)[None, :]
    kernel = np.exp(-2 * (np.pi * sigma_px) ** 2 * (fr**2 + fc**2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * kernel, s=(rows, columns))
    return field / field.std()


@dataclass
class Textures:
    """Tissue textures on a scan grid (slices, rows, columns), each with unit standard deviation."""

    marrow: np.ndarray  # trabecular graininess
    red_marrow: np.ndarray  # patchy red marrow of the pelvis
    muscle: np.ndarray  # slow variation between and within muscles
    mottle: np.ndarray  # the necrotic zone's mottled signal
    outline: np.ndarray  # waviness of the lesion boundary

    @classmethod
    def draw(cls, rng: np.random.Generator, shape: tuple[int, int, int]) -> Textures:
        """Draw every texture from ``rng``, in a fixed order (so a seed gives the same anatomy)."""
        field = partial(smooth_field, rng, shape=shape)
        return cls(
            marrow=field(0.8), red_marrow=field(3.0), muscle=field(8.0), mottle=field(1.2), outline=field(3.5)
        )

    def shifted(self, rows: int, columns: int) -> Textures:
        """The textures moved with the patient by whole pixels in-plane."""
        return Textures(*(np.roll(f, (rows, columns), axis=(1, 2)) for f in vars(self).values()))


# --- Anatomy ---------------------------------------------------------------------------------


def head_centre(patient: Body, side: int) -> np.ndarray:
    """Centre of the femoral head of one side, in body coordinates (LPS at baseline)."""
    return point(side * patient.head_x, 0.0, 0.0)


def body_outline(p: np.ndarray, patient: Body) -> np.ndarray:
    """Skin surface: a trunk, elliptical in cross-section, merging into two thighs below the hips."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    scale = patient.body_scale
    depth = np.sqrt(np.clip(1 - ((y - 20.0) / 130.0) ** 2, 0.05, None))  # narrower towards the front
    half_width = scale * (168.0 - 0.12 * np.clip(z, 0, None)) * depth  # widest at the trochanters
    trunk = np.maximum(np.abs(x) - half_width, -140.0 - z)  # perineum
    thighs = [
        capsule(p, point(s * 95 * scale, 10, -40), point(s * 88 * scale, 10, -320), 80 * scale, 74 * scale)
        for s in (-1, 1)
    ]
    return smooth_union(trunk, np.minimum(*thighs), 30.0)


def pelvic_cavity(p: np.ndarray) -> np.ndarray:
    """The fat-filled true pelvis between the hip bones, floored by the pelvic diaphragm."""
    x, z = p[..., 0], p[..., 2]
    # A basin: walls flaring out towards the iliac fossae above, a rounded funnel floor below.
    upper = np.abs(x) - (45.0 + 0.18 * np.clip(z, 0, None))
    floor = (np.hypot(x / 45.0, z / 48.0) - 1.0) * 45.0
    return np.where(z >= 0, upper, floor)


def head_surface(p: np.ndarray, patient: Body, side: int) -> np.ndarray:
    """Signed distance from the femoral head's outer bone surface: the body's own shape, or a sphere."""
    shape = getattr(patient, "head_shape", None)
    return shape(p, side) if shape else sphere(p, head_centre(patient, side), patient.head_radius)


def femur(p: np.ndarray, patient: Body, side: int) -> np.ndarray:
    """Proximal femur: head, anteverted neck, trochanters and shaft, joined smoothly."""
    h = head_centre(patient, side)
    s = side
    head = head_surface(p, patient, side)
    neck = capsule(p, h, h + point(s * 38, 8, -30), 14.0, 15.0)
    greater = ellipsoid(p, h + point(s * 50, 10, -22), np.array([15.0, 18.0, 22.0]))
    shaft = capsule(p, h + point(s * 42, 8, -40), h + point(s * 30, 12, -300), 17.0, 13.0)
    lesser = sphere(p, h + point(s * 22, 14, -62), 9.0)
    bone = smooth_union(head, neck, 6.0)
    for part in (greater, shaft, lesser):
        bone = smooth_union(bone, part, 8.0)
    return bone


def femoral_cortex_mm(p: np.ndarray) -> np.ndarray:
    """Cortical thickness: a thin shell on the head, thickening down the shaft."""
    return 2.0 + 3.5 * np.clip((-p[..., 2] - 40.0) / 50.0, 0.0, 1.0)


def acetabular_cover(p: np.ndarray, patient: Body, side: int) -> np.ndarray:
    """Negative where the acetabulum covers the head: superior and medial (centre-edge angle ~37 deg)."""
    cover = getattr(patient, "cover_direction", None)
    direction = cover(side) if cover else point(-side * 0.8, 0.0, 0.6)
    return -((p - head_centre(patient, side)) @ direction)


def hip_bone(p: np.ndarray, patient: Body, side: int) -> np.ndarray:
    """One hip bone: acetabular shell, supra-acetabular ilium flaring upwards and outwards, and rami."""
    h = head_centre(patient, side)
    s = side
    inner = getattr(patient, "acetabulum_radius", patient.head_radius + 3.0)  # room for the cartilage
    shell = np.maximum(np.abs(sphere(p, h, inner + 5.0)) - 5.0, acetabular_cover(p, patient, side))
    ilium = capsule(p, h + point(-s * 14, 2, patient.head_radius + 8), h + point(s * 34, 12, 190), 18.0, 10.0)
    pubis = capsule(p, h + point(-s * 30, -12, -12), point(s * 2.5, -22, -32), 10.0, 9.0)
    ischium = capsule(p, h + point(-s * 22, 16, -18), h + point(-s * 30, 26, -78), 12.0, 14.0)
    bone = smooth_union(shell, ilium, 8.0)
    for part in (pubis, ischium):
        bone = smooth_union(bone, part, 6.0)
    return bone


def fat_planes(p: np.ndarray, patient: Body, side: int) -> np.ndarray:
    """Thin intermuscular fat septa that give muscles their outlines on T1."""
    h = head_centre(patient, side)
    s = side
    planes = [
        ((s * 22, 12, 40), (s * 58, 15, 175)),  # gluteus medius / minimus
        ((s * 74, 10, 5), (s * 64, 10, -130)),  # tensor fasciae latae / vastus lateralis
        ((s * 5, 0, -80), (s * 2, 0, -260)),  # vastus medialis / adductors
        ((-s * 34, 5, -60), (-s * 24, 5, -260)),  # adductor compartment
        ((-s * 40, -20, 5), (-s * 28, -20, -90)),  # iliopsoas / pectineus
    ]
    return np.minimum.reduce([capsule(p, h + point(*a), h + point(*b), 1.3, 1.3) for a, b in planes])


def vessels(p: np.ndarray, patient: Body, side: int) -> np.ndarray:
    """Femoral and external iliac artery and vein, dark flow voids in front of the hip."""
    h = head_centre(patient, side)
    s = side
    tubes = [
        capsule(p, h + point(-s * 26, -31, -240), h + point(-s * 22, -31, 30), 3.5, 4.0),
        capsule(p, h + point(-s * 22, -31, 30), h + point(-s * 40, -24, 120), 4.0, 4.5),
        capsule(p, h + point(-s * 36, -30, -240), h + point(-s * 33, -30, 25), 4.5, 5.5),
    ]
    return np.minimum.reduce(tubes)


def bowel_loops(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Centres and semi-axes of a few bowel loops above the bladder (each patient's own ``rng``)."""
    loops = []
    for _ in range(7):
        centre = point(rng.uniform(-55, 55), rng.uniform(-25, 30), rng.uniform(85, 170))
        loops.append((centre, rng.uniform(9, 16, size=3)))
    return loops


def render_slice(
    p: np.ndarray,
    patient: Body,
    textures: Textures,
    k: int,
    loops: list[tuple[np.ndarray, np.ndarray]],
    pixel_mm: float,
) -> np.ndarray:
    """T1 signal of slice ``k``, averaged over sub-slices (``p``: sub-slice points in body coordinates)."""
    return render_sub_slices(p, patient, textures, k, loops, pixel_mm).mean(axis=0)


def render_sub_slices(
    p: np.ndarray,
    patient: Body,
    textures: Textures,
    k: int,
    loops: list[tuple[np.ndarray, np.ndarray]],
    pixel_mm: float,
) -> np.ndarray:
    """T1 signal (sub-slices, rows, columns) at the points ``p`` (sub-slices, rows, columns, 3) of slice ``k``."""
    image = np.zeros(p.shape[:-1])
    draw = partial(paint, image, pixel_mm=pixel_mm)
    outline = body_outline(p, patient)
    draw(outline, FAT)
    draw(outline + patient.fat_mm, MUSCLE * (1 + 0.05 * textures.muscle[k]))
    for side in (-1, 1):
        draw(fat_planes(p, patient, side), 0.9 * FAT)
    draw(pelvic_cavity(p), PELVIC_FAT)
    for centre, axes in loops:
        draw(ellipsoid(p, centre, axes), BOWEL * (1 + 0.15 * textures.red_marrow[k]))
    draw(ellipsoid(p, point(0, 28, 15), np.array([16.0, 16.0, 28.0])), BOWEL)  # rectum
    draw(ellipsoid(p, point(0, -25, 12), np.array([44.0, 36.0, 32.0])), URINE)  # bladder
    draw(capsule(p, point(-2.5, -22, -32), point(2.5, -22, -32), 8.0, 8.0), CARTILAGE)  # symphysis
    for side in (-1, 1):
        draw(vessels(p, patient, side), FLOW_VOID)
        h = head_centre(patient, side)
        if hasattr(patient, "paint_joint"):
            patient.paint_joint(draw, p, side)
        else:
            joint = np.maximum(sphere(p, h, patient.head_radius + 3.0), acetabular_cover(p, patient, side))
            draw(joint, CARTILAGE)
        pelvis = hip_bone(p, patient, side)
        draw(pelvis, CORTEX)
        pelvic_marrow = PELVIC_MARROW * (1 + 0.10 * textures.red_marrow[k] + 0.04 * textures.marrow[k])
        draw(pelvis + 2.0, pelvic_marrow)
        bone = femur(p, patient, side)
        draw(bone, CORTEX)
        draw(bone + femoral_cortex_mm(p), FEMORAL_MARROW * (1 + 0.04 * textures.marrow[k]))
        if hasattr(patient, "paint_marrow"):
            patient.paint_marrow(draw, p, side, textures, k)
    return image
