"""DICOM SEG and RTSTRUCT in the plugin: opened with their scan, loaded in the widget, saved for the PACS."""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pytest
from helpers import SAMPLES, copy_sample

from napari_onfh_volume import _reader
from napari_onfh_volume.layers import is_lesion_layer, is_scan_layer
from onfh_volume import load_mask, load_scan
from onfh_volume.export_seg import export_seg


@pytest.fixture
def sample_seg(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    """sub-01 baseline, its mask as a DICOM SEG, and the mask's labels on the series."""
    folder = SAMPLES / "dicom" / "sub-01" / "baseline"
    nifti = SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz"
    seg = export_seg(folder, nifti, tmp_path / "lesions.dcm")
    return folder, seg, load_mask(nifti, load_scan(folder, pixels=False))


def test_reader_opens_a_seg_on_the_scan_in_the_viewer(sample_seg, tmp_path: Path, make_napari_viewer) -> None:
    folder, seg, labels = sample_seg
    viewer = make_napari_viewer()
    assert _reader.read(str(seg)) is None  # no scan to lie on yet: declined, with the reason shown
    [scan] = viewer.open(str(folder), plugin="onfh-volume")
    [lesions] = viewer.open(str(seg), plugin="onfh-volume")
    assert is_scan_layer(scan) and is_lesion_layer(lesions)
    np.testing.assert_array_equal(lesions.data, labels)
    np.testing.assert_allclose(lesions.scale, scan.scale)
    # With two scans open, the one whose series the SEG references is chosen.
    viewer.open(str(SAMPLES / "dicom" / "sub-02" / "baseline"), plugin="onfh-volume")
    [again] = viewer.open(str(seg), plugin="onfh-volume")
    np.testing.assert_array_equal(again.data, labels)


def test_widget_loads_a_seg_and_saves_one_for_the_pacs(
    sample_seg, tmp_path: Path, make_napari_viewer
) -> None:
    _folder, seg, labels = sample_seg
    folder, _mask = copy_sample(tmp_path, "sub-01", "baseline")
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    viewer.open(str(folder), plugin="onfh-volume")
    layer = widget.load_mask_file(seg)
    np.testing.assert_array_equal(layer.data, labels)

    widget.save_panel.reader.setText("AB")
    target = tmp_path / "out" / "sub-01_lesions.dcm"
    assert widget.save_to(target) == target
    read_back = hd.seg.segread(target)
    assert read_back.ContentCreatorName == "AB^"
    np.testing.assert_array_equal(load_mask(target, load_scan(folder, pixels=False)), labels)

    saved = target.read_bytes()
    widget.ask = lambda *_args: False
    assert widget.save_to(target) is None and target.read_bytes() == saved
    assert widget.save_to(folder / "SEG.dcm") is None  # never into the scan's own folder
    assert "input" in widget.save_panel.message.text() and not (folder / "SEG.dcm").exists()
