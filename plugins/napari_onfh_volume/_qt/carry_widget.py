"""The "Carry baseline to follow-up" dock widget: the baseline's lesions proposed on the follow-up.

Only wiring: the work is :mod:`napari_onfh_volume.carry`'s. It runs in a napari worker thread; the
proposal shows as a preview layer over the follow-up scan; Accept writes it into the follow-up's
lesion layer, one undo step per hip, and makes the follow-up the scan traced. The follow-up is
the one chosen when Carry was clicked, whatever the boxes say since; the preview is forgotten when
it or its scan is closed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from napari.qt.threading import create_worker
from qtpy.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .. import band_fill, carry
from ..layers import is_lesion_layer, is_scan_layer, lesion_layer, scan_of
from ..provenance import PROPAGATED
from ..timepoint import ActiveTimepoint
from .dock_life import release_on_close
from .focus import no_focus
from .preview import drop_preview, show_preview

PREVIEW_NAME = "carried follow-up preview"


class CarryWidget(QWidget):
    """Pick the baseline lesions and the follow-up scan, carry, then Accept or Discard the preview."""

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.timepoint = ActiveTimepoint.of(napari_viewer)
        self.hips: list[carry.CarriedHip] = []
        self.carried_to = None  # the follow-up scan layer of the preview shown
        self._pending = None  # of the carry running
        self._redrawing = False
        self._following = True
        self.worker = None
        self.baseline = QComboBox()
        self.followup = QComboBox()
        self.carry_button = no_focus(QPushButton("Carry baseline to follow-up"))
        self.carry_button.clicked.connect(self.carry)
        self.accept_button = no_focus(QPushButton("Accept"))
        self.accept_button.clicked.connect(self.accept)
        self.discard_button = no_focus(QPushButton("Discard"))
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
        self.viewer.layers.events.removed.connect(self._layer_removed)
        self._list_layers()
        release_on_close(self, self.release)

    def release(self) -> None:
        """Stop following the viewer's layers and drop the preview (idempotent)."""
        if self._following:
            self.viewer.layers.events.inserted.disconnect(self._list_layers)
            self.viewer.layers.events.removed.disconnect(self._layer_removed)
            self._following = False
        self.discard(keep_status=True)

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
        layers = self.timepoint.viewer.layers  # the viewer's own layers: kept to write into later
        lesions = layers[self.baseline.currentText()]
        base_layer = next(
            (layer for layer in layers if is_scan_layer(layer) and _same(scan_of(layer), scan_of(lesions))),
            None,
        )
        if base_layer is None:
            self.status.setText(f"The scan of '{lesions.name}' is not open: open it too.")
            return
        follow_layer = self._pending = layers[self.followup.currentText()]
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
        if not self._open(self._pending):
            self.status.setText("Not shown: the follow-up scan was closed.")
            return
        self.hips, self.carried_to = hips, self._pending
        proposals = [hip.proposal for hip in hips if hip.proposal is not None]
        self._redrawing = True  # an earlier preview's removal is not the reader closing it
        try:
            show_preview(self.viewer, PREVIEW_NAME, proposals, self.carried_to)
        finally:
            self._redrawing = False
        self.status.setText(
            "\n".join(hip.line() for hip in hips) + "\nScroll through the follow-up, then Accept."
        )
        self._enable(bool(proposals))

    def _open(self, layer) -> bool:
        """Whether ``layer`` (the viewer's own, not a dock's proxy of it) is still open."""
        return any(shown is layer for shown in self.timepoint.viewer.layers)

    def accept(self) -> None:
        """Write each hip's carried lesion into the follow-up's lesion layer (one undo step per hip).

        The follow-up becomes the scan traced, its tracing selected: what was written is on screen
        (in the compare view, in its panel) and Ctrl+Z undoes it, never the baseline's last edit.
        """
        if not self.hips or self.carried_to is None:
            return
        follow = scan_of(self.carried_to)
        layer = self.timepoint.lesion_layer_of(follow)
        if layer is None:
            data, kwargs, _ = lesion_layer(follow)
            layer = self.viewer.add_labels(data, **kwargs)
        proposals = [hip.proposal for hip in self.hips if hip.proposal is not None]
        count = sum(band_fill.accept(layer, proposal, aid=PROPAGATED) for proposal in proposals)
        self.timepoint.choose(self.carried_to.name, show=not self.viewer.canvas.grid.enabled)
        self.status.setText(
            f"Carried: {count} voxels added to '{layer.name}' (Ctrl+Z undoes a hip)."
            if count  # nothing written is no undo step: Ctrl+Z would take back the edit before
            else f"Carried: nothing added, every slice of the lesions is traced in '{layer.name}' already."
        )
        self.discard(keep_status=True)

    def discard(self, keep_status: bool = False) -> None:
        """Drop the preview."""
        self.hips, self.carried_to = [], None
        drop_preview(self.viewer, PREVIEW_NAME)
        self._enable(False)
        if not keep_status:
            self.status.setText("Discarded.")

    def _layer_removed(self, _event=None) -> None:
        self._list_layers()
        if self._redrawing or not self.hips:
            return
        if PREVIEW_NAME not in self.viewer.layers or not self._open(self.carried_to):
            self.discard(keep_status=True)
            self.status.setText(
                "The carried lesions were closed with their preview or their scan: carry again."
            )

    def _enable(self, on: bool) -> None:
        self.accept_button.setEnabled(on)
        self.discard_button.setEnabled(on)


def _same(one, other) -> bool:
    """Whether two layers' scans are one scan: the same file, on the same grid."""
    return one.source == other.source and one.same_grid(other)
