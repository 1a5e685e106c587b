"""Fixtures for every test: a small real series, and recovery files kept out of the user's folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_dicom_series


@pytest.fixture
def series(tmp_path: Path) -> Path:
    """A 6-slice coronal series: 4 mm slices every 4.4 mm, 0.8 x 0.9 mm pixels, 40 x 320 (288 mm wide)."""
    return write_dicom_series(tmp_path / "series")


@pytest.fixture(autouse=True)
def _recovery_files_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recovery files that cannot go beside a scan go to a per-test folder, never the user's own."""
    monkeypatch.setenv("ONFH_VOLUME_DATA", str(tmp_path / "user-data"))
