"""``batch --pacs``: the manifest's PACS series pulled once each into a cache folder, then measured as folders.

A series is pulled into ``CACHE/SERIES_UID`` (atomically: a folder there is a whole series), and
a later run finds it there instead of pulling it again.
"""

from __future__ import annotations

import dataclasses
from os import PathLike
from pathlib import Path

from ..batch.manifest import PACS_SCAN, Manifest
from ..errors import ManifestError


def pacs_rows(manifest: Manifest) -> dict[str, tuple[str, str]]:
    """Each PACS scan of the manifest (``pacs:STUDY/SERIES``) and its (study, series) UIDs."""
    found = {}
    for entry in manifest.entries:
        if entry.scan.startswith(PACS_SCAN):
            study, series = entry.scan.removeprefix(PACS_SCAN).split("/", 1)
            found[entry.scan] = (study, series)
    return found


def refuse_without_pacs(manifest: Manifest) -> None:
    """Refuse a manifest naming series on a PACS when no ``--pacs`` was given.

    Raises
    ------
    ManifestError
        One problem per such row.
    """
    lines = [entry.line for entry in manifest.entries if entry.scan.startswith(PACS_SCAN)]
    if lines:
        raise ManifestError(
            manifest.path,
            [f"line {line}: gives study_uid/series_uid: run batch with --pacs URL" for line in lines],
        )


def cached_series(url: str, study: str, series: str, cache: str | PathLike[str]) -> tuple[Path, bool]:
    """The series' folder in ``cache`` (``CACHE/SERIES_UID``), pulled now unless it is there; and whether it was."""
    folder = Path(cache).absolute() / series
    if folder.is_dir():
        return folder, False
    from .pull import pull  # the DICOMweb client: not for a batch that only checks it has no PACS rows

    folder.parent.mkdir(parents=True, exist_ok=True)
    pull(url, study, folder, series)
    return folder, True


def with_pulled_scans(manifest: Manifest, url: str, cache: str | PathLike[str]) -> tuple[Manifest, int]:
    """The manifest with each PACS series replaced by its folder in ``cache``; and how many were pulled now.

    Raises
    ------
    PacsError
        A series that cannot be pulled (the run stops: it is the manifest or the PACS that needs fixing).
    """
    folders, pulled = {}, 0
    for scan, (study, series) in pacs_rows(manifest).items():
        folders[scan], fresh = cached_series(url, study, series, cache)
        pulled += fresh
    entries = tuple(
        dataclasses.replace(entry, scan=str(folders[entry.scan])) if entry.scan in folders else entry
        for entry in manifest.entries
    )
    return dataclasses.replace(manifest, entries=entries), pulled
