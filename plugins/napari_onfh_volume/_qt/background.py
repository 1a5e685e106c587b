"""Long work (fitting heads, writing files) in a napari worker thread while the window keeps repainting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from napari.qt.threading import create_worker
from qtpy.QtCore import QEventLoop


def in_background(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` run in a worker thread; return its value (or raise its error) when done.

    The caller waits, but the window does not: Qt's events (repaints, a progress note) are
    processed meanwhile. The caller disables what must not be pressed twice.
    """
    outcome: dict[str, Any] = {}
    loop = QEventLoop()
    worker = create_worker(function, *args)
    worker.returned.connect(lambda value: outcome.setdefault("value", value))
    worker.errored.connect(lambda error: outcome.setdefault("error", error))
    worker.finished.connect(lambda: (outcome.setdefault("done", True), loop.quit()))
    worker.start()
    if "done" not in outcome:
        loop.exec()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
