"""The Scan box of the widget: which scan to trace on, its geometry, create or open its lesion layer."""

from __future__ import annotations

from qtpy.QtWidgets import QComboBox, QFormLayout, QGridLayout, QGroupBox, QLabel, QPushButton

from onfh_volume.scan import Scan

from .focus import no_focus

WARNING_STYLE = "color: #ffb000"


class ScanPanel(QGroupBox):
    """Scan chooser, geometry line, warnings, and the Create / Load mask buttons."""

    def __init__(self) -> None:
        super().__init__("Scan")
        self.scan_box = QComboBox()
        self.geometry = QLabel()
        self.geometry.setWordWrap(True)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(WARNING_STYLE)
        self.open_button = no_focus(QPushButton("Open scan folder…  [Shift+O]"))
        self.open_button.setToolTip("A DICOM series folder, opened with onfh-volume (napari asks no reader)")
        self.create_button = no_focus(QPushButton("Create lesion layer  [Shift+N]"))
        self.load_button = no_focus(QPushButton("Load mask…  [Shift+M]"))
        form = QFormLayout(self)
        form.addRow("Scan layer", self.scan_box)
        form.addRow(self.geometry)
        form.addRow(self.warnings)
        # Two rows: a narrow dock leaves the canvas room for both hips.
        buttons = QGridLayout()
        buttons.addWidget(self.open_button, 0, 0)
        buttons.addWidget(self.load_button, 0, 1)
        buttons.addWidget(self.create_button, 1, 0, 1, 2)
        form.addRow(buttons)

    def show_scans(self, names: list[str], chosen: str | None) -> None:
        """List the scan layers, ``chosen`` selected, without emitting a change."""
        self.scan_box.blockSignals(True)
        self.scan_box.clear()
        self.scan_box.addItems(names)
        if chosen:
            self.scan_box.setCurrentText(chosen)
        self.scan_box.blockSignals(False)

    def show_scan(self, scan: Scan | None, has_lesions: bool) -> None:
        """Geometry and warnings of the chosen scan; buttons enabled only where they can act."""
        self.create_button.setEnabled(scan is not None and not has_lesions)
        self.load_button.setEnabled(scan is not None)
        if scan is None:
            self.geometry.setText("Open a hip MRI (File > Open, or File > Open Sample > ONFH lesion volume).")
            self.warnings.setText("")
            return
        rows, columns = scan.pixel_spacing
        self.geometry.setText(
            f"{' × '.join(map(str, scan.shape))} (slices × rows × columns), pixels {rows:g} × {columns:g} mm, "
            f"slices {_mm(scan.slice_thickness)} thick every {_mm(scan.slice_spacing)}, {scan.orientation}"
        )
        self.warnings.setText("\n".join(f"⚠ {w}" for w in scan.warnings))


def _mm(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g} mm"


def method_note(scan: Scan | None) -> str:
    """Which slice distance each volume uses, for the readout box."""
    if scan is None:
        return ""
    return (
        f"Volume = Σ area × slice thickness ({_mm(scan.slice_thickness)}), the study's method; "
        f"Cavalieri = Σ area × slice spacing ({_mm(scan.slice_spacing)}), as 3D Slicer and ITK-SNAP report."
    )
