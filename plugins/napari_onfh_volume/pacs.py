"""Open from PACS and Send to PACS, without Qt: what the PACS dock does, one function per button.

Each runs in a worker thread (the widget's job); each returns what to show, or raises an
:class:`~onfh_volume.errors.OnfhError` whose one line the dock shows.
"""

from __future__ import annotations

import tempfile
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from onfh_volume.pacs.search import SeriesFound, find_series
from onfh_volume.scan import Scan

from .layers import is_lesion_layer

__all__ = ["SeriesFound", "cache_folder", "find_series", "lesion_layer_to_send", "open_series", "send_labels"]


def cache_folder() -> Path:
    """Where series opened from the PACS are kept (one folder each), in the user's cache folder."""
    import platformdirs

    return platformdirs.user_cache_path("onfh-volume") / "pacs"


def open_series(url: str, found: SeriesFound, cache: str | PathLike[str] | None = None) -> Path:
    """The folder of ``found``, pulled from the PACS unless it is in the cache already."""
    from onfh_volume.pacs.cache import cached_series

    return cached_series(url, found.study_uid, found.series_uid, cache or cache_folder())[0]


def lesion_layer_to_send(layers: Any, active: Any) -> Any | None:
    """The lesion layer to send: the selected one, else the only one; None when it is not clear which."""
    lesions = [layer for layer in layers if is_lesion_layer(layer)]
    if active is not None and active in lesions:
        return active
    return lesions[0] if len(lesions) == 1 else None


def send_labels(url: str, labels: np.ndarray, scan: Scan, reader: str | None = None) -> str:
    """Write the tracing ``labels`` on ``scan`` as a SEG and a measurement report and store both on the PACS."""
    import pydicom

    from onfh_volume.mask import save_mask
    from onfh_volume.pacs.send import send_tracing

    with tempfile.TemporaryDirectory(prefix="onfh-send-") as folder:
        mask = save_mask(Path(folder) / "lesions.nii.gz", np.asarray(labels), scan)
        seg, report = send_tracing(url, scan.source, mask, folder, reader=reader, series=scan.series_uid)
        uids = [str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID) for path in (seg, report)]
    return f"Sent the SEG and the measurement report to {url} (SOP Instance UIDs {uids[0]}, {uids[1]})"
