"""Sample data contribution: the synthetic sample scans (scan and traced lesions), in File > Open Sample."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from onfh_volume import ScanError, load_mask, load_scan

from .layers import LayerData, lesion_layer, scan_layer

#: The committed sample scans of the repository (sample_scans/README.md).
SAMPLES = Path(__file__).resolve().parents[2] / "sample_scans"


def sample(patient: str, timepoint: str) -> list[LayerData]:
    """The DICOM series of ``patient`` at ``timepoint`` with its traced lesion mask on top."""
    folder = SAMPLES / "dicom" / patient / timepoint
    if not folder.is_dir():
        raise ScanError(
            folder, "sample scans not found: they ship with the source repository (sample_scans/)"
        )
    scan = load_scan(folder)
    labels = load_mask(SAMPLES / "masks" / f"{patient}_{timepoint}_lesions.nii.gz", scan)
    return [scan_layer(scan), lesion_layer(scan, labels)]


# One command per menu entry (npe2 names a callable per sample).
sub_01_baseline = partial(sample, "sub-01", "baseline")
sub_01_followup = partial(sample, "sub-01", "followup")
sub_02_baseline = partial(sample, "sub-02", "baseline")
sub_02_followup = partial(sample, "sub-02", "followup")
sub_03_baseline = partial(sample, "sub-03", "baseline")
sub_03_followup = partial(sample, "sub-03", "followup")
