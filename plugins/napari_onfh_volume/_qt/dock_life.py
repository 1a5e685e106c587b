"""The end of a dock: when it closes, or napari takes it out of its dock, it lets go of the viewer.

napari removes a dock widget by taking it out of its dock (no close event), or closes it: either
way the callbacks it added to the viewer must go, or a click would still reach a widget no longer
shown.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject
from qtpy.QtWidgets import QWidget


class _Ending(QObject):
    def __init__(self, widget: QWidget, release: Callable[[], None]) -> None:
        super().__init__(widget)
        self.release = release
        self.docked = widget.parentWidget() is not None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self.release()
        elif event.type() == QEvent.Type.ParentChange:
            docked = watched.parentWidget() is not None
            if self.docked and not docked:
                self.release()
            self.docked = docked
        return False


def release_on_close(widget: QWidget, release: Callable[[], None]) -> None:
    """Call ``release`` (idempotent) when ``widget`` closes or leaves its dock."""
    widget.installEventFilter(_Ending(widget, release))
