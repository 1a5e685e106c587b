"""An armed click tool (Band fill, Live wire) takes the left click from the brush until disarmed.

napari hands a click to the viewer's callbacks and then to the selected layer: with the tracing in
brush mode, the click meant for the tool would also paint a dab. While armed, the tracing is put in
napari's pan/zoom mode; disarming gives it back its mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtWidgets import QAbstractButton

from ..timepoint import ActiveTimepoint


class Arming:
    """Follows ``button`` (checkable): checked, the active tracing stops painting; unchecked, it paints again.

    ``on_click`` (the tool's handler) is one of the viewer's mouse callbacks until :meth:`release`.
    """

    def __init__(
        self, button: QAbstractButton, timepoint: ActiveTimepoint, on_click: Callable[[Any, Any], None]
    ) -> None:
        self.timepoint = timepoint
        self.button = button
        self._on_click = on_click
        self._held: tuple[object, str] | None = None
        button.toggled.connect(self._toggled)
        # The list itself, not the viewer: the timepoint keeps the viewer weakly, a closing dock
        # still takes its click off.
        self._callbacks = timepoint.viewer.mouse_drag_callbacks
        self._callbacks.append(on_click)

    def release(self) -> None:
        """Take the tool's click off the canvas and disarm it (idempotent)."""
        if self._on_click in self._callbacks:
            self._callbacks.remove(self._on_click)
        self.button.setChecked(False)

    def _toggled(self, armed: bool) -> None:
        if armed:
            layer = self.timepoint.lesions()
            if layer is not None and layer.mode != "pan_zoom":
                self._held = (layer, layer.mode)
                layer.mode = "pan_zoom"
            return
        if self._held is not None:
            layer, mode = self._held
            self._held = None
            if layer.mode == "pan_zoom":  # unless the reader chose another mode meanwhile
                layer.mode = mode
