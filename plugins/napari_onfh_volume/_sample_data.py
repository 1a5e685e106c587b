"""Sample data contribution: the synthetic sample scans (scan and traced lesions), in File > Open Sample."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from onfh_volume import ScanError, load_mask, load_scan

from .layers import LayerData, lesion_layer, scan_layer

#: Where the sample scans are taken from when set (a copy of the repository's sample_scans/).
SAMPLES_VARIABLE = "ONFH_VOLUME_SAMPLES"


def samples_folder() -> Path:
    """The sample scans: ``$ONFH_VOLUME_SAMPLES``, else the source checkout's ``sample_scans/``.

    The 14 MB of DICOM are not in the wheel; an installed plugin finds them through the variable.
    """
    configured = os.environ.get(SAMPLES_VARIABLE)
    if configured:
        return Path(configured)
    # plugins/napari_onfh_volume/ in a source checkout (an editable install runs from there).
    return Path(__file__).resolve().parents[2] / "sample_scans"


def sample(patient: str, timepoint: str) -> list[LayerData]:
    """The DICOM series of ``patient`` at ``timepoint`` with its traced lesion mask on top.

    Raises
    ------
    ScanError
        When the sample scans are not found, saying where they were looked for and how to set them.
    """
    samples = samples_folder()
    folder = samples / "dicom" / patient / timepoint
    if not folder.is_dir():
        raise ScanError(
            folder,
            "sample scans not found: they ship with the source repository (sample_scans/), not the "
            f"installed package; set {SAMPLES_VARIABLE} to a copy of that folder",
        )
    scan = load_scan(folder)
    labels = load_mask(samples / "masks" / f"{patient}_{timepoint}_lesions.nii.gz", scan)
    return [scan_layer(scan), lesion_layer(scan, labels)]


# One command per menu entry (npe2 names a callable per sample).
sub_01_baseline = partial(sample, "sub-01", "baseline")
sub_01_followup = partial(sample, "sub-01", "followup")
sub_02_baseline = partial(sample, "sub-02", "baseline")
sub_02_followup = partial(sample, "sub-02", "followup")
sub_03_baseline = partial(sample, "sub-03", "baseline")
sub_03_followup = partial(sample, "sub-03", "followup")
