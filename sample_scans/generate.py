"""Generate the synthetic coronal T1 hip MRI sample studies in this folder.

Three made-up patients, each scanned at baseline and follow-up with the same clinical protocol
(coronal T1, 224 x 224 at 1.6 mm, 14 slices 4.0 mm thick every 4.4 mm). Each femoral head may carry
an osteonecrosis lesion of an exactly known voxel count, so the expected volumes and changes are
known to the last decimal. The script writes, for every study:

* ``dicom/<patient>/<timepoint>/IM0001..``: the DICOM series, as a scanner exports it;
* ``nifti/<patient>_<timepoint>.nii.gz`` and ``.json``: the same image as dcm2niix would store it;
* ``masks/<patient>_<timepoint>_lesions.nii.gz``: the lesion labels (1 = right hip, 2 = left hip).

Everything is deterministic (seeded random numbers, UIDs derived from fixed seeds, gzip mtime 0):
running the script again rewrites byte-identical files. Run it from the repository root with
``.venv/bin/python sample_scans/generate.py``.
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from onfh_volume.load import load_scan
from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series
from onfh_volume.testing.pelvis import Textures, bowel_loops, head_centre, render_slice
from onfh_volume.testing.shapes import point, sphere

HERE = Path(__file__).resolve().parent
SEED = 20240611

# --- Protocol: identical for every study, so every mask fits every image of its timepoint. ---
ROWS = COLUMNS = 224
SLICES = 14
PIXEL_MM = 1.6
THICKNESS_MM = 4.0
SPACING_MM = 4.4  # 0.4 mm gap between slices, as in many clinical hip protocols
# LPS position of the first voxel: the grid's left-right centre lies on the midline (x = 0), the
# femoral heads (z = 0) sit at row 100, a little above the middle, leaving room for the shafts, and
# the head centres (y = 0) fall midway between slices 6 and 7.
FIRST_POSITION = (-(COLUMNS - 1) / 2 * PIXEL_MM, -(SLICES - 1) / 2 * SPACING_MM, 100 * PIXEL_MM)
SUB_SLICES = np.array([-1.5, -0.5, 0.5, 1.5])  # mm across the 4 mm slice: through-plane partial volume
TIMEPOINTS = ("baseline", "followup")
STUDY_DATES = {"baseline": "20240115", "followup": "20240716"}

# --- T1 signal of the lesions (the rest of the anatomy: onfh_volume.testing.pelvis). ---
LESION_INSIDE = 675.0  # necrotic marrow: marrow-like but lower and mottled
LESION_BAND = 200.0  # the band-like hypointense outline
NOISE_SIGMA = 20.0


@dataclass(frozen=True)
class Lesion:
    """A necrotic lesion in one femoral head, in the head's own frame.

    ``side`` is +1 for the patient's left hip (LPS +x), -1 for the right. ``offset`` is the lesion
    centre from the head centre in mm (lateral, posterior, superior); ``axes`` the ellipsoid's semi-axes.
    """

    side: int
    counts: dict[str, int]
    offset: tuple[float, float, float]
    axes: tuple[float, float, float]

    @property
    def label(self) -> int:
        """Mask label: 1 for the right hip, 2 for the left."""
        return 1 if self.side < 0 else 2


@dataclass(frozen=True)
class Patient:
    """Body build and lesions of one synthetic patient."""

    patient_id: str
    number: int
    head_x: float  # mm from the midline to each femoral head centre
    head_radius: float
    body_scale: float
    fat_mm: float  # subcutaneous fat thickness
    followup_shift: tuple[float, float, float]  # LPS mm; x and z whole pixels so textures can follow
    lesions: tuple[Lesion, ...]

    def shift(self, timepoint: str) -> np.ndarray:
        """Where the anatomy sits (LPS mm) relative to baseline: patients never lie down twice alike."""
        return np.array(self.followup_shift if timepoint == "followup" else (0.0, 0.0, 0.0))


PATIENTS = (
    Patient(
        "sub-01", 1, head_x=90.0, head_radius=24.0, body_scale=1.0, fat_mm=20.0,
        followup_shift=(PIXEL_MM, 0.8, -PIXEL_MM),
        lesions=(
            Lesion(-1, {"baseline": 1400, "followup": 1120}, offset=(4.0, -9.0, 12.0), axes=(12.0, 13.0, 14.0)),
            Lesion(+1, {"baseline": 800, "followup": 760}, offset=(3.0, -8.0, 13.0), axes=(10.0, 11.0, 12.0)),
        ),
    ),
    Patient(
        "sub-02", 2, head_x=88.0, head_radius=23.5, body_scale=0.96, fat_mm=16.0,
        followup_shift=(-PIXEL_MM, -0.6, 0.0),
        lesions=(
            Lesion(-1, {"baseline": 1000, "followup": 1150}, offset=(2.0, -7.0, 12.0), axes=(12.0, 12.0, 13.0)),
        ),
    ),
    Patient(
        "sub-03", 3, head_x=92.0, head_radius=24.5, body_scale=1.03, fat_mm=26.0,
        followup_shift=(0.0, 1.0, PIXEL_MM),
        lesions=(
            Lesion(+1, {"baseline": 0, "followup": 600}, offset=(5.0, -10.0, 12.0), axes=(10.0, 11.0, 12.0)),
        ),
    ),
)  # fmt: skip


# --- Grid geometry ---------------------------------------------------------------------------


def lps_axes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LPS x of each column, y of each slice centre and z of each row (mm)."""
    x = FIRST_POSITION[0] + PIXEL_MM * np.arange(COLUMNS)
    y = FIRST_POSITION[1] + SPACING_MM * np.arange(SLICES)
    z = FIRST_POSITION[2] - PIXEL_MM * np.arange(ROWS)  # CORONAL: down a column is inferior
    return x, y, z


def slice_points(y: np.ndarray | float) -> np.ndarray:
    """LPS points (..., rows, columns, 3) of the voxel centres of one slice at depth(s) ``y``."""
    x, _, z = lps_axes()
    y = np.atleast_1d(np.asarray(y, dtype=float))
    shape = (len(y), ROWS, COLUMNS)
    return np.stack(
        [
            np.broadcast_to(x[None, None, :], shape),
            np.broadcast_to(y[:, None, None], shape),
            np.broadcast_to(z[None, :, None], shape),
        ],
        axis=-1,
    )


def nifti_affine() -> np.ndarray:
    """Affine from NIfTI index (column, row, slice) to RAS mm, derived from the DICOM geometry alone."""
    row_direction = np.array(CORONAL[:3])  # along a row, i.e. as the column index grows
    column_direction = np.array(CORONAL[3:])  # down a column, i.e. as the row index grows
    normal = np.cross(row_direction, column_direction)
    lps = np.eye(4)
    lps[:3, 0] = PIXEL_MM * row_direction
    lps[:3, 1] = PIXEL_MM * column_direction
    lps[:3, 2] = SPACING_MM * normal
    lps[:3, 3] = FIRST_POSITION
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def patient_textures(patient: Patient) -> Textures:
    """A patient's textures from its own seeded stream: the same anatomy at both timepoints."""
    return Textures.draw(np.random.default_rng([SEED, patient.number, 0]), (SLICES, ROWS, COLUMNS))


# --- Lesions ---------------------------------------------------------------------------------


def lesion_mask(patient: Patient, timepoint: str, textures: Textures) -> np.ndarray:
    """Label volume (slice, row, column): for each lesion exactly its voxel count at ``timepoint``.

    Each lesion is the N voxels of lowest score, where the score is the normalised ellipsoid distance
    from the lesion centre (made slightly wavy so the outline looks geographic, not geometric),
    restricted to the marrow of the femoral head. A stable sort on the flattened grid breaks ties
    by index, so the count is exact and the result reproducible.
    """
    x, y, z = lps_axes()
    grid = np.stack(np.broadcast_arrays(x[None, None, :], y[:, None, None], z[None, :, None]), axis=-1)
    body = grid - patient.shift(timepoint)
    labels = np.zeros((SLICES, ROWS, COLUMNS), dtype=np.uint8)
    for lesion in patient.lesions:
        count = lesion.counts[timepoint]
        if count == 0:
            continue
        h = head_centre(patient, lesion.side)
        centre = h + point(lesion.side * lesion.offset[0], lesion.offset[1], lesion.offset[2])
        score = np.linalg.norm((body - centre) / np.array(lesion.axes), axis=-1)
        score *= 1 + 0.15 * textures.outline
        score[sphere(body, h, patient.head_radius - 2.0) > 0] = np.inf  # marrow only: keep the cortex
        order = np.argsort(score, axis=None, kind="stable")[:count]
        if not np.isfinite(score.flat[order[-1]]):
            raise ValueError(f"{patient.patient_id}: a {count}-voxel lesion does not fit in the femoral head")
        labels.flat[order] = lesion.label
    return labels


def outer_band(region: np.ndarray, width_px: float = 2.0) -> np.ndarray:
    """Pixels of ``region`` within ``width_px`` of its in-plane edge, slice by slice (the traced outline)."""
    reach = int(np.floor(width_px))
    padded = np.pad(region, ((0, 0), (reach, reach), (reach, reach)))
    interior = region.copy()
    for dr in range(-reach, reach + 1):
        for dc in range(-reach, reach + 1):
            if dr * dr + dc * dc <= width_px * width_px:
                interior &= padded[:, reach + dr : reach + dr + ROWS, reach + dc : reach + dc + COLUMNS]
    return region & ~interior


def paint_lesions(image: np.ndarray, labels: np.ndarray, textures: Textures) -> None:
    """Draw each lesion exactly on its mask: mottled necrotic marrow ringed by a dark band."""
    for label in (1, 2):
        region = labels == label
        band = outer_band(region)
        inside = region & ~band
        mottled = LESION_INSIDE + 45 * np.clip(textures.mottle, -1.7, 1.7)
        image[inside] = mottled[inside]
        image[band] = (LESION_BAND + 25 * np.clip(textures.marrow, -2, 2))[band]


# --- Acquisition -----------------------------------------------------------------------------


def coil_shading() -> np.ndarray:
    """Smooth multiplicative receive-coil shading: brighter at the sides, anteriorly and inferiorly."""
    x, y, z = lps_axes()
    return (
        1.0
        + 0.10 * (x[None, None, :] / 180.0) ** 2
        - 0.05 * (z[None, :, None] / 180.0)
        - 0.03 * (y[:, None, None] / 30.0)
    )


def acquire(patient: Patient, timepoint: str) -> tuple[np.ndarray, np.ndarray]:
    """The int16 image (slice, row, column) and lesion labels of one study."""
    shift = patient.shift(timepoint)
    textures = patient_textures(patient).shifted(round(-shift[2] / PIXEL_MM), round(shift[0] / PIXEL_MM))
    loops = bowel_loops(np.random.default_rng([SEED, patient.number, 1]))
    _, y, _ = lps_axes()
    image = np.stack(
        [
            render_slice(slice_points(yk + SUB_SLICES) - shift, patient, textures, k, loops, PIXEL_MM)
            for k, yk in enumerate(y)
        ]
    )
    labels = lesion_mask(patient, timepoint, textures)
    paint_lesions(image, labels, textures)
    image *= coil_shading()
    # Magnitude images carry Rician noise: the background is not zero but a low noise floor.
    rng = np.random.default_rng([SEED, patient.number, 2 + TIMEPOINTS.index(timepoint)])
    real = image + rng.normal(0.0, NOISE_SIGMA, image.shape)
    imaginary = rng.normal(0.0, NOISE_SIGMA, image.shape)
    magnitude = np.hypot(real, imaginary)
    return np.clip(np.rint(magnitude), 0, 32767).astype(np.int16), labels


# --- Writers ---------------------------------------------------------------------------------


def write_dicom(folder: Path, voxels: np.ndarray, patient: Patient, timepoint: str) -> None:
    """Write the study as a classic DICOM series, one file per slice."""
    datasets = dicom_slices(
        voxels,
        pixel_spacing=(PIXEL_MM, PIXEL_MM),
        slice_thickness=THICKNESS_MM,
        positions=stack_positions(FIRST_POSITION, CORONAL, SPACING_MM, SLICES),
        orientation=CORONAL,
        series_number=3,
        series_description="COR T1",
        patient_name=f"SAMPLE^{patient.patient_id.replace('-', '').upper()}",
        patient_id=patient.patient_id,
        spacing_between_slices=SPACING_MM,
        uid_seed=f"onfh-volume sample {patient.patient_id} {timepoint}",
    )
    for ds in datasets:
        ds.StudyDate = ds.SeriesDate = STUDY_DATES[timepoint]
        ds.StudyTime = ds.SeriesTime = "093000"
        ds.StudyDescription = "MRI HIPS"
        ds.BodyPartExamined = "HIP"
    write_series(folder, datasets)


def nifti_bytes(data: np.ndarray) -> bytes:
    """A gzipped NIfTI-1 file of a (slice, row, column) array, laid out as dcm2niix writes it."""
    image = nib.Nifti1Image(data.transpose(2, 1, 0), nifti_affine())
    image.set_qform(nifti_affine(), code=1)
    image.set_sform(nifti_affine(), code=1)
    image.header.set_xyzt_units("mm", "sec")
    image.header.set_dim_info(slice=2)
    # mtime=0 keeps the gzip header, hence the file, identical from run to run.
    return gzip.compress(image.to_bytes(), compresslevel=9, mtime=0)


def write_nifti(path: Path, voxels: np.ndarray) -> None:
    """Write the image and its BIDS sidecar (thickness is not part of a NIfTI header)."""
    path.write_bytes(nifti_bytes(voxels))
    sidecar = {
        "SliceThickness": THICKNESS_MM,
        "SpacingBetweenSlices": SPACING_MM,
        "SeriesDescription": "COR T1",
    }
    path.with_name(path.name.removesuffix(".nii.gz") + ".json").write_text(
        json.dumps(sidecar, indent=2) + "\n"
    )


# --- Self-check ------------------------------------------------------------------------------


def require(condition: bool, what: str) -> None:
    """Stop with a message when a written file is not what the README promises (asserts may be off)."""
    if not condition:
        raise SystemExit(f"sample check failed: {what}")


def check(dicom: Path, nifti: Path, mask: Path, voxels: np.ndarray, patient: Patient, timepoint: str) -> None:
    """Reload what was written, through the project's loader, and compare with what was meant."""
    for scan in (load_scan(dicom), load_scan(nifti)):
        name = scan.source
        require(np.array_equal(scan.voxels, voxels), f"{name}: voxels differ from the generated image")
        require(np.allclose(scan.affine[:, [2, 1, 0, 3]], nifti_affine(), atol=1e-4), f"{name}: affine")
        require(np.allclose(scan.pixel_spacing, (PIXEL_MM, PIXEL_MM)), f"{name}: pixel spacing")
        require(np.isclose(scan.slice_thickness or 0.0, THICKNESS_MM), f"{name}: slice thickness")
        require(np.isclose(scan.slice_spacing or 0.0, SPACING_MM), f"{name}: slice spacing")
    labels = np.asarray(nib.load(mask).dataobj).transpose(2, 1, 0)
    expected = {lesion.label: lesion.counts[timepoint] for lesion in patient.lesions}
    for label in (1, 2):
        count = np.count_nonzero(labels == label)
        require(count == expected.get(label, 0), f"{mask}: label {label} has {count} voxels")
    require(np.count_nonzero(labels > 2) == 0, f"{mask}: labels other than 0, 1, 2")


def main() -> None:
    """Regenerate every sample study from scratch."""
    for folder in ("dicom", "nifti", "masks"):
        shutil.rmtree(HERE / folder, ignore_errors=True)
    (HERE / "nifti").mkdir()
    (HERE / "masks").mkdir()
    for patient in PATIENTS:
        for timepoint in TIMEPOINTS:
            voxels, labels = acquire(patient, timepoint)
            stem = f"{patient.patient_id}_{timepoint}"
            dicom = HERE / "dicom" / patient.patient_id / timepoint
            nifti = HERE / "nifti" / f"{stem}.nii.gz"
            mask = HERE / "masks" / f"{stem}_lesions.nii.gz"
            write_dicom(dicom, voxels, patient, timepoint)
            write_nifti(nifti, voxels)
            mask.write_bytes(nifti_bytes(labels))
            check(dicom, nifti, mask, voxels, patient, timepoint)
            counts = ", ".join(f"label {v}: {np.count_nonzero(labels == v)}" for v in (1, 2))
            print(f"{stem}: {counts}")


if __name__ == "__main__":
    main()
