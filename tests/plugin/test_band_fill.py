"""Band fill in a real viewer: a mouse click on the canvas → preview → Accept → Ctrl+Z, and the readout."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gui import button
from helpers import canvas_of, click_voxel
from qtpy.QtCore import Qt
from qtpy.QtTest import QTest

from napari_onfh_volume import band_fill
from napari_onfh_volume._qt.band_fill_widget import PREVIEW_NAME, BandFillWidget
from napari_onfh_volume.layers import is_lesion_layer, lesion_layer, scan_layer
from onfh_volume.testing.phantom_set import small_bilateral_phantom


@pytest.fixture
def viewer_with_scan(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    phantom = small_bilateral_phantom()
    data, kwargs, _ = scan_layer(phantom.scan)
    layer = viewer.add_image(data, **kwargs)
    widget = BandFillWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return viewer, layer, widget, phantom


def test_click_preview_accept_undo(viewer_with_scan, qtbot) -> None:
    viewer, layer, widget, phantom = viewer_with_scan
    seed = phantom.central_click(2)
    qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
    click_voxel(viewer, layer, seed)
    qtbot.waitUntil(lambda: widget.proposal is not None, timeout=120_000)
    assert widget.seeds == [seed]
    truth = phantom.labels == 2
    preview_layer = viewer.layers[PREVIEW_NAME]
    # Drawn where the scan is: the clicked voxel is at one world position in both layers.
    np.testing.assert_allclose(preview_layer.data_to_world(seed), layer.data_to_world(seed))
    preview = np.asarray(preview_layer.data) == 2
    assert 2 * np.count_nonzero(preview & truth) / (preview.sum() + truth.sum()) > 0.85
    assert widget.accept_button.isEnabled()

    qtbot.mouseClick(widget.accept_button, Qt.MouseButton.LeftButton)
    lesions = next(layer for layer in viewer.layers if is_lesion_layer(layer))
    assert PREVIEW_NAME not in viewer.layers
    assert np.array_equal(np.asarray(lesions.data) == 2, preview)
    viewer.layers.selection.active = lesions
    QTest.keyClick(canvas_of(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo step
    assert not np.asarray(lesions.data).any()


def test_an_accept_that_adds_nothing_does_not_offer_ctrl_z(viewer_with_scan, qtbot) -> None:
    # The same lesion band filled and accepted twice: the second adds nothing (its slices are
    # traced), so no undo step is made and the dock must not offer Ctrl+Z (it said "0 voxels
    # added (Ctrl+Z undoes)", and Ctrl+Z took back the first accept).
    viewer, layer, widget, phantom = viewer_with_scan
    seed = phantom.central_click(2)
    for _fill in range(2):
        if not widget.arm_button.isChecked():  # armed, it stays armed after an accept
            qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
        click_voxel(viewer, layer, seed)
        qtbot.waitUntil(lambda: widget.proposal is not None, timeout=120_000)
        qtbot.mouseClick(widget.accept_button, Qt.MouseButton.LeftButton)
    assert "Ctrl+Z" not in widget.status.text()
    assert "nothing added" in widget.status.text()


def test_a_traced_slice_is_kept_and_a_bad_click_says_why(viewer_with_scan, qtbot) -> None:
    viewer, layer, widget, phantom = viewer_with_scan
    seed = phantom.central_click(2)
    proposal = band_fill.propose(phantom.scan, [seed])
    data, kwargs, _ = lesion_layer(phantom.scan)
    data[seed[0], 10:13, 10:13] = 2  # the reader traced this slice already
    lesions = viewer.add_labels(data, **kwargs)
    band_fill.accept(lesions, proposal)
    assert np.count_nonzero(np.asarray(lesions.data)[seed[0]]) == 9
    assert np.asarray(lesions.data)[[k for k in proposal.slices if k != seed[0]]].any()

    qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
    click_voxel(viewer, layer, (seed[0], 80, 155))  # the pelvis between the hips
    qtbot.waitUntil(lambda: "not inside a femoral head" in widget.status.text(), timeout=120_000)
    assert widget.proposal is None


def test_replacing_traced_slices_only_when_asked_in_one_undo_step(viewer_with_scan, qtbot) -> None:
    viewer, layer, widget, phantom = viewer_with_scan
    seed = phantom.central_click(2)
    data, kwargs, _ = lesion_layer(phantom.scan)
    data[seed[0], 10:13, 10:13] = 2  # the reader's (wrong) tracing of this lesion on the clicked slice
    lesions = viewer.add_labels(data, **kwargs)
    before = np.array(lesions.data, copy=True)
    qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
    click_voxel(viewer, layer, seed)
    qtbot.waitUntil(lambda: widget.proposal is not None, timeout=120_000)
    proposed = widget.proposal.mask.copy()
    qtbot.mouseClick(widget.replace_box, Qt.MouseButton.LeftButton, pos=widget.replace_box.rect().center())
    assert widget.replace_box.isChecked()
    qtbot.mouseClick(widget.accept_button, Qt.MouseButton.LeftButton)
    assert "replaced on slices" in widget.status.text() and str(seed[0]) in widget.status.text()
    assert np.array_equal(np.asarray(lesions.data) == 2, proposed)  # the square is gone: the proposal's
    viewer.layers.selection.active = lesions
    QTest.keyClick(canvas_of(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(np.asarray(lesions.data), before)  # one step back to the reader's tracing


def test_shift_click_joins_a_second_click_and_a_click_in_the_other_hip_is_refused(
    viewer_with_scan, qtbot
) -> None:
    viewer, layer, widget, phantom = viewer_with_scan
    truth = phantom.labels == 2
    ends = np.flatnonzero((phantom.inside & truth).any(axis=(1, 2)))
    on_end = tuple(np.argwhere(phantom.inside[ends[-1]] & truth[ends[-1]])[0])
    first, second = (ends[-1], *on_end), phantom.central_click(2)
    qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
    click_voxel(viewer, layer, first)
    qtbot.waitUntil(lambda: widget.proposal is not None, timeout=120_000)
    alone = widget.proposal.mask.copy()

    click_voxel(viewer, layer, second, shift=True)
    qtbot.waitUntil(lambda: widget.seeds == [first, second], timeout=120_000)
    joined = widget.proposal.mask
    assert np.all(joined[alone])  # the first click's lesion is kept, and more is added
    assert set(widget.proposal.slices) >= set(np.flatnonzero(alone.any(axis=(1, 2))))
    assert 2 * np.count_nonzero(joined & truth) / (joined.sum() + truth.sum()) > 0.85

    click_voxel(viewer, layer, phantom.central_click(1), shift=True)  # the other hip's lesion
    qtbot.waitUntil(lambda: "both hips" in widget.status.text(), timeout=120_000)
    assert widget.seeds == [first, second] and widget.accept_button.isEnabled()
    assert np.array_equal(np.asarray(viewer.layers[PREVIEW_NAME].data) == 2, joined)

    click_voxel(viewer, layer, second)  # a plain click starts again from that click alone
    qtbot.waitUntil(lambda: widget.seeds == [second], timeout=120_000)


def area_cells(table, header: str) -> list[str]:
    """The texts of one lesion's column of the readout's slice table, one per slice."""
    column = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())].index(header)
    return [table.item(row, column).text() for row in range(table.rowCount())]


def band_fill_rows(table, header: str) -> list[int]:
    """Slices whose area in the ``header`` column is marked as band fill's."""
    return [row for row, text in enumerate(area_cells(table, header)) if text.endswith("(band fill)")]


def test_the_readout_marks_the_band_filled_slices_and_ctrl_z_removes_the_marks(
    make_napari_viewer, qtbot, tmp_path
) -> None:
    viewer = make_napari_viewer(show=True)
    _dock, readout = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Band fill")
    phantom = small_bilateral_phantom()
    scan = dataclasses.replace(phantom.scan, source=str(tmp_path / "phantom.nii.gz"))  # autosaves go there
    data, kwargs, _ = scan_layer(scan)
    layer = viewer.add_image(data, **kwargs)
    qtbot.mouseClick(button(readout, "Create lesion layer"), Qt.MouseButton.LeftButton)
    lesions = readout.lesions
    seed = phantom.central_click(2)
    traced = seed[0] + 1  # the reader traced this slice of the left hip lesion already
    r, c = seed[1:]
    lesions.paint_polygon(
        [(traced, r - 2, c - 2), (traced, r - 2, c + 2), (traced, r + 2, c + 2), (traced, r + 2, c - 2)], 2
    )
    assert band_fill_rows(readout.slice_table, "Left (mm²)") == []

    qtbot.mouseClick(widget.arm_button, Qt.MouseButton.LeftButton)
    click_voxel(viewer, layer, seed)
    qtbot.waitUntil(lambda: widget.proposal is not None, timeout=120_000)
    proposed = widget.proposal.slices
    assert traced in proposed and len(proposed) >= 3
    qtbot.mouseClick(widget.accept_button, Qt.MouseButton.LeftButton)
    written = [k for k in proposed if k != traced]
    holding = np.flatnonzero((np.asarray(lesions.data) == 2).any(axis=(1, 2))).tolist()
    assert holding == sorted(proposed)  # the traced slice kept, every other proposed slice written
    assert band_fill_rows(readout.slice_table, "Left (mm²)") == written
    assert band_fill_rows(readout.slice_table, "Right (mm²)") == []
    viewer.dims.set_current_step(0, written[0])
    assert "left hip lesion from band fill" in viewer.canvas.overlays.text.text
    viewer.dims.set_current_step(0, traced)
    assert "band fill" not in viewer.canvas.overlays.text.text

    viewer.layers.selection.active = lesions
    QTest.keyClick(canvas_of(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undoes the band fill
    holding = np.flatnonzero((np.asarray(lesions.data) == 2).any(axis=(1, 2))).tolist()
    assert holding == [traced]
    assert band_fill_rows(readout.slice_table, "Left (mm²)") == []
    viewer.dims.set_current_step(0, written[0])
    assert "band fill" not in viewer.canvas.overlays.text.text
    assert area_cells(readout.slice_table, "Left (mm²)")[traced] == f"{25 * np.prod(scan.pixel_spacing):.1f}"


def test_a_proposal_cut_by_the_field_carries_a_warning() -> None:
    phantom = small_bilateral_phantom()
    seed = phantom.central_click(2)
    assert band_fill.propose(phantom.scan, [seed]).notes == []
    start = int(np.flatnonzero((phantom.labels == 2).any(axis=(1, 2)))[0]) + 1  # the field cuts the lesion
    affine = phantom.scan.affine.copy()
    affine[:3, 3] += start * affine[:3, 0]
    voxels = phantom.scan.voxels[start:]
    cut = dataclasses.replace(phantom.scan, voxels=voxels, affine=affine, grid=voxels.shape)
    (note,) = band_fill.propose(cut, [(seed[0] - start, *seed[1:])]).notes
    assert "first slice" in note and "beyond the scanned field" in note
