"""Screenshot of the plugin with the fitted femoral heads, for the README (run under Xvfb).

xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb .venv/bin/python docs/render_head_screenshot.py
"""

from __future__ import annotations

import napari
from render_screenshots import IMAGES, settle


def main() -> None:
    viewer = napari.Viewer(title="onfh-volume")
    viewer.window.resize(1500, 1000)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    viewer.open_sample("onfh-volume", "sub-01-baseline")
    widget.head_panel.fit_button.click()  # the outlines lie on the heads; the tracing stays selected
    viewer.dims.set_current_step(0, 6)
    viewer.scene.camera.center = viewer.layers["sub-01 baseline"].data_to_world((6, 100, 112))
    viewer.scene.camera.zoom = 2.2
    settle()
    viewer.dims.set_current_step(0, 5)
    viewer.dims.set_current_step(0, 6)
    settle()
    viewer.screenshot(str(IMAGES / "plugin-head.png"), canvas_only=False)
    viewer.close()


if __name__ == "__main__":
    main()
