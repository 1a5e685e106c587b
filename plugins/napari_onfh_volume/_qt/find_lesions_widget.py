"""The "Find lesions" dock widget: search every head, preview each hip's lesion, accept or reject each.

Only wiring: the search and the edit are :mod:`napari_onfh_volume.find_lesions`'s and
:mod:`napari_onfh_volume.band_fill`'s. The search runs in a napari worker thread, so the viewer
never stalls; the proposed lesions show together as a preview labels layer over the scan. It
searches the active scan (the one on screen) and writes only into that scan's lesion layer: a
proposal left open while the reader chose another scan is not accepted until its scan is chosen
again, and it is forgotten when its scan or its preview is closed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from napari.qt.threading import create_worker
from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .. import band_fill, find_lesions
from ..layers import lesion_layer, scan_of
from ..provenance import DETECTED
from ..timepoint import ActiveTimepoint
from .dock_life import release_on_close
from .focus import no_focus
from .preview import show_preview

PREVIEW_NAME = "find lesions preview"


class FindLesionsWidget(QWidget):
    """Find lesions, then Accept or Reject each hip's proposal (each accept is one undo step)."""

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.timepoint = ActiveTimepoint.of(napari_viewer)
        self.findings: list[find_lesions.HipFinding] = []
        self.searched_on = None  # the scan layer of the findings shown
        self._searching = None  # of the search running
        self._redrawing = False
        self.worker = None
        self.find_button = no_focus(QPushButton("Find lesions"))
        self.find_button.clicked.connect(self.find)
        self.status = QLabel("Searches every femoral head of the scan; every proposal is for your review.")
        self.status.setWordWrap(True)
        self.rows = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.find_button)
        layout.addLayout(self.rows)
        layout.addWidget(self.status)
        layout.addStretch()
        self._removals = self.timepoint.viewer.layers.events.removed
        self._removals.connect(self._layer_removed)
        release_on_close(self, self.release)

    def release(self) -> None:
        """Stop following the viewer's layers and drop the preview (idempotent)."""
        if self._removals is not None:
            self._removals.disconnect(self._layer_removed)
            self._removals = None
        self._forget()

    def _open(self, layer) -> bool:
        """Whether ``layer`` (the viewer's own, not a dock's proxy of it) is still open."""
        return any(shown is layer for shown in self.timepoint.viewer.layers)

    def find(self) -> None:
        """Search the active scan in a worker thread."""
        layer = self._searching = self.timepoint.scan_layer()
        if layer is None:
            self.status.setText("Open a scan first.")
            return
        scan = dataclasses.replace(scan_of(layer), voxels=np.asarray(layer.data))
        self.find_button.setEnabled(False)
        self.status.setText(f"Searching the femoral heads of '{layer.name}'…")
        self.worker = create_worker(find_lesions.find, scan)
        self.worker.returned.connect(self._show)
        self.worker.start()

    def _show(self, findings: list[find_lesions.HipFinding] | str) -> None:
        self.find_button.setEnabled(True)
        if isinstance(findings, str):
            self.status.setText(f"Not searched: {findings}")
            return
        if not self._open(self._searching):
            self.status.setText("Not shown: the scan searched was closed.")
            return
        self.findings, self.searched_on = findings, self._searching
        self._list()
        self.status.setText(
            "Scroll through each proposed lesion, then Accept or Reject it; look at uncertain hips yourself."
        )

    def _row(self, finding: find_lesions.HipFinding) -> QWidget:
        """The hip's line, its Accept and Reject buttons under it (the dock is narrow)."""
        row = QWidget()
        layout = QVBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        text = QLabel(finding.line())
        text.setWordWrap(True)
        layout.addWidget(text)
        if finding.proposal is not None:
            buttons = QHBoxLayout()
            for name, action in (("Accept", self.accept), ("Reject", self.reject)):
                button = no_focus(QPushButton(f"{name} {finding.side}"))
                button.clicked.connect(lambda _=False, f=finding, act=action: act(f))
                buttons.addWidget(button)
            layout.addLayout(buttons)
        return row

    def _list(self) -> None:
        """The hips in rows, and the proposals still to review in the preview."""
        while self.rows.count():
            row = self.rows.takeAt(0).widget()
            row.setParent(None)  # gone from the dock now, not at the next event loop turn
            row.deleteLater()
        for finding in self.findings:
            self.rows.addWidget(self._row(finding))
        self._redrawing = True  # the old preview's removal is not the reader closing it
        try:
            proposals = [f.proposal for f in self.findings if f.proposal is not None]
            show_preview(self.viewer, PREVIEW_NAME, proposals, self.searched_on)
        finally:
            self._redrawing = False

    def accept(self, finding: find_lesions.HipFinding) -> None:
        """Write the hip's proposal into its scan's lesion layer (one undo step; slices you traced kept)."""
        if self.searched_on is not self.timepoint.scan_layer():
            self.status.setText(
                f"Not accepted: the lesions were found on '{self.searched_on.name}', not on the scan now "
                "traced. Choose that scan again, or Find lesions on this one."
            )
            return
        layer = self.timepoint.lesions()
        if layer is None:
            data, kwargs, _ = lesion_layer(scan_of(self.searched_on))
            layer = self.viewer.add_labels(data, **kwargs)
            self.timepoint.show()
        count = band_fill.accept(layer, finding.proposal, aid=DETECTED)
        self.status.setText(
            f"{finding.side} hip: {count} voxels added to '{layer.name}' (Ctrl+Z undoes)."
            if count  # nothing written is no undo step: Ctrl+Z would take back the edit before
            else f"{finding.side} hip: nothing added, every slice of it is traced in '{layer.name}' "
            "already (kept as you traced it)."
        )
        finding.proposal = None
        self._list()

    def reject(self, finding: find_lesions.HipFinding) -> None:
        """Drop the hip's proposal."""
        self.status.setText(f"{finding.side} hip: proposal rejected.")
        finding.proposal = None
        self._list()

    def _layer_removed(self, _event=None) -> None:
        if self._redrawing or not self.findings:
            return
        pending = any(finding.proposal is not None for finding in self.findings)
        if not self._open(self.searched_on) or (pending and PREVIEW_NAME not in self.viewer.layers):
            self._forget()
            self.status.setText(
                "The proposals were closed with their preview or their scan: Find lesions again."
            )

    def _forget(self) -> None:
        self.findings, self.searched_on = [], None
        self._list()
