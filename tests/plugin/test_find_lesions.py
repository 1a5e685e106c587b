"""Find lesions in a real viewer: the button → a proposal per hip → Accept one, Reject the other → Ctrl+Z."""

from __future__ import annotations

import numpy as np
from gui import button
from helpers import canvas_of
from qtpy.QtCore import Qt
from qtpy.QtTest import QTest

from napari_onfh_volume._qt.find_lesions_widget import PREVIEW_NAME, FindLesionsWidget
from napari_onfh_volume.layers import is_lesion_layer, scan_layer
from onfh_volume.testing.phantom_set import small_bilateral_phantom


def test_find_accept_one_reject_the_other_undo(make_napari_viewer, qtbot) -> None:
    viewer = make_napari_viewer(show=True)
    phantom = small_bilateral_phantom()
    data, kwargs, _ = scan_layer(phantom.scan)
    viewer.add_image(data, **kwargs)
    widget = FindLesionsWidget(viewer)
    viewer.window.add_dock_widget(widget)

    qtbot.mouseClick(button(widget, "Find lesions"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: PREVIEW_NAME in viewer.layers, timeout=120_000)
    preview = np.asarray(viewer.layers[PREVIEW_NAME].data)
    for label in (1, 2):  # both hips proposed, each close to its truth
        mine, truth = preview == label, phantom.labels == label
        assert 2 * np.count_nonzero(mine & truth) / (mine.sum() + truth.sum()) > 0.8

    qtbot.mouseClick(button(widget, "Accept right"), Qt.MouseButton.LeftButton)
    lesions = next(layer for layer in viewer.layers if is_lesion_layer(layer))
    assert np.array_equal(np.asarray(lesions.data) == 1, preview == 1)
    assert not np.any(np.asarray(lesions.data) == 2)
    qtbot.mouseClick(button(widget, "Reject left"), Qt.MouseButton.LeftButton)
    assert PREVIEW_NAME not in viewer.layers  # nothing left to review
    assert not np.any(np.asarray(lesions.data) == 2)

    viewer.layers.selection.active = lesions
    QTest.keyClick(canvas_of(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo step
    assert not np.asarray(lesions.data).any()
