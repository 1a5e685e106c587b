"""``napari-onfh-volume [SCAN [MASK]]``: napari with a scan, its lesion mask and the Lesion volume widget.

The plugin's own command (the core's ``onfh-volume`` never reaches into the GUI). The scan and the
mask are read before any window opens, so a bad path gets the core's one-line refusal and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import napari
import numpy as np
from napari.layers import Layer
from npe2 import PluginManager
from qtpy.QtCore import QTimer

from onfh_volume import OnfhError, load_mask, load_scan
from onfh_volume.scan import Scan

from .layers import lesion_layer, scan_layer

PLUGIN = "onfh-volume"
WIDGET = "Lesion volume"
#: Big enough for both femoral heads of a 360 mm field between napari's layer list and the dock,
#: and within a 1600 x 1000 screen.
WINDOW_SIZE = (1580, 960)


def dock_name() -> str:
    """The dock's title as napari's Plugins menu names it, so the menu finds this dock, not a second."""
    manifest = PluginManager.instance().get_manifest(PLUGIN)
    return f"{WIDGET} ({manifest.display_name})"


def open_viewer(
    scan: Scan | None = None, labels: np.ndarray | None = None, *, show: bool = True
) -> tuple[napari.Viewer, object]:
    """Open a viewer with ``scan`` (pixels loaded), ``labels`` on its grid, and the widget docked.

    Returns
    -------
    tuple
        The viewer and the docked :class:`~napari_onfh_volume._qt.lesion_widget.LesionVolumeWidget`.
    """
    viewer = napari.Viewer(title="onfh-volume", show=show)
    return viewer, set_up(viewer, scan, labels)


def set_up(viewer: napari.Viewer, scan: Scan | None = None, labels: np.ndarray | None = None):
    """Size the window, add ``scan`` and ``labels``, dock the widget; return the widget."""
    from ._qt.lesion_widget import LesionVolumeWidget

    viewer.window.resize(*WINDOW_SIZE)
    if scan is not None:
        viewer.add_layer(Layer.create(*scan_layer(scan)))
        if labels is not None:
            viewer.add_layer(Layer.create(*lesion_layer(scan, labels)))
    widget = LesionVolumeWidget(viewer)
    viewer.window.add_dock_widget(widget, name=dock_name(), area="right")
    # Fit the scan once the window has its final layout (the dock narrows the canvas).
    QTimer.singleShot(0, viewer.reset_view)
    return widget


def run(scan: Scan | None = None, labels: np.ndarray | None = None) -> None:
    """Open the viewer (see :func:`open_viewer`) and run napari until its window is closed."""
    open_viewer(scan, labels)
    napari.run()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``napari-onfh-volume``; return the exit code (2 for a scan or mask that cannot be read)."""
    parser = argparse.ArgumentParser(
        prog="napari-onfh-volume", description="napari with the Lesion volume widget, a scan and its mask"
    )
    parser.add_argument("scan", nargs="?", help="DICOM folder or file, or NIfTI")
    parser.add_argument(
        "mask",
        nargs="?",
        help="lesion mask to go on tracing (NIfTI, DICOM SEG or RTSTRUCT on the scan's grid)",
    )
    parser.add_argument("--series", help="SeriesInstanceUID or SeriesNumber, when the folder holds several")
    args = parser.parse_args(argv)
    try:
        scan = None if args.scan is None else load_scan(args.scan, series=args.series)
        labels = None if args.mask is None or scan is None else load_mask(args.mask, scan)
    except OnfhError as exc:
        print(f"napari-onfh-volume: error: {exc}", file=sys.stderr)
        return 2
    run(scan, labels)
    return 0
