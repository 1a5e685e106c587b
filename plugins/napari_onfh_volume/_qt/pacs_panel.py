"""The PACS dock: Open from PACS (search by patient ID or accession number, pick a series) and Send to PACS.

Every exchange with the server runs in a worker thread, with a busy bar; the dock only wires the
buttons to :mod:`napari_onfh_volume.pacs` and shows its answer or its one-line refusal.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from napari.qt.threading import create_worker
from qtpy.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from onfh_volume.errors import OnfhError

from .. import pacs
from ..layers import scan_of

URL_VARIABLE = "ONFH_PACS_URL"


class PacsWidget(QWidget):
    """Search the PACS, open a series in the viewer, send the selected tracing's SEG and report back."""

    def __init__(self, napari_viewer: Any) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.found: list[pacs.SeriesFound] = []
        self.cache = None  # the user's cache folder unless set (tests)
        self.workers: list[Any] = []
        self.url = QLineEdit(os.environ.get(URL_VARIABLE, ""))
        self.url.setPlaceholderText("https://pacs.example.org/dicom-web")
        self.patient_id, self.accession, self.reader = QLineEdit(), QLineEdit(), QLineEdit()
        self.search_button = QPushButton("Search")
        self.results = QListWidget()
        self.open_button = QPushButton("Open from PACS")
        self.send_button = QPushButton("Send to PACS (SEG and report)")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: a server gives no percentage
        self.progress.setVisible(False)
        self.status = QLabel("Credentials: ONFH_PACS_USER/ONFH_PACS_PASSWORD or ~/.netrc.")
        self.status.setWordWrap(True)
        self._lay_out()
        self.search_button.clicked.connect(self.search)
        self.patient_id.returnPressed.connect(self.search)
        self.accession.returnPressed.connect(self.search)
        self.open_button.clicked.connect(self.open_selected)
        self.results.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.send_button.clicked.connect(self.send)

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("DICOMweb URL", self.url)
        form.addRow("Patient ID", self.patient_id)
        form.addRow("Accession number", self.accession)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.search_button)
        layout.addWidget(self.results)
        layout.addWidget(self.open_button)
        reader = QFormLayout()
        reader.addRow("Reader", self.reader)
        layout.addLayout(reader)
        layout.addWidget(self.send_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    def _run(self, doing: str, function: Callable[..., Any], done: Callable[[Any], None], *args: Any) -> None:
        """Run ``function(*args)`` off the GUI thread; ``done`` gets its result, a refusal is shown."""
        self.status.setText(doing)
        self.progress.setVisible(True)
        for button in (self.search_button, self.open_button, self.send_button):
            button.setEnabled(False)
        worker = create_worker(_refusal_or_result, function, *args)
        worker.returned.connect(
            lambda result: self._refused(result) if isinstance(result, Refusal) else done(result)
        )
        worker.finished.connect(self._idle)
        self.workers = [w for w in self.workers if w.is_running] + [worker]
        worker.start()

    def _idle(self) -> None:
        self.progress.setVisible(False)
        for button in (self.search_button, self.open_button, self.send_button):
            button.setEnabled(True)

    def _refused(self, refusal: Refusal) -> None:
        self.status.setText(f"Refused: {refusal.text}")

    def search(self) -> None:
        """List the image series of the patient ID or accession number typed."""
        self.results.clear()
        url, patient, accession = self.url.text().strip(), self.patient_id.text(), self.accession.text()
        self._run("Searching…", _search, self._listed, url, patient.strip(), accession.strip())

    def _listed(self, found: list[pacs.SeriesFound]) -> None:
        self.found = found
        self.results.addItems([row.label() for row in found])
        self.results.setCurrentRow(0)
        self.status.setText(f"{len(found)} image series: pick one and open it.")

    def open_selected(self) -> None:
        """Pull the picked series (unless cached) and open it in the viewer."""
        row = self.results.currentRow()
        if not 0 <= row < len(self.found):
            self.status.setText("Search, then pick a series to open.")
            return
        self._run(
            "Pulling the series…",
            pacs.open_series,
            self._opened,
            self.url.text().strip(),
            self.found[row],
            self.cache,
        )

    def _opened(self, folder: os.PathLike[str]) -> None:
        self.viewer.open(str(folder), plugin="onfh-volume")
        self.status.setText(f"Opened {folder}")

    def send(self) -> None:
        """Send the selected (or only) lesion layer's SEG and measurement report."""
        layer = pacs.lesion_layer_to_send(self.viewer.layers, self.viewer.layers.selection.active)
        if layer is None:
            self.status.setText("Select the lesion layer to send.")
            return
        reader = self.reader.text().strip() or None
        self._run(
            "Measuring, writing and sending…",
            pacs.send_labels,
            self.status.setText,
            self.url.text().strip(),
            layer.data.copy(),
            scan_of(layer),
            reader,
        )


@dataclass(frozen=True)
class Refusal:
    """What the server or the input refused, in one line (a worker that returns an exception raises it)."""

    text: str


def _refusal_or_result(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``, or the user's mistake it refused, to be shown as one line."""
    try:
        return function(*args)
    except OnfhError as error:
        return Refusal(str(error))


def _search(url: str, patient_id: str, accession: str) -> list[pacs.SeriesFound]:
    return pacs.find_series(url, patient_id=patient_id, accession=accession)
