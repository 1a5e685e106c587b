"""Screenshot of Carry baseline to follow-up's proposal for the README (run under Xvfb).

xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb .venv/bin/python docs/render_carry_screenshot.py
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
    viewer.open_sample("onfh-volume", "sub-01-baseline")
    viewer.open_sample("onfh-volume", "sub-01-followup")
    for layer in list(viewer.layers):
        if layer.name == "sub-01 followup lesions":
            viewer.layers.remove(layer)  # the follow-up's lesions to come are carried
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Carry baseline to follow-up")
    widget.baseline.setCurrentText("sub-01 baseline lesions")
    widget.followup.setCurrentText("sub-01 followup")
    widget.carry_button.click()
    while not widget.hips:
        QApplication.processEvents()
        time.sleep(0.05)
    for layer in viewer.layers:
        layer.visible = "baseline" not in layer.name
    viewer.dims.set_point(0, viewer.layers["sub-01 followup"].data_to_world((6, 0, 0))[0])
    for _ in range(5):
        QApplication.processEvents()
    viewer.screenshot(str(IMAGES / "plugin-carry.png"), canvas_only=False)
    viewer.close()


if __name__ == "__main__":
    main()
