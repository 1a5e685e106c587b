"""The "Carry baseline to follow-up" dock widget: the baseline's lesions proposed on the follow-up.

Only wiring: the work is :mod:`napari_onfh_volume.carry`'s. It runs in a napari worker thread; the
proposal shows as a preview layer over the follow-up scan; Accept writes it into the follow-up's
lesion layer, one undo step per hip.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from napari.qt.threading import create_worker
from qtpy.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .. import band_fill, carry
from ..layers import is_lesion_layer, is_scan_layer, lesion_layer, placed_like, scan_of

PREVIEW_NAME = "carried follow-up preview"


class CarryWidget(QWidget):
    """Pick the baseline lesions and the follow-up scan, carry, then Accept or Discard the preview."""

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.hips: list[carry.CarriedHip] = []
        self.worker = None
        self.baseline = QComboBox()
        self.followup = QComboBox()
        self.carry_button = QPushButton("Carry baseline to follow-up")
        self.carry_button.clicked.connect(self.carry)
        self.accept_button = QPushButton("Accept")
        self.accept_button.clicked.connect(self.accept)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.discard)
        self.status = QLabel("Every carried lesion is for your review.")
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Baseline lesions", self.baseline)
        form.addRow("Follow-up scan", self.followup)
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.discard_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.carry_button)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addStretch()
        self._enable(False)
        self.viewer.layers.events.inserted.connect(self._list_layers)
        self.viewer.layers.events.removed.connect(self._list_layers)
        self._list_layers()

    def _list_layers(self, *_) -> None:
        for box, wanted in ((self.baseline, is_lesion_layer), (self.followup, is_scan_layer)):
            chosen = box.currentText()
            box.clear()
            box.addItems([layer.name for layer in self.viewer.layers if wanted(layer)])
            if chosen:
                box.setCurrentText(chosen)

    def carry(self) -> None:
        """Carry the baseline lesions to the follow-up scan, in a worker thread."""
        if not self.baseline.currentText() or not self.followup.currentText():
            self.status.setText("Open the baseline scan with its lesions, and the follow-up scan.")
            return
        lesions = self.viewer.layers[self.baseline.currentText()]
        base_layer = next(
            (
                layer
                for layer in self.viewer.layers
                if is_scan_layer(layer) and scan_of(layer) == scan_of(lesions)
            ),
            None,
        )
        if base_layer is None:
            self.status.setText(f"The scan of '{lesions.name}' is not open: open it too.")
            return
        follow_layer = self.viewer.layers[self.followup.currentText()]
        baseline = dataclasses.replace(scan_of(base_layer), voxels=np.asarray(base_layer.data))
        followup = dataclasses.replace(scan_of(follow_layer), voxels=np.asarray(follow_layer.data))
        self.carry_button.setEnabled(False)
        self.status.setText("Registering each head and tracing the follow-up…")
        self.worker = create_worker(carry.carry, baseline, np.asarray(lesions.data), followup)
        self.worker.returned.connect(self._show)
        self.worker.start()

    def _show(self, hips: list[carry.CarriedHip] | str) -> None:
        self.carry_button.setEnabled(True)
        if isinstance(hips, str):
            self.status.setText(f"Not carried: {hips}")
            return
        self.hips = hips
        proposals = [hip.proposal for hip in hips if hip.proposal is not None]
        if proposals:
            data = np.zeros(proposals[0].mask.shape, dtype=np.uint8)
            for proposal in proposals:
                data[proposal.mask] = proposal.label
            if PREVIEW_NAME in self.viewer.layers:
                self.viewer.layers.remove(PREVIEW_NAME)
            follow_layer = self.viewer.layers[self.followup.currentText()]
            self.viewer.add_labels(data, name=PREVIEW_NAME, opacity=0.45, **placed_like(follow_layer))
        self.status.setText(
            "\n".join(hip.line() for hip in hips) + "\nScroll through the follow-up, then Accept."
        )
        self._enable(bool(proposals))

    def _followup_lesions(self):
        follow = scan_of(self.viewer.layers[self.followup.currentText()])
        found = next(
            (
                layer
                for layer in self.viewer.layers
                if is_lesion_layer(layer) and _same(scan_of(layer), follow)
            ),
            None,
        )
        if found is None:
            data, kwargs, _ = lesion_layer(follow)
            found = self.viewer.add_labels(data, **kwargs)
        return found

    def accept(self) -> None:
        """Write each hip's carried lesion into the follow-up's lesion layer (one undo step per hip)."""
        layer = self._followup_lesions()
        count = sum(band_fill.accept(layer, hip.proposal) for hip in self.hips if hip.proposal is not None)
        self.status.setText(f"Carried: {count} voxels added to '{layer.name}' (Ctrl+Z undoes a hip).")
        self.discard(keep_status=True)

    def discard(self, keep_status: bool = False) -> None:
        """Drop the preview."""
        if PREVIEW_NAME in self.viewer.layers:
            self.viewer.layers.remove(PREVIEW_NAME)
        self.hips = []
        self._enable(False)
        if not keep_status:
            self.status.setText("Discarded.")

    def _enable(self, on: bool) -> None:
        self.accept_button.setEnabled(on)
        self.discard_button.setEnabled(on)


def _same(one, other) -> bool:
    """Whether two layers' scans are one scan: the same file, on the same grid."""
    return one.source == other.source and one.same_grid(other)
