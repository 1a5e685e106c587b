"""The two cohorts of ``bench_cohort.py``, shaped like studies, built in a folder with their manifests.

- **small** (many masks on few series): two synthetic series and a gzipped NIfTI mask per patient
  and timepoint;
- **large** (one series per mask): patients whose every measurement has its own series folder and
  mask path (symbolic links to the sample scans), so each series is a real read of 14 DICOM files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLES = Path(__file__).resolve().parents[1] / "sample_scans"
HIPS = 500
SMALL_PATIENTS = 48
SMALL_SHAPE = (24, 200, 240)
# Each hip of the large cohort copies one sample hip: (sample patient, side), in turn.
SAMPLE_HIPS = (("sub-01", "right"), ("sub-01", "left"), ("sub-02", "right"), ("sub-03", "left"))
HEADER = "patient_id,timepoint,scan,mask,side,reader,group"


def sample_cohort(folder: Path) -> Path:
    """The large cohort (links to the sample files) and its manifest; return the manifest."""
    rows = [HEADER]
    for k in range(HIPS):
        source, side = SAMPLE_HIPS[k % len(SAMPLE_HIPS)]
        patient = f"P{k + 1:04d}"
        group = ("core decompression", "conservative")[k % 2]
        for when in ("baseline", "followup"):
            series = folder / "dicom" / patient / when
            series.mkdir(parents=True)
            for file in sorted((SAMPLES / "dicom" / source / when).iterdir()):
                (series / file.name).symlink_to(file)
            mask = folder / "masks" / f"{patient}_{when}_lesions.nii.gz"
            mask.parent.mkdir(exist_ok=True)
            mask.symlink_to(SAMPLES / "masks" / f"{source}_{when}_lesions.nii.gz")
            rows.append(
                f"{patient},{when},{series.relative_to(folder)},{mask.relative_to(folder)},{side},R1,{group}"
            )
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def small_cohort(folder: Path) -> Path:
    """The small cohort: two synthetic series, a gzipped mask per patient and timepoint; return the manifest."""
    from onfh_volume.load import load_scan
    from onfh_volume.mask import save_mask
    from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series

    rng = np.random.default_rng(9)
    rows = [HEADER]
    slices, height, width = SMALL_SHAPE
    zyx = np.ogrid[:slices, :height, :width]
    for when in ("baseline", "followup"):
        series = folder / "dicom" / when
        voxels = rng.integers(0, 1000, SMALL_SHAPE).astype(np.int16)
        first = (-width * 0.4, 0.0, height * 0.4)
        write_series(
            series,
            dicom_slices(
                voxels,
                pixel_spacing=(0.8, 0.8),
                slice_thickness=3.0,
                positions=stack_positions(first, CORONAL, 3.3, slices),
                uid_seed=f"bench_cohort_{when}",
            ),
        )
        scan = load_scan(series, pixels=False)
        for k in range(SMALL_PATIENTS):
            side, label = ("right", 1) if k % 2 else ("left", 2)
            centre = (
                rng.integers(6, 18),
                rng.integers(60, 140),
                60 + 120 * (label - 1) + rng.integers(-5, 5),
            )
            radius = rng.uniform(4, 12)
            inside = sum(
                ((axis - c) * scale) ** 2 for axis, c, scale in zip(zyx, centre, (3.3, 0.8, 0.8), strict=True)
            )
            labels = np.where(inside <= radius**2, label, 0).astype(np.uint8)
            mask = save_mask(folder / "masks" / f"S{k + 1:03d}_{when}.nii.gz", labels, scan)
            group = ("core decompression", "conservative")[k % 2]
            rows.append(
                f"S{k + 1:03d},{when},{series.relative_to(folder)},{mask.relative_to(folder)},{side},R1,{group}"
            )
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest
