"""Driving the viewer as a reader does: real Qt mouse and key events on the canvas and the dock.

Shared by the GUI tests (imported by name, as ``helpers``). Nothing here calls the widget's
methods: every action is a click, a key press, a wheel turn or a drag delivered through Qt.
"""

from __future__ import annotations

from qtpy.QtCore import QEvent, QPoint, QPointF, Qt
from qtpy.QtGui import QMouseEvent, QWheelEvent
from qtpy.QtOpenGLWidgets import QOpenGLWidget
from qtpy.QtWidgets import QApplication, QMainWindow, QPushButton, QWidget

NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def main_window(widget: QWidget) -> QMainWindow:
    window = widget.window()
    assert isinstance(window, QMainWindow)
    return window


def canvas(widget: QWidget) -> QWidget:
    """The viewer's canvas (its OpenGL widget) in the window holding ``widget``."""
    [found] = main_window(widget).centralWidget().findChildren(QOpenGLWidget)
    return found


def button(widget: QWidget, starts_with: str) -> QPushButton:
    """The dock's push button whose text starts with ``starts_with``."""
    [found] = [b for b in widget.findChildren(QPushButton) if b.text().startswith(starts_with)]
    return found


def hover_canvas(qtbot, widget: QWidget) -> QWidget:
    """Move the pointer over the canvas centre, as a reader reaching for the image."""
    if QApplication.activeWindow() is None:  # Xvfb has no window manager to activate the window
        main_window(widget).activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)
    target = canvas(widget)
    qtbot.mouseMove(target, target.rect().center() + QPoint(3, 3))
    qtbot.mouseMove(target, target.rect().center())
    QApplication.processEvents()
    return target


def key(qtbot, key: Qt.Key | str, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Press ``key`` where the keyboard focus is (the widget that has it, or the window)."""
    focused = QApplication.focusWidget()
    assert focused is not None, "no widget has the keyboard focus"
    qtbot.keyClick(focused, key, modifier)
    QApplication.processEvents()


def wheel(
    target: QWidget, notches: int, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """Turn the mouse wheel over the centre of ``target`` (positive: away from the reader)."""
    centre = QPointF(target.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(target.mapToGlobal(target.rect().center())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(target, event)
    QApplication.processEvents()


def right_drag(target: QWidget, dx: int, dy: int) -> None:
    """Press the right button at the canvas centre, move by (dx, dy) in steps with it held, release."""
    drag(target, dx, dy, Qt.MouseButton.RightButton)


def drag(target: QWidget, dx: int, dy: int, held: Qt.MouseButton, at: QPoint | None = None) -> None:
    """Press ``held`` at ``at`` from the canvas centre, move by (dx, dy) in steps with it held, release."""
    start = target.rect().center() + (at or QPoint(0, 0))
    right, none = held, Qt.MouseButton.NoButton

    def send(kind: QEvent.Type, offset: QPoint, button: Qt.MouseButton, held: Qt.MouseButton) -> None:
        local = QPointF(start + offset)
        event = QMouseEvent(kind, local, QPointF(target.mapToGlobal(local)), button, held, NO_MODIFIER)
        QApplication.sendEvent(target, event)
        QApplication.processEvents()

    send(QEvent.Type.MouseButtonPress, QPoint(0, 0), right, right)
    for step in range(1, 6):
        send(QEvent.Type.MouseMove, QPoint(dx * step // 5, dy * step // 5), none, right)
    send(QEvent.Type.MouseButtonRelease, QPoint(dx, dy), right, none)


def move(target: QWidget, offset: QPoint) -> None:
    """Move the pointer to ``offset`` from the canvas centre with no button held."""
    local = QPointF(target.rect().center() + offset)
    none = Qt.MouseButton.NoButton
    event = QMouseEvent(
        QEvent.Type.MouseMove, local, QPointF(target.mapToGlobal(local)), none, none, NO_MODIFIER
    )
    QApplication.sendEvent(target, event)
    QApplication.processEvents()


def open_timepoints(qtbot, viewer, widget, tmp_path, patient: str = "sub-01") -> None:
    """Open copies of ``patient``'s baseline and follow-up, each with its tracing, the window active.

    Copies: an edit is autosaved beside its scan, never into the sample folder.
    """
    from helpers import copy_sample

    for timepoint in ("baseline", "followup"):
        folder, mask = copy_sample(tmp_path, patient, timepoint)
        viewer.open(str(folder), plugin="onfh-volume")
        widget.load_mask_file(mask)
    main_window(widget).activateWindow()  # Xvfb has no window manager to do it
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)
