"""The napari plugin's reader, writer, sample data and manifest, in a real napari viewer.

Expected geometry comes from the sample protocol (sample_scans/README.md: 14 slices of 224 x 224,
1.6 x 1.6 mm pixels, 4.0 mm slices every 4.4 mm) and voxel counts from that README.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import SAMPLES, copy_sample

from napari_onfh_volume import _reader
from napari_onfh_volume.layers import is_lesion_layer, is_scan_layer, scan_of
from onfh_volume import OutputExistsError, ScanError, load_mask, load_scan

MANIFEST = Path(_reader.__file__).with_name("napari.yaml")


def test_manifest_validates() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("npe2")), "validate", "onfh-volume"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_manifest_command_imports() -> None:
    commands = yaml.safe_load(MANIFEST.read_text())["contributions"]["commands"]
    assert len(commands) == 14
    for command in commands:
        module, name = command["python_name"].split(":")
        assert callable(getattr(import_module(module), name)), command["id"]


def test_dicom_folder_opens_as_a_scan_in_mm(make_napari_viewer) -> None:
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(SAMPLES / "dicom/sub-01/baseline"), plugin="onfh-volume")

    assert is_scan_layer(layer)
    assert layer.data.shape == (14, 224, 224)
    np.testing.assert_allclose(layer.scale, [4.4, 1.6, 1.6])
    low, high = layer.contrast_limits
    reference = load_scan(SAMPLES / "dicom/sub-01/baseline").voxels
    assert reference.min() <= low < high <= reference.max()
    assert scan_of(layer).series_uid == load_scan(SAMPLES / "dicom/sub-01/baseline", pixels=False).series_uid
    assert scan_of(layer).voxels is None  # metadata carries geometry, not a second copy of the image


def test_nifti_scan_and_mask_open_on_one_grid(make_napari_viewer) -> None:
    viewer = make_napari_viewer()
    [scan] = viewer.open(str(SAMPLES / "nifti/sub-01_baseline.nii.gz"), plugin="onfh-volume")
    [mask] = viewer.open(str(SAMPLES / "masks/sub-01_baseline_lesions.nii.gz"), plugin="onfh-volume")

    assert is_scan_layer(scan) and is_lesion_layer(mask)
    assert mask.data.shape == scan.data.shape == (14, 224, 224)
    np.testing.assert_allclose(mask.scale, scan.scale)
    np.testing.assert_allclose(mask.translate, scan.translate)
    counts = np.bincount(np.asarray(mask.data).ravel())
    assert counts[1] == 1400 and counts[2] == 800
    # The labels sit where the independent loader puts them on the DICOM grid.
    dicom = load_scan(SAMPLES / "dicom/sub-01/baseline", pixels=False)
    np.testing.assert_array_equal(
        mask.data, load_mask(SAMPLES / "masks/sub-01_baseline_lesions.nii.gz", dicom)
    )


def test_paths_the_reader_cannot_read_give_none(tmp_path: Path, make_napari_viewer) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    assert _reader.napari_get_reader(str(text)) is None
    assert _reader.napari_get_reader(str(tmp_path / "missing.nii.gz")) is not None  # by name only...
    assert _reader.read(str(tmp_path / "missing.nii.gz")) is None  # ...and then declined, not raised
    folder, _mask = copy_sample(tmp_path, "sub-02", "baseline")
    (folder / "IM0003").write_bytes((folder / "IM0003").read_bytes()[:2000])  # truncated slice
    make_napari_viewer()  # notifications need an application
    assert _reader.read(str(folder)) is None


def test_every_sample_opens_with_its_traced_lesions(make_napari_viewer) -> None:
    expected = {  # sample_scans/README.md
        "sub-01-baseline": {1: 1400, 2: 800},
        "sub-01-followup": {1: 1120, 2: 760},
        "sub-02-baseline": {1: 1000},
        "sub-02-followup": {1: 1150},
        "sub-03-baseline": {},
        "sub-03-followup": {2: 600},
    }
    viewer = make_napari_viewer()
    for key, counts in expected.items():
        viewer.layers.clear()
        scan, lesions = viewer.open_sample("onfh-volume", key)
        assert is_scan_layer(scan) and is_lesion_layer(lesions), key
        found = np.bincount(np.asarray(lesions.data).ravel(), minlength=3)
        assert {label: int(found[label]) for label in (1, 2) if found[label]} == counts, key


def test_writer_saves_on_the_scan_grid_and_never_overwrites(tmp_path: Path, make_napari_viewer) -> None:
    viewer = make_napari_viewer()
    _scan, lesions = viewer.open_sample("onfh-volume", "sub-01-baseline")
    target = tmp_path / "saved.nii.gz"

    viewer.layers.selection = {lesions}
    written = viewer.layers.save(str(target), selected=True, plugin="onfh-volume")

    assert written == [str(target)]
    reread = load_mask(target, load_scan(SAMPLES / "dicom/sub-01/baseline", pixels=False))
    np.testing.assert_array_equal(reread, lesions.data)
    before = target.read_bytes()
    with pytest.raises(OutputExistsError):
        viewer.layers.save(str(target), selected=True, plugin="onfh-volume")
    assert target.read_bytes() == before


def test_view_opens_scan_mask_and_widget(qtbot) -> None:
    from napari_onfh_volume.view import open_viewer

    scan = load_scan(SAMPLES / "dicom/sub-03/followup")
    labels = load_mask(SAMPLES / "masks/sub-03_followup_lesions.nii.gz", scan)
    viewer, widget = open_viewer(scan, labels, show=False)
    try:
        assert [layer.name for layer in viewer.layers] == ["sub-03 followup", "sub-03 followup lesions"]
        [left] = [lesion for lesion in widget.readout.lesions() if lesion.pixel_counts.any()]
        assert left.label == 2 and left.pixel_counts.sum() == 600  # sample_scans/README.md
        assert left.volume_thickness_cm3 == pytest.approx(600 * 1.6 * 1.6 * 4.0 / 1000, rel=1e-12)
    finally:
        viewer.close()


def test_view_refuses_a_bad_scan_before_any_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from napari_onfh_volume.view import main

    assert main([str(tmp_path / "absent")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "absent" in error and "no such file" in error


def test_sample_data_outside_a_checkout_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from napari_onfh_volume import _sample_data

    monkeypatch.setenv("ONFH_VOLUME_SAMPLES", str(tmp_path / "nowhere"))
    with pytest.raises(ScanError, match="ONFH_VOLUME_SAMPLES"):
        _sample_data.sub_01_baseline()
    monkeypatch.setenv("ONFH_VOLUME_SAMPLES", str(SAMPLES))
    scan, lesions = _sample_data.sub_01_baseline()
    assert np.asarray(lesions[0]).shape == scan[0].shape
