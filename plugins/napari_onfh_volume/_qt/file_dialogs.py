"""The file dialogs of the widget: each asks for a path and returns it, or None when cancelled."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QFileDialog, QWidget

from onfh_volume.scan import Scan

from ..layers import scan_name

#: The Save dialog's choice of a DICOM SEG (for the PACS) instead of the NIfTI tracing.
SEG_FILTER = "DICOM SEG for the PACS (*.dcm)"


def _folder_of(scan: Scan | None) -> str:
    return str(Path(scan.source).parent) if scan else ""


def scan_folder(parent: QWidget, scan: Scan | None) -> str | None:
    """A DICOM series folder (napari's File > Open Folder would ask which reader, every time)."""
    return QFileDialog.getExistingDirectory(parent, "Open a DICOM series folder", _folder_of(scan)) or None


def mask_file(parent: QWidget, scan: Scan) -> str | None:
    """A saved lesion mask to open on ``scan``."""
    path, _filter = QFileDialog.getOpenFileName(
        parent,
        "Load a lesion mask",
        _folder_of(scan),
        "NIfTI, DICOM SEG or RTSTRUCT (*.nii.gz *.nii *.dcm);;All files (*)",
    )
    return path or None


def save_path(parent: QWidget, scan: Scan) -> str | None:
    """Where to save the tracing of ``scan``: ``.nii.gz`` (mask, JSON, CSV) or ``.dcm`` (a DICOM SEG for the PACS).

    The ending is added when missing, by the file type chosen; the widget asks about replacing.
    """
    suggestion = Path(scan.source).with_name(f"{scan_name(scan).replace(' ', '_')}_lesions.nii.gz")
    path, chosen = QFileDialog.getSaveFileName(
        parent,
        "Save the tracing (mask; JSON and CSV beside it)",
        str(suggestion),
        f"NIfTI (*.nii.gz);;{SEG_FILTER}",
        options=QFileDialog.Option.DontConfirmOverwrite,  # the session asks about all three files
    )
    if not path:
        return None
    if chosen == SEG_FILTER:
        return path if path.endswith(".dcm") else path.removesuffix(".gz").removesuffix(".nii") + ".dcm"
    return path if path.endswith((".nii.gz", ".nii")) else path + ".nii.gz"
