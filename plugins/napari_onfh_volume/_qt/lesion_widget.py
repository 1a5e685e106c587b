"""The "Lesion volume" dock widget: wires the tracing session, its panels and the canvas habits.

The state (which scan, which lesion layer, unsaved edits, autosave, recovery, saving) lives in the
Qt-free :class:`~napari_onfh_volume.session.TracingSession`; this module only connects buttons,
keys and viewer events to it, and disconnects what it connected when it closes.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from napari.layers import Labels
from qtpy.QtCore import QEvent, QTimer
from qtpy.QtWidgets import QGroupBox, QLabel, QMessageBox, QTabWidget, QVBoxLayout, QWidget

from onfh_volume import OnfhError

from ..head import fitted_on
from ..layers import scan_of, t1_window
from ..provenance import slice_note
from ..session import TracingSession
from ..timepoint import captions
from . import file_dialogs
from .compare_panel import ComparePanel
from .dock_scroll import DockScroll
from .fill_tools import FillBetweenTool, FillOutlineTool, ToolContext
from .focus import focus_canvas
from .head_panel import HeadPanel
from .reading_room import ReadingRoom
from .readout_tables import HipWarning, SliceAreaTable, VolumeSummary
from .save_panel import SavePanel
from .scan_panel import ScanPanel, method_note
from .shortcuts import Shortcuts, help_label
from .trace_panel import TracePanel

#: How often a tracing with unsaved edits is written to its recovery file.
AUTOSAVE_SECONDS = 20
#: The tracing aids of the Trace box, in order; a new tool is a module with such a class.
TOOLS = (FillOutlineTool, FillBetweenTool)
#: One widget per viewer: a second one would handle every shortcut twice.
_OPEN: weakref.WeakValueDictionary[int, LesionVolumeWidget] = weakref.WeakValueDictionary()


class LesionVolumeWidget(QWidget):
    """Dock widget: lesion layer, tracing aids, live readout, compare and save.

    Parameters
    ----------
    napari_viewer
        The viewer it is docked in (napari passes it).
    """

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self._docked = False
        self.viewer = napari_viewer
        previous = _OPEN.get(id(napari_viewer))
        if previous is not None:
            previous.close_for(self)
        _OPEN[id(napari_viewer)] = self
        # Through a lambda: a test (or an embedding) may replace ask() on the widget.
        self.session = TracingSession(
            napari_viewer,
            ask=lambda title, question: self.ask(title, question),
            readout_changed=self._readout_changed,
        )
        self.scan_panel = ScanPanel()
        self.trace_panel = TracePanel()
        context = ToolContext(self.session, self.current_slice, self.trace_panel.message.setText)
        self.tools = [tool(context) for tool in TOOLS]
        for tool in self.tools:
            self.trace_panel.add_tool(tool.row)
        self.summary = VolumeSummary()
        self.hip_warning = HipWarning()
        self.slice_table = SliceAreaTable(jump=self.go_to_slice)
        self.compare_panel = ComparePanel(self.viewer)
        self.head_panel = HeadPanel(self.viewer, lambda: fitted_on(self.lesions, self._scan_layer()))
        # Says which timepoint every tool acts on, and what the reader is doing with it.
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold")
        self.save_panel = SavePanel(self.session, self.head_panel)
        self.reading_room = ReadingRoom(self.viewer, self)
        self.shortcuts = Shortcuts(self.viewer)
        self._bind_keys()
        self._lay_out()
        self._connect()
        self._layers_changed()

    # --- construction -------------------------------------------------------------------------

    def _bind_keys(self) -> None:
        bind = self.shortcuts.bind
        bind("Shift-R", "right hip lesion (label 1)", lambda: self.select_label(1))
        bind("Shift-L", "left hip lesion (label 2)", lambda: self.select_label(2))
        for tool in self.tools:
            bind(tool.key, tool.title.lower(), tool.run)
        bind("Shift-O", "open a scan folder…", self._choose_scan_folder)
        bind("Shift-N", "create the lesion layer", self.create_lesion_layer)
        bind("Shift-M", "load a mask…", self._choose_mask)
        bind("Shift-S", "save the tracing…", self._choose_save_path)
        bind("Shift-C", "compare timepoints side by side", self.show_compare)
        bind("Shift-T", "back to tracing", lambda: self.tabs.setCurrentIndex(0))
        bind("Shift-W", "reset the window to the scan's T1 window", self.reset_window)
        bind("Shift-H", "show or hide this help", self.toggle_help)

    def _lay_out(self) -> None:
        readout = QGroupBox("Volume (live)")
        readout_layout = QVBoxLayout(readout)
        readout_layout.addWidget(self.summary)
        readout_layout.addWidget(self.hip_warning)
        readout_layout.addWidget(self.slice_table)
        self.help = QGroupBox("Keyboard and mouse  [Shift+H]")
        QVBoxLayout(self.help).addWidget(help_label(self.shortcuts))
        self.help.hide()

        trace_tab = QWidget()
        trace_layout = QVBoxLayout(trace_tab)
        for box in (self.scan_panel, self.trace_panel, readout, self.head_panel, self.save_panel, self.help):
            trace_layout.addWidget(box)
        compare_tab = QWidget()
        compare_layout = QVBoxLayout(compare_tab)
        compare_layout.addWidget(self.compare_panel)
        compare_layout.addStretch()
        # On a small screen the dock scrolls rather than pushing the window past the screen's edge.
        self.trace_scroll = DockScroll(trace_tab)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.trace_scroll, "Trace and measure")
        self.tabs.addTab(compare_tab, "Compare timepoints")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.tabs)

    def toggle_help(self) -> None:
        """Show or hide the help; shown, it is scrolled into view (it is the dock's last box)."""
        self.help.setVisible(not self.help.isVisible())
        if self.help.isVisible():
            QTimer.singleShot(0, lambda: self.trace_scroll.ensureWidgetVisible(self.help, 0, 0))

    def _connect(self) -> None:
        self.scan_panel.scan_box.currentTextChanged.connect(self._scan_chosen)
        self.scan_panel.open_button.clicked.connect(self._choose_scan_folder)
        self.scan_panel.create_button.clicked.connect(self.create_lesion_layer)
        self.scan_panel.load_button.clicked.connect(self._choose_mask)
        self.trace_panel.label_group.idClicked.connect(self.select_label)
        self.save_panel.save_button.clicked.connect(self._choose_save_path)
        self.tabs.currentChanged.connect(self._tab_changed)
        for box in (self.compare_panel.baseline, self.compare_panel.followup):
            box.currentTextChanged.connect(self._show_title)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start(AUTOSAVE_SECONDS * 1000)
        self._viewer_events = (
            (self.viewer.layers.events.inserted, self._layers_changed),
            (self.viewer.layers.events.removing, self._layer_removing),
            (self.viewer.layers.events.removed, self._layers_changed),
            (self.viewer.dims.events.current_step, self._slice_changed),
        )
        for emitter, callback in self._viewer_events:
            emitter.connect(callback)
        self.session.timepoint.follow(self._timepoint_chosen)

    def close_for(self, _newer: QWidget) -> None:
        """Step aside for a newer widget on the same viewer: release the viewer, close the dock."""
        self.release()
        dock = self.parentWidget()
        (dock if dock is not None else self).close()

    def release(self) -> None:
        """Disconnect everything this widget connected on the viewer (idempotent)."""
        if not self.shortcuts.bound and not self._viewer_events:
            return
        self.autosave_timer.stop()
        self.autosave()
        for emitter, callback in self._viewer_events:
            emitter.disconnect(callback)
        for layer in self.viewer.layers:
            layer.events.name.disconnect(self._layers_changed)
        self._viewer_events = ()
        self.session.timepoint.unfollow(self._timepoint_chosen)
        self._follow_label(None)
        self.session.detach()
        self.compare_panel.release()
        captions(self.viewer, [])
        self.shortcuts.unbind()
        self.reading_room.close()

    def closeEvent(self, event) -> None:
        self.release()
        super().closeEvent(event)

    def event(self, event: QEvent) -> bool:
        # napari removes a dock by taking its widget out of it (no close): that is the end too.
        if event.type() == QEvent.Type.ParentChange:
            if self.parentWidget() is None and self._docked:
                self.release()
            self._docked = self.parentWidget() is not None
        return super().event(event)

    # --- scans and lesion layers ----------------------------------------------------------------

    @property
    def lesions(self) -> Labels | None:
        return self.session.lesions

    @property
    def readout(self):
        return self.session.readout

    def scan(self):
        return self.session.scan()

    def _layer_removing(self, event) -> None:
        if self.lesions is not None and self.viewer.layers[event.index] is self.lesions:
            self.autosave()  # a deleted tracing can still be recovered

    def _layers_changed(self, _event=None) -> None:
        for layer in self.viewer.layers:
            # Layers are chosen by name: a rename must reach the lists.
            layer.events.name.connect(self._layers_changed)
        messages = self.session.refresh(offer=getattr(_event, "type", "inserted") == "inserted")
        self.scan_panel.show_scans(self.session.scan_names(), self.session.scan_name)
        self._attached()
        self.compare_panel.refresh_layers()
        if messages:
            self.trace_panel.message.setText("\n".join(messages))

    def _scan_chosen(self, name: str) -> None:
        self.session.choose_scan(name or None)
        self._attached()
        self.trace_panel.message.setText("")  # a message about another scan is stale

    def _timepoint_chosen(self) -> None:
        """Another dock chose the scan traced (Carry's Accept): follow it, and list it as chosen."""
        self.session.attach()
        self.scan_panel.show_scans(self.session.scan_names(), self.session.scan_name)
        self._attached()

    def _attached(self) -> None:
        """Show the active scan and follow its lesion layer's label."""
        scan = self.session.scan()
        self._show_title()
        self.scan_panel.show_scan(scan, self.lesions is not None)
        self.summary.setToolTip(method_note(scan))
        self.reading_room.show_orientation(scan)
        self._follow_label(self.lesions)
        enabled = self.lesions is not None
        self.trace_panel.set_enabled(enabled)
        for tool in self.tools:
            tool.button.setEnabled(enabled)
        self.save_panel.save_button.setEnabled(enabled)

    def _follow_label(self, layer: Labels | None) -> None:
        followed = getattr(self, "_followed", None)
        if followed is not None:
            followed.events.selected_label.disconnect(self._label_changed)
        self._followed = layer
        if layer is not None:
            layer.events.selected_label.connect(self._label_changed)
            self._label_changed()

    def create_lesion_layer(self) -> Labels | None:
        """Add an empty lesion layer on the chosen scan's grid, right hip lesion active."""
        layer = self.session.create_lesion_layer()
        self._attached()
        return layer

    def load_mask_file(self, path: str | Path) -> Labels | None:
        """Open a saved mask on the chosen scan, to go on tracing (replacing no tracing)."""
        try:
            layer = self.session.load_mask(path)
        except OnfhError as exc:
            self.trace_panel.message.setText(f"⚠ {exc}")
            return None
        self._attached()
        self.trace_panel.message.setText(f"Loaded {path}")
        return layer

    def _choose_scan_folder(self) -> None:
        if folder := file_dialogs.scan_folder(self, self.scan()):
            self.viewer.open(folder, plugin="onfh-volume")

    def _choose_mask(self) -> None:
        scan = self.scan()
        if scan is not None and (path := file_dialogs.mask_file(self, scan)):
            self.load_mask_file(path)

    # --- tracing ----------------------------------------------------------------------------------

    def select_label(self, label: int) -> None:
        """Make ``label`` the one the brush, polygon and fill draw with."""
        if self.lesions is not None:
            self.lesions.selected_label = label
        focus_canvas(self)

    def _label_changed(self, _event=None) -> None:
        self.trace_panel.show_label(None if self.lesions is None else int(self.lesions.selected_label))

    def current_slice(self) -> int:
        """Index of the slice on screen in the lesion layer (or the chosen scan)."""
        layer = self.lesions or self._scan_layer()
        if layer is None:
            return int(self.viewer.dims.current_step[0])
        return round(layer.world_to_data(self.viewer.dims.point)[0])

    def go_to_slice(self, index: int) -> None:
        """Show slice ``index`` of the lesion layer; the keyboard goes back to the canvas."""
        layer = self.lesions or self._scan_layer()
        if layer is not None:
            self.viewer.dims.set_point(0, layer.data_to_world((index, 0, 0))[0])
        focus_canvas(self)

    def _scan_layer(self):
        return self.session.timepoint.scan_layer()

    def fill_outline(self) -> int:
        return self.tools[0].run()

    def fill_between(self):
        return self.tools[1].run()

    def reset_window(self) -> None:
        """The scan's T1 window again, after right-drags."""
        layer = self.reading_room.scan_layer()
        if layer is not None:
            layer.contrast_limits = t1_window(layer.data)
            self.reading_room.show_window()

    # --- readout ------------------------------------------------------------------------------

    def _readout_changed(self, slices: set[int] | None) -> None:
        # A tool's message is about the tracing as it was: after any edit (an undo too) it is stale.
        self.trace_panel.message.setText("")
        lesions = [] if self.session.readout is None else self.session.readout.lesions()
        self.summary.show_lesions(lesions)
        self.hip_warning.show_misplaced([] if self.readout is None else self.readout.hips.misplaced())
        self.slice_table.show_lesions(lesions, slices, self.session.aided_slices())
        self._slice_changed()
        self.compare_panel.inputs_changed()

    def _slice_changed(self, _event=None) -> None:
        if self.lesions is None:
            self.reading_room.set_note("")
            return
        k = self.current_slice()
        self.slice_table.set_current(k)
        notes = (slice_note(k, self.session.aided_slices()), self.readout.hips.note(k))
        self.reading_room.set_note("\n".join(note for note in notes if note))

    # --- compare ------------------------------------------------------------------------------

    def _tab_changed(self, index: int) -> None:
        self.compare_panel.refresh_layers()
        self.compare_panel.set_side_by_side(index == 1)
        if index == 0:
            self.session.timepoint.show()  # back to tracing: the traced scan on top, its tracing selected
        self._show_title()
        focus_canvas(self)

    def _show_title(self, *_args) -> None:
        comparing = self.tabs.currentIndex() == 1
        self.title.setText(
            self.compare_panel.title() if comparing else self.session.timepoint.title("tracing")
        )

    def show_compare(self) -> None:
        """The Compare tab, baseline and follow-up side by side."""
        self.tabs.setCurrentIndex(1)

    # --- saving and recovery ------------------------------------------------------------------

    def ask(self, title: str, question: str) -> bool:
        """Ask the reader a yes/no question."""
        answer = QMessageBox.question(self, title, question)
        return answer == QMessageBox.StandardButton.Yes

    def save_to(self, path: str | Path):
        """Save the tracing (see :meth:`SavePanel.save_to`); the paths written, or None."""
        return self.save_panel.save_to(path)

    def _choose_save_path(self) -> None:
        scan = scan_of(self.lesions) if self.lesions is not None else None
        if scan is not None and (path := file_dialogs.save_path(self, scan)):
            self.save_to(path)

    def autosave(self) -> Path | None:
        """Write the tracing to its recovery file when it changed since the last save or autosave."""
        try:
            path = self.session.autosave()
        except (OnfhError, OSError) as exc:
            self.save_panel.message.setText(f"⚠ Autosave failed: {exc}")
            return None
        if path is not None:
            self.save_panel.message.setText(f"Autosaved to {path}")
        return path
