"""Fixtures of the plugin tests. Most run a real napari viewer under Xvfb; the tests of the Qt-free
models (``test_session.py``) use no Qt at all, so this file imports Qt only for tests that use it."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_modal_dialogs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A question box would wait forever for a click in CI: a test must answer it itself."""
    if not {"make_napari_viewer", "qtbot"} & set(request.fixturenames):
        return
    from qtpy.QtWidgets import QMessageBox

    def unexpected(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"unexpected dialog: {args[1:3]}")

    monkeypatch.setattr(QMessageBox, "question", unexpected)
