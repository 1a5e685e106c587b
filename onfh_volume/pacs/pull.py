"""Pull a study's series from the PACS into a folder, whole or not at all.

Each series is listed first (QIDO-RS: its instances' SOPInstanceUIDs), then fetched (WADO-RS). A
series whose fetched instances are not exactly the listed ones is refused and nothing is left in
the output folder: the files are written to a temporary folder beside it, renamed into place once
every series is whole.
"""

from __future__ import annotations

import os
import shutil
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import OutputExistsError, PacsError
from .client import client, refusals

SERIES_UID, SOP_UID, MODALITY = "0020000E", "00080018", "00080060"


def _value(attributes: dict, tag: str) -> str | None:
    values = attributes.get(tag, {}).get("Value")
    return str(values[0]) if values else None


def study_series(web: Any, url: str, study: str, series: str | None = None) -> list[str]:
    """The SeriesInstanceUIDs of ``study`` on the PACS (only ``series`` when given).

    Raises
    ------
    PacsError
        The PACS holds no such study, or no such series in it.
    """
    with refusals(url):
        found = [_value(item, SERIES_UID) for item in web.search_for_series(study_instance_uid=study)]
    listed = [uid for uid in found if uid]
    if not listed:
        raise PacsError(url, f"the PACS holds no study {study}")
    if series is not None and series not in listed:
        raise PacsError(
            url, f"study {study} on the PACS holds no series {series} (it holds {len(listed)} other)"
        )
    return [series] if series else listed


def _fetch_series(web: Any, url: str, study: str, series: str, folder: Path) -> int:
    """Write the series' instances into ``folder``; the number written. Refuses a series not received whole."""
    with refusals(url):
        listed = {
            _value(item, SOP_UID)
            for item in web.search_for_instances(study_instance_uid=study, series_instance_uid=series)
        }
        received = web.retrieve_series(study_instance_uid=study, series_instance_uid=series)
    got = {str(ds.SOPInstanceUID) for ds in received}
    if not listed or got != listed:
        raise PacsError(
            url,
            f"series {series} arrived incomplete ({len(got & listed)} of {len(listed)} instances"
            f"{', and others not listed' if got - listed else ''}); nothing was kept",
        )
    folder.mkdir(parents=True)
    for number, ds in enumerate(sorted(received, key=lambda d: int(d.get("InstanceNumber") or 0)), start=1):
        ds.save_as(folder / f"IM{number:04d}.dcm", enforce_file_format=True)
    return len(received)


def pull(url: str, study: str, out: str | PathLike[str], series: str | None = None) -> dict[str, int]:
    """Pull ``study`` (or one ``series`` of it) from the DICOMweb server ``url`` into the new folder ``out``.

    One series goes straight into ``out``; a whole study into one sub-folder per series, named by
    its SeriesInstanceUID. Returns the number of instances of each series.

    Raises
    ------
    OutputExistsError
        ``out`` exists (a pull never mixes with or replaces a folder).
    PacsError
        Unreachable server, refused credentials, no such study or series, a series not received whole.
    """
    out = Path(out)
    if out.exists():
        raise OutputExistsError(out, "exists; pull writes a new folder (choose another name)")
    web = client(url)
    chosen = study_series(web, url, study, series)
    import secrets  # hashlib and hmac with it: only a pull pays for them

    temporary = out.with_name(f".{out.name}.part-{secrets.token_hex(4)}")
    try:
        counts = {
            uid: _fetch_series(web, url, study, uid, temporary if series else temporary / uid)
            for uid in chosen
        }
        os.rename(temporary, out)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return counts
