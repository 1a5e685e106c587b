"""Autosave of a tracing in progress, and its recovery after a crash.

The recovery file is a mask saved on the scan's grid (so :func:`onfh_volume.load_mask` checks it
on the way back), next to the scan: ``<scan>.onfh-autosave.nii.gz`` beside a DICOM folder or a
NIfTI file. Where that folder is read-only (a CD, a PACS export share), it goes to the user's data
folder instead, under a name derived from the scan's path and series.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

import numpy as np
import platformdirs

from onfh_volume import save_mask
from onfh_volume.scan import Scan

SUFFIX = ".onfh-autosave.nii.gz"


def user_folder() -> Path:
    """Where recovery files go when the scan's folder is read-only (``ONFH_VOLUME_DATA`` overrides it)."""
    return Path(os.environ.get("ONFH_VOLUME_DATA") or platformdirs.user_data_dir("onfh-volume")) / "recovery"


def candidates(scan: Scan) -> list[Path]:
    """Recovery paths of a scan, preferred first: beside the scan, then in the user's data folder."""
    source = Path(scan.source).resolve()
    stem = source.name.removesuffix(".gz").removesuffix(".nii")
    key = hashlib.sha256(f"{source}|{scan.series_uid or ''}".encode()).hexdigest()[:16]
    return [source.with_name(stem + SUFFIX), user_folder() / f"{stem}-{key}{SUFFIX}"]


def recovery_path(scan: Scan) -> Path:
    """Where an autosave of a tracing on ``scan`` is written now."""
    beside, elsewhere = candidates(scan)
    return beside if os.access(beside.parent, os.W_OK) else elsewhere


def autosave(labels: np.ndarray, scan: Scan) -> Path:
    """Write the tracing to its recovery file, atomically (a crash mid-write keeps the previous one)."""
    path = recovery_path(scan)
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_mask(path, labels, scan, overwrite=True)


def find_recovery(scan: Scan) -> tuple[Path, datetime] | None:
    """The newest recovery file of ``scan`` and when it was written, if there is one."""
    found = [(path, path.stat().st_mtime) for path in candidates(scan) if path.is_file()]
    if not found:
        return None
    path, mtime = max(found, key=lambda item: item[1])
    return path, datetime.fromtimestamp(mtime)


def discard(scan: Scan) -> None:
    """Remove the scan's recovery files (once the tracing is saved, they hold nothing new)."""
    for path in candidates(scan):
        path.unlink(missing_ok=True)
