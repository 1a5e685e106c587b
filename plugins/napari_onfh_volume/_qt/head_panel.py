"""The "Femoral head" box: fit each lesion's head, show its outline and measures, take the reader's points."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from qtpy.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from onfh_volume import OnfhError
from onfh_volume.head import LesionInHead
from onfh_volume.scan import Scan
from onfh_volume.vocabulary import SIDES
from onfh_volume.volume import Measurement

from ..head import (
    HEAD_POINTS,
    HEADS,
    clicked_points,
    head_points_layer,
    layer_of,
    measure_heads,
    outline_layer,
    readout_lines,
)
from ..timepoint import selection_kept

Source = Callable[[], tuple[Scan, np.ndarray] | None]
"""Gives the chosen scan (with its pixels) and its lesion labels, or None when there are none."""
HeadInputs = tuple[Scan, np.ndarray, dict[str, np.ndarray]]


def fit_heads(inputs: HeadInputs) -> Measurement | OnfhError:
    """Each lesion measured in its femoral head, or why not (no Qt, no viewer: runs in any thread)."""
    try:
        return measure_heads(*inputs)
    except OnfhError as exc:
        return exc


class HeadPanel(QGroupBox):
    """Fit the femoral heads around the traced lesions; the reader may click head surface points instead."""

    def __init__(self, viewer, source: Source) -> None:
        super().__init__("Femoral head")
        self.viewer = viewer
        self.source = source
        self.fit_button = QPushButton("Fit femoral heads")
        self.fit_button.setToolTip(
            "Find each lesion's femoral head (the sphere of its outer bone surface) and measure the "
            "necrotic ratio, Steinberg extent and modified Kerboul angle"
        )
        self.fit_button.clicked.connect(self.fit)
        self.point_buttons = {side: QPushButton(f"Click {side} head points") for side in SIDES}
        for side, button in self.point_buttons.items():
            button.setToolTip(
                f"Click points on the {side} head's outer surface on two slices or more (at least 5): the "
                "head is then the sphere through them"
            )
            button.clicked.connect(lambda _checked=False, side=side: self.click_points(side))
        self.result = QLabel("Trace a lesion, then fit its femoral head.")
        self.result.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fit_button)
        clicks = QHBoxLayout()
        for button in self.point_buttons.values():
            clicks.addWidget(button)
        layout.addLayout(clicks)
        layout.addWidget(self.result)

    def inputs(self) -> HeadInputs | None:
        """What the heads are fitted on: the scan with its pixels, the lesion labels, the reader's points."""
        chosen = self.source()
        if chosen is None:
            return None
        scan, labels = chosen
        return scan, labels, clicked_points(scan, self.viewer.layers)

    def fit(self) -> dict[int, LesionInHead] | None:
        """Fit the heads, draw their outlines (replacing earlier ones) and show the measures."""
        inputs = self.inputs()
        return self.show(inputs[0], fit_heads(inputs)) if inputs is not None else self.show(None, None)

    def show(
        self, scan: Scan | None, fitted: Measurement | OnfhError | None
    ) -> dict[int, LesionInHead] | None:
        """Draw the outlines of ``fitted`` on ``scan`` (replacing earlier ones) and show the measures."""
        if scan is None or fitted is None:
            self.result.setText("No lesion layer on the chosen scan.")
            return None
        if isinstance(fitted, OnfhError):
            self.result.setText(f"⚠ {fitted.problem}")
            return None
        old = layer_of(self.viewer.layers, scan, HEADS)
        data, kwargs, _ = outline_layer(scan, fitted)
        with selection_kept(self.viewer):  # the outlines are to look at: the tools stay on the tracing
            if old is not None:
                self.viewer.layers.remove(old)
            if len(data):
                self.viewer.add_shapes(data, **kwargs)
        lines = readout_lines(fitted) or ["No lesion traced yet."]
        self.result.setText("\n".join(lines))
        return fitted.heads

    def click_points(self, side: str) -> None:
        """Select (or create) the ``side`` head's points layer, ready for clicks."""
        chosen = self.source()
        if chosen is None:
            return
        scan, _ = chosen
        layer = layer_of(self.viewer.layers, scan, HEAD_POINTS, side)
        if layer is None:
            data, kwargs, _ = head_points_layer(scan, side)
            layer = self.viewer.add_points(data, **kwargs)
        self.viewer.layers.selection.active = layer
        layer.mode = "add"
