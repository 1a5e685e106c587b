"""An armed click tool (Band fill, Live wire) takes the left click from the brush until disarmed.

napari hands a click to the viewer's callbacks and then to the selected layer: with the tracing in
brush mode, the click meant for the tool would also paint a dab. While armed, the tracing is put in
napari's pan/zoom mode; disarming gives it back its mode.
"""

from __future__ import annotations

from qtpy.QtWidgets import QAbstractButton

from ..timepoint import ActiveTimepoint


class Arming:
    """Follows ``button`` (checkable): checked, the active tracing stops painting; unchecked, it paints again."""

    def __init__(self, button: QAbstractButton, timepoint: ActiveTimepoint) -> None:
        self.timepoint = timepoint
        self._held: tuple[object, str] | None = None
        button.toggled.connect(self._toggled)

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
