"""The Save box of the widget: reader's name, Save button, and what was saved or autosaved."""

from __future__ import annotations

from qtpy.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton

from .focus import no_focus


class SavePanel(QGroupBox):
    """Reader's name and the Save button (enabled only with a lesion layer to save)."""

    def __init__(self) -> None:
        super().__init__("Save")
        self.reader = QLineEdit()
        self.reader.setPlaceholderText("name or initials")
        self.reader.setToolTip("Saved with the measurement")
        self.save_button = no_focus(QPushButton("Save tracing…  [Shift+S]"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        form = QFormLayout(self)
        row = QHBoxLayout()
        row.addWidget(self.reader)
        row.addWidget(self.save_button)
        form.addRow("Reader", row)
        form.addRow(self.message)
