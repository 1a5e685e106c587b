"""Coronal T1 hip MRI phantoms of osteonecrosis with exact truth, for tests and benchmarks.

A phantom is a synthetic study (both hips, or one hip on a small off-centre field) rendered from
the shared pelvis (:mod:`onfh_volume.testing.pelvis`) with necrotic lesions
(:mod:`onfh_volume.testing.necrosis`): textured fatty marrow, dark cortex and subchondral plate,
cartilage and acetabulum against the head, a band with gaps, a bias field, Rician noise, in-plane
and through-plane partial volume, thick slices with gaps and rectangular pixels. The truth is
exact: the lesion labels on the scan grid (band and subchondral plate included), the band alone,
and each femoral head's sphere (the outer bone surface) in patient RAS millimetres.

Examples
--------
>>> from onfh_volume.testing.phantom_set import small_phantom
>>> phantom = small_phantom()
>>> phantom.scan.voxels.shape == phantom.labels.shape
True
>>> sorted(phantom.volumes_mm3()) == [lesion.label for lesion in phantom.spec.lesions]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
from scipy import ndimage

from ..scan import LPS_TO_RAS, Scan, gap_warning
from .dicom_series import CORONAL, dicom_slices, stack_positions, write_series
from .necrosis import LesionSpec, lesion_fields, lesion_truth, paint_lesion
from .pelvis import Textures, bowel_loops, head_centre, render_sub_slices


@dataclass(frozen=True)
class Acquisition:
    """The protocol and field of view of a coronal study.

    ``centre`` is the body point (LPS mm, origin midway between the femoral heads) at the centre of
    the grid; ``row_mm`` is the distance between rows, ``column_mm`` between columns.
    """

    rows: int
    columns: int
    slices: int
    row_mm: float
    column_mm: float
    thickness_mm: float
    spacing_mm: float
    centre: tuple[float, float, float] = (0.0, 0.0, 0.0)
    noise_sigma: float = 25.0
    bias: float = 0.15  # peak-to-centre amplitude of the multiplicative receive-coil shading
    sub_slices: int = 3  # points across a slice's thickness: through-plane partial volume

    @property
    def shape(self) -> tuple[int, int, int]:
        """(slices, rows, columns)."""
        return (self.slices, self.rows, self.columns)

    def first_position(self) -> np.ndarray:
        """LPS position of the first voxel's centre."""
        half = np.array([(self.columns - 1) * self.column_mm, (self.slices - 1) * self.spacing_mm, 0.0]) / 2
        half[2] = -(self.rows - 1) * self.row_mm / 2  # CORONAL: down a column is inferior
        return np.array(self.centre) - half

    def lps_affine(self) -> np.ndarray:
        """4 x 4 matrix from index (slice, row, column) to LPS mm."""
        affine = np.eye(4)
        affine[:3, 0] = self.spacing_mm * np.cross(CORONAL[:3], CORONAL[3:])
        affine[:3, 1] = self.row_mm * np.array(CORONAL[3:])
        affine[:3, 2] = self.column_mm * np.array(CORONAL[:3])
        affine[:3, 3] = self.first_position()
        return affine

    def points(self, k: int, depths: np.ndarray) -> np.ndarray:
        """LPS points (depths, rows, columns, 3) of slice ``k`` at ``depths`` mm along its normal."""
        affine = self.lps_affine()
        rows, columns = np.meshgrid(np.arange(self.rows), np.arange(self.columns), indexing="ij")
        plane = np.stack([np.full(rows.shape, k), rows, columns], axis=-1) @ affine[:3, :3].T + affine[:3, 3]
        normal = affine[:3, 0] / self.spacing_mm
        return plane[None] + np.asarray(depths)[:, None, None, None] * normal


@dataclass(frozen=True)
class PhantomSpec:
    """One synthetic patient's build, lesions and scan protocol."""

    name: str
    number: int  # seeds every random draw of this phantom
    acquisition: Acquisition
    lesions: tuple[LesionSpec, ...]
    head_x: float = 90.0
    head_radius: float = 24.0
    body_scale: float = 1.0
    fat_mm: float = 20.0


@dataclass(frozen=True)
class HeadTruth:
    """A femoral head: its side (``"right"``/``"left"``), centre (RAS mm) and outer bone radius (mm)."""

    side: str
    centre_ras: tuple[float, float, float]
    radius_mm: float


@dataclass
class Phantom:
    """A rendered study and its truth.

    ``labels`` holds the lesions (1 right hip, 2 left) on the scan grid, band and subchondral plate
    included; ``band`` the band's voxels; ``inside`` the lesions' marrow within the band and plate
    (where a reader would click); ``heads`` the femoral heads inside the field of view.
    """

    spec: PhantomSpec
    scan: Scan
    labels: np.ndarray
    band: np.ndarray
    inside: np.ndarray
    heads: list[HeadTruth] = field(default_factory=list)

    def volumes_mm3(self) -> dict[int, float]:
        """Exact volume of each lesion of ``labels`` (voxel count x pixel area x slice thickness)."""
        a = self.spec.acquisition
        counts = np.bincount(self.labels.ravel(), minlength=3)
        return {
            lesion.label: float(counts[lesion.label]) * a.row_mm * a.column_mm * a.thickness_mm
            for lesion in self.spec.lesions
        }

    def marrow_depth(self, label: int) -> np.ndarray:
        """mm from each marrow voxel of lesion ``label`` to that marrow's edge on its slice (0 elsewhere)."""
        inside = self.inside & (self.labels == label)
        return np.stack(
            [ndimage.distance_transform_edt(plane, sampling=self.scan.pixel_spacing) for plane in inside]
        )

    def central_click(self, label: int = 1) -> tuple[int, int, int]:
        """Where a reader clicks: the lesion's marrow voxel (slice, row, column) deepest inside its band."""
        depth = self.marrow_depth(label)
        s, r, c = (int(v) for v in np.unravel_index(np.argmax(depth), depth.shape))
        return s, r, c

    def write_dicom(self, folder: str | PathLike[str]) -> list[Path]:
        """Write the study as a classic DICOM series (one file per slice) that the loaders read back."""
        a = self.spec.acquisition
        if self.scan.voxels is None:
            raise ValueError("a phantom's scan always has its voxels")
        # A follow-up (draft_set.followup) is the same patient as its baseline, as at a hospital.
        patient = self.spec.name.removesuffix("-followup")
        datasets = dicom_slices(
            self.scan.voxels,
            pixel_spacing=(a.row_mm, a.column_mm),
            slice_thickness=a.thickness_mm,
            positions=stack_positions(a.first_position(), CORONAL, a.spacing_mm, a.slices),
            series_description="COR T1",
            patient_name=f"PHANTOM^{patient.upper()}",
            patient_id=patient,
            spacing_between_slices=a.spacing_mm,
            uid_seed=f"onfh-volume phantom {self.spec.name}",
        )
        return write_series(folder, datasets)


def make_phantom(spec: PhantomSpec) -> Phantom:
    """Render ``spec``: the int16 scan (slice, row, column), its lesion labels, band and heads."""
    a = spec.acquisition
    textures = Textures.draw(np.random.default_rng([spec.number, 0]), a.shape)
    loops = bowel_loops(np.random.default_rng([spec.number, 1]))
    pixel_mm = float(np.sqrt(a.row_mm * a.column_mm))
    depths = ((np.arange(a.sub_slices) + 0.5) / a.sub_slices - 0.5) * a.thickness_mm
    image = np.empty(a.shape)
    labels = np.zeros(a.shape, dtype=np.uint8)
    band = np.zeros(a.shape, dtype=bool)
    inside = np.zeros(a.shape, dtype=bool)
    for k in range(a.slices):
        p = a.points(k, depths)
        sub = render_sub_slices(p, spec, textures, k, loops, pixel_mm)
        centre = a.points(k, np.zeros(1))[0]
        for lesion in spec.lesions:
            paint_lesion(sub, lesion_fields(p, spec, lesion, textures, k), lesion, textures, k, pixel_mm)
            in_lesion, on_band, in_marrow = lesion_truth(lesion_fields(centre, spec, lesion, textures, k))
            labels[k][in_lesion] = lesion.label
            band[k] |= on_band
            inside[k] |= in_marrow
        image[k] = sub.mean(axis=0)
    return Phantom(spec, _scan(spec, _acquire(image, spec)), labels, band, inside, _heads(spec))


def _acquire(image: np.ndarray, spec: PhantomSpec) -> np.ndarray:
    """Coil shading and Rician noise (a magnitude image's noise floor), rounded to int16."""
    a = spec.acquisition
    rng = np.random.default_rng([spec.number, 2])
    w, v, u = np.meshgrid(*[np.linspace(-1, 1, n) for n in a.shape], indexing="ij")
    terms = np.stack([u, v, u * u, v * v, u * v, 0.3 * w])
    coefficients = rng.normal(0.0, 1.0, len(terms))
    shading = np.tensordot(coefficients, terms, axes=1)
    image = image * (1 + a.bias * shading / np.abs(shading).max())
    real = image + rng.normal(0.0, a.noise_sigma, image.shape)
    imaginary = rng.normal(0.0, a.noise_sigma, image.shape)
    return np.clip(np.rint(np.hypot(real, imaginary)), 0, 32767).astype(np.int16)


def _scan(spec: PhantomSpec, voxels: np.ndarray) -> Scan:
    """The Scan the loaders would give for this study's DICOM series."""
    a = spec.acquisition
    return Scan(
        voxels=voxels,
        pixel_spacing=(a.row_mm, a.column_mm),
        slice_thickness=a.thickness_mm,
        slice_spacing=a.spacing_mm,
        affine=LPS_TO_RAS @ a.lps_affine(),
        source=f"phantom {spec.name}",
        warnings=gap_warning(a.thickness_mm, a.spacing_mm),
    )


def _heads(spec: PhantomSpec) -> list[HeadTruth]:
    """The femoral heads whose centre lies inside the field of view."""
    a = spec.acquisition
    inverse = np.linalg.inv(a.lps_affine())
    heads = []
    for side in (-1, 1):
        centre = head_centre(spec, side)
        index = inverse[:3, :3] @ centre + inverse[:3, 3]
        if np.all(index >= -0.5) and np.all(index <= np.array(a.shape) - 0.5):
            ras = LPS_TO_RAS[:3, :3] @ centre
            heads.append(
                HeadTruth(
                    "right" if side < 0 else "left",
                    (float(ras[0]), float(ras[1]), float(ras[2])),
                    spec.head_radius,
                )
            )
    return heads
