"""A lesion painted with the other hip's label is told at once (issue 18, bug 5), with real mouse strokes.

The expected hip of a point comes from the DICOM header of the sample series (ImagePositionPatient,
ImageOrientationPatient, PixelSpacing: LPS x > 0 is the patient's left), not from the code under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from gui import button, hover_canvas, key, main_window
from helpers import canvas_of, copy_sample
from qtpy.QtCore import QEvent, QPointF, Qt
from qtpy.QtGui import QMouseEvent
from qtpy.QtWidgets import QApplication, QLabel

SLICE, ROW = 8, 100


def lps_x(folder: Path, column: int) -> float:
    """Patient x (LPS, mm) of ``column`` on the series' first image, from its DICOM header alone."""
    ds = pydicom.dcmread(sorted(folder.iterdir())[0])
    row_direction = np.asarray(ds.ImageOrientationPatient[:3], dtype=float)
    return float(ds.ImagePositionPatient[0]) + row_direction[0] * column * float(ds.PixelSpacing[1])


def canvas_point(viewer, layer, voxel: tuple[int, int, int]) -> QPointF:
    """Where ``voxel`` of ``layer`` is drawn on the canvas (its slice on screen)."""
    canvas = canvas_of()
    world = np.asarray(layer.data_to_world(voxel), dtype=float)
    centre, zoom = np.asarray(viewer.scene.camera.center)[-2:], viewer.scene.camera.zoom
    return QPointF(
        (world[2] - centre[1]) * zoom + canvas.width() / 2,
        (world[1] - centre[0]) * zoom + canvas.height() / 2,
    )


def stroke(viewer, layer, k: int, row: int, columns: tuple[int, int]) -> None:
    """A left-button brush stroke along ``row`` of slice ``k``, pressed, dragged and released on the canvas."""
    viewer.dims.set_current_step(0, k)
    canvas = canvas_of()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    points = [canvas_point(viewer, layer, (k, row, c)) for c in np.linspace(*columns, 6).round().astype(int)]

    def send(kind: QEvent.Type, at: QPointF, pressed: Qt.MouseButton, held: Qt.MouseButton) -> None:
        event = QMouseEvent(
            kind, at, QPointF(canvas.mapToGlobal(at.toPoint())), pressed, held, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(canvas, event)
        QApplication.processEvents()

    send(QEvent.Type.MouseButtonPress, points[0], left, left)
    for point in points[1:]:
        send(QEvent.Type.MouseMove, point, none, left)
    send(QEvent.Type.MouseButtonRelease, points[-1], left, none)


def readout_warning(widget) -> str:
    """The warnings about hips shown in the dock now ("" when none)."""
    shown = [label.text() for label in widget.findChildren(QLabel) if label.isVisible()]
    return "\n".join(text for text in shown if "lie in the patient's" in text)


@pytest.fixture
def tracing(make_napari_viewer, tmp_path: Path, qtbot):
    """sub-01 baseline (both hips) in a shown window, an empty lesion layer with the brush, label 1."""
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    folder, _mask = copy_sample(tmp_path, "sub-01", "baseline")
    viewer.open(str(folder), plugin="onfh-volume")
    qtbot.mouseClick(button(widget, "Create lesion layer"), Qt.MouseButton.LeftButton)
    main_window(widget).activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)
    viewer.reset_view()
    return viewer, widget, folder


def test_label_1_painted_in_the_left_hip_is_warned_on_the_slice_and_undo_clears_it(tracing, qtbot) -> None:
    viewer, widget, folder = tracing
    layer = widget.lesions
    right, left = (60, 70), (150, 160)  # columns, well away from the midline
    assert lps_x(folder, right[1]) < -50 and lps_x(folder, left[0]) > 50  # the patient's right, then left
    assert layer.selected_label == 1 and layer.mode == "paint"

    stroke(viewer, layer, SLICE, ROW, right)
    assert np.count_nonzero(np.asarray(layer.data) == 1) > 0
    assert readout_warning(widget) == ""  # label 1 in the right hip: nothing to say

    stroke(viewer, layer, SLICE, ROW, left)
    painted_left = int(np.count_nonzero(np.asarray(layer.data)[SLICE, :, 112:] == 1))
    assert painted_left > 0
    warning = readout_warning(widget)
    assert "right hip lesion (label 1)" in warning and "patient's left hip" in warning
    assert f"{painted_left} voxels on slice {SLICE} " in warning
    on_canvas = viewer.canvas.overlays.text.text
    assert f"slice {SLICE}: right hip lesion (label 1) painted in the patient's left hip" in on_canvas
    viewer.dims.set_current_step(0, SLICE + 3)
    assert "painted in the patient's" not in viewer.canvas.overlays.text.text  # the slice's own note

    viewer.dims.set_current_step(0, SLICE)
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the slip undone
    assert not np.asarray(layer.data)[SLICE, :, 112:].any()
    assert readout_warning(widget) == ""
    assert "painted in the patient's" not in viewer.canvas.overlays.text.text


def test_label_2_in_the_right_hip_is_named_too(tracing, qtbot) -> None:
    viewer, widget, _folder = tracing
    hover_canvas(qtbot, widget)
    key(qtbot, Qt.Key.Key_L, Qt.KeyboardModifier.ShiftModifier)  # left hip lesion, label 2
    assert widget.lesions.selected_label == 2
    stroke(viewer, widget.lesions, SLICE, ROW, (60, 70))
    assert "left hip lesion (label 2)" in readout_warning(widget)
    assert "patient's right hip" in readout_warning(widget)
