"""``onfh-volume propagate``: a baseline lesion carried to a repositioned follow-up of the same patient."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from onfh_volume import load_mask, load_scan
from onfh_volume.change import classify_change
from onfh_volume.draft.propagate import propagate
from onfh_volume.mask import save_mask
from onfh_volume.testing.draft_set import detect_spec, followup, followup_move
from onfh_volume.testing.phantom import make_phantom


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b)))


def cli(*argv: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onfh_volume.cli", "propagate", *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
    )


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory):
    """Family hip 2 and its follow-up: moved 5 mm, turned up to 4.9°, 4 mm slices, its lesion grown 18%."""
    folder = tmp_path_factory.mktemp("propagate")
    baseline = make_phantom(detect_spec(2))
    later = followup(detect_spec(2), followup_move(2), 2)
    baseline.write_dicom(folder / "baseline")
    later.write_dicom(folder / "followup")
    mask = folder / "baseline.nii.gz"
    save_mask(mask, baseline.labels, load_scan(folder / "baseline"))
    return baseline, later, folder, mask


def test_the_follow_up_lesion_matches_the_follow_up_truth(pair) -> None:
    baseline, later, _, _ = pair
    move = followup_move(2)
    assert max(np.abs(move.degrees)) > 4 and np.linalg.norm(move.shift_mm) > 5  # a real move
    labels, (hip,) = propagate(baseline.scan, baseline.labels, later.scan)
    truth = later.labels == 2
    # Read right (the truth: +1%); a thin lesion whose band moved by a millimetre or so either way
    # (its shift read within ±1.3 mm) may be flagged for its uncertainty, for nothing else here.
    assert classify_change(hip.change.baseline_cm3, hip.change.followup_cm3).category == "no change"
    assert all("uncertainty" in reason for reason in hip.reasons), hip.reasons
    assert dice(labels == 2, truth) >= 0.85
    # Without the registration the baseline's lesion would not sit on the follow-up's.
    assert hip.registration.residual_mm < 1.0


def test_propagate_json_gives_registration_and_where_the_lesion_changed(pair, tmp_path: Path) -> None:
    _, later, folder, mask = pair
    out = tmp_path / "followup.nii.gz"
    result = cli(folder / "baseline", mask, folder / "followup", "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    (hip,) = json.loads(result.stdout)["hips"]
    assert (hip["side"], hip["label"]) == ("left", 2)
    assert hip["change"]["followup_lesion_from"] in ("band fill", "outline shift")
    assert hip["registration"]["quality"] == "ok"
    assert hip["registration"]["head_centre_residual_mm"] < 2.0
    assert hip["registration"]["correlation"] > 0.5
    scan = load_scan(folder / "followup")
    labels = load_mask(out, scan)
    voxel_cm3 = np.prod(scan.pixel_spacing) * scan.slice_thickness / 1000
    assert hip["followup_cm3"] == pytest.approx(np.count_nonzero(labels == 2) * voxel_cm3)
    # What was gained less what was lost is the change from the mapped baseline lesion.
    assert hip["gained_cm3"] - hip["lost_cm3"] == pytest.approx(
        hip["followup_cm3"] - hip["mapped_baseline_cm3"]
    )
    assert hip["gained_cm3"] > 0 and hip["lost_cm3"] >= 0
    assert dice(labels == 2, later.labels == 2) >= 0.85


def test_propagate_refuses_an_empty_baseline_mask_and_a_missing_simpleitk(pair, tmp_path: Path) -> None:
    baseline, _, folder, _ = pair
    empty = tmp_path / "empty.nii.gz"
    save_mask(empty, np.zeros(baseline.labels.shape, dtype=np.uint8), load_scan(folder / "baseline"))
    out = tmp_path / "followup.nii.gz"
    result = cli(folder / "baseline", empty, folder / "followup", "-o", out)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "holds no lesion" in result.stderr
    assert not out.exists()
    # An installation without SimpleITK: an import hook, loaded at start-up, finds no such module.
    blocker = tmp_path / "blocked"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import importlib.abc, sys\n"
        "class NotInstalled(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] == 'SimpleITK':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NotInstalled())\n"
    )
    env = {"PYTHONPATH": f"{blocker}:{':'.join(sys.path)}", "PATH": "/usr/bin:/bin"}
    result = cli(folder / "baseline", empty, folder / "followup", "-o", out, env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "onfh-volume[register]" in result.stderr
