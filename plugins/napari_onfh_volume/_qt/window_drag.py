"""Right-drag sets the window and level, and does nothing else.

napari hands a right-button press to the viewer's camera (a right-drag zooms) and to the active
layer (in a labels layer's paint mode it starts napari's encircle-and-fill stroke, which goes on
painting as the pointer moves after the release). A PACS reader right-drags to set the window: so
the right button is taken off the canvas before napari sees it, by a Qt event filter on the canvas
widget, and turned into window and level only. Nothing of napari's is changed or reached into.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject, QPointF, Qt

#: Window width (or level) change per pixel of right-drag, as a share of the window at the drag's start.
WINDOW_PER_PIXEL = 0.004

_RIGHT_EVENTS = (
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonRelease,
    QEvent.Type.MouseButtonDblClick,
)


class WindowDrag(QObject):
    """Event filter of the canvas: right-drag left-right widens the window, up-down lowers the level.

    Parameters
    ----------
    scan_layer
        Gives the image layer whose contrast the drag sets (None: the drag does nothing, still
        without reaching napari).
    changed
        Called after each change of the window (to show it on the canvas).
    """

    def __init__(self, scan_layer: Callable[[], object], changed: Callable[[], None], parent=None) -> None:
        super().__init__(parent)
        self.scan_layer = scan_layer
        self.changed = changed
        self._start: QPointF | None = None
        self._limits: tuple[float, float] = (0.0, 1.0)
        self._layer = None

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _RIGHT_EVENTS and event.button() == Qt.MouseButton.RightButton:
            if kind == QEvent.Type.MouseButtonPress:
                self._press(event.position())
            elif kind == QEvent.Type.MouseButtonRelease:
                self._start = self._layer = None
            return True
        if kind == QEvent.Type.MouseMove and self._start is not None:
            if event.buttons() & Qt.MouseButton.RightButton:
                self._move(event.position())
                return True
            self._start = self._layer = None  # the release happened elsewhere
        return False

    def _press(self, where: QPointF) -> None:
        self._layer = self.scan_layer()
        self._start = where if self._layer is not None else None
        if self._layer is not None:
            self._limits = tuple(float(v) for v in self._layer.contrast_limits)

    def _move(self, where: QPointF) -> None:
        low, high = self._limits
        reference = max(high - low, 1.0)
        dx, dy = where.x() - self._start.x(), where.y() - self._start.y()
        width = max((high - low) + dx * WINDOW_PER_PIXEL * reference, 1e-3 * reference)
        level = (high + low) / 2 - dy * WINDOW_PER_PIXEL * reference
        self._layer.contrast_limits = (float(level - width / 2), float(level + width / 2))
        self.changed()
