"""``onfh-volume view``: napari with a scan, its lesion mask and the Lesion volume widget docked."""

from __future__ import annotations

import napari
import numpy as np
from napari.layers import Layer

from onfh_volume.scan import Scan

from .layers import lesion_layer, scan_layer


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
    if scan is not None:
        viewer.add_layer(Layer.create(*scan_layer(scan)))
        if labels is not None:
            viewer.add_layer(Layer.create(*lesion_layer(scan, labels)))
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    return viewer, widget


def run(scan: Scan | None = None, labels: np.ndarray | None = None) -> None:
    """Open the viewer (see :func:`open_viewer`) and run napari until its window is closed."""
    open_viewer(scan, labels)
    napari.run()
