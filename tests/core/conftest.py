"""The core's tests run without any Qt binding: ``make test`` runs them with the GUI toolkits blocked.

With ``ONFH_BLOCK_GUI=1`` (and pytest's Qt and napari plugins off) importing napari, qtpy or any
Qt binding fails here as it would on a machine without them, so a core module or test that
needed one would fail.
"""

from __future__ import annotations

import importlib.abc
import os
import sys

GUI_PACKAGES = {"napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "vispy"}


class _NoGui(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name.split(".")[0] in GUI_PACKAGES:
            raise ImportError(f"{name} is blocked: the core's tests must run without a GUI toolkit")


if os.environ.get("ONFH_BLOCK_GUI") == "1":
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in GUI_PACKAGES)
    if loaded:
        raise RuntimeError(f"GUI modules were loaded before the core tests started: {loaded}")
    sys.meta_path.insert(0, _NoGui())
