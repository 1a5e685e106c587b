"""The tracing aids of the Trace box, one class per tool.

A tool is a row of the Trace box with a keyboard shortcut: it has a ``title``, a napari ``key``,
a ``row`` widget and ``run()``. A new tool is its own module with such a class, listed in
:data:`napari_onfh_volume._qt.lesion_widget.TOOLS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from napari.qt.threading import thread_worker
from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from onfh_volume import OnfhError
from onfh_volume.outline_fill import DEFAULT_MAX_GAP_PX, fill_outline, interpolate_between_slices

from ..provenance import FILL_BETWEEN, slice_sources
from ..session import TracingSession
from ..tools import set_pixels
from .focus import no_focus


@dataclass
class ToolContext:
    """What a tool acts on: the session (its lesion layer), the slice on screen, where to report."""

    session: TracingSession
    current_slice: Callable[[], int]
    report: Callable[[str], None]


class FillOutlineTool:
    """Fill the inside of the outline traced on the slice on screen, bridging small gaps."""

    title = "Fill traced outline"
    key = "Shift-F"

    def __init__(self, context: ToolContext) -> None:
        self.context = context
        self.button = no_focus(QPushButton(f"{self.title}  [Shift+F]"))
        self.button.clicked.connect(self.run)
        self.gap = no_focus(QSpinBox())
        self.gap.setRange(0, 20)
        self.gap.setValue(DEFAULT_MAX_GAP_PX)
        self.gap.setSuffix(" px")
        self.gap.setToolTip("Gaps in the traced outline up to this width are bridged before filling")
        self.row = QWidget()
        layout = QHBoxLayout(self.row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(QLabel("bridge gaps ≤"))
        layout.addWidget(self.gap)

    def run(self) -> int:
        """Fill the outline of the active label on the slice on screen; return the pixels filled."""
        layer = self.context.session.lesions
        if layer is None:
            return 0
        k, label = self.context.current_slice(), int(layer.selected_label)
        plane = np.asarray(layer.data[k])
        try:
            inside = fill_outline(
                plane, label, max_gap_px=self.gap.value(), where=f"slice {k} of '{layer.name}'"
            )
        except OnfhError as exc:
            self.context.report(f"⚠ {exc.problem}")
            return 0
        filled = set_pixels(layer, inside, label, k)
        self.context.report(f"Filled {filled} pixels inside the outline on slice {k}.")
        return filled


class FillBetweenTool:
    """Interpolate the active lesion on the untraced slices between traced ones, off the GUI thread."""

    title = "Fill between slices"
    key = "Shift-I"

    def __init__(self, context: ToolContext) -> None:
        self.context = context
        self.button = no_focus(QPushButton(f"{self.title}  [Shift+I]"))
        self.button.clicked.connect(self.run)
        self.row = self.button
        self.worker = None

    def run(self):
        """Start the interpolation in a worker thread; the result is applied as one undoable edit."""
        session = self.context.session
        layer = session.lesions
        if layer is None or self.worker is not None:
            return None
        label = int(layer.selected_label)
        labels = np.array(layer.data)  # a copy: the reader may go on tracing meanwhile
        self.button.setEnabled(False)
        self.context.report("Filling between slices…")
        self.worker = _interpolate(labels, label, f"'{layer.name}'")
        self.worker.returned.connect(lambda pixels: self._apply(layer, label, pixels))
        self.worker.errored.connect(self._failed)
        self.worker.finished.connect(self._done)
        self.worker.start()
        return self.worker

    def _apply(self, layer, label: int, pixels: np.ndarray) -> None:
        if layer is not self.context.session.lesions:
            self.context.report("⚠ The lesion layer changed while filling: nothing was filled.")
            return
        # Pixels traced meanwhile are kept: only what is still background is filled.
        pixels &= np.asarray(layer.data) == 0
        slice_sources(layer).mark(FILL_BETWEEN, label, pixels)  # before the edit: the table shows it
        filled = set_pixels(layer, pixels, label)
        self.context.report(
            f"Filled {filled} pixels of label {label} between traced slices (Ctrl+Z undoes it)."
            if filled
            else "No untraced slice lies between traced ones."
        )

    def _failed(self, exc: Exception) -> None:
        if not isinstance(exc, OnfhError):
            raise exc
        self.context.report(f"⚠ {exc.problem}")

    def _done(self) -> None:
        self.worker = None
        self.button.setEnabled(self.context.session.lesions is not None)


@thread_worker(start_thread=False)
def _interpolate(labels: np.ndarray, label: int, where: str) -> np.ndarray:
    return interpolate_between_slices(labels, label, where=where)
