"""Reading-room habits on the canvas: wheel pages slices, Ctrl+wheel zooms, right-drag sets the window.

Also the orientation letters on the canvas edges (from the scan's affine) and the scale bar in mm.
Everything is added through napari's public viewer API (mouse callbacks, camera, text overlay,
scale bar) and undone by :meth:`ReadingRoom.close`.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QEvent, QObject, Qt
from qtpy.QtWidgets import QLabel, QWidget

from onfh_volume.scan import Scan

from ..layers import edge_letters
from ..timepoint import ActiveTimepoint
from .focus import canvas_widget
from .window_drag import WindowDrag

#: Share of the current zoom one wheel notch changes with Ctrl held.
ZOOM_STEP = 1.15
LETTER_STYLE = "color: #ffe600; font-weight: bold; font-size: 16px; background: transparent"


class ReadingRoom(QObject):
    """The canvas habits of a PACS viewer, on ``viewer`` while the widget ``dock`` is open."""

    def __init__(self, viewer, dock: QWidget) -> None:
        super().__init__(dock)
        self.viewer = viewer
        self.dock = dock
        self.letters = {edge: self._letter() for edge in ("left", "right", "top", "bottom")}
        # napari pages slices with Ctrl+wheel: ours zooms. Its callback goes back where it was.
        self._napari_wheel = [
            (index, cb)
            for index, cb in enumerate(viewer.mouse_wheel_callbacks)
            if cb.__name__ == "dims_scroll"
        ]
        for _index, callback in self._napari_wheel:
            viewer.mouse_wheel_callbacks.remove(callback)
        viewer.mouse_wheel_callbacks.append(self.on_wheel)
        viewer.mouse_move_callbacks.append(self.on_move)
        # napari gives the camera the active layer's mouse habits at every mode or layer change:
        # the wheel is kept for slices all the same.
        viewer.scene.camera.mouse_zoom = False
        viewer.scene.camera.events.mouse_zoom.connect(self._keep_wheel_for_slices)
        bar = viewer.canvas.overlays.scale_bar
        self._napari_scale_bar = (bar.visible, bar.position)  # given back on close
        viewer.canvas.overlays.scale_bar.visible = True  # in mm: the layers' units
        # napari's notifications (a slice gap, a header disagreement) come up in the bottom-right
        # corner: the scale bar goes to the top right, where nothing covers it.
        viewer.canvas.overlays.scale_bar.position = "top_right"
        viewer.canvas.overlays.text.visible = True
        viewer.canvas.overlays.text.position = "bottom_left"
        self._canvas: QWidget | None = None
        self.window_drag = WindowDrag(self.scan_layer, self.show_window, self)
        self._note = ""
        self._scan: Scan | None = None
        # A dock built before it is docked (the command line, the Plugins menu) has no canvas yet:
        # its letters go up when it is shown in the window, never as windows of their own.
        dock.installEventFilter(self)

    def close(self) -> None:
        """Give the viewer its own mouse habits back."""
        for callbacks, callback in (
            (self.viewer.mouse_wheel_callbacks, self.on_wheel),
            (self.viewer.mouse_move_callbacks, self.on_move),
        ):
            if callback in callbacks:
                callbacks.remove(callback)
        for index, callback in self._napari_wheel:
            self.viewer.mouse_wheel_callbacks.insert(index, callback)
        self.viewer.scene.camera.events.mouse_zoom.disconnect(self._keep_wheel_for_slices)
        self.viewer.scene.camera.mouse_zoom = True
        self.dock.removeEventFilter(self)
        if self._canvas is not None:
            self._canvas.removeEventFilter(self)
            self._canvas.removeEventFilter(self.window_drag)
        for letter in self.letters.values():
            letter.hide()
            letter.deleteLater()
        # The window, level and slice notes are the dock's: they go with it, as its scale bar does.
        self.viewer.canvas.overlays.text.text = ""
        self.viewer.canvas.overlays.text.visible = False
        bar = self.viewer.canvas.overlays.scale_bar
        bar.visible, bar.position = self._napari_scale_bar

    # --- mouse --------------------------------------------------------------------------------

    def _keep_wheel_for_slices(self, _event=None) -> None:
        if self.viewer.scene.camera.mouse_zoom:
            self.viewer.scene.camera.mouse_zoom = False

    def on_wheel(self, viewer, event) -> None:
        """One slice per wheel notch; with Ctrl, zoom about the view's centre."""
        notches = float(np.clip(event.delta[1], -1, 1))
        if not notches:
            return
        if "Control" in event.modifiers:
            viewer.scene.camera.zoom = viewer.scene.camera.zoom * ZOOM_STEP**notches
            return
        step = viewer.dims.current_step[0] - int(np.sign(notches))
        viewer.dims.set_current_step(0, int(np.clip(step, 0, viewer.dims.nsteps[0] - 1)))

    def on_move(self, _viewer, _event) -> None:
        """The canvas under the pointer takes the keyboard: arrows page slices, shortcuts reach it."""
        canvas = self.canvas()
        if canvas is not None and not canvas.hasFocus():
            canvas.setFocus(Qt.FocusReason.MouseFocusReason)

    # --- overlays -----------------------------------------------------------------------------

    def scan_layer(self):
        """The active scan layer (the one the window applies to)."""
        return ActiveTimepoint.of(self.viewer).scan_layer()

    def show_window(self) -> None:
        """The current window (W) and level (L) of the scan in the canvas corner, and the slice's note."""
        layer = self.scan_layer()
        parts = [self._note] if self._note else []
        if layer is not None:
            low, high = layer.contrast_limits
            parts.insert(0, f"W {high - low:.0f}  L {(high + low) / 2:.0f}")
        self.viewer.canvas.overlays.text.text = "\n".join(parts)

    def set_note(self, note: str) -> None:
        """A line about the slice on screen (e.g. that it was filled between slices) under the window."""
        if note != self._note:
            self._note = note
            self.show_window()

    def show_orientation(self, scan: Scan | None) -> None:
        """Letters of the patient directions on the canvas edges (none when the file states none)."""
        self._scan = scan
        letters = {} if scan is None else edge_letters(scan)
        docked = self.canvas() is not None  # the letters live on the canvas, never on their own
        for edge, label in self.letters.items():
            label.setText(letters.get(edge, ""))
            label.setVisible(docked and edge in letters)
        self._place_letters()
        self.show_window()

    def canvas(self) -> QWidget | None:
        if self._canvas is None:
            self._canvas = canvas_widget(self.dock)
            if self._canvas is not None:
                self._canvas.installEventFilter(self)
                self._canvas.installEventFilter(self.window_drag)
                for label in self.letters.values():
                    label.setParent(self._canvas)
        return self._canvas

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._canvas and event.type() == QEvent.Type.Resize:
            self._place_letters()
        elif watched is self.dock and event.type() == QEvent.Type.Show:
            self.show_orientation(self._scan)
        return False

    def _letter(self) -> QLabel:
        label = QLabel()
        label.setStyleSheet(LETTER_STYLE)
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        label.hide()
        return label

    def _place_letters(self) -> None:
        canvas = self.canvas()
        if canvas is None:
            return
        width, height, margin = canvas.width(), canvas.height(), 6
        for edge, label in self.letters.items():
            label.adjustSize()
            x = {"left": margin, "right": width - label.width() - margin}.get(
                edge, (width - label.width()) // 2
            )
            y = {"top": margin, "bottom": height - label.height() - margin}.get(
                edge, (height - label.height()) // 2
            )
            label.move(x, y)
            label.raise_()
