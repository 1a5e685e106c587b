"""The Save box of the widget: reader's name, Save button, saving, and what was saved or autosaved."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton

from onfh_volume import OnfhError
from onfh_volume.volume import Measurement

from ..session import SaveOrder, TracingSession
from .background import in_background
from .focus import no_focus
from .head_panel import HeadInputs, HeadPanel, fit_heads


class SavePanel(QGroupBox):
    """Reader's name and the Save button (enabled only with a lesion layer to save)."""

    def __init__(self, session: TracingSession, head_panel: HeadPanel) -> None:
        super().__init__("Save")
        self.session = session
        self.head_panel = head_panel
        self._saving = False
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

    def save_to(self, path: str | Path):
        """Save the tracing (mask, JSON, CSV); ask before replacing any file or saving without a reader.

        The femoral heads are fitted and the files written in a worker thread, the window
        repainting meanwhile with a note; what is saved is the tracing when Save was pressed.
        """
        if self._saving:  # Shift+S again while the files are written: one save at a time
            return None
        reader = self.reader.text().strip()
        try:
            if str(path).endswith(".dcm"):
                saved = self.session.save_seg(path, reader)
                self.message.setText(
                    f"Saved {saved.name} (DICOM SEG for the PACS)." if saved else "Not saved."
                )
                return saved
            order = self.session.ask_to_save(path, reader)
            if order is None:
                self.message.setText("Not saved.")
                return None
            inputs = self.head_panel.inputs()
            self.message.setText("Saving: fitting the femoral heads, writing the files…")
            self.save_button.setEnabled(False)
            self._saving = True
            try:
                fitted, measurement = in_background(_fit_and_write, order, inputs)
            finally:
                self._saving = False
                self.save_button.setEnabled(self.session.lesions is not None)
        except OnfhError as exc:
            self.message.setText(f"⚠ Not saved: {exc}")
            return None
        self.session.saved(order)
        self.head_panel.show(None if inputs is None else inputs[0], fitted)
        notes = "".join(f"\n⚠ {w}" for w in measurement.warnings if w not in order.scan.warnings)
        paths = order.paths
        self.message.setText(f"Saved {paths.mask.name}, {paths.json.name} and {paths.csv.name}.{notes}")
        return paths


def _fit_and_write(order: SaveOrder, inputs: HeadInputs | None):
    """The femoral heads fitted (or why not) and the files written: the slow part of a save, in a thread."""
    fitted = None if inputs is None else fit_heads(inputs)
    heads = fitted.heads if isinstance(fitted, Measurement) else None
    return fitted, order.write(heads)
