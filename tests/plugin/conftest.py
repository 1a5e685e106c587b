"""Fixtures of the plugin tests, which run in a real napari viewer under Xvfb."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A question box would wait forever for a click in CI: a test must answer it itself."""
    from qtpy.QtWidgets import QMessageBox

    def unexpected(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"unexpected dialog: {args[1:3]}")

    monkeypatch.setattr(QMessageBox, "question", unexpected)
