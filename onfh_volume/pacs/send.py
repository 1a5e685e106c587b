"""Send a tracing to the PACS: its DICOM SEG and its measurement report, written and stored together."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from .push import push_files


def send_tracing(
    url: str,
    scan: str | PathLike[str],
    mask: str | PathLike[str],
    folder: str | PathLike[str],
    *,
    reader: str | None = None,
    series: str | None = None,
) -> tuple[Path, Path]:
    """Write ``mask`` on ``scan`` as a SEG and a report (with its head measures) in ``folder``, then store both.

    The PACS must hold the scan's series already (it is where the scan came from). Returns the
    SEG and report files.

    Raises
    ------
    PacsError, SegExportError, SrExportError
        As ``push``, ``export-seg`` and ``export-sr`` refuse.
    """
    from ..dicom_mask.write_seg import write_seg
    from ..load import load_scan
    from ..mask import load_mask
    from ..measure_files import measure_file
    from ..sr import export_sr

    folder = Path(folder)
    loaded = load_scan(scan, series=series)
    seg = write_seg(folder / "lesions-seg.dcm", load_mask(mask, loaded), loaded, reader=reader)
    measurement = measure_file(loaded, mask, "thickness", heads=True)
    report = export_sr(measurement, mask, folder / "lesions-report.dcm", seg=seg, reader=reader)
    push_files(url, [seg, report])
    return seg, report
