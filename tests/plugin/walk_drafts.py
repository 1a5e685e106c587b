"""The walk's zero-click rules: Find lesions and Carry baseline to follow-up, clicked on their docks.

A mixin of the reader's state machine (``test_reader_walk.py``), which gives it ``viewer``,
``widget`` (Lesion volume), ``finder`` (Find lesions), ``carrier`` (Carry baseline), ``qtbot``,
``snapshot()`` (every lesion layer's voxels by name) and ``timepoints()``. Every action is a click
on a dock's button or a key press; the search and the carry run in their worker threads, waited for
as a reader waits (the button enabled again).
"""

from __future__ import annotations

import os

import numpy as np
from gui import hover_canvas, key
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication
from zero_click import (
    DETECTED,
    PROPAGATED,
    WORK_TIMEOUT_MS,
    accepted,
    added_slices,
    buttons_starting,
    hips_to_review,
    marked_rows,
)

from napari_onfh_volume._qt.carry_widget import PREVIEW_NAME as CARRY_PREVIEW
from napari_onfh_volume._qt.find_lesions_widget import PREVIEW_NAME as FIND_PREVIEW

DRAFTS = int(os.environ.get("ONFH_WALK_DRAFTS", "1"))
LEFT = Qt.MouseButton.LeftButton
SHIFT, CTRL = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier
LABELS = {"right": 1, "left": 2}


def unchanged(before: dict[str, np.ndarray], now: dict[str, np.ndarray]) -> bool:
    return before.keys() == now.keys() and all(np.array_equal(before[n], now[n]) for n in now)


def choose(qtbot, box, wanted: str) -> None:
    """Pick ``wanted`` in a combo box with the arrow keys, as a reader does."""
    box.setFocus()
    for _ in range(box.count()):
        if box.currentText() == wanted:
            return
        qtbot.keyClick(box, Qt.Key.Key_Down if box.findText(wanted) > box.currentIndex() else Qt.Key.Key_Up)
    assert box.currentText() == wanted, f"{wanted!r} not in the list"


class ZeroClickRules:
    """Rules and checks of the zero-click actions (mixed into the reader's state machine)."""

    drafts = 0
    found_on: str | None = None
    carried_to: str | None = None

    def undo_checked(self, layer, before: np.ndarray, steps: int) -> None:
        """Ctrl+Z ``steps`` times over the canvas: the tracing is exactly ``before`` again."""
        hover_canvas(self.qtbot, self.widget)
        for _ in range(steps):
            key(self.qtbot, Qt.Key.Key_Z, CTRL)
        assert np.array_equal(np.asarray(layer.data), before), "Ctrl+Z did not give back the tracing"

    # --- Find lesions ---------------------------------------------------------------------------

    @precondition(lambda self: self.drafts < DRAFTS and not hips_to_review(self.finder))
    @rule()
    def find_lesions(self) -> None:
        self.drafts += 1
        before = self.snapshot()
        self.found_on = self.widget.session.scan_name
        self.qtbot.mouseClick(self.finder.find_button, LEFT)
        self.qtbot.waitUntil(self.finder.find_button.isEnabled, timeout=WORK_TIMEOUT_MS)
        QApplication.processEvents()
        assert unchanged(before, self.snapshot()), "the Find lesions preview changed a tracing"
        event(f"find lesions: {len(hips_to_review(self.finder))} hips to review")
        if hips_to_review(self.finder):
            preview = self.viewer.layers[FIND_PREVIEW]
            assert preview.translate.tolist() == self.viewer.layers[self.found_on].translate.tolist()
        hover_canvas(self.qtbot, self.widget)

    @precondition(lambda self: hips_to_review(self.finder))
    @rule(data=st.data())
    def review_a_found_hip(self, data) -> None:
        side = data.draw(st.sampled_from(hips_to_review(self.finder)), label="hip")
        take = data.draw(st.booleans(), label="accept")
        label, before = LABELS[side], self.snapshot()
        assert FIND_PREVIEW in self.viewer.layers, f"the {side} hip awaits review with no preview shown"
        preview = np.array(self.viewer.layers[FIND_PREVIEW].data)
        same_scan = self.widget.session.scan_name == self.found_on
        [clicked] = buttons_starting(self.finder, f"{'Accept' if take else 'Reject'} {side}")
        self.qtbot.mouseClick(clicked, LEFT)
        QApplication.processEvents()
        now = self.snapshot()
        event(f"found hip {'accepted' if take else 'rejected'}{'' if same_scan else ' on another scan'}")
        if not (take and same_scan):  # rejected, or the reader is on another scan: nothing lands
            assert unchanged(before, now), (
                f"{'accepted' if take else 'rejected'} {side} hip changed a tracing"
            )
            if not take:
                assert side not in hips_to_review(self.finder)
            return
        layer = self.widget.lesions
        old = before.get(layer.name, np.zeros_like(preview))
        assert np.array_equal(now[layer.name], accepted(old, preview, [label]))
        assert added_slices(old, now[layer.name], label) <= marked_rows(self.widget, label, DETECTED)
        assert side not in hips_to_review(self.finder)
        # Nothing written (every slice of the lesion already traced): no undo step was made, and
        # Ctrl+Z takes back the edit before, as it should.
        written = added_slices(old, now[layer.name], label)
        if written and data.draw(st.booleans(), label="undo at once"):
            self.undo_checked(layer, old, 1)

    # --- Carry baseline to follow-up ------------------------------------------------------------

    @precondition(
        lambda self: (
            self.drafts < DRAFTS
            and len(self.timepoints()) == 2
            and not self.carrier.accept_button.isEnabled()
        )
    )
    @rule(in_compare=st.booleans(), take=st.booleans(), undo=st.booleans())
    def carry_baseline(self, in_compare: bool, take: bool, undo: bool) -> None:
        self.drafts += 1
        [baseline, followup] = sorted(self.timepoints())
        choose(self.qtbot, self.carrier.baseline, f"{baseline} lesions")
        choose(self.qtbot, self.carrier.followup, followup)
        if in_compare:
            hover_canvas(self.qtbot, self.widget)
            key(self.qtbot, Qt.Key.Key_C, SHIFT)
        before, self.carried_to = self.snapshot(), followup
        self.qtbot.mouseClick(self.carrier.carry_button, LEFT)
        self.qtbot.waitUntil(self.carrier.carry_button.isEnabled, timeout=WORK_TIMEOUT_MS)
        QApplication.processEvents()
        assert unchanged(before, self.snapshot()), "the carried preview changed a tracing"
        event(
            f"carried{' in the compare view' if in_compare else ''}: preview {CARRY_PREVIEW in self.viewer.layers}"
        )
        if CARRY_PREVIEW in self.viewer.layers:
            self.check_carry_preview(followup)
            if take:
                self.accept_carried(undo)
        if in_compare:
            hover_canvas(self.qtbot, self.widget)
            key(self.qtbot, Qt.Key.Key_T, SHIFT)

    def check_carry_preview(self, followup: str) -> None:
        """The preview lies on the follow-up, and in the compare view in the follow-up's panel."""
        layers = self.viewer.layers
        preview = layers[CARRY_PREVIEW]
        assert preview.translate.tolist() == layers[followup].translate.tolist()
        grid = self.viewer.canvas.grid
        if grid.enabled:
            assert preview.visible, "the carried preview is not shown side by side"
            assert grid.position(layers.index(preview), layers) == grid.position(
                layers.index(layers[followup]), layers
            ), "the carried preview is drawn in another scan's panel"

    @precondition(lambda self: self.carrier.accept_button.isEnabled())
    @rule(undo=st.booleans())
    def accept_carried(self, undo: bool) -> None:
        before = self.snapshot()
        assert CARRY_PREVIEW in self.viewer.layers, "Accept is offered with no preview shown"
        preview = np.array(self.viewer.layers[CARRY_PREVIEW].data)
        target = f"{self.carried_to} lesions"
        self.qtbot.mouseClick(self.carrier.accept_button, LEFT)
        QApplication.processEvents()
        now = self.snapshot()
        old = before.get(target, np.zeros_like(preview))
        assert np.array_equal(now[target], accepted(old, preview)), "the carried lesions landed elsewhere"
        event(f"carried lesions accepted{' in the compare view' if self.viewer.canvas.grid.enabled else ''}")
        others = [name for name in now if name != target]
        assert unchanged({n: before[n] for n in others}, {n: now[n] for n in others})
        assert self.widget.lesions.name == target, "the follow-up written is not the one traced"
        written = [label for label in (1, 2) if added_slices(old, now[target], label)]
        for label in written:
            assert added_slices(old, now[target], label) <= marked_rows(self.widget, label, PROPAGATED)
        if undo:
            self.undo_checked(self.viewer.layers[target], old, len(written))
