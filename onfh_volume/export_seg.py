"""``onfh-volume export-seg``: a lesion mask file (NIfTI, SEG or RTSTRUCT) on its DICOM scan, as a new SEG.

The files are read here (the scan's geometry, the mask on its grid); the SEG is written by
:mod:`onfh_volume.dicom_mask.write_seg`, which reads and writes DICOM masks only.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from .atomic import check_not_inputs
from .dicom_mask.write_seg import reader_name, write_seg_with_warnings
from .mask import load_mask_with_warnings
from .notes import Note, notes


def export_seg(
    scan_path: str | PathLike[str],
    mask_path: str | PathLike[str],
    out: str | PathLike[str],
    *,
    reader: str | None = None,
    overwrite: bool = False,
    series: str | None = None,
) -> Path:
    """``onfh-volume export-seg``: the mask (NIfTI, SEG or RTSTRUCT) on the DICOM scan as a new SEG.

    :func:`export_seg_with_warnings` also returns every warning of loading the scan and the
    mask and of the side rule.

    Raises
    ------
    OutputIsInputError
        ``out`` is the scan or the mask, or lies in the scan's folder (a PACS export stays as it came).
    SegExportError
        See :func:`~onfh_volume.dicom_mask.write_seg.write_seg`.

    Examples
    --------
    >>> import tempfile, pydicom
    >>> out = export_seg(
    ...     "sample_scans/dicom/sub-01/baseline",
    ...     "sample_scans/masks/sub-01_baseline_lesions.nii.gz",
    ...     Path(tempfile.mkdtemp()) / "lesions.dcm",
    ...     reader="JD",
    ... )
    >>> seg = pydicom.dcmread(out)
    >>> [segment.SegmentLabel for segment in seg.SegmentSequence], seg.ContentCreatorName
    (['right hip lesion', 'left hip lesion'], 'JD^')
    """
    return export_seg_with_warnings(
        scan_path, mask_path, out, reader=reader, overwrite=overwrite, series=series
    )[0]


def export_seg_with_warnings(
    scan_path: str | PathLike[str],
    mask_path: str | PathLike[str],
    out: str | PathLike[str],
    *,
    reader: str | None = None,
    overwrite: bool = False,
    series: str | None = None,
) -> tuple[Path, list[Note]]:
    """:func:`export_seg`, with the warnings of loading the scan and the mask (e.g. a mask saved on
    another series) and of the side rule, as ``onfh-volume measure`` gives them."""
    from .extras import require
    from .load import load_scan

    require("seg", "writing a DICOM SEG")
    check_not_inputs([out], [scan_path, mask_path])
    reader_name(out, reader)  # before the scan is read: a typo costs nothing
    scan = load_scan(scan_path, series=series, pixels=False)
    labels, mask_warnings = load_mask_with_warnings(mask_path, scan)
    path, side_warnings = write_seg_with_warnings(out, labels, scan, reader=reader, overwrite=overwrite)
    return path, notes([*scan.warnings, *mask_warnings, *side_warnings])
