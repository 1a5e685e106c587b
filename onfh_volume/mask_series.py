"""The scan a mask was traced on, where a study folder holds several series and the mask names one.

A DICOM SEG or RTSTRUCT references the series it was drawn on; a NIfTI mask names none, so a
folder of several series still needs ``--series`` with it.
"""

from __future__ import annotations

from os import PathLike

from .errors import SeveralSeriesError
from .load import load_scan
from .scan import Scan


def load_scan_for_mask(
    scan_path: str | PathLike[str],
    mask_path: str | PathLike[str],
    *,
    series: str | None = None,
    pixels: bool = True,
) -> Scan:
    """:func:`onfh_volume.load_scan`, where a folder of several series is read as the series a DICOM
    mask references, when it references exactly one of them and ``series`` is not given.

    Raises
    ------
    SeveralSeriesError
        The folder holds several series and neither ``series`` nor the mask picks one.
    """
    try:
        return load_scan(scan_path, series=series, pixels=pixels)
    except SeveralSeriesError as exc:
        if series is not None:
            raise
        return load_scan(scan_path, series=series_for_mask(mask_path, exc), pixels=pixels)


def series_for_mask(mask_path: str | PathLike[str], several: SeveralSeriesError) -> str:
    """The SeriesInstanceUID, among the folder's ``several`` series, that the DICOM mask references.

    Raises
    ------
    SeveralSeriesError
        ``several`` itself: the mask is not a DICOM SEG or RTSTRUCT, or references none or several
        of the folder's series.
    """
    # The DICOM mask readers (and pydicom) load only for a folder of several series.
    from .dicom_mask import dicom_mask_kind, referenced_series

    if dicom_mask_kind(mask_path) is None:
        raise several
    picked = referenced_series(mask_path) & {uid for uid, *_ in several.series}
    if len(picked) != 1:
        raise several
    return picked.pop()
