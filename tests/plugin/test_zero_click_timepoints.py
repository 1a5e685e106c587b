"""Find lesions and Carry baseline with two timepoints open: what the reader's walk found (issue 22).

Each test replays, with real clicks on the docks' buttons and real keys, a sequence the walk
(``test_reader_walk.py``) failed on, or a defect of the same kind found reading the code against
the walk's invariants (said in each test), on copies of sample sub-01 with empty tracings (created with
Shift+N), so every previewed voxel is written when accepted. Expected voxels: the preview the
reader saw, by the accept rule the user guide states (``zero_click.accepted``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui import button, drag, hover_canvas, key, main_window
from helpers import copy_sample
from qtpy.QtCore import QPoint, Qt
from qtpy.QtWidgets import QApplication, QPushButton
from test_active_timepoint import choose_scan
from walk_drafts import choose
from zero_click import (
    BAND_FILL,
    DETECTED,
    FIELDS,
    PROPAGATED,
    WORK_TIMEOUT_MS,
    accepted,
    added_slices,
    hips_to_review,
    marked_rows,
    saved_marks,
)

from napari_onfh_volume._qt.carry_widget import PREVIEW_NAME as CARRY_PREVIEW
from napari_onfh_volume._qt.find_lesions_widget import PREVIEW_NAME
from napari_onfh_volume.layers import is_lesion_layer

SHIFT, CTRL = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier
LEFT = Qt.MouseButton.LeftButton


def tracings(viewer) -> dict[str, np.ndarray]:
    return {layer.name: np.array(layer.data) for layer in viewer.layers if is_lesion_layer(layer)}


@pytest.fixture
def untraced(make_napari_viewer, qtbot, tmp_path: Path):
    """sub-01 baseline and follow-up (copies), each with an empty tracing; the follow-up on screen."""
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    _dock, finder = viewer.window.add_plugin_dock_widget("onfh-volume", "Find lesions")
    for timepoint in ("baseline", "followup"):
        folder, _mask = copy_sample(tmp_path, "sub-01", timepoint)
        viewer.open(str(folder), plugin="onfh-volume")
        main_window(widget).activateWindow()
        hover_canvas(qtbot, widget)
        key(qtbot, Qt.Key.Key_N, SHIFT)  # create the lesion layer
    assert widget.lesions.name == "sub-01 followup lesions"
    return viewer, widget, finder


def find(qtbot, finder) -> None:
    qtbot.mouseClick(button(finder, "Find lesions"), LEFT)
    qtbot.waitUntil(finder.find_button.isEnabled, timeout=WORK_TIMEOUT_MS)
    QApplication.processEvents()


def carry_dock(viewer, widget, qtbot, tmp_path: Path):
    """The Carry dock, set to carry sub-01's baseline tracing (loaded) to its follow-up."""
    _dock, carrier = viewer.window.add_plugin_dock_widget("onfh-volume", "Carry baseline to follow-up")
    choose_scan(qtbot, widget, "sub-01 baseline")
    widget.load_mask_file(copy_sample(tmp_path / "mask", "sub-01", "baseline")[1])
    choose(qtbot, carrier.baseline, "sub-01 baseline lesions")
    choose(qtbot, carrier.followup, "sub-01 followup")
    return carrier


def test_find_lesions_proposes_and_writes_on_the_scan_on_screen(untraced, qtbot) -> None:
    """Read against the walk's invariant 1: with two timepoints open, Find lesions searched the first
    scan of the layer list (the baseline, under the follow-up on screen) and Accept wrote into the
    first lesion layer."""
    viewer, _widget, finder = untraced
    before = tracings(viewer)
    find(qtbot, finder)
    assert sorted(hips_to_review(finder)) == ["left", "right"]  # sub-01's follow-up: both hips
    preview = np.array(viewer.layers[PREVIEW_NAME].data)
    assert (
        viewer.layers[PREVIEW_NAME].translate.tolist() == viewer.layers["sub-01 followup"].translate.tolist()
    )
    assert viewer.layers.selection.active.name == "sub-01 followup lesions"  # the brush still paints there

    qtbot.mouseClick(button(finder, "Accept right"), LEFT)
    now = tracings(viewer)
    assert np.array_equal(
        now["sub-01 followup lesions"], accepted(before["sub-01 followup lesions"], preview, [1])
    )
    assert np.array_equal(now["sub-01 baseline lesions"], before["sub-01 baseline lesions"])


def test_a_found_lesion_left_open_while_the_reader_switches_scans_never_lands_on_the_other(
    untraced, qtbot
) -> None:
    """Read against the walk's invariant 5: Find lesions, choose the other scan, Accept: the proposal
    went into the first lesion layer of the list, the tracing not on screen."""
    viewer, widget, finder = untraced
    find(qtbot, finder)
    preview = np.array(viewer.layers[PREVIEW_NAME].data)
    choose_scan(qtbot, widget, "sub-01 baseline")
    before = tracings(viewer)
    qtbot.mouseClick(button(finder, "Accept left"), LEFT)
    assert all(np.array_equal(before[name], data) for name, data in tracings(viewer).items())
    assert "Not accepted" in finder.status.text()

    choose_scan(qtbot, widget, "sub-01 followup")  # its scan again: the proposal can be accepted
    qtbot.mouseClick(button(finder, "Accept left"), LEFT)
    now = tracings(viewer)
    assert np.array_equal(
        now["sub-01 followup lesions"], accepted(before["sub-01 followup lesions"], preview, [2])
    )
    assert np.array_equal(now["sub-01 baseline lesions"], before["sub-01 baseline lesions"])


def test_a_brush_stroke_after_find_lesions_paints_the_tracing(untraced, qtbot) -> None:
    """The walk (``find_lesions``, then "the brush paints elsewhere"): the preview, added on top,
    became the selected layer, and the brush painted the preview."""
    viewer, widget, finder = untraced
    find(qtbot, finder)
    target = hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_R, SHIFT)
    key(qtbot, "2")  # napari's brush
    drag(target, 30, 0, LEFT, at=QPoint(-60, -40))
    assert np.any(np.asarray(viewer.layers["sub-01 followup lesions"].data))


def test_closing_the_searched_scan_takes_its_proposals_away(untraced, qtbot) -> None:
    """The walk: its second run began with Accept right and left still offered by the first one,
    whose layers were closed (hypothesis saw a rule enabled that was not before); Accept wrote them."""
    viewer, widget, finder = untraced
    find(qtbot, finder)
    viewer.layers.selection = {viewer.layers["sub-01 followup"]}
    [delete] = [
        b for b in main_window(widget).findChildren(QPushButton) if b.property("mode") == "delete_button"
    ]
    qtbot.mouseClick(delete, LEFT)  # the layer list's delete button
    assert "sub-01 followup" not in viewer.layers
    assert hips_to_review(finder) == []
    assert PREVIEW_NAME not in viewer.layers


def test_an_accept_that_adds_nothing_does_not_offer_ctrl_z(untraced, qtbot) -> None:
    """The walk (a found hip accepted on a lesion already traced on every slice, then Ctrl+Z): the
    dock said "0 voxels added (Ctrl+Z undoes)", and Ctrl+Z took back the edit before it."""
    viewer, _widget, finder = untraced
    for _search in range(2):  # the second proposal lies on slices the first one traced
        find(qtbot, finder)
        before = tracings(viewer)
        qtbot.mouseClick(button(finder, "Accept left"), LEFT)
    assert all(np.array_equal(before[name], data) for name, data in tracings(viewer).items())
    assert "Ctrl+Z" not in finder.status.text()
    assert "nothing added" in finder.status.text()


def test_carried_lesions_land_on_the_follow_up_carried_to_which_becomes_the_one_traced(
    untraced, qtbot, tmp_path: Path
) -> None:
    """The walk (``carry_baseline`` in the compare view): the preview was drawn in the baseline's
    panel (a third layer wraps around napari's two-panel grid). Read against its invariants 1 and 5:
    accepted while the baseline was traced, the follow-up was written off screen and Ctrl+Z undid
    the baseline's last edit; a follow-up box changed after the carry got the carried lesions
    (onto the baseline's tracing, on the same grid)."""
    viewer, widget, _finder = untraced
    carrier = carry_dock(viewer, widget, qtbot, tmp_path)
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_C, SHIFT)  # side by side
    qtbot.mouseClick(button(carrier, "Carry baseline"), LEFT)
    qtbot.waitUntil(carrier.carry_button.isEnabled, timeout=WORK_TIMEOUT_MS)
    layers, grid = viewer.layers, viewer.canvas.grid
    preview = np.array(layers[CARRY_PREVIEW].data)
    assert grid.position(layers.index(layers[CARRY_PREVIEW]), layers) == grid.position(
        layers.index(layers["sub-01 followup"]), layers
    )  # drawn over the follow-up, in its panel
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_T, SHIFT)  # back to tracing the baseline
    choose(qtbot, carrier.followup, "sub-01 baseline")  # the box moved after the carry
    before = tracings(viewer)

    qtbot.mouseClick(button(carrier, "Accept"), LEFT)
    now = tracings(viewer)
    assert np.array_equal(
        now["sub-01 followup lesions"], accepted(before["sub-01 followup lesions"], preview)
    )
    assert np.array_equal(now["sub-01 baseline lesions"], before["sub-01 baseline lesions"])
    assert widget.scan_panel.scan_box.currentText() == "sub-01 followup"  # the scan traced now
    assert viewer.layers.selection.active.name == "sub-01 followup lesions"

    hover_canvas(qtbot, widget)
    for _hip in (1, 2):
        key(qtbot, Qt.Key.Key_Z, CTRL)  # one undo step per hip
    now = tracings(viewer)
    assert all(np.array_equal(before[name], now[name]) for name in now)


def test_side_by_side_the_carried_preview_is_drawn_over_a_found_one_left_open(
    untraced, qtbot, tmp_path: Path
) -> None:
    """The walk (``find_lesions`` on the follow-up, ``switch_scans``, Accept refused there, then
    ``carry_baseline`` in the compare view): with Find lesions' preview still open over the
    follow-up, its panel drew that one and the carried preview wrapped onto the baseline's panel."""
    viewer, widget, finder = untraced
    _dock, carrier = viewer.window.add_plugin_dock_widget("onfh-volume", "Carry baseline to follow-up")
    find(qtbot, finder)
    choose_scan(qtbot, widget, "sub-01 baseline")
    qtbot.mouseClick(button(finder, "Accept right"), LEFT)  # refused: found on the follow-up
    widget.load_mask_file(copy_sample(tmp_path / "mask", "sub-01", "baseline")[1])
    choose(qtbot, carrier.baseline, "sub-01 baseline lesions")
    choose(qtbot, carrier.followup, "sub-01 followup")
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_C, SHIFT)  # side by side
    if widget.compare_panel.baseline.currentText() != "sub-01 baseline lesions":
        qtbot.mouseClick(button(widget, "Swap baseline"), LEFT)  # the baseline on the left
    qtbot.mouseClick(button(carrier, "Carry baseline"), LEFT)
    qtbot.waitUntil(carrier.carry_button.isEnabled, timeout=WORK_TIMEOUT_MS)
    layers, grid = viewer.layers, viewer.canvas.grid
    assert grid.position(layers.index(layers["sub-01 followup"]), layers) == (0, 1)
    assert layers[CARRY_PREVIEW].visible
    assert grid.position(layers.index(layers[CARRY_PREVIEW]), layers) == (0, 1)


def brush_stroke_on(qtbot, viewer, widget, k: int) -> None:
    """Go to slice ``k`` by a click on its row of the slice table, then paint the right hip's label."""
    table = widget.slice_table
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.visualItemRect(table.item(k, 0)).center())
    assert viewer.dims.current_step[0] == k
    before = np.array(widget.lesions.data[k])
    target = hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_R, SHIFT)
    key(qtbot, "2")  # napari's brush
    drag(target, 30, 0, LEFT, at=QPoint(-60, -40))
    assert not np.array_equal(np.asarray(widget.lesions.data[k]), before), "the stroke painted nothing"


def assert_marked_and_saved(qtbot, widget, tmp_path: Path, mark: str, written: dict[int, set[int]]) -> None:
    """The readout marks exactly ``written`` (per label) with ``mark``, no other aid's mark, and the
    saved record lists the same slices under the mark's field."""
    for label in (1, 2):
        assert marked_rows(widget, label, mark) == written.get(label, set())
        assert all(not marked_rows(widget, label, other) for other in FIELDS if other != mark)
    if not widget.save_panel.reader.text():
        qtbot.keyClicks(widget.save_panel.reader, "AB")
    paths = widget.save_to(tmp_path / "saved" / f"{mark}.nii.gz")
    assert paths is not None, widget.save_panel.message.text()
    saved = saved_marks(paths.json, mark)
    assert {label: slices for label, slices in saved.items() if slices} == written
    assert all(not any(saved_marks(paths.json, other).values()) for other in FIELDS if other != mark)


def test_a_found_lesion_is_marked_detected_in_the_readout_and_the_saved_record(
    untraced, qtbot, tmp_path: Path
) -> None:
    """Issue 22: an accepted Find lesions proposal was marked "(band fill)", as if traced from a
    click. Its slices say "(detected)" and ``detected_slices``; a brush stroke on one keeps the
    mark (the proposal's pixels are still there to check, as with band fill), and a slice traced by
    hand after the accept was undone is not claimed."""
    viewer, widget, finder = untraced
    before = tracings(viewer)["sub-01 followup lesions"]
    find(qtbot, finder)
    qtbot.mouseClick(button(finder, "Accept right"), LEFT)
    written = added_slices(before, tracings(viewer)["sub-01 followup lesions"], 1)
    assert written
    assert_marked_and_saved(qtbot, widget, tmp_path, DETECTED, {1: written})

    k = sorted(written)[len(written) // 2]
    brush_stroke_on(qtbot, viewer, widget, k)
    assert marked_rows(widget, 1, DETECTED) == written
    hover_canvas(qtbot, widget)
    for _edit in ("stroke", "accept"):
        key(qtbot, Qt.Key.Key_Z, CTRL)
    assert not np.any(tracings(viewer)["sub-01 followup lesions"])
    brush_stroke_on(qtbot, viewer, widget, k)
    assert added_slices(before, tracings(viewer)["sub-01 followup lesions"], 1) == {k}
    assert marked_rows(widget, 1, DETECTED) == set()


def test_a_carried_lesion_is_marked_propagated_in_the_readout_and_the_saved_record(
    untraced, qtbot, tmp_path: Path
) -> None:
    """Issue 22: an accepted carry was marked "(band fill)". Its slices say "(propagated)" and
    ``propagated_slices``; a brush stroke on one of them keeps the mark, as band fill's."""
    viewer, widget, _finder = untraced
    carrier = carry_dock(viewer, widget, qtbot, tmp_path)
    before = tracings(viewer)["sub-01 followup lesions"]
    qtbot.mouseClick(button(carrier, "Carry baseline"), LEFT)
    qtbot.waitUntil(carrier.carry_button.isEnabled, timeout=WORK_TIMEOUT_MS)
    qtbot.mouseClick(button(carrier, "Accept"), LEFT)
    assert widget.lesions.name == "sub-01 followup lesions"
    now = tracings(viewer)["sub-01 followup lesions"]
    written = {
        label: added_slices(before, now, label) for label in (1, 2) if added_slices(before, now, label)
    }
    assert written
    assert_marked_and_saved(qtbot, widget, tmp_path, PROPAGATED, written)
    assert not marked_rows(widget, 1, BAND_FILL)

    label = min(written)
    k = sorted(written[label])[len(written[label]) // 2]
    brush_stroke_on(qtbot, viewer, widget, k)
    assert marked_rows(widget, label, PROPAGATED) == written[label]
