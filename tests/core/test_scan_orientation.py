"""The scan's orientation letters agree with nibabel's, and a DICOM-only run never imports nibabel."""

from __future__ import annotations

import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from onfh_volume.scan import axcodes


@pytest.mark.parametrize("seed", range(200))
def test_axcodes_agree_with_nibabel(seed: int) -> None:
    rng = np.random.default_rng(seed)
    affine = np.eye(4)
    affine[:3, :3] = Rotation.random(random_state=seed).as_matrix() * rng.uniform(0.3, 5.0, 3)
    assert axcodes(affine) == "".join(nib.orientations.aff2axcodes(affine))


def test_standard_coronal_dicom_is_pil() -> None:
    # DICOM coronal: rows run to the patient's left (LPS +x = RAS -x), columns down; slices posterior.
    affine = np.eye(4)
    affine[:3, :3] = [[0.0, 0.0, -1.6], [-4.4, 0.0, 0.0], [0.0, -1.6, 0.0]]
    assert axcodes(affine) == "PIL"


def test_cli_start_up_leaves_nibabel_for_nifti_files() -> None:
    code = "import sys, onfh_volume.cli; print('nibabel' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
