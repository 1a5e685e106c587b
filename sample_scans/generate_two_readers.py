"""Generate the second reader's tracings and two more patients: the two-reader sample cohort.

``cohort-two-readers.csv`` lists every hip with a lesion as traced by two readers. Reader R1's
masks are the exact ones (``masks/`` from ``generate.py``, and ``two_readers/masks/R1/`` for the two
patients added here); reader R2's (``two_readers/masks/R2/``) differ from them as two radiologists'
tracings do:

* on each slice, the outline runs one pixel outside R1's along some arcs and one pixel inside along
  others, two pixels outside in a few places (where a smooth random field is high or low);
* on some lesions R2 missed the lesion's last (most posterior) slice.

Patients sub-04 and sub-05 are made by ``generate.py``'s phantom with their own lesions (NIfTI
only, to keep the folder small). Run from the repository root after ``generate.py``
(``make samples`` runs both); the output is deterministic (seeded, gzip mtime 0).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import generate
import nibabel as nib
import numpy as np
from generate import PIXEL_MM, Lesion, Patient
from scipy import ndimage

from onfh_volume.load import load_scan

HERE = Path(__file__).resolve().parent
OUT = HERE / "two_readers"
READER_SEED = 20240612

NEW_PATIENTS = (
    Patient(
        "sub-04", 4, head_x=89.0, head_radius=24.0, body_scale=0.98, fat_mm=18.0,
        followup_shift=(0.0, -0.8, -PIXEL_MM),
        lesions=(
            Lesion(-1, {"baseline": 1200, "followup": 900}, offset=(3.0, -8.0, 12.0), axes=(12.0, 12.0, 14.0)),
            Lesion(+1, {"baseline": 700, "followup": 680}, offset=(4.0, -9.0, 13.0), axes=(10.0, 10.0, 12.0)),
        ),
    ),
    Patient(
        "sub-05", 5, head_x=91.0, head_radius=24.5, body_scale=1.02, fat_mm=24.0,
        followup_shift=(PIXEL_MM, 0.5, 0.0),
        lesions=(
            Lesion(-1, {"baseline": 900, "followup": 1150}, offset=(2.0, -8.0, 12.0), axes=(11.0, 12.0, 13.0)),
            Lesion(+1, {"baseline": 650, "followup": 700}, offset=(4.0, -10.0, 12.0), axes=(10.0, 11.0, 12.0)),
        ),
    ),
)  # fmt: skip
#: (patient, timepoint, label) whose last slice reader R2 did not trace.
MISSED_END_SLICE = {("sub-01", "baseline", 1), ("sub-04", "baseline", 2), ("sub-05", "baseline", 1)}
#: In-plane neighbours: a tracing differs within a slice, never across slices.
IN_PLANE = np.zeros((3, 3, 3), dtype=bool)
IN_PLANE[1] = ndimage.generate_binary_structure(2, 1)


def second_reader(labels: np.ndarray, patient_id: str, number: int, timepoint: str) -> np.ndarray:
    """R2's labels: R1's outlines moved by one or two pixels along arcs, some end slices missed."""
    rng = np.random.default_rng([READER_SEED, number, generate.TIMEPOINTS.index(timepoint)])
    field = generate.smooth_field(rng, 4.0)
    traced = np.zeros_like(labels)
    for label in (1, 2):
        lesion = labels == label
        if not lesion.any():
            continue
        once = ndimage.binary_dilation(lesion, IN_PLANE)
        twice = ndimage.binary_dilation(once, IN_PLANE)
        rim = lesion & ~ndimage.binary_erosion(lesion, IN_PLANE)
        region = (lesion | (once & (field > 0.5)) | (twice & (field > 1.4))) & ~(rim & (field < -0.5))
        if (patient_id, timepoint, label) in MISSED_END_SLICE:
            region[np.flatnonzero(lesion.any(axis=(1, 2)))[-1]] = False
        traced[region] = label
    return traced


def read_labels(path: Path) -> np.ndarray:
    """A sample mask as (slice, row, column) labels."""
    return np.asarray(nib.load(path).dataobj).transpose(2, 1, 0)


def write_new_patient(patient: Patient) -> None:
    """Scan (NIfTI and sidecar) and R1's masks of one added patient, reloaded and checked."""
    for timepoint in generate.TIMEPOINTS:
        voxels, labels = generate.acquire(patient, timepoint)
        stem = f"{patient.patient_id}_{timepoint}"
        nifti = OUT / "nifti" / f"{stem}.nii.gz"
        mask = OUT / "masks" / "R1" / f"{stem}_lesions.nii.gz"
        generate.write_nifti(nifti, voxels)
        mask.write_bytes(generate.nifti_bytes(labels))
        generate.require(np.array_equal(load_scan(nifti).voxels, voxels), f"{nifti}: voxels")
        for lesion in patient.lesions:
            count = int(np.count_nonzero(read_labels(mask) == lesion.label))
            generate.require(count == lesion.counts[timepoint], f"{mask}: label {lesion.label}")


def main() -> None:
    """Rewrite ``two_readers/`` from the R1 masks and the added patients."""
    shutil.rmtree(OUT, ignore_errors=True)
    for folder in ("nifti", "masks/R1", "masks/R2"):
        (OUT / folder).mkdir(parents=True)
    for patient in NEW_PATIENTS:
        write_new_patient(patient)
    first_reader = {p.patient_id: (p.number, HERE / "masks") for p in generate.PATIENTS}
    first_reader |= {p.patient_id: (p.number, OUT / "masks" / "R1") for p in NEW_PATIENTS}
    for patient_id, (number, folder) in sorted(first_reader.items()):
        for timepoint in generate.TIMEPOINTS:
            name = f"{patient_id}_{timepoint}_lesions.nii.gz"
            labels = second_reader(read_labels(folder / name), patient_id, number, timepoint)
            (OUT / "masks" / "R2" / name).write_bytes(generate.nifti_bytes(labels))
            counts = ", ".join(f"label {v}: {np.count_nonzero(labels == v)}" for v in (1, 2))
            print(f"R2 {patient_id} {timepoint}: {counts}")


if __name__ == "__main__":
    main()
