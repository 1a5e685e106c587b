"""Screenshots of the napari plugin for the README and the user guide (run under Xvfb).

xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb .venv/bin/python docs/render_screenshots.py

``plugin-trace.png``: the first window of ``napari-onfh-volume`` on sub-01 baseline, with the
orientation letters, scale bar and window/level on the canvas. ``plugin-compare.png``: baseline
(left) and follow-up (right) side by side in the Compare tab, each captioned with its tracing.
"""

from __future__ import annotations

from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

from napari_onfh_volume.view import set_up

IMAGES = Path(__file__).resolve().parent / "images"


def settle() -> None:
    for _ in range(10):
        QApplication.processEvents()


def main() -> None:
    viewer = napari.Viewer(title="onfh-volume")
    widget = set_up(viewer)
    viewer.open_sample("onfh-volume", "sub-01-baseline")
    viewer.open_sample("onfh-volume", "sub-01-followup")
    widget.scan_panel.scan_box.setCurrentText("sub-01 baseline")  # on top, its tracing selected
    for layer in viewer.layers:
        layer.visible = "baseline" in layer.name
    widget.save_panel.reader.setText("AB")
    settle()
    viewer.reset_view()
    viewer.dims.set_current_step(0, 6)
    settle()
    viewer.screenshot(str(IMAGES / "plugin-trace.png"), canvas_only=False)

    widget.show_compare()  # fits the view to the two panels
    viewer.dims.set_current_step(0, 6)
    settle()
    viewer.screenshot(str(IMAGES / "plugin-compare.png"), canvas_only=False)
    viewer.close()


if __name__ == "__main__":
    main()
