"""The widget in the hand: focus, keys, wheel, drag, orientation, side-by-side (issue 10), through real Qt events.

Each test drives a shown napari window under Xvfb with Qt key and mouse events (``gui.py``) and
checks what a reader would see: the slice on screen, the active label, the window, the letters on
the canvas edges, the grid. Expected orientation letters come from the DICOM header written for the
test (ImageOrientationPatient), not from the code under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui import button, canvas, hover_canvas, key, main_window, open_timepoints, right_drag, wheel
from helpers import SAMPLES, copy_sample, write_dicom_series
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication, QLabel, QTabBar

from napari_onfh_volume._qt.lesion_widget import LesionVolumeWidget


@pytest.fixture
def shown(make_napari_viewer, tmp_path: Path, qtbot):
    """A shown window with sub-02 baseline (a copy), an empty lesion layer, on slice 7."""
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    folder, _mask = copy_sample(tmp_path, "sub-02", "baseline")
    viewer.open(str(folder), plugin="onfh-volume")
    qtbot.mouseClick(button(widget, "Create lesion layer"), Qt.MouseButton.LeftButton)
    main_window(widget).activateWindow()  # Xvfb has no window manager to do it
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)
    viewer.dims.set_current_step(0, 7)
    return viewer, widget, widget.lesions


def slice_on_screen(viewer) -> int:
    return int(viewer.dims.current_step[0])


# --- bugs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clicked", "arrow", "step"), [("2", Qt.Key.Key_Left, -1), ("1", Qt.Key.Key_Right, 1)]
)
def test_arrow_keys_page_slices_after_a_label_button_click(
    shown, qtbot, clicked: str, arrow: Qt.Key, step: int
) -> None:
    """Bug 1: an arrow after clicking a label button switched the label and left the slice."""
    viewer, widget, layer = shown
    qtbot.mouseClick(button(widget, f"{clicked}  "), Qt.MouseButton.LeftButton)
    assert layer.selected_label == int(clicked)
    hover_canvas(qtbot, widget)
    key(qtbot, arrow)
    assert layer.selected_label == int(clicked)
    assert slice_on_screen(viewer) == 7 + step


def test_keys_reach_the_canvas_after_a_row_click(shown, qtbot) -> None:
    """Bug 2: after a click in the per-slice table, arrows, 3 and Shift+F did nothing."""
    viewer, widget, layer = shown
    table = widget.slice_table
    cell = table.visualItemRect(table.item(9, 0)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    assert slice_on_screen(viewer) == 9
    key(qtbot, Qt.Key.Key_Right)
    assert slice_on_screen(viewer) == 10
    key(qtbot, "3")
    assert layer.mode == "polygon"
    assert slice_on_screen(viewer) == 10  # "3" did not jump the table to slice 3
    key(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    assert "nothing is traced" in widget.trace_panel.message.text()


def test_compare_follows_threshold_and_edits_without_a_click(make_napari_viewer, qtbot, tmp_path) -> None:
    """Bug 3: the categories stayed as they were until Compare was clicked again."""
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    open_timepoints(qtbot, viewer, widget, tmp_path)
    tabs = widget.findChild(QTabBar)
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton, pos=tabs.tabRect(1).center())
    panel = widget.compare_panel

    def category(row: int) -> str:
        item = panel.result.item(row, 4)
        return "" if item is None else item.text()

    qtbot.waitUntil(lambda: category(1) == "no change", timeout=3000)  # left -5 % against 15 %
    panel.threshold.setFocus()
    qtbot.keyClick(panel.threshold, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(panel.threshold, "4")
    qtbot.keyClick(panel.threshold, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: category(1) == "decrease", timeout=3000)  # -5 % against 4 %

    followup = viewer.layers["sub-01 followup lesions"]
    before = panel.result.item(0, 2).text()
    followup.paint_polygon([(6, 60, 40), (6, 60, 70), (6, 90, 70), (6, 90, 40)], 1)
    qtbot.waitUntil(lambda: panel.result.item(0, 2).text() != before, timeout=3000)


def menu_entry(menu, text: str):
    """The action of a menu, or of one of its submenus, whose text starts with ``text``."""
    for action in menu.actions():
        if action.text().replace("&", "").startswith(text):
            return action
        if action.menu() is not None and (found := menu_entry(action.menu(), text)) is not None:
            return found
    return None


def test_plugins_menu_after_view_shows_the_same_dock(make_napari_viewer) -> None:
    """Bug 4: napari-onfh-volume then Plugins > Lesion volume docked a second widget."""
    from napari_onfh_volume.view import set_up

    viewer = make_napari_viewer(show=True)
    widget = set_up(viewer)
    window = main_window(widget)
    plugins = next(a for a in window.menuBar().actions() if a.text().replace("&", "") == "Plugins")
    entry = menu_entry(plugins.menu(), "Lesion volume")  # in the plugin's submenu, beside Band fill
    for _toggle in range(2):  # the menu shows or hides the one dock, and never builds another
        entry.trigger()
        QApplication.processEvents()
        assert window.findChildren(LesionVolumeWidget) == [widget]
    screen = window.screen().availableGeometry()
    assert window.frameGeometry().height() <= screen.height()


def test_small_open_stroke_and_filled_slice_are_refused_by_shift_f(shown, qtbot) -> None:
    """Bug 7: a small open U 'filled 4 pixels'; Shift+F on a filled slice said 'close it'."""
    _viewer, widget, layer = shown
    u_shape = np.zeros((224, 224), dtype=bool)
    u_shape[100:108, 100:103] = u_shape[100:108, 106:109] = u_shape[105:108, 100:109] = True
    layer.data_setitem((np.full(u_shape.sum(), 7), *np.nonzero(u_shape)), 1)
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    assert "encloses nothing" in widget.trace_panel.message.text()
    assert (np.asarray(layer.data[7]) == 1).sum() == u_shape.sum()

    layer.paint_polygon([(7, 40, 40), (7, 40, 70), (7, 70, 70), (7, 70, 40)], 1)
    key(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    assert "already filled" in widget.trace_panel.message.text()


def test_messages_go_stale_with_undo_and_scan_switch(shown, qtbot) -> None:
    """Bug 7: a tool's message stayed after Ctrl+Z and after switching scans."""
    _viewer, widget, layer = shown
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    assert widget.trace_panel.message.text()
    layer.paint_polygon([(7, 40, 40), (7, 40, 70), (7, 70, 70), (7, 70, 40)], 1)
    assert not widget.trace_panel.message.text()
    key(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    assert widget.trace_panel.message.text()
    key(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not widget.trace_panel.message.text()


def test_buttons_are_disabled_without_a_scan(make_napari_viewer) -> None:
    """Bug 7: Create lesion layer and Save were enabled with no scan, and did nothing."""
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    for text in ("Create lesion layer", "Load mask", "Save tracing", "Fill traced outline", "Fill between"):
        assert not button(widget, text).isEnabled(), text


# --- reading-room habits --------------------------------------------------------------------------


def test_wheel_pages_slices_and_ctrl_wheel_zooms(shown, qtbot) -> None:
    viewer, widget, _layer = shown
    target = hover_canvas(qtbot, widget)
    qtbot.wait(100)
    zoom = viewer.scene.camera.zoom
    wheel(target, -1)
    wheel(target, -1)
    assert slice_on_screen(viewer) == 9 and viewer.scene.camera.zoom == pytest.approx(zoom)
    wheel(target, 1)
    assert slice_on_screen(viewer) == 8
    wheel(target, 1, Qt.KeyboardModifier.ControlModifier)
    assert slice_on_screen(viewer) == 8 and viewer.scene.camera.zoom > zoom * 1.1


def test_right_drag_sets_window_and_level_and_shows_them(shown, qtbot) -> None:
    viewer, widget, _layer = shown
    scan = viewer.layers["sub-02 baseline"]
    low, high = scan.contrast_limits
    right_drag(hover_canvas(qtbot, widget), dx=100, dy=0)
    wider_low, wider_high = scan.contrast_limits
    assert wider_high - wider_low > (high - low) * 1.2
    assert (wider_high + wider_low) / 2 == pytest.approx((high + low) / 2, rel=1e-6)
    assert (
        viewer.canvas.overlays.text.text
        == f"W {wider_high - wider_low:.0f}  L {(wider_high + wider_low) / 2:.0f}"
    )
    right_drag(canvas(widget), dx=0, dy=-50)
    assert sum(scan.contrast_limits) / 2 > (wider_high + wider_low) / 2  # dragging up raises the level


@pytest.mark.parametrize(
    ("orientation", "letters"),
    [
        # Coronal, rows running to the patient's left (DICOM +x) and columns down (DICOM -z).
        ((1.0, 0.0, 0.0, 0.0, 0.0, -1.0), {"left": "R", "right": "L", "top": "S", "bottom": "I"}),
        # The same slices stored mirrored: columns towards the patient's right.
        ((-1.0, 0.0, 0.0, 0.0, 0.0, -1.0), {"left": "L", "right": "R", "top": "S", "bottom": "I"}),
    ],
)
def test_orientation_letters_come_from_the_scan(
    make_napari_viewer, tmp_path: Path, orientation: tuple[float, ...], letters: dict[str, str]
) -> None:
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    folder = write_dicom_series(tmp_path / "series", orientation=orientation)
    viewer.open(str(folder), plugin="onfh-volume")
    shown_letters = {
        edge: label.text() for edge, label in widget.reading_room.letters.items() if label.isVisible()
    }
    assert shown_letters == letters
    target = canvas(widget)
    assert widget.reading_room.letters["right"].geometry().right() > target.width() * 0.9
    assert (
        viewer.canvas.overlays.scale_bar.visible
        and [str(u) for u in viewer.layers[0].units] == ["millimeter"] * 3
    )


def test_first_window_shows_both_femoral_heads_and_ten_table_rows(make_napari_viewer, qtbot) -> None:
    from napari_onfh_volume.view import set_up
    from onfh_volume import load_mask, load_scan

    scan = load_scan(SAMPLES / "dicom/sub-01/baseline")
    viewer = make_napari_viewer(show=True)
    widget = set_up(viewer, scan, load_mask(SAMPLES / "masks/sub-01_baseline_lesions.nii.gz", scan))
    qtbot.wait(100)
    target = canvas(widget)
    visible_mm = target.width() / viewer.scene.camera.zoom
    assert visible_mm >= scan.shape[2] * scan.pixel_spacing[1]  # the whole width: both hips
    assert target.width() >= 700
    table = widget.slice_table
    shown_rows = table.viewport().visibleRegion().boundingRect().height() / table.rowHeight(0)
    assert shown_rows >= 10, shown_rows
    screen = main_window(widget).screen().availableGeometry()
    assert main_window(widget).frameGeometry().height() <= screen.height()


def test_side_by_side_compare_links_views_and_shows_both_tracings(make_napari_viewer, qtbot) -> None:
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    viewer.open_sample("onfh-volume", "sub-01-baseline")
    viewer.open_sample("onfh-volume", "sub-01-followup")
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
    assert widget.tabs.currentIndex() == 1
    assert viewer.canvas.grid.enabled and viewer.canvas.grid.stride == 2
    names = [layer.name for layer in viewer.layers if layer.visible]
    assert names == [
        "sub-01 baseline",
        "sub-01 baseline lesions",
        "sub-01 followup",
        "sub-01 followup lesions",
    ]
    base, follow = viewer.layers["sub-01 baseline lesions"], viewer.layers["sub-01 followup lesions"]
    wheel(canvas(widget), -1)
    point = viewer.dims.point
    assert base.world_to_data(point)[0] == pytest.approx(follow.world_to_data(point)[0])
    tabs = widget.findChild(QTabBar)
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton, pos=tabs.tabRect(0).center())
    assert not viewer.canvas.grid.enabled


def test_help_panel_lists_every_shortcut(shown, qtbot) -> None:
    _viewer, widget, _layer = shown
    hover_canvas(qtbot, widget)
    assert not widget.help.isVisible()
    key(qtbot, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)
    assert widget.help.isVisible()
    text = widget.help.findChild(QLabel).text()
    for bound, _what in widget.shortcuts.bound:
        assert bound.replace("-", "+") in text


def test_interpolated_slices_are_marked_in_the_table(shown, qtbot) -> None:
    viewer, widget, layer = shown
    for k in (3, 7):
        layer.paint_polygon([(k, 90, 50), (k, 90, 69), (k, 109, 69), (k, 109, 50)], 1)
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_I, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: "Filled" in widget.trace_panel.message.text(), timeout=5000)
    column = 1  # right hip lesion
    assert widget.slice_table.item(5, column).text().endswith("(filled)")
    assert not widget.slice_table.item(7, column).text().endswith("(filled)")
    viewer.dims.set_current_step(0, 5)
    assert "filled between" in viewer.canvas.overlays.text.text


def test_removing_the_dock_gives_the_viewer_its_keys_and_mouse_back(make_napari_viewer) -> None:
    viewer = make_napari_viewer(show=True)
    wheel_before = list(viewer.mouse_wheel_callbacks)
    inserted_before = len(viewer.layers.events.inserted.callbacks)
    dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    assert widget.shortcuts.bound and viewer.keymap
    viewer.window.remove_dock_widget(dock)
    QApplication.processEvents()
    assert not viewer.keymap
    assert viewer.mouse_wheel_callbacks == wheel_before and viewer.scene.camera.mouse_zoom
    assert len(viewer.layers.events.inserted.callbacks) == inserted_before
