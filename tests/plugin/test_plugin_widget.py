"""The Lesion volume widget driven as a reader would: trace, fill, interpolate, read, compare, save, recover.

Everything runs in a real napari viewer. Expected volumes are recomputed from voxel counts and the
sample protocol (1.6 x 1.6 mm pixels, 4.0 mm thick slices every 4.4 mm), or taken from
``onfh_volume.measure`` on the same array: the readout must agree with the core it is a view of.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLES, copy_sample
from skimage.draw import disk, polygon, polygon_perimeter

from napari_onfh_volume import recovery
from napari_onfh_volume.layers import scan_of
from onfh_volume import load_mask, load_scan, measure

PIXEL_MM2 = 1.6 * 1.6
THICKNESS, SPACING = 4.0, 4.4


@pytest.fixture
def viewer_and_widget(make_napari_viewer):
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    return viewer, widget


@pytest.fixture
def traced(tmp_path: Path, viewer_and_widget):
    """A copy of sub-02's baseline opened through the reader, with an empty lesion layer."""
    viewer, widget = viewer_and_widget
    folder, _mask = copy_sample(tmp_path, "sub-02", "baseline")
    viewer.open(str(folder), plugin="onfh-volume")
    layer = widget.create_lesion_layer()
    return viewer, widget, layer, folder


def readout_counts(widget) -> dict[int, np.ndarray]:
    return {
        lesion.label: lesion.pixel_counts for lesion in widget.readout.lesions() if lesion.pixel_counts.any()
    }


def assert_readout_matches_core(widget) -> None:
    """The live readout equals onfh_volume.measure on the layer's array, lesion by lesion."""
    scan = load_scan(scan_of(widget.lesions).source, pixels=False)
    core = {lesion.label: lesion for lesion in measure(scan, np.asarray(widget.lesions.data)).lesions}
    live = {lesion.label: lesion for lesion in widget.readout.lesions() if lesion.pixel_counts.any()}
    assert live.keys() == core.keys()
    for label, lesion in live.items():
        np.testing.assert_array_equal(lesion.pixel_counts, core[label].pixel_counts)
        assert lesion.volume_thickness_cm3 == pytest.approx(core[label].volume_thickness_cm3, rel=1e-12)
        assert lesion.volume_cavalieri_cm3 == pytest.approx(core[label].volume_cavalieri_cm3, rel=1e-12)


def test_lesion_layer_lies_on_the_scan_grid_with_named_labels(traced) -> None:
    viewer, widget, layer, _folder = traced
    scan_layer = viewer.layers["sub-02 baseline"]

    assert layer.data.shape == scan_layer.data.shape == (14, 224, 224)
    np.testing.assert_allclose(layer.scale, scan_layer.scale)
    np.testing.assert_allclose(layer.translate, scan_layer.translate)
    names = dict(zip(layer.features["index"], layer.features["lesion"], strict=True))
    assert names[1] == "right hip lesion" and names[2] == "left hip lesion"
    assert layer.selected_label == 1 and widget.trace_panel.label_buttons[1].isChecked()
    widget.trace_panel.label_buttons[2].click()
    assert layer.selected_label == 2 and not widget.trace_panel.label_buttons[1].isChecked()
    widget.create_lesion_layer()  # a second click does not make a second layer
    assert [kind.__class__.__name__ for kind in viewer.layers] == ["Image", "Labels"]


def test_brush_and_polygon_strokes_update_the_readout(traced) -> None:
    _viewer, widget, layer, _folder = traced
    layer.brush_size = 5
    layer.paint((3, 100, 60), 1)
    layer.paint_polygon([(5, 90, 50), (5, 90, 70), (5, 110, 70), (5, 110, 50)], 1)
    layer.paint_polygon([(7, 90, 150), (7, 90, 170), (7, 110, 160)], 2)

    counts = readout_counts(widget)
    truth = np.asarray(layer.data)
    for label in (1, 2):
        expected = [(truth[k] == label).sum() for k in range(14)]
        np.testing.assert_array_equal(counts[label], expected)
    assert counts[1][5] == 21 * 21  # the polygon's corners are included
    assert_readout_matches_core(widget)
    total = int(counts[1].sum())
    assert widget.summary.item(0, 1).text() == f"{total * PIXEL_MM2 * THICKNESS / 1000:.3f}"
    assert widget.summary.item(0, 2).text() == f"{total * PIXEL_MM2 * SPACING / 1000:.3f}"
    assert widget.slice_table.item(5, 1).text() == f"{21 * 21 * PIXEL_MM2:.1f}"


def test_current_slice_is_highlighted_and_a_row_click_jumps(traced) -> None:
    viewer, widget, _layer, _folder = traced
    viewer.dims.set_current_step(0, 4)
    assert widget.slice_table.current_row() == 4
    widget.slice_table.cellClicked.emit(9, 1)
    assert viewer.dims.current_step[0] == 9 and widget.slice_table.current_row() == 9


def test_fill_traced_outline_fills_its_inside_and_undo_removes_it(traced) -> None:
    viewer, widget, layer, _folder = traced
    rows, columns = polygon_perimeter([80, 80, 120, 120], [40, 80, 80, 40], shape=(224, 224))
    outline = np.zeros((224, 224), dtype=bool)
    outline[rows, columns] = True
    outline[80, 58:61] = False  # a 3-pixel gap: bridged
    layer.data_setitem((np.full(outline.sum(), 6), *np.nonzero(outline)), 1)
    viewer.dims.set_current_step(0, 6)

    filled = widget.fill_outline()

    # The inside of the 41 x 41 square outline is 39 x 39, plus the 3 gap pixels, give or take
    # the few pixels next to the bridged gap that the reader's brush settles.
    assert abs(filled - (39 * 39 + 3)) <= 4
    assert (np.asarray(layer.data)[6, 83:120, 41:80] == 1).all()
    assert_readout_matches_core(widget)
    layer.undo()
    assert (np.asarray(layer.data)[6] == 1).sum() == outline.sum()
    assert readout_counts(widget)[1][6] == outline.sum()


def test_open_outline_is_reported_not_filled(traced) -> None:
    viewer, widget, layer, _folder = traced
    layer.data_setitem((np.full(41, 2), np.full(41, 100), np.arange(40, 81)), 1)  # a line, not an outline
    viewer.dims.set_current_step(0, 2)
    assert widget.fill_outline() == 0
    assert "encloses nothing" in widget.trace_panel.message.text()


def test_fill_between_slices_keeps_traced_slices_and_undoes(traced, qtbot) -> None:
    _viewer, widget, layer, _folder = traced
    for k, radius in ((3, 10), (7, 18)):
        rows, columns = disk((100, 60), radius, shape=(224, 224))
        layer.data_setitem((np.full(len(rows), k), rows, columns), 1)
    rows, columns = polygon([90, 90, 110], [150, 170, 160], shape=(224, 224))
    layer.data_setitem((np.full(len(rows), 5), rows, columns), 2)  # another lesion on a gap slice
    before = np.array(layer.data)

    with qtbot.waitSignal(widget.fill_between().finished, timeout=10_000):
        pass

    after = np.asarray(layer.data)
    assert "Filled" in widget.trace_panel.message.text()
    np.testing.assert_array_equal(after[[3, 7]], before[[3, 7]])  # traced slices untouched
    np.testing.assert_array_equal(after[before == 2], 2)  # the other lesion untouched
    areas = [(after[k] == 1).sum() for k in range(3, 8)]
    assert areas[0] < areas[1] < areas[2] < areas[3] < areas[4]  # grows from radius 10 to 18
    assert (after[:3] == 0).all() and (after[8:] == 0).all()
    assert_readout_matches_core(widget)
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)
    assert_readout_matches_core(widget)


def test_compare_two_sample_timepoints(viewer_and_widget) -> None:
    viewer, widget = viewer_and_widget
    viewer.open_sample("onfh-volume", "sub-01-baseline")
    viewer.open_sample("onfh-volume", "sub-01-followup")
    panel = widget.compare_panel
    panel.refresh_layers()
    assert panel.baseline.currentText() == "sub-01 baseline lesions"
    assert panel.followup.currentText() == "sub-01 followup lesions"

    comparison = panel.run()

    hips = {hip.side: hip.change for hip in comparison.hips}
    assert hips["right"].baseline_cm3 == pytest.approx(1400 * PIXEL_MM2 * THICKNESS / 1000, rel=1e-12)
    assert hips["right"].followup_cm3 == pytest.approx(1120 * PIXEL_MM2 * THICKNESS / 1000, rel=1e-12)
    assert hips["right"].category == "decrease" and hips["left"].category == "no change"
    assert panel.result.item(0, 3).text() == "-20.0 %"
    panel.threshold.setValue(4.0)
    assert {hip.side: hip.change.category for hip in panel.run().hips}["left"] == "decrease"  # -5% vs 4%


def test_exact_fifteen_percent_is_an_increase(viewer_and_widget) -> None:
    viewer, widget = viewer_and_widget
    viewer.open_sample("onfh-volume", "sub-02-baseline")
    viewer.open_sample("onfh-volume", "sub-02-followup")
    widget.compare_panel.refresh_layers()
    hips = {hip.side: hip.change for hip in widget.compare_panel.run().hips}
    assert hips["right"].change_pct == pytest.approx(15.0, abs=1e-9)
    assert hips["right"].category == "increase"


def test_save_writes_mask_json_csv_asks_before_replacing_and_reloads(traced, tmp_path: Path) -> None:
    viewer, widget, layer, folder = traced
    layer.paint_polygon([(4, 90, 50), (4, 90, 69), (4, 109, 69), (4, 109, 50)], 1)
    widget.save_panel.reader.setText("Dr Reader")
    target = tmp_path / "out" / "sub-02_baseline_lesions.nii.gz"

    assert widget.save_to(target) is not None

    data = json.loads(target.with_name("sub-02_baseline_lesions.json").read_text())
    [lesion] = data["lesions"]
    assert lesion["volume_thickness_cm3"] == pytest.approx(400 * PIXEL_MM2 * THICKNESS / 1000, rel=1e-12)
    assert data["reader"] == "Dr Reader" and data["series_instance_uid"]
    assert "SAMPLE^" not in target.with_name("sub-02_baseline_lesions.csv").read_text()
    saved = target.read_bytes()

    layer.paint((4, 150, 150), 2)
    widget.ask = lambda *_args: False  # the reader declines to replace
    assert widget.save_to(target) is None
    assert target.read_bytes() == saved

    widget.ask = lambda *_args: True
    assert widget.save_to(target) is not None
    assert target.read_bytes() != saved

    viewer.layers.remove(layer)
    reloaded = widget.load_mask_file(target)
    np.testing.assert_array_equal(reloaded.data, load_mask(target, load_scan(folder, pixels=False)))
    assert (np.asarray(reloaded.data) == 2).any()


def test_autosave_is_offered_back_after_a_crash(traced, make_napari_viewer) -> None:
    _viewer, widget, layer, folder = traced
    layer.paint_polygon([(8, 90, 50), (8, 90, 69), (8, 109, 69), (8, 109, 50)], 1)
    path = widget.autosave()
    assert path == folder.with_name("baseline.onfh-autosave.nii.gz")
    assert widget.autosave() is None  # nothing new since

    # "Crash": a new viewer opens the same scan; the reader accepts the offer.
    second = make_napari_viewer()
    _dock, again = second.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    again.ask = lambda *_args: True
    second.open(str(folder), plugin="onfh-volume")

    np.testing.assert_array_equal(again.lesions.data, layer.data)
    assert again.readout.lesions()[0].pixel_counts[8] == 400
    assert again.save_to(folder.parent / "saved.nii.gz") is not None
    assert recovery.find_recovery(scan_of(again.lesions)) is None  # saved: the recovery file is gone


def test_stroke_drawn_after_an_undo_is_counted_once(traced) -> None:
    viewer, widget, proxy, _folder = traced
    layer = viewer.layers[proxy.name]  # the layer itself: a stroke uses napari's private calls
    layer.paint_polygon([(4, 90, 50), (4, 90, 69), (4, 109, 69), (4, 109, 50)], 1)
    layer.undo()  # the redo queue now holds the polygon
    layer.brush_size = 7
    layer._begin_stroke()  # a mouse drag, as napari's brush does it
    for column in range(60, 90, 3):
        layer.paint((6, 100, column), 2)
    layer._commit_stroke()

    assert_readout_matches_core(widget)
    layer.undo()
    layer.redo()
    assert_readout_matches_core(widget)


def test_a_follow_up_on_the_same_grid_gets_its_own_lesion_layer(viewer_and_widget) -> None:
    viewer, widget = viewer_and_widget
    viewer.open(str(SAMPLES / "dicom/sub-02/baseline"), plugin="onfh-volume")
    widget.create_lesion_layer()
    viewer.open(str(SAMPLES / "dicom/sub-02/followup"), plugin="onfh-volume")  # same grid

    widget.scan_panel.scan_box.setCurrentText("sub-02 followup")
    assert widget.lesions is None and widget.scan_panel.create_button.isEnabled()
    followup = widget.create_lesion_layer()
    assert followup.name == "sub-02 followup lesions"
    assert scan_of(followup).source.endswith("followup")
