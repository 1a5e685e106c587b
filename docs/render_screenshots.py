"""Screenshots of the napari plugin for the README and the user guide (run under Xvfb).

xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb .venv/bin/python docs/render_screenshots.py
"""

from __future__ import annotations

from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

IMAGES = Path(__file__).resolve().parent / "images"


def settle() -> None:
    for _ in range(5):
        QApplication.processEvents()


def main() -> None:
    viewer = napari.Viewer(title="onfh-volume")
    viewer.window.resize(1500, 1000)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    viewer.open_sample("onfh-volume", "sub-01-baseline")
    viewer.open_sample("onfh-volume", "sub-01-followup")
    for layer in viewer.layers:
        layer.visible = "baseline" in layer.name
    widget.scan_box.setCurrentText("sub-01 baseline")
    viewer.layers.selection.active = viewer.layers["sub-01 baseline lesions"]
    widget.reader.setText("AB")
    viewer.dims.set_current_step(0, 6)
    viewer.scene.camera.center = (6 * 4.4, 95 * 1.6, 112 * 1.6)
    viewer.scene.camera.zoom = 1.7
    settle()
    viewer.dims.set_current_step(0, 5)
    viewer.dims.set_current_step(0, 6)
    settle()
    viewer.screenshot(str(IMAGES / "plugin-trace.png"), canvas_only=False)

    widget.tabs.setCurrentIndex(1)
    widget.compare_panel.run()
    settle()
    viewer.screenshot(str(IMAGES / "plugin-compare.png"), canvas_only=False)
    viewer.close()


if __name__ == "__main__":
    main()
