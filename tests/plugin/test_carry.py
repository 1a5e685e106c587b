"""Carry baseline to follow-up in a real viewer: pick the layers, carry, preview, Accept, Ctrl+Z."""

from __future__ import annotations

import numpy as np
from gui import button
from helpers import canvas_of
from qtpy.QtCore import Qt
from qtpy.QtTest import QTest

from napari_onfh_volume._qt.carry_widget import PREVIEW_NAME, CarryWidget
from napari_onfh_volume.layers import is_lesion_layer, lesion_layer, scan_layer
from onfh_volume.testing.draft_set import detect_spec, followup, followup_move
from onfh_volume.testing.phantom import make_phantom


def test_carry_preview_accept_undo(make_napari_viewer, qtbot) -> None:
    viewer = make_napari_viewer(show=True)
    baseline = make_phantom(detect_spec(2))
    later = followup(detect_spec(2), followup_move(2), 2)  # moved 5 mm, turned up to 4.9°, grown 18%
    for phantom in (baseline, later):
        data, kwargs, _ = scan_layer(phantom.scan)
        kwargs["name"] = phantom.spec.name
        viewer.add_image(data, **kwargs)
    data, kwargs, _ = lesion_layer(baseline.scan, baseline.labels.copy(), name="baseline lesions")
    viewer.add_labels(data, **kwargs)
    widget = CarryWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.followup.setCurrentText(later.spec.name)
    assert widget.baseline.currentText() == "baseline lesions"

    qtbot.mouseClick(button(widget, "Carry baseline"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: PREVIEW_NAME in viewer.layers, timeout=120_000)
    preview = np.asarray(viewer.layers[PREVIEW_NAME].data) == 2
    truth = later.labels == 2
    assert 2 * np.count_nonzero(preview & truth) / (preview.sum() + truth.sum()) > 0.85
    # The status names the hip and, when it is flagged, why (here the change's uncertainty).
    assert widget.status.text().startswith(("left hip: propagated", "left hip: review"))
    assert "left hip: propagated" in widget.status.text() or "uncertainty" in widget.status.text()

    qtbot.mouseClick(button(widget, "Accept"), Qt.MouseButton.LeftButton)
    carried = next(
        layer for layer in viewer.layers if is_lesion_layer(layer) and layer.name != "baseline lesions"
    )
    assert np.array_equal(np.asarray(carried.data) == 2, preview)
    assert PREVIEW_NAME not in viewer.layers
    viewer.layers.selection.active = carried
    QTest.keyClick(canvas_of(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo step per hip
    assert not np.asarray(carried.data).any()
