"""The "Band fill" dock widget: click inside a lesion, see the proposed lesion, accept or adjust.

Only wiring: the proposal and the edit are :mod:`napari_onfh_volume.band_fill`'s. The tracing runs
in a napari worker thread, so the viewer never stalls; the proposal shows as a preview labels
layer over the scan (on every slice: scroll to check the neighbouring ones). It traces the active
scan (the one on screen) and writes into its lesion layer, never another timepoint's.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from napari.qt.threading import create_worker
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from onfh_volume.vocabulary import LABEL_NAMES

from .. import band_fill
from ..layers import lesion_layer, placed_like, scan_of
from ..timepoint import ActiveTimepoint, selection_kept
from .arming import Arming
from .dock_life import release_on_close

PREVIEW_NAME = "band fill preview"


class BandFillWidget(QWidget):
    """Arm, click inside a lesion on the scan, then accept (one undo step) or discard the preview."""

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.timepoint = ActiveTimepoint.of(napari_viewer)
        self.proposal: band_fill.Proposal | None = None
        self.seeds: list[tuple[int, int, int]] = []  # of the proposal shown
        self._pending: list[tuple[int, int, int]] = []  # of the tracing running
        self.worker = None
        self.arm_button = QPushButton("Click inside a lesion")
        self.arm_button.setCheckable(True)
        self.sensitivity = QSlider(Qt.Orientation.Horizontal)
        self.sensitivity.setRange(0, 100)
        self.sensitivity.setValue(band_fill.DEFAULT_SENSITIVITY)
        self.sensitivity.sliderReleased.connect(self._retrace)
        self.accept_button = QPushButton("Accept")
        self.accept_button.clicked.connect(self.accept)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.discard)
        self.replace_box = QCheckBox("Replace the slices I traced")
        self.replace_box.setToolTip("Off: a slice where you traced this lesion is left as you traced it")
        self.status = QLabel("Arm, then click inside a lesion, within its band.")
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Sensitivity (fainter bands)", self.sensitivity)
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.discard_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.arm_button)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.replace_box)
        layout.addWidget(self.status)
        layout.addStretch()
        self._enable(False)
        self.traced_on = None  # the scan layer of the proposal shown
        self._pending_on = None  # of the tracing running
        self.arming = Arming(self.arm_button, self.timepoint, self._on_click)
        release_on_close(self, self.release)

    def _scan_layer(self):
        return self.timepoint.scan_layer()

    def release(self) -> None:
        """Take this dock's click off the canvas and drop its preview (idempotent)."""
        self.arming.release()
        self.discard(keep_status=True)

    def _on_click(self, viewer, event) -> None:
        layer = self._scan_layer()
        if not self.arm_button.isChecked() or layer is None or event.button != 1:
            return
        seed = tuple(int(v) for v in np.rint(layer.world_to_data(event.position)))
        # Shift+click adds a seed: where the proposal stops short, a click on a missed slice joins the rest.
        adding = "Shift" in event.modifiers and self.proposal is not None and self.traced_on is layer
        self.trace_from([*self.seeds, seed] if adding else [seed])

    def _retrace(self) -> None:
        if self.seeds:
            self.trace_from(self.seeds)

    def trace_from(self, seeds: list[tuple[int, int, int]]) -> None:
        """Propose the lesion around ``seeds`` (slice, row, column of the scan), in a worker thread."""
        self._pending = list(seeds)
        layer = self._pending_on = self._scan_layer()
        scan = dataclasses.replace(scan_of(layer), voxels=np.asarray(layer.data))
        self.status.setText(f"Tracing from voxel {seeds[-1]}…")
        self._enable(False)
        self.worker = create_worker(
            band_fill.propose_or_refusal, scan, self._pending, self.sensitivity.value()
        )
        self.worker.returned.connect(self._show)
        self.worker.start()

    def _show(self, proposal: band_fill.Proposal | str) -> None:
        if isinstance(proposal, str):
            self.status.setText(f"Not traced: {proposal}")
            self._enable(self.proposal is not None)  # the preview shown before, if any, still stands
            return
        self.proposal, self.seeds, self.traced_on = proposal, self._pending, self._pending_on
        data = proposal.mask.astype(np.uint8) * proposal.label
        with selection_kept(self.viewer):  # the preview is to look at: the tools stay where they were
            if PREVIEW_NAME in self.viewer.layers:  # perhaps over another scan: placed afresh
                self.viewer.layers.remove(PREVIEW_NAME)
            self.viewer.add_labels(data, name=PREVIEW_NAME, opacity=0.45, **placed_like(self.traced_on))
        self.status.setText(
            f"Proposed {LABEL_NAMES[proposal.label]} on slices {proposal.slices[0]}-{proposal.slices[-1]}: "
            "scroll through them, then Accept, or move the sensitivity; Shift+click on a slice it "
            "missed adds it." + "".join(f"\n⚠ {note}" for note in proposal.notes)
        )
        self._enable(True)

    def _lesions(self):
        """The active scan's lesion layer, made (on its scan, selected) when it has none."""
        found = self.timepoint.lesions()
        if found is None:
            data, kwargs, _ = lesion_layer(self.timepoint.scan())
            found = self.viewer.add_labels(data, **kwargs)
            self.timepoint.show()
        return found

    def accept(self) -> None:
        """Write the proposal into the active scan's lesion layer (one undo step); traced slices only if asked."""
        if self.proposal is None:
            return
        if self.traced_on is not self._scan_layer():
            self.status.setText(
                f"Not accepted: the proposal was traced on '{self.traced_on.name}', not on the scan now "
                "traced. Choose that scan again, or click inside the lesion on this one."
            )
            return
        layer = self._lesions()
        traced = band_fill.traced_slices(self.proposal, layer)
        replace = self.replace_box.isChecked()
        count = band_fill.accept(layer, self.proposal, replace_traced=replace)
        if traced and replace:
            note = f"; your tracing replaced on slices {traced}"
        elif traced:
            note = f"; slices you traced kept as they are: {traced}"
        else:
            note = ""
        self.status.setText(
            f"Band fill: {count} voxels added to '{layer.name}' (Ctrl+Z undoes){note}."
            if count  # nothing written is no undo step: Ctrl+Z would take back the edit before
            else f"Band fill: nothing added, every slice of it is traced in '{layer.name}' already "
            "(kept as you traced it)."
        )
        self.discard(keep_status=True)

    def discard(self, keep_status: bool = False) -> None:
        """Drop the preview."""
        if PREVIEW_NAME in self.viewer.layers:
            with selection_kept(self.viewer):
                self.viewer.layers.remove(PREVIEW_NAME)
        self.proposal, self.seeds = None, []
        self._enable(False)
        if not keep_status:
            self.status.setText("Discarded. Click inside a lesion again.")

    def _enable(self, on: bool) -> None:
        self.accept_button.setEnabled(on)
        self.discard_button.setEnabled(on)
