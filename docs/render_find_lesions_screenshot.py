"""Screenshot of Find lesions' proposals for the README (run under Xvfb).

xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb .venv/bin/python docs/render_find_lesions_screenshot.py
"""

from __future__ import annotations

import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

IMAGES = Path(__file__).resolve().parent / "images"


def main() -> None:
    viewer = napari.Viewer(title="onfh-volume")
    viewer.window.resize(1500, 1000)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Find lesions")
    viewer.open_sample("onfh-volume", "sub-01-baseline")
    for layer in list(viewer.layers):
        if "lesions" in layer.name:
            viewer.layers.remove(layer)  # the lesions to come are the tool's
    widget.find_button.click()
    while not widget.findings:
        QApplication.processEvents()
        time.sleep(0.05)
    viewer.dims.set_point(0, viewer.dims.range[0].start + 6 * viewer.dims.range[0].step)
    for _ in range(5):
        QApplication.processEvents()
    viewer.screenshot(str(IMAGES / "plugin-find-lesions.png"), canvas_only=False)
    viewer.close()


if __name__ == "__main__":
    main()
