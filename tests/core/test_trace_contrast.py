"""``trace`` on a scan that is not T1-like (bright fluid, dark fat) warns or refuses; ``--seed`` takes plain decimals only."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from onfh_volume.cli import main
from onfh_volume.testing.phantom_set import small_phantom

WARNING = "is darker inside than the tissue around it"


def inverted(voxels: np.ndarray) -> np.ndarray:
    """The phantom with its tissue contrast turned over (fat dark, band and fluid bright), air kept dark."""
    body = voxels > 100  # the phantom's noise floor is sigma 25
    low, high = np.percentile(voxels[body], [1, 99])
    return np.where(body, np.clip(high + low - voxels, low, None), voxels).astype(np.int16)


def trace_warnings(tmp_path: Path, capsys, voxels: np.ndarray) -> tuple[int, str]:
    """Trace the small phantom's right lesion from its central click, on ``voxels``: exit code, messages."""
    phantom = small_phantom()
    phantom = dataclasses.replace(phantom, scan=dataclasses.replace(phantom.scan, voxels=voxels))
    folder = tmp_path / f"series-{voxels.sum()}"
    phantom.write_dicom(folder)
    seed = ",".join(map(str, phantom.central_click(1)))
    code = main(["trace", str(folder), "--seed-voxel", seed, "-o", str(folder) + ".nii.gz"])
    return code, capsys.readouterr().err


def test_a_scan_whose_head_marrow_is_dark_is_never_traced_silently(tmp_path: Path, capsys) -> None:
    """Inverted, the head is either not found (refused, exit 2) or traced with the contrast warning."""
    t1 = small_phantom().scan.voxels
    code, err = trace_warnings(tmp_path, capsys, inverted(t1))
    assert code == 2 or (code == 0 and WARNING in err), err
    code, err = trace_warnings(tmp_path, capsys, t1)
    assert code == 0 and WARNING not in err, err


@pytest.mark.parametrize("seed", ["1_0,2,3", "1,2,٣"])
def test_a_seed_that_is_not_three_plain_decimals_is_refused(tmp_path: Path, capsys, seed: str) -> None:
    code = main(
        ["trace", "sample_scans/dicom/sub-01/baseline", "--seed", seed, "-o", str(tmp_path / "m.nii.gz")]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"--seed {seed!r} is not three comma-separated numbers" in err
