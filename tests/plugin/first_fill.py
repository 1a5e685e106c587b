"""Click "Fill between slices" for the first time in a fresh process; print how the GUI fared, as JSON.

Run as a script (``python first_fill.py``) under a display: a fresh interpreter is the only way to
see a first use's loading cost. A 10 ms timer runs throughout; the longest gap between its ticks is
the longest the event loop was stalled; the control is the same for a one-slice step (a redraw).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtCore import Qt, QTimer
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QApplication, QPushButton

SAMPLES = Path(__file__).resolve().parents[2] / "sample_scans"
TIMEOUT_S = 60.0


def main(work: Path) -> dict[str, float]:
    """Fill in a viewer on a copy of sub-02 baseline in ``work`` (closing it autosaves beside the scan)."""
    folder = shutil.copytree(SAMPLES / "dicom/sub-02/baseline", work / "sub-02" / "baseline")
    os.environ["ONFH_VOLUME_DATA"] = str(work / "user-data")
    viewer = napari.Viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    viewer.open(str(folder), plugin="onfh-volume")
    [create] = [b for b in widget.findChildren(QPushButton) if b.text().startswith("Create lesion layer")]
    QTest.mouseClick(create, Qt.MouseButton.LeftButton)
    layer = next(layer for layer in viewer.layers if layer.name.endswith("lesions"))
    for k, radius in ((3, 10), (9, 18)):
        rows, columns = np.nonzero(np.hypot(*np.ogrid[-100:124, -60:164]) <= radius)
        layer.data_setitem((np.full(len(rows), k), rows, columns), 1)
    [fill] = [b for b in widget.findChildren(QPushButton) if b.text().startswith("Fill between slices")]
    for _ in range(20):
        QApplication.processEvents()

    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    before = int((np.asarray(layer.data) == 1).sum())
    clicked = time.perf_counter()
    QTest.mouseClick(fill, Qt.MouseButton.LeftButton)
    returned = time.perf_counter()
    while int((np.asarray(layer.data) == 1).sum()) == before and time.perf_counter() - clicked < TIMEOUT_S:
        QApplication.processEvents()
        time.sleep(0.002)
    filled = time.perf_counter()
    for _ in range(10):  # a few more ticks after the fill
        QApplication.processEvents()
        time.sleep(0.01)
    timer.stop()
    gaps = np.diff([clicked, *[t for t in ticks if t >= clicked]])
    control = longest_stall(lambda: viewer.dims.set_current_step(0, 5))
    result = {
        "click_handler_s": returned - clicked,
        "fill_done_s": filled - clicked,
        "longest_stall_s": float(gaps.max()) if len(gaps) else returned - clicked,
        "pixels_filled": int((np.asarray(layer.data) == 1).sum()) - before,
        "control_stall_s": control,
    }
    viewer.close()
    return result


def longest_stall(action, seconds: float = 0.5) -> float:
    """The longest gap between 10 ms timer ticks in the ``seconds`` after ``action()``."""
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    start = time.perf_counter()
    action()
    while time.perf_counter() - start < seconds:
        QApplication.processEvents()
        time.sleep(0.002)
    timer.stop()
    return float(np.diff([start, *ticks]).max())


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="onfh-first-fill-") as scratch:
        print(json.dumps(main(Path(scratch))))
    sys.exit(0)
