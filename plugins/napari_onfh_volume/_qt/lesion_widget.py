"""The "Lesion volume" dock widget: trace lesions on a scan, read their volume live, compare, save."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from napari.layers import Labels
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from onfh_volume import OnfhError, load_mask
from onfh_volume.record import RecordPaths, save_record
from onfh_volume.scan import Scan
from onfh_volume.tracing import DEFAULT_MAX_GAP_PX
from onfh_volume.vocabulary import LABEL_NAMES, RIGHT_LABEL

from .. import recovery
from ..layers import (
    LABEL_COLOURS,
    SCAN_KEY,
    is_lesion_layer,
    is_scan_layer,
    lesion_layer,
    scan_name,
    scan_of,
)
from ..readout import LiveReadout
from ..tools import fill_between_slices, fill_traced_outline
from .compare_panel import ComparePanel
from .readout_tables import SliceAreaTable, VolumeSummary

#: How often a tracing with unsaved edits is written to its recovery file.
AUTOSAVE_SECONDS = 20
WARNING_STYLE = "color: #ffb000"


def _label_button(label: int) -> QPushButton:
    colour = LABEL_COLOURS[label]
    button = QPushButton(f"{label}  {LABEL_NAMES[label].capitalize()}")
    button.setCheckable(True)
    # The active lesion is filled with its colour, the other only outlined: obvious at a glance.
    button.setStyleSheet(
        f"QPushButton {{ border: 2px solid {colour}; padding: 6px; border-radius: 4px; }}"
        f"QPushButton:checked {{ background-color: {colour}; color: black; font-weight: bold; }}"
    )
    return button


class LesionVolumeWidget(QWidget):
    """Dock widget: lesion layer, tracing aids, live readout, compare and save.

    Parameters
    ----------
    napari_viewer
        The viewer it is docked in (napari passes it).
    """

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.lesions: Labels | None = None
        self.readout: LiveReadout | None = None
        self._autosaved_edits = 0
        self._offered: set[str] = set()

        self.scan_box = QComboBox()
        self.scan_box.currentTextChanged.connect(lambda _name: self._attach())
        self.geometry = QLabel()
        self.geometry.setWordWrap(True)
        self.scan_warnings = QLabel()
        self.scan_warnings.setWordWrap(True)
        self.scan_warnings.setStyleSheet(WARNING_STYLE)
        self.create_button = QPushButton("Create lesion layer")
        self.create_button.clicked.connect(self.create_lesion_layer)
        self.load_button = QPushButton("Load mask…")
        self.load_button.clicked.connect(self._choose_mask)

        self.label_group = QButtonGroup(self)
        self.label_buttons = {label: _label_button(label) for label in LABEL_NAMES}
        for label, button in self.label_buttons.items():
            self.label_group.addButton(button, label)
        self.label_group.idClicked.connect(self.select_label)

        self.fill_button = QPushButton("Fill traced outline  [Shift+F]")
        self.fill_button.clicked.connect(self.fill_outline)
        self.gap = QSpinBox()
        self.gap.setRange(0, 20)
        self.gap.setValue(DEFAULT_MAX_GAP_PX)
        self.gap.setSuffix(" px")
        self.gap.setToolTip("Gaps in the traced outline up to this width are bridged before filling")
        self.interpolate_button = QPushButton("Fill between slices  [Shift+I]")
        self.interpolate_button.clicked.connect(self.fill_between)
        self.tool_message = QLabel()
        self.tool_message.setWordWrap(True)

        self.summary = VolumeSummary()
        self.method_note = QLabel()
        self.method_note.setWordWrap(True)
        self.slice_table = SliceAreaTable(jump=self.go_to_slice)

        self.compare_panel = ComparePanel(self.viewer)

        self.reader = QLineEdit()
        self.reader.setPlaceholderText("your name or initials (saved with the measurement)")
        self.save_button = QPushButton("Save tracing…")
        self.save_button.clicked.connect(self._choose_save_path)
        self.save_message = QLabel()
        self.save_message.setWordWrap(True)

        self._lay_out()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start(AUTOSAVE_SECONDS * 1000)

        self.viewer.layers.events.inserted.connect(self._layers_changed)
        self.viewer.layers.events.removing.connect(self._layer_removing)
        self.viewer.layers.events.removed.connect(self._layers_changed)
        self.viewer.dims.events.current_step.connect(self._slice_changed)
        self._layers_changed()

    def _lay_out(self) -> None:
        scan_box = QGroupBox("Scan")
        form = QFormLayout(scan_box)
        form.addRow("Scan layer", self.scan_box)
        form.addRow(self.geometry)
        form.addRow(self.scan_warnings)
        buttons = QHBoxLayout()
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.load_button)
        form.addRow(buttons)

        tracing = QGroupBox("Trace")
        tracing_layout = QVBoxLayout(tracing)
        hint = QLabel("Brush, polygon, fill and eraser: the layer controls. Ctrl+Z undoes any edit.")
        hint.setWordWrap(True)
        tracing_layout.addWidget(hint)
        labels = QHBoxLayout()
        for button in self.label_buttons.values():
            labels.addWidget(button)
        tracing_layout.addLayout(labels)
        fill = QHBoxLayout()
        fill.addWidget(self.fill_button)
        fill.addWidget(QLabel("bridge gaps ≤"))
        fill.addWidget(self.gap)
        tracing_layout.addLayout(fill)
        tracing_layout.addWidget(self.interpolate_button)
        tracing_layout.addWidget(self.tool_message)

        readout = QGroupBox("Volume (live)")
        readout_layout = QVBoxLayout(readout)
        readout_layout.addWidget(self.summary)
        readout_layout.addWidget(self.method_note)
        readout_layout.addWidget(self.slice_table)

        save = QGroupBox("Save")
        save_layout = QFormLayout(save)
        save_layout.addRow("Reader", self.reader)
        save_layout.addRow(self.save_button)
        save_layout.addRow(self.save_message)

        trace_tab = QWidget()
        trace_layout = QVBoxLayout(trace_tab)
        for box in (scan_box, tracing, readout, save):
            trace_layout.addWidget(box)
        compare_tab = QWidget()
        compare_layout = QVBoxLayout(compare_tab)
        compare_layout.addWidget(self.compare_panel)
        compare_layout.addStretch()
        self.tabs = QTabWidget()
        self.tabs.addTab(trace_tab, "Trace and measure")
        self.tabs.addTab(compare_tab, "Compare timepoints")
        self.tabs.currentChanged.connect(lambda _index: self.compare_panel.refresh_layers())
        QVBoxLayout(self).addWidget(self.tabs)

    # --- scans and lesion layers -------------------------------------------------------------

    def scan(self) -> Scan | None:
        """Geometry of the chosen scan layer."""
        name = self.scan_box.currentText()
        return scan_of(self.viewer.layers[name]) if name in self.viewer.layers else None

    def _layer_removing(self, event) -> None:
        if self.lesions is not None and self.viewer.layers[event.index].name == self.lesions.name:
            self.autosave()  # a deleted tracing can still be recovered

    def _layers_changed(self, _event=None) -> None:
        for layer in self.viewer.layers:
            # Layers are chosen by name: a rename must reach the lists.
            layer.events.name.connect(self._layers_changed)
        names = [layer.name for layer in self.viewer.layers if is_scan_layer(layer)]
        chosen = self.scan_box.currentText()
        self.scan_box.blockSignals(True)
        self.scan_box.clear()
        self.scan_box.addItems(names)
        if chosen in names:
            self.scan_box.setCurrentText(chosen)
        elif names:
            # The choice stays while the reader traces; a first (or replacing) scan is chosen.
            self.scan_box.setCurrentText(names[-1])
        self.scan_box.blockSignals(False)
        self._adopt_masks()
        self._attach()
        self.compare_panel.refresh_layers()
        for layer in list(self.viewer.layers):
            if is_scan_layer(layer):
                self._offer_recovery(scan_of(layer))

    def _adopt_masks(self) -> None:
        """A mask opened from a file lies on a scan's grid: give it that scan (its path and series).

        The scan chosen in the widget is preferred when several open scans share the mask's grid.
        """
        scans = [scan_of(layer) for layer in self.viewer.layers if is_scan_layer(layer)]
        sources = {scan.source for scan in scans}
        chosen = self.scan()
        for layer in self.viewer.layers:
            if is_lesion_layer(layer) and scan_of(layer).source not in sources:
                matches = [scan for scan in scans if scan.same_grid(scan_of(layer))]
                if matches:
                    match = chosen if chosen in matches else matches[0]
                    layer.metadata = {**layer.metadata, SCAN_KEY: match}

    def _lesion_layer_of(self, scan: Scan) -> Labels | None:
        """The lesion layer traced on ``scan`` (never another scan's, even on the same grid)."""
        return next(
            (
                layer
                for layer in self.viewer.layers
                if is_lesion_layer(layer) and scan_of(layer).source == scan.source
            ),
            None,
        )

    def _attach(self) -> None:
        """Follow the lesion layer of the chosen scan (if there is one)."""
        scan = self.scan()
        layer = None if scan is None else self._lesion_layer_of(scan)
        self._show_geometry(scan)
        if layer is self.lesions and (layer is None or self.readout is not None):
            return
        if self.readout is not None:
            self.autosave()  # what was traced since the last autosave is not left behind
            self.readout.disconnect()
            self.readout = None
        if self.lesions is not None:
            self.lesions.events.selected_label.disconnect(self._label_changed)
        self.lesions = layer
        if layer is not None:
            self.readout = LiveReadout(layer, scan, changed=self._readout_changed)
            self._autosaved_edits = self.readout.edits
            layer.events.selected_label.connect(self._label_changed)
            layer.bind_key("Shift-F", lambda _layer: self.fill_outline(), overwrite=True)
            layer.bind_key("Shift-I", lambda _layer: self.fill_between(), overwrite=True)
            self._label_changed()
        for widget in (
            *self.label_buttons.values(),
            self.fill_button,
            self.interpolate_button,
            self.save_button,
        ):
            widget.setEnabled(layer is not None)
        self.create_button.setEnabled(scan is not None and layer is None)
        self.load_button.setEnabled(scan is not None)
        self._readout_changed(None)

    def _show_geometry(self, scan: Scan | None) -> None:
        if scan is None:
            self.geometry.setText("Open a hip MRI (File > Open, or File > Open Sample > ONFH lesion volume).")
            self.scan_warnings.setText("")
            self.method_note.setText("")
            return
        rows, columns = scan.pixel_spacing
        thickness = "unknown" if scan.slice_thickness is None else f"{scan.slice_thickness:g} mm"
        spacing = "unknown" if scan.slice_spacing is None else f"{scan.slice_spacing:g} mm"
        self.geometry.setText(
            f"{' × '.join(map(str, scan.shape))} (slices × rows × columns), pixels {rows:g} × {columns:g} mm, "
            f"slices {thickness} thick every {spacing}, {scan.orientation}"
        )
        self.scan_warnings.setText("\n".join(f"⚠ {w}" for w in scan.warnings))
        self.method_note.setText(
            f"Volume = Σ area × slice thickness ({thickness}), the study's method; "
            f"Cavalieri = Σ area × slice spacing ({spacing}), as 3D Slicer and ITK-SNAP report."
        )

    def create_lesion_layer(self) -> Labels | None:
        """Add an empty lesion layer on the chosen scan's grid, right hip lesion active."""
        scan = self.scan()
        if scan is None:
            return None
        existing = self._lesion_layer_of(scan)
        if existing is not None:
            self.viewer.layers.selection.active = existing
            return existing
        return self._add_lesions(scan, None)

    def _add_lesions(self, scan: Scan, labels: np.ndarray | None) -> Labels:
        data, kwargs, _kind = lesion_layer(scan, labels)
        layer = self.viewer.add_labels(data, **kwargs)
        layer.selected_label = RIGHT_LABEL
        layer.mode = "paint"
        layer.brush_size = 3
        self.viewer.layers.selection.active = layer
        self._attach()
        return layer

    def load_mask_file(self, path: str | Path) -> Labels | None:
        """Open a saved mask on the chosen scan, to go on tracing (replacing nothing)."""
        scan = self.scan()
        if scan is None:
            return None
        try:
            labels = load_mask(path, scan)
        except OnfhError as exc:
            self.tool_message.setText(f"⚠ {exc}")
            return None
        if self.lesions is not None and np.any(np.asarray(self.lesions.data)):
            self.tool_message.setText(
                f"⚠ '{self.lesions.name}' already holds a tracing: remove or rename that layer first"
            )
            return None
        if self.lesions is not None:
            self.viewer.layers.remove(self.lesions)
        layer = self._add_lesions(scan, labels)
        self.tool_message.setText(f"Loaded {path}")
        return layer

    def _choose_mask(self) -> None:
        scan = self.scan()
        start = str(Path(scan.source).parent) if scan else ""
        path, _filter = QFileDialog.getOpenFileName(
            self, "Load a lesion mask", start, "NIfTI (*.nii.gz *.nii)"
        )
        if path:
            self.load_mask_file(path)

    # --- tracing ------------------------------------------------------------------------------

    def select_label(self, label: int) -> None:
        """Make ``label`` the one the brush, polygon and fill draw with."""
        if self.lesions is not None:
            self.lesions.selected_label = label

    def _label_changed(self, _event=None) -> None:
        label = None if self.lesions is None else self.lesions.selected_label
        self.label_group.setExclusive(False)
        for value, button in self.label_buttons.items():
            button.setChecked(value == label)
        self.label_group.setExclusive(True)

    def current_slice(self) -> int:
        """Index of the slice on screen."""
        return int(self.viewer.dims.current_step[0])

    def go_to_slice(self, index: int) -> None:
        """Show slice ``index``."""
        self.viewer.dims.set_current_step(0, index)

    def fill_outline(self) -> int:
        """Fill the inside of the outline traced on the slice on screen with the active label."""
        if self.lesions is None:
            return 0
        slice_index, label = self.current_slice(), int(self.lesions.selected_label)
        try:
            filled = fill_traced_outline(self.lesions, slice_index, label, self.gap.value())
        except OnfhError as exc:
            self.tool_message.setText(f"⚠ {exc.problem}")
            return 0
        self.tool_message.setText(f"Filled {filled} pixels inside the outline on slice {slice_index}.")
        return filled

    def fill_between(self) -> int:
        """Interpolate the active lesion on the untraced slices between traced ones."""
        if self.lesions is None:
            return 0
        label = int(self.lesions.selected_label)
        if "itk" not in sys.modules:
            # ITK's first use loads its libraries for about ten seconds: say so before the wait.
            self.tool_message.setText("Filling between slices (loading ITK the first time: about 10 s)…")
            QApplication.processEvents()
        try:
            filled = fill_between_slices(self.lesions, label)
        except OnfhError as exc:
            self.tool_message.setText(f"⚠ {exc.problem}")
            return 0
        self.tool_message.setText(
            f"Filled {filled} pixels of label {label} between traced slices (Ctrl+Z undoes it)."
            if filled
            else "No untraced slice lies between traced ones."
        )
        return filled

    # --- readout ------------------------------------------------------------------------------

    def _readout_changed(self, slices: set[int] | None) -> None:
        lesions = [] if self.readout is None else self.readout.lesions()
        self.summary.show_lesions(lesions)
        self.slice_table.show_lesions(lesions, slices)
        self._slice_changed()

    def _slice_changed(self, _event=None) -> None:
        if self.lesions is not None:
            self.slice_table.set_current(self.current_slice())

    # --- saving and recovery ------------------------------------------------------------------

    def ask(self, title: str, question: str) -> bool:
        """Ask the reader a yes/no question."""
        answer = QMessageBox.question(self, title, question)
        return answer == QMessageBox.StandardButton.Yes

    def save_to(self, path: str | Path) -> RecordPaths | None:
        """Save the tracing (mask, JSON, CSV); ask before replacing any existing file."""
        scan = scan_of(self.lesions) if self.lesions is not None else None
        if scan is None:
            return None
        paths = RecordPaths.beside(path)
        existing = paths.existing()
        if existing and not self.ask(
            "Replace saved tracing?",
            "These files exist:\n" + "\n".join(map(str, existing)) + "\n\nReplace them with this tracing?",
        ):
            self.save_message.setText("Not saved: nothing was replaced.")
            return None
        method = "thickness" if scan.slice_thickness is not None else "spacing"
        try:
            measurement = save_record(
                paths.mask,
                np.asarray(self.lesions.data),
                scan,
                method=method,
                reader=self.reader.text().strip() or None,
                overwrite=bool(existing),
            )
        except OnfhError as exc:
            self.save_message.setText(f"⚠ Not saved: {exc}")
            return None
        self._autosaved_edits = self.readout.edits if self.readout else 0
        recovery.discard(scan)
        notes = "".join(f"\n⚠ {w}" for w in measurement.warnings if w not in scan.warnings)
        self.save_message.setText(f"Saved {paths.mask.name}, {paths.json.name} and {paths.csv.name}.{notes}")
        return paths

    def _choose_save_path(self) -> None:
        scan = scan_of(self.lesions) if self.lesions is not None else None
        if scan is None:
            return
        source = Path(scan.source)
        suggestion = source.with_name(f"{scan_name(scan).replace(' ', '_')}_lesions.nii.gz")
        path, _filter = QFileDialog.getSaveFileName(
            self,
            "Save the tracing (mask; JSON and CSV beside it)",
            str(suggestion),
            "NIfTI (*.nii.gz)",
            options=QFileDialog.Option.DontConfirmOverwrite,  # save_to asks about all three files
        )
        if path:
            self.save_to(path if path.endswith((".nii.gz", ".nii")) else path + ".nii.gz")

    def autosave(self) -> Path | None:
        """Write the tracing to its recovery file when it changed since the last save or autosave."""
        if self.lesions is None or self.readout is None or self.readout.edits == self._autosaved_edits:
            return None
        try:
            path = recovery.autosave(np.asarray(self.lesions.data), scan_of(self.lesions))
        except (OnfhError, OSError) as exc:
            self.save_message.setText(f"⚠ Autosave failed: {exc}")
            return None
        self._autosaved_edits = self.readout.edits
        self.save_message.setText(f"Autosaved to {path}")
        return path

    def _offer_recovery(self, scan: Scan) -> None:
        """Once per scan: offer the tracing autosaved before a crash, when no lesion layer exists yet."""
        if scan.source in self._offered or self._lesion_layer_of(scan) is not None:
            return
        self._offered.add(scan.source)
        found = recovery.find_recovery(scan)
        if found is None:
            return
        path, written = found
        if not self.ask(
            "Recover tracing?",
            f"A tracing of {scan_name(scan)} was autosaved on {written:%Y-%m-%d at %H:%M:%S} and not saved "
            f"since:\n{path}\n\nRestore it?",
        ):
            return
        try:
            labels = load_mask(path, scan)  # checked to lie on the scan's grid
        except OnfhError as exc:
            self.tool_message.setText(f"⚠ Cannot recover: {exc}")
            return
        self._add_lesions(scan, labels)
        self.tool_message.setText(f"Recovered the tracing autosaved on {written:%Y-%m-%d %H:%M:%S}.")
