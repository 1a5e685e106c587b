"""A reader's random walk through the plugin (issue 18): what the reader sees is what is measured.

A hypothesis state machine drives one shown napari window with real Qt key and mouse events: open
the follow-up beside the baseline, switch scans, compare and back, brush strokes, right-drags,
wheel turns, a Band fill click and Accept, Find lesions (each hip accepted or rejected, at once or
steps later), Carry baseline to follow-up (from the compare view or the tracing view, accepted at
once or steps later), undo, save. After every step it checks:

1. only the active lesion layer's voxels changed, and it is the visible one on top (its scan too);
2. the readout the dock shows equals the core's ``measure`` on that layer's data;
3. a saved mask, measured again by the core, gives exactly the volumes the readout showed;
4. no other lesion layer changed (checked by 1 over every lesion layer);
5. a Find lesions or Carry preview changes no lesion layer; a rejected hip leaves nothing; a preview
   accepted after the reader chose another scan never lands on that scan's tracing; an accepted
   one writes exactly the previewed voxels on background of slices not traced with that label,
   its slices are marked "(detected)" (Find lesions) or "(propagated)" (Carry) in the readout, and
   each mark's slices in the saved record are the readout's, and Ctrl+Z (once a
   hip) gives back exactly the tracing before it.

The normal suite walks ``ONFH_WALK_RUNS`` (default 3) runs of ``ONFH_WALK_STEPS`` (default 15)
steps, derandomized, in under two minutes under Xvfb (which draws the canvas in software, about a
second a step), with at most ``ONFH_WALK_DRAFTS`` (default 1) searches or carries a run (each is
seconds of real work off the GUI thread); a longer search is the same test with more runs and
fresh random walks::

    ONFH_WALK_RUNS=300 ONFH_WALK_DRAFTS=3 ONFH_WALK_RANDOM=1 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        env QT_QPA_PLATFORM=xcb .venv/bin/pytest -q tests/plugin/test_reader_walk.py
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from gui import drag, hover_canvas, key, main_window, wheel
from helpers import click_voxel, copy_sample
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from qtpy.QtCore import QPoint, Qt
from qtpy.QtWidgets import QApplication
from walk_drafts import ZeroClickRules
from zero_click import FIELDS, marked_rows, saved_marks

from napari_onfh_volume.layers import is_lesion_layer, is_scan_layer, scan_of
from onfh_volume import load_mask, load_scan, measure

RUNS = int(os.environ.get("ONFH_WALK_RUNS", "3"))
STEPS = int(os.environ.get("ONFH_WALK_STEPS", "15"))
SHIFT, CTRL = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier


def core_readout(layer) -> list[tuple[str, str]]:
    """Volume and Cavalieri volume of each lesion of ``layer`` as the core measures them, as the dock prints them."""
    measured = measure(scan_of(layer), np.asarray(layer.data), "thickness")
    return [(f"{m.volume_thickness_cm3:.3f}", f"{m.volume_cavalieri_cm3:.3f}") for m in measured.lesions]


def shown_readout(widget) -> list[tuple[str, str]]:
    """What the dock's volume table shows, for the lesions with traced slices."""
    table = widget.summary
    return [
        (table.item(row, 1).text(), table.item(row, 2).text())
        for row in range(table.rowCount())
        if table.item(row, 3).text() != "0"
    ]


def test_a_reader_s_random_walk_keeps_the_readout_the_truth(
    make_napari_viewer, qtbot, tmp_path: Path
) -> None:
    viewer = make_napari_viewer(show=True)
    viewer.window.resize(1000, 700)  # Xvfb draws in software: a smaller canvas walks faster
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    _dock, band = viewer.window.add_plugin_dock_widget("onfh-volume", "Band fill")
    _dock, finder = viewer.window.add_plugin_dock_widget("onfh-volume", "Find lesions")
    _dock, carrier = viewer.window.add_plugin_dock_widget("onfh-volume", "Carry baseline to follow-up")
    # Recovery files of an earlier run are declined; any other question (none expected) is a yes.
    widget.ask = lambda title, _question: title != "Recover tracing?"
    widget.save_panel.reader.setText("AB")
    copies = {timepoint: copy_sample(tmp_path, "sub-01", timepoint) for timepoint in ("baseline", "followup")}
    lesion_centres = {
        timepoint: {
            label: tuple(int(v) for v in np.median(np.argwhere(labels == label), axis=0)) for label in (1, 2)
        }
        for timepoint, (folder, mask) in copies.items()
        for labels in [load_mask(mask, load_scan(folder, pixels=False))]
    }
    saves = iter(range(10**6))

    def open_timepoint(timepoint: str) -> None:
        folder, mask = copies[timepoint]
        viewer.open(str(folder), plugin="onfh-volume")
        widget.load_mask_file(mask)

    class Reader(ZeroClickRules, RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.viewer, self.widget, self.qtbot = viewer, widget, qtbot
            self.finder, self.carrier = finder, carrier
            widget.tabs.setCurrentIndex(0)
            viewer.layers.clear()
            open_timepoint("baseline")
            main_window(widget).activateWindow()
            qtbot.waitUntil(lambda: QApplication.activeWindow() is not None, timeout=5000)
            self.target = hover_canvas(qtbot, widget)
            self.before = self.snapshot()

        def snapshot(self) -> dict[str, np.ndarray]:
            return {layer.name: np.array(layer.data) for layer in viewer.layers if is_lesion_layer(layer)}

        def timepoints(self) -> list[str]:
            return [layer.name for layer in viewer.layers if is_scan_layer(layer)]

        @precondition(lambda self: len(self.timepoints()) == 1)
        @rule(traced=st.booleans())
        def open_the_follow_up(self, traced: bool) -> None:
            if traced:
                open_timepoint("followup")
                hover_canvas(qtbot, widget)
            else:  # not traced yet: an empty tracing, which a carry or a search fills entirely
                viewer.open(str(copies["followup"][0]), plugin="onfh-volume")
                hover_canvas(qtbot, widget)
                key(qtbot, Qt.Key.Key_N, SHIFT)

        @precondition(lambda self: len(self.timepoints()) == 2)
        @rule()
        def switch_scans(self) -> None:
            box = widget.scan_panel.scan_box
            box.setFocus()
            qtbot.keyClick(box, Qt.Key.Key_Down if box.currentIndex() == 0 else Qt.Key.Key_Up)
            hover_canvas(qtbot, widget)

        @precondition(lambda self: len(self.timepoints()) == 2)
        @rule()
        def compare_and_back(self) -> None:
            key(qtbot, Qt.Key.Key_C, SHIFT)
            assert viewer.canvas.grid.enabled
            key(qtbot, Qt.Key.Key_T, SHIFT)

        @rule(
            x=st.integers(-120, 120),
            y=st.integers(-100, 100),
            dx=st.integers(-40, 40),
            dy=st.integers(-40, 40),
            hip=st.sampled_from([Qt.Key.Key_R, Qt.Key.Key_L]),
        )
        def brush_stroke(self, x: int, y: int, dx: int, dy: int, hip: Qt.Key) -> None:
            key(qtbot, hip, SHIFT)  # right or left hip lesion
            key(qtbot, "2")  # napari's brush
            drag(self.target, dx, dy, Qt.MouseButton.LeftButton, at=QPoint(x, y))

        @rule(dx=st.integers(-80, 80), dy=st.integers(-80, 80))
        def right_drag(self, dx: int, dy: int) -> None:
            drag(self.target, dx, dy, Qt.MouseButton.RightButton)

        @rule(notches=st.sampled_from([-2, -1, 1, 2]))
        def turn_the_wheel(self, notches: int) -> None:
            wheel(self.target, notches)

        @rule(label=st.sampled_from([1, 2]))
        def band_fill_and_accept(self, label: int) -> None:
            scan = viewer.layers[widget.session.scan_name]
            timepoint = "followup" if "followup" in scan.name else "baseline"
            qtbot.mouseClick(band.arm_button, Qt.MouseButton.LeftButton)
            band.status.setText("")
            click_voxel(viewer, scan, lesion_centres[timepoint][label])
            qtbot.waitUntil(
                lambda: band.proposal is not None or "Not traced" in band.status.text(), timeout=60_000
            )
            if band.proposal is not None:
                qtbot.mouseClick(band.accept_button, Qt.MouseButton.LeftButton)
            qtbot.mouseClick(band.arm_button, Qt.MouseButton.LeftButton)  # disarmed: the brush again
            hover_canvas(qtbot, widget)

        @rule()
        def undo(self) -> None:
            key(qtbot, Qt.Key.Key_Z, CTRL)

        @rule()
        def save(self) -> None:
            shown = shown_readout(widget)
            paths = widget.save_to(tmp_path / "saved" / f"tracing-{next(saves)}.nii.gz")
            assert paths is not None, widget.save_panel.message.text()
            scan = scan_of(widget.lesions)
            saved = measure(scan, load_mask(paths.mask, scan), "thickness")
            assert [
                (f"{m.volume_thickness_cm3:.3f}", f"{m.volume_cavalieri_cm3:.3f}") for m in saved.lesions
            ] == shown
            for mark in FIELDS:
                saved_slices = saved_marks(paths.json, mark)
                shown_marks = {label: marked_rows(widget, label, mark) for label in saved_slices}
                assert shown_marks == saved_slices, f"the saved record's {mark} slices are not the readout's"

        @invariant()
        def only_the_traced_timepoint_on_screen_changes_and_the_readout_is_the_core_s(self) -> None:
            QApplication.processEvents()
            now = self.snapshot()
            changed = [
                name for name, data in now.items() if not np.array_equal(data, self.before.get(name, data))
            ]
            active = widget.lesions
            if changed:
                assert changed == [active.name]
            if active is not None:
                assert not viewer.canvas.grid.enabled
                lesions_on_top = [
                    layer for layer in viewer.layers if is_lesion_layer(layer) and layer.visible
                ]
                scans_on_top = [layer for layer in viewer.layers if is_scan_layer(layer) and layer.visible]
                assert lesions_on_top[-1].name == active.name
                assert scans_on_top[-1].name == widget.session.scan_name
                assert viewer.layers.index(scans_on_top[-1]) < viewer.layers.index(lesions_on_top[-1])
                selected = viewer.layers.selection.active
                assert selected is not None and selected.name == active.name, "the brush paints elsewhere"
                assert shown_readout(widget) == core_readout(active)
            self.before = now

    random_seeds = os.environ.get("ONFH_WALK_RANDOM") == "1"
    run_state_machine_as_test(
        Reader,
        settings=settings(
            max_examples=RUNS,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=not random_seeds,
            database=None,
            phases=(Phase.explicit, Phase.generate),  # shrinking a GUI walk takes long: the steps print
            suppress_health_check=list(HealthCheck),
        ),
    )
