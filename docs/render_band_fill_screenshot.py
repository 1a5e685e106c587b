"""Screenshot of the Band fill preview for the README (run under Xvfb).

xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb .venv/bin/python docs/render_band_fill_screenshot.py
"""

from __future__ import annotations

import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

IMAGES = Path(__file__).resolve().parent / "images"
SEED = (4, 97, 54)  # inside the right hip lesion of sample sub-01 baseline (slice, row, column)


def main() -> None:
    viewer = napari.Viewer(title="onfh-volume")
    viewer.window.resize(1500, 1000)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Band fill")
    viewer.open_sample("onfh-volume", "sub-01-baseline")
    for layer in list(viewer.layers):
        if "lesions" in layer.name:
            viewer.layers.remove(layer)  # the tracing to come is the tool's
    widget.arm_button.setChecked(True)
    widget.trace_from([SEED])
    while widget.proposal is None:
        QApplication.processEvents()
        time.sleep(0.05)
    scan = next(layer for layer in viewer.layers if layer.name == "sub-01 baseline")
    centre = scan.data_to_world(SEED)
    viewer.dims.set_point(0, centre[0])
    viewer.scene.camera.center = tuple(centre[1:])
    viewer.scene.camera.zoom = 4.0
    for _ in range(5):
        QApplication.processEvents()
    viewer.screenshot(str(IMAGES / "plugin-band-fill.png"), canvas_only=False)
    viewer.close()


if __name__ == "__main__":
    main()
