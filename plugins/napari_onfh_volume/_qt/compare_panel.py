"""Compare a baseline and a follow-up tracing: per-hip volumes, relative change and 15% category."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
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

from ..layers import is_lesion_layer, scan_of
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
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self.run)
        self.swap_button = QPushButton("Swap baseline and follow-up")
        self.swap_button.clicked.connect(self.swap)
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
        layout.addWidget(self.compare_button)
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
