"""The "Find lesions" dock widget: search every head, preview each hip's lesion, accept or reject each.

Only wiring: the search and the edit are :mod:`napari_onfh_volume.find_lesions`'s and
:mod:`napari_onfh_volume.band_fill`'s. The search runs in a napari worker thread, so the viewer
never stalls; the proposed lesions show together as a preview labels layer over the scan.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from napari.qt.threading import create_worker
from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .. import band_fill, find_lesions
from ..layers import is_lesion_layer, is_scan_layer, lesion_layer, placed_like, scan_of

PREVIEW_NAME = "find lesions preview"


class FindLesionsWidget(QWidget):
    """Find lesions, then Accept or Reject each hip's proposal (each accept is one undo step)."""

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.findings: list[find_lesions.HipFinding] = []
        self.worker = None
        self.find_button = QPushButton("Find lesions")
        self.find_button.clicked.connect(self.find)
        self.status = QLabel("Searches every femoral head of the scan; every proposal is for your review.")
        self.status.setWordWrap(True)
        self.rows = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.find_button)
        layout.addLayout(self.rows)
        layout.addWidget(self.status)
        layout.addStretch()

    def _scan_layer(self):
        return next((layer for layer in self.viewer.layers if is_scan_layer(layer)), None)

    def find(self) -> None:
        """Search the scan in a worker thread."""
        layer = self._scan_layer()
        if layer is None:
            self.status.setText("Open a scan first.")
            return
        scan = dataclasses.replace(scan_of(layer), voxels=np.asarray(layer.data))
        self.find_button.setEnabled(False)
        self.status.setText("Searching the femoral heads…")
        self.worker = create_worker(find_lesions.find, scan)
        self.worker.returned.connect(self._show)
        self.worker.start()

    def _show(self, findings: list[find_lesions.HipFinding] | str) -> None:
        self.find_button.setEnabled(True)
        if isinstance(findings, str):
            self.status.setText(f"Not searched: {findings}")
            return
        self.findings = findings
        self._clear_rows()
        for finding in findings:
            self.rows.addLayout(self._row(finding))
        self._preview()
        self.status.setText(
            "Scroll through each proposed lesion, then Accept or Reject it; look at uncertain hips yourself."
        )

    def _row(self, finding: find_lesions.HipFinding) -> QHBoxLayout:
        row = QHBoxLayout()
        text = QLabel(finding.line())
        text.setWordWrap(True)
        row.addWidget(text, 1)
        if finding.proposal is not None:
            for name, action in (("Accept", self.accept), ("Reject", self.reject)):
                button = QPushButton(f"{name} {finding.side}")
                button.clicked.connect(lambda _=False, f=finding, act=action: act(f))
                row.addWidget(button)
        return row

    def _clear_rows(self) -> None:
        while self.rows.count():
            row = self.rows.takeAt(0).layout()
            while row.count():
                widget = row.takeAt(0).widget()
                widget.setParent(None)  # gone from the dock now, not at the next event loop turn
                widget.deleteLater()

    def _preview(self) -> None:
        proposals = [f.proposal for f in self.findings if f.proposal is not None]
        if PREVIEW_NAME in self.viewer.layers:
            self.viewer.layers.remove(PREVIEW_NAME)
        if not proposals:
            return
        data = np.zeros(proposals[0].mask.shape, dtype=np.uint8)
        for proposal in proposals:
            data[proposal.mask] = proposal.label
        self.viewer.add_labels(data, name=PREVIEW_NAME, opacity=0.45, **placed_like(self._scan_layer()))

    def _lesions(self):
        found = next((layer for layer in self.viewer.layers if is_lesion_layer(layer)), None)
        if found is None:
            data, kwargs, _ = lesion_layer(scan_of(self._scan_layer()))
            found = self.viewer.add_labels(data, **kwargs)
        return found

    def accept(self, finding: find_lesions.HipFinding) -> None:
        """Write the hip's proposal into the lesion layer (one undo step; slices you traced kept)."""
        layer = self._lesions()
        count = band_fill.accept(layer, finding.proposal)
        self.status.setText(f"{finding.side} hip: {count} voxels added to '{layer.name}' (Ctrl+Z undoes).")
        self._drop(finding)

    def reject(self, finding: find_lesions.HipFinding) -> None:
        """Drop the hip's proposal."""
        self.status.setText(f"{finding.side} hip: proposal rejected.")
        self._drop(finding)

    def _drop(self, finding: find_lesions.HipFinding) -> None:
        finding.proposal = None
        self._clear_rows()
        for kept in self.findings:
            self.rows.addLayout(self._row(kept))
        self._preview()
