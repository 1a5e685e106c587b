"""Keyboard focus: the canvas keeps it, so arrow keys page slices and shortcuts work.

Buttons, tables and check boxes of the dock never take the keyboard focus from the canvas: a
focused button group turns the arrow keys into a label switch, a focused table eats digits.
"""

from __future__ import annotations

from typing import TypeVar

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QWidget

W = TypeVar("W", bound=QWidget)


def no_focus(widget: W) -> W:
    """``widget``, set never to take the keyboard focus (clicks still work)."""
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return widget


def canvas_widget(dock: QWidget) -> QWidget | None:
    """The Qt widget of the viewer's canvas in the main window holding ``dock``.

    napari's main window holds its viewer as the central widget; the canvas is the OpenGL widget
    inside it (found through Qt, not napari's private attributes).
    """
    from qtpy.QtOpenGLWidgets import QOpenGLWidget
    from qtpy.QtWidgets import QMainWindow

    window = dock.window()
    central = window.centralWidget() if isinstance(window, QMainWindow) else None
    if central is None:
        return None
    return next(iter(central.findChildren(QOpenGLWidget)), None)


def focus_canvas(dock: QWidget) -> None:
    """Give the keyboard focus back to the canvas."""
    canvas = canvas_widget(dock)
    if canvas is not None:
        canvas.setFocus(Qt.FocusReason.OtherFocusReason)
