"""Compare a baseline and a follow-up tracing: per-hip volumes, relative change and 15% category.

The comparison is recomputed whenever one of its inputs changes (layers, threshold, method, an
edit of either tracing). While the Compare tab is shown, the viewer shows both timepoints side by
side (napari's grid: one camera, so zoom and pan are linked; one slider in patient millimetres, so
both show the same slice position), each scan with its own lesion layer on top.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from onfh_volume import OnfhError, compare, measure
from onfh_volume.change import DEFAULT_THRESHOLD_PCT, Comparison
from onfh_volume.record import label_side_warnings
from onfh_volume.vocabulary import METHOD_NAMES, METHODS

from ..layers import is_lesion_layer, is_scan_layer, scan_of
from .focus import no_focus
from .readout_tables import cm3


class ComparePanel(QGroupBox):
    """Pick a baseline and a follow-up lesion layer (each on its scan) and compare them hip by hip."""

    HEADERS = ("Hip", "Baseline cm³", "Follow-up cm³", "Change", "Category")

    def __init__(self, viewer) -> None:
        super().__init__("Compare timepoints")
        self.viewer = viewer
        self.baseline = QComboBox()
        self.followup = QComboBox()
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.1, 100.0)
        self.threshold.setDecimals(1)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(DEFAULT_THRESHOLD_PCT)
        self.method = QComboBox()
        for method in METHODS:
            self.method.addItem(METHOD_NAMES[method].formula, method)
        self.swap_button = no_focus(QPushButton("Swap baseline and follow-up"))
        self.swap_button.clicked.connect(self.swap)
        # Edits arrive stroke by stroke: recompute once they pause.
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(150)
        self._pending.timeout.connect(self.run)
        for signal in (
            self.baseline.currentTextChanged,
            self.followup.currentTextChanged,
            self.threshold.valueChanged,
            self.method.currentIndexChanged,
        ):
            signal.connect(self.inputs_changed)
        self._watched: list = []
        self._side_by_side = False
        self.result = QTableWidget(0, len(self.HEADERS))
        self.result.setHorizontalHeaderLabels(self.HEADERS)
        self.result.verticalHeader().setVisible(False)
        self.result.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.result.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.result.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.result.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.result.setFixedHeight(3 * self.result.verticalHeader().defaultSectionSize() + 8)
        self.message = QLabel()
        self.message.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Baseline lesions", self.baseline)
        form.addRow("Follow-up lesions", self.followup)
        form.addRow("Change threshold", self.threshold)
        form.addRow("Volume", self.method)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.swap_button)
        layout.addWidget(self.result)
        layout.addWidget(self.message)
        self.comparison: Comparison | None = None
        self.refresh_layers()

    def refresh_layers(self) -> None:
        """List the lesion layers; a new choice prefers names saying baseline and follow-up, else order."""
        names = [layer.name for layer in self.viewer.layers if is_lesion_layer(layer)]
        for box, word, default in ((self.baseline, "baseline", 0), (self.followup, "follow", len(names) - 1)):
            chosen = box.currentText()
            named = [name for name in names if word in name.lower()]
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            if chosen in names:
                box.setCurrentText(chosen)
            elif named:
                box.setCurrentText(named[0])
            else:
                box.setCurrentIndex(default)
            box.blockSignals(False)
        if len(names) > 1 and self.baseline.currentText() == self.followup.currentText():
            # A layer opened since: most often the follow-up, just loaded.
            self.followup.setCurrentIndex(
                len(names) - 1 if self.baseline.currentIndex() != len(names) - 1 else 0
            )
        self.inputs_changed()

    def inputs_changed(self, *_args) -> None:
        """Recompute soon: a layer, the threshold, the method or a tracing changed."""
        self._watch(self._chosen_layers())
        self._pending.start()

    def _edited(self, _event=None) -> None:
        self._pending.start()

    def _chosen_layers(self) -> list:
        names = {self.baseline.currentText(), self.followup.currentText()}
        return [layer for layer in self.viewer.layers if layer.name in names]

    def _watch(self, layers: list) -> None:
        """Listen to the edits (paint, undo/redo redraws, replaced data) of the compared layers."""
        if [id(layer) for layer in layers] == [id(layer) for layer in self._watched]:
            return
        for layer in self._watched:
            for emitter in (layer.events.paint, layer.events.data, layer.events.set_data):
                emitter.disconnect(self._edited)
        self._watched = layers
        for layer in layers:
            for emitter in (layer.events.paint, layer.events.data, layer.events.set_data):
                emitter.connect(self._edited)
        if self._side_by_side:
            self.set_side_by_side(True)

    def release(self) -> None:
        """Stop listening to the layers and leave the viewer's grid as it was."""
        self._pending.stop()
        self._watch([])
        self.set_side_by_side(False)

    def set_side_by_side(self, on: bool) -> None:
        """Baseline and follow-up side by side, each scan under its lesion layer; or one view again."""
        was, self._side_by_side = self._side_by_side, on
        pairs = self._pairs() if on else []
        if not pairs:
            if was:
                self.viewer.canvas.grid.enabled = False
            return
        layers = self.viewer.layers
        # Each grid cell shows `stride` consecutive layers: a scan with its lesions, baseline first.
        order = [layer for layer in layers if not any(layer in pair for pair in pairs)]
        order += [layer for pair in pairs for layer in pair]
        for index, layer in enumerate(order):
            layers.move(layers.index(layer), index)
        for layer in order[: len(order) - 4]:
            layer.visible = False
        for layer in order[len(order) - 4 :]:
            layer.visible = True
        self.viewer.canvas.grid.stride = 2
        self.viewer.canvas.grid.shape = (1, 2)
        self.viewer.canvas.grid.enabled = True

    def _pairs(self) -> list[tuple]:
        """(scan layer, lesion layer) of the follow-up, then of the baseline: napari fills the grid from the top layer."""
        pairs = []
        for box in (self.followup, self.baseline):
            name = box.currentText()
            if name not in self.viewer.layers:
                return []
            lesions = self.viewer.layers[name]
            source = scan_of(lesions).source
            scan = next(
                (
                    layer
                    for layer in self.viewer.layers
                    if is_scan_layer(layer) and scan_of(layer).source == source
                ),
                None,
            )
            if scan is None or scan is lesions:
                return []
            pairs.append((scan, lesions))
        return pairs if pairs[0][1] is not pairs[1][1] else []

    def swap(self) -> None:
        """Exchange baseline and follow-up."""
        baseline, followup = self.baseline.currentText(), self.followup.currentText()
        self.baseline.setCurrentText(followup)
        self.followup.setCurrentText(baseline)

    def _measure(self, name: str, method: str):
        layer = self.viewer.layers[name]
        scan = scan_of(layer)
        measurement = measure(scan, np.asarray(layer.data), method, mask_source=name)
        measurement.warnings += label_side_warnings(measurement)
        return measurement

    def run(self) -> Comparison | None:
        """Compare the chosen layers; show the result, or the reason it cannot be computed."""
        self.result.setRowCount(0)
        self.comparison = None
        if not self.baseline.currentText() or not self.followup.currentText():
            self.message.setText("Open or create two lesion layers: a baseline and a follow-up.")
            return None
        if self.baseline.currentText() == self.followup.currentText():
            self.message.setText("Choose two different lesion layers.")
            return None
        if not {self.baseline.currentText(), self.followup.currentText()} <= {
            layer.name for layer in self.viewer.layers
        }:
            self.refresh_layers()
            self.message.setText("A chosen layer was renamed or removed: choose again.")
            return None
        method = self.method.currentData()
        try:
            comparison = compare(
                self._measure(self.baseline.currentText(), method),
                self._measure(self.followup.currentText(), method),
                self.threshold.value(),
            )
        except OnfhError as exc:
            self.message.setText(f"Cannot compare: {exc}")
            return None
        self.result.setRowCount(len(comparison.hips))
        for row, hip in enumerate(comparison.hips):
            change = hip.change.change_pct
            for column, text in enumerate(
                (
                    hip.side,
                    cm3(hip.change.baseline_cm3),
                    cm3(hip.change.followup_cm3),
                    "–" if change is None else f"{change:+.1f} %",
                    hip.change.category,
                )
            ):
                self.result.setItem(row, column, QTableWidgetItem(text))
        self.message.setText("\n".join(f"⚠ {w}" for w in comparison.warnings))
        self.comparison = comparison
        return comparison
