"""Keyboard shortcuts of the widget, bound on the viewer and listed in the help panel."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtWidgets import QLabel

#: napari's own bindings the reader uses with ours, listed in the help panel.
NAPARI_KEYS = (
    ("← / →, mouse wheel", "previous / next slice (pointer over the image)"),
    ("Ctrl + mouse wheel", "zoom"),
    ("right-drag", "window (left-right) and level (up-down)"),
    ("2 / 3 / 4 / 1", "brush / polygon / fill bucket / eraser"),
    ("[ / ]", "smaller / larger brush"),
    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"),
)


class Shortcuts:
    """Keys bound on a viewer for as long as the widget lives; :meth:`unbind` releases them."""

    def __init__(self, viewer) -> None:
        self.viewer = viewer
        self.bound: list[tuple[str, str]] = []

    def bind(self, key: str, description: str, action: Callable[[], object]) -> None:
        """Bind napari ``key`` (e.g. ``Shift-F``) to ``action``."""
        self.viewer.bind_key(key, lambda _viewer: action(), overwrite=True)
        self.bound.append((key, description))

    def unbind(self) -> None:
        for key, _description in self.bound:
            self.viewer.bind_key(key, None)
        self.bound = []

    def help_text(self) -> str:
        """Every shortcut, ours and napari's, as rich text for the help panel."""
        rows = [(key.replace("-", "+"), what) for key, what in self.bound] + list(NAPARI_KEYS)
        cells = "".join(f"<tr><td><b>{key}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>" for key, what in rows)
        return f"<table>{cells}</table>"


def help_label(shortcuts: Shortcuts) -> QLabel:
    """The help panel's text (built once every shortcut is bound)."""
    label = QLabel(shortcuts.help_text())
    label.setWordWrap(True)
    return label
