"""Autosave of a tracing in progress, and its recovery after a crash.

The recovery file is a mask saved on the scan's grid (so :func:`onfh_volume.load_mask` checks it
on the way back), next to the scan: ``<scan>.onfh-autosave.nii.gz`` beside a DICOM folder or a
NIfTI file. Where that folder is read-only (a CD, a PACS export share), it goes to the user's data
folder instead, under a name derived from the scan's path and series.

Beside it, ``<scan>.onfh-autosave.json`` lists the slices each tracing aid filled (Fill between
slices, Band fill, Find lesions, Carry baseline), as a saved record's JSON does
(:func:`onfh_volume.record.read_aided_slices` reads both): a recovered tracing keeps its
"(filled)", "(band fill)", "(detected)" and "(propagated)" marks, and the next save lists them. The two files are written together, atomically: a crash never leaves a mask with the
marks of another.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import platformdirs

from onfh_volume.atomic import write_set
from onfh_volume.mask import mask_writer, scan_inputs
from onfh_volume.record import RecordPaths
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


def autosave(
    labels: np.ndarray, scan: Scan, aided: Mapping[str, Mapping[int, Sequence[int]]] | None = None
) -> Path:
    """Write the tracing and its aided slices to the recovery files, atomically (a crash mid-write
    keeps the previous ones).

    ``aided`` gives, per JSON field of a tracing aid (``"band_fill_slices"``), per label, the slices
    it filled.
    """
    path = recovery_path(scan)
    path.parent.mkdir(parents=True, exist_ok=True)
    aided = aided or {}
    found = sorted({int(label) for slices in aided.values() for label in slices})
    lesions = [
        {"label": label, **{field: list(slices.get(label, [])) for field, slices in aided.items()}}
        for label in found
    ]
    text = json.dumps({"lesions": lesions}, indent=2)
    write_set(
        [
            (path, mask_writer(path, labels, scan)),
            (marks_path(path), lambda temporary: temporary.write_text(text, encoding="utf-8")),
        ],
        overwrite=True,
        inputs=scan_inputs(scan),
    )
    return path


def marks_path(path: Path) -> Path:
    """The file of the aided slices beside the recovery file ``path``.

    Examples
    --------
    >>> marks_path(Path("scans/baseline.onfh-autosave.nii.gz")).name
    'baseline.onfh-autosave.json'
    """
    return RecordPaths.beside(path).json


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
        marks_path(path).unlink(missing_ok=True)
