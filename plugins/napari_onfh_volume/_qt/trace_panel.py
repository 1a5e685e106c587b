"""The Trace box of the widget: the two lesion labels, the tracing aids' rows and their message."""

from __future__ import annotations

from qtpy.QtWidgets import QButtonGroup, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from onfh_volume.vocabulary import LABEL_NAMES, LEFT_LABEL, RIGHT_LABEL

from ..layers import LABEL_COLOURS
from .focus import no_focus

LABEL_KEYS = {RIGHT_LABEL: "Shift+R", LEFT_LABEL: "Shift+L"}


def _label_button(label: int) -> QPushButton:
    colour = LABEL_COLOURS[label]
    side = LABEL_NAMES[label].removesuffix(" lesion").capitalize()  # "Right hip": the dock is narrow
    button = no_focus(QPushButton(f"{label}  {side}  [{LABEL_KEYS[label]}]"))
    button.setToolTip(f"Draw the {LABEL_NAMES[label]} (label {label})")
    button.setCheckable(True)
    # The active lesion is filled with its colour, the other only outlined: obvious at a glance.
    button.setStyleSheet(
        f"QPushButton {{ border: 2px solid {colour}; padding: 6px; border-radius: 4px; }}"
        f"QPushButton:checked {{ background-color: {colour}; color: black; font-weight: bold; }}"
    )
    return button


class TracePanel(QGroupBox):
    """Label buttons (never focused: arrow keys stay with the canvas), tool rows, tool message."""

    def __init__(self) -> None:
        super().__init__("Trace")
        self.label_group = QButtonGroup(self)
        self.label_buttons = {label: _label_button(label) for label in LABEL_NAMES}
        for label, button in self.label_buttons.items():
            self.label_group.addButton(button, label)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self._layout = QVBoxLayout(self)
        self.setToolTip(
            "Brush 2, polygon 3, fill 4, eraser 1. Ctrl+Z undoes any edit. Shift+H lists every key."
        )
        labels = QHBoxLayout()
        for button in self.label_buttons.values():
            labels.addWidget(button)
        self._layout.addLayout(labels)
        self._tools = QVBoxLayout()
        self._layout.addLayout(self._tools)
        self._layout.addWidget(self.message)

    def add_tool(self, row: QWidget) -> None:
        """Add a tracing aid's row under the label buttons."""
        self._tools.addWidget(row)

    def set_enabled(self, enabled: bool) -> None:
        for button in self.label_buttons.values():
            button.setEnabled(enabled)

    def show_label(self, label: int | None) -> None:
        """Check the button of the active label (none without a lesion layer)."""
        self.label_group.setExclusive(False)
        for value, button in self.label_buttons.items():
            button.setChecked(value == label)
        self.label_group.setExclusive(True)
