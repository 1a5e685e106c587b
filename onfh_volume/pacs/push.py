"""Store files on the PACS (STOW-RS); a SEG or report only once the PACS holds the series it refers to."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import PacsError, ScanError
from .client import client, refusals


def _read(path: Path) -> Any:
    import pydicom

    try:
        return pydicom.dcmread(path)
    except Exception as exc:
        raise ScanError(path, f"not a readable DICOM file ({exc})") from None


def _files(paths: list[str | PathLike[str]]) -> list[Path]:
    """The files named, and the DICOM files inside the folders named (a series' folder as it came)."""
    from ..load.dicom_files import is_dicom_file

    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(f for f in path.rglob("*") if f.is_file() and is_dicom_file(f))
        else:
            found.append(path)
    return found


def referenced_series(ds: Any) -> set[str]:
    """The series a SEG (Referenced Series) or an SR (its evidence) refers to; empty for an image."""
    series = {str(item.SeriesInstanceUID) for item in ds.get("ReferencedSeriesSequence", [])}
    for evidence in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(evidence, []):
            series |= {
                str(item.SeriesInstanceUID)
                for item in study.get("ReferencedSeriesSequence", [])
                if item.get("SeriesInstanceUID")
            }
    return series - {str(ds.get("SeriesInstanceUID", ""))}


def _held(web: Any, url: str, series: str) -> bool:
    with refusals(url):
        return bool(web.search_for_series(search_filters={"SeriesInstanceUID": series}))


def push_files(url: str, paths: list[str | PathLike[str]]) -> list[str]:
    """Store ``paths`` (files, or folders of DICOM files) on the DICOMweb server ``url``; the SOPInstanceUIDs stored.

    Files are stored together, images first, so a SEG or report sent with its scan finds the scan there.

    Raises
    ------
    PacsError
        Unreachable server, refused credentials, a SEG or report whose series the PACS does not
        hold, or instances the server says it did not store.
    """
    files = _files(paths)
    datasets = [_read(path) for path in files]
    web = client(url)
    sending = {str(ds.get("SeriesInstanceUID", "")) for ds in datasets}
    for path, ds in zip(files, datasets, strict=True):
        for series in sorted(referenced_series(ds) - sending):
            if not _held(web, url, series):
                raise PacsError(
                    path,
                    f"refers to series {series}, which the PACS at {url} does not hold: push that series "
                    "(the scan, or the SEG a report refers to) first",
                )
    ordered = sorted(datasets, key=lambda ds: bool(referenced_series(ds)))
    with refusals(url):
        answer = web.store_instances(datasets=ordered)
    failed = answer.get("FailedSOPSequence") if answer is not None else None
    if failed:
        raise PacsError(url, f"the server did not store {len(failed)} of {len(ordered)} file(s)")
    return [str(ds.SOPInstanceUID) for ds in ordered]
