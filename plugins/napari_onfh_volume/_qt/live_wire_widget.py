"""The "Live wire" dock widget: click points along the band, close and fill, accept.

Only wiring: the path, the fill and the edit are :mod:`napari_onfh_volume.live_wire`'s. The
slice's band cost takes a few hundred milliseconds on a 512 x 512 slice, so the path and the fill
run in a napari worker thread; the path and the filled area show as a preview labels layer. It
traces the active scan (the one on screen) into its lesion layer; after Accept it is disarmed, so
the next click on the canvas is the brush's again.
"""

from __future__ import annotations

import numpy as np
from napari.qt.threading import create_worker
from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from onfh_volume.errors import TracingError

from ..layers import placed_like
from ..live_wire import LiveWire
from ..timepoint import ActiveTimepoint, selection_kept
from .arming import Arming
from .dock_life import release_on_close

PREVIEW_NAME = "live wire preview"
PREVIEW_LABEL = 3


class LiveWireWidget(QWidget):
    """Arm, click points along the band on one slice, close and fill, accept (one undo step)."""

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.timepoint = ActiveTimepoint.of(napari_viewer)
        self.traced_on = None  # the scan layer the points were clicked on
        self.wire: LiveWire | None = None
        self.workers: list = []
        self.arm_button = QPushButton("Trace the band")
        self.arm_button.setCheckable(True)
        self.close_button = QPushButton("Close and fill")
        self.close_button.clicked.connect(self.close_wire)
        self.accept_button = QPushButton("Accept")
        self.accept_button.clicked.connect(self.accept)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.status = QLabel("Arm, then click points along the band on one slice.")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.close_button, self.accept_button, self.clear_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.arm_button)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addStretch()
        self.arming = Arming(self.arm_button, self.timepoint, self._on_click)
        release_on_close(self, self.release)

    def _scan_layer(self):
        return self.timepoint.scan_layer()

    def release(self) -> None:
        """Take this dock's click off the canvas and drop its preview (idempotent)."""
        self.arming.release()
        self.clear()

    def busy(self) -> bool:
        """True while a path or a fill is being computed."""
        return any(worker.is_running for worker in self.workers)

    def _on_click(self, viewer, event) -> None:
        layer = self._scan_layer()
        if not self.arm_button.isChecked() or layer is None or event.button != 1:
            return
        self.add_point(tuple(int(v) for v in np.rint(layer.world_to_data(event.position))))

    def add_point(self, voxel: tuple[int, int, int]) -> None:
        """Add ``voxel`` (slice, row, column of the scan); a click on another slice starts afresh."""
        scan = self._scan_layer()
        if self.wire is None or self.wire.slice_index != voxel[0] or self.traced_on is not scan:
            self.traced_on = scan
            self.wire = LiveWire.on_layer(scan, voxel[0])
        try:
            self.wire.add(voxel[1:])
        except TracingError as error:
            self.status.setText(f"Not added: {error.problem}")
            return
        self._run(self.wire.path, self._show_path)

    def _run(self, function, done) -> None:
        wire = self.wire
        worker = create_worker(function)
        # A path or fill that comes back after the wire was accepted, cleared or disarmed belongs to
        # no wire any more: it is dropped, not drawn.
        worker.returned.connect(lambda result: done(result) if self.wire is wire else None)
        self.workers = [w for w in self.workers if w.is_running] + [worker]
        worker.start()

    def _show_path(self, path: np.ndarray) -> None:
        self._preview(path)
        self.status.setText(f"{len(self.wire.points)} points on slice {self.wire.slice_index}.")

    def close_wire(self) -> None:
        """Close the path through the first point and fill it, as a preview."""
        if self.wire is not None:
            self._run(self.wire.close_or_refusal, self._show_fill)

    def _show_fill(self, filled: np.ndarray | str) -> None:
        if isinstance(filled, str):
            self.status.setText(f"Not filled: {filled}")
            return
        self._preview(filled)
        self.status.setText(
            f"Filled {int(filled.sum())} pixels on slice {self.wire.slice_index}: Accept or Clear."
        )

    def _preview(self, mask: np.ndarray) -> None:
        scan = self.traced_on
        data = np.zeros(scan.data.shape, dtype=np.uint8)
        data[self.wire.slice_index] = mask.astype(np.uint8) * PREVIEW_LABEL
        with selection_kept(self.viewer):  # the preview is to look at: the tools stay where they were
            if PREVIEW_NAME in self.viewer.layers:  # perhaps over another scan: placed afresh
                self.viewer.layers.remove(PREVIEW_NAME)
            self.viewer.add_labels(data, name=PREVIEW_NAME, opacity=0.6, **placed_like(scan))

    def accept(self) -> None:
        """Write the filled area into the active scan's lesion layer with its selected label (one undo
        step), then disarm: the next click is the brush's."""
        lesions = self.timepoint.lesions()
        if self.wire is None or self.wire.filled is None or lesions is None:
            self.status.setText("Nothing to accept: close and fill first, with a lesion layer open.")
            return
        if self.traced_on is not self._scan_layer():
            self.status.setText(
                "Not accepted: the points were clicked on another scan. Clear, then trace again."
            )
            return
        count = self.wire.accept(lesions, lesions.selected_label)
        self.clear()
        self.arm_button.setChecked(False)
        self.status.setText(f"Live wire: {count} pixels added to '{lesions.name}' (Ctrl+Z undoes).")

    def clear(self) -> None:
        """Forget the points and drop the preview."""
        self.wire = None
        if PREVIEW_NAME in self.viewer.layers:
            with selection_kept(self.viewer):
                self.viewer.layers.remove(PREVIEW_NAME)
        self.status.setText("Cleared. Click points along the band again.")
