"""Compare two timepoints in napari: which lesion layers, side by side on the canvas, measured hip by hip.

Qt-free model of the Compare tab (the panel in ``_qt`` only wires its boxes and timer to it).
Side by side, the baseline is on the left and the follow-up on the right, each scan under its own
tracing and named by a caption, in napari's grid: one camera (zoom and pan linked) and one slider
in patient millimetres (both show the same slice position).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from onfh_volume import compare, measure
from onfh_volume.change import Comparison
from onfh_volume.record import label_side_warnings
from onfh_volume.volume import Measurement

from .layers import PREVIEW_SHOWN_KEY, is_lesion_layer, is_scan_layer, preview_over, scan_of
from .timepoint import captions, set_visible

Pair = tuple[Any, Any]
"""A scan layer and the lesion layer traced on it."""


def lesion_names(viewer: Any) -> list[str]:
    """Names of the lesion layers, in the viewer's order."""
    return [layer.name for layer in viewer.layers if is_lesion_layer(layer)]


def choose_pair(names: list[str], baseline: str, followup: str) -> tuple[str, str]:
    """The baseline and follow-up to compare: the reader's choice while it stands, else by name, else by order.

    Examples
    --------
    >>> choose_pair(["a lesions", "b lesions"], "", "")
    ('a lesions', 'b lesions')
    >>> choose_pair(["sub-01 followup lesions", "sub-01 baseline lesions"], "", "")
    ('sub-01 baseline lesions', 'sub-01 followup lesions')
    >>> choose_pair(["a", "b", "c"], "a", "a")  # a layer opened since: most often the follow-up
    ('a', 'c')
    """
    if not names:
        return "", ""
    chosen = []
    for current, word, default in ((baseline, "baseline", 0), (followup, "follow", len(names) - 1)):
        named = [name for name in names if word in name.lower()]
        chosen.append(current if current in names else named[0] if named else names[default])
    baseline, followup = chosen
    if len(names) > 1 and baseline == followup:
        followup = names[-1] if baseline != names[-1] else names[0]
    return baseline, followup


def problem(viewer: Any, baseline: str, followup: str) -> str | None:
    """Why the two chosen layers cannot be compared (None: they can)."""
    if not baseline or not followup:
        return "Open or create two lesion layers: a baseline and a follow-up."
    if baseline == followup:
        return "Choose two different lesion layers."
    if not {baseline, followup} <= {layer.name for layer in viewer.layers}:
        return "A chosen layer was renamed or removed: choose again."
    return None


def measure_layer(layer: Any, method: str) -> Measurement:
    """The core's measurement of a lesion layer on its scan, with the label-side warnings."""
    measurement = measure(scan_of(layer), np.asarray(layer.data), method, mask_source=layer.name)
    measurement.warnings += label_side_warnings(measurement)
    return measurement


def compare_layers(
    viewer: Any, baseline: str, followup: str, threshold_pct: float, method: str
) -> Comparison:
    """Per-hip change between the lesion layers named ``baseline`` and ``followup``.

    Raises
    ------
    OnfhError
        When the two tracings cannot be compared (see :func:`onfh_volume.compare`).
    """
    layers = viewer.layers
    return compare(
        measure_layer(layers[baseline], method), measure_layer(layers[followup], method), threshold_pct
    )


def pairs(viewer: Any, baseline: str, followup: str) -> list[Pair]:
    """(scan layer, lesion layer) of the baseline, then of the follow-up; [] unless both are open.

    A preview of proposed lesions open over a scan (Carry baseline's, on the follow-up) takes the
    place of that scan's lesion layer, the latest shown when there are several (Find lesions' left
    open, then Carry's): napari's grid gives each panel two layers, and a third would be drawn in
    the other scan's panel.
    """
    found = []
    for name in (baseline, followup):
        if name not in viewer.layers:
            return []
        lesions = viewer.layers[name]
        source = scan_of(lesions).source
        scan = next(
            (layer for layer in viewer.layers if is_scan_layer(layer) and scan_of(layer).source == source),
            None,
        )
        if scan is None:
            return []
        previews = [layer for layer in viewer.layers if preview_over(layer) == source]
        latest = max(previews, key=lambda layer: layer.metadata[PREVIEW_SHOWN_KEY], default=lesions)
        found.append((scan, latest))
    return found if found[0][1] != found[1][1] else []


class SideBySide:
    """Baseline left, follow-up right on ``viewer``'s canvas, each captioned; undone by :meth:`end`."""

    def __init__(self, viewer: Any) -> None:
        self.viewer = viewer
        self.shown: list[Pair] = []
        self._hidden: list = []

    def show(self, shown: list[Pair], refit: bool = False) -> None:
        """Lay out ``shown`` (baseline pair first) in two panels; ``refit``: fit the view to them."""
        if not shown:
            self.end()
            return
        layers = self.viewer.layers
        ours = [layer for pair in shown for layer in pair]
        # napari's grid puts layers 0-1 (from the bottom) in the left panel, 2-3 in the right one;
        # every other layer goes above them, hidden, so it fills no panel of its own.
        for index, layer in enumerate(ours):
            layers.move(layers.index(layer), index)
        for layer in layers:
            visible = any(layer == mine for mine in ours)  # ==: a dock's viewer hands out proxies
            if layer.visible and not visible:
                self._hidden.append(layer)
            set_visible(layer, visible)
        grid = self.viewer.canvas.grid
        grid.stride, grid.shape, grid.enabled = 2, (1, 2), True
        captions(self.viewer, [lesions for _scan, lesions in shown])
        self.shown = shown
        if refit:
            self.viewer.reset_view()

    def end(self) -> None:
        """One view again, with the layers hidden for the comparison shown as they were."""
        if not self.shown:
            return
        self.viewer.canvas.grid.enabled = False
        for layer in self._hidden:
            if layer in self.viewer.layers:
                set_visible(layer, True)
        self._hidden, self.shown = [], []
        captions(self.viewer, [])
        self.viewer.reset_view()
