"""Step 1 of the pipeline: load a scan (DICOM series, DICOM file or NIfTI) with exact geometry."""

from __future__ import annotations

import gzip
import zlib
from os import PathLike
from pathlib import Path

from ..errors import ScanError
from ..scan import Scan
from .dicom import load_dicom
from .dicom_files import is_dicom_file
from .plausible import check_scan

__all__ = ["is_dicom_file", "load_scan"]


def _is_nifti_file(path: Path) -> bool:
    """True for a single-file NIfTI-1 or NIfTI-2 image, gzipped or not (recognised by content)."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as f:
            header = f.read(540)
    except (OSError, EOFError, zlib.error) as exc:
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ScanError(path, f"cannot read the file ({problem}; truncated or corrupt?)") from exc
    return header[344:348] == b"n+1\x00" or header[4:8] == b"n+2\x00"


def load_scan(path: str | PathLike[str], *, series: str | None = None, pixels: bool = True) -> Scan:
    """Load a hip MRI with exact geometry.

    Parameters
    ----------
    path
        A folder holding a DICOM series (files are recognised by content; files without pixel data
        are skipped), a single DICOM file (classic or Enhanced MR multi-frame) or a NIfTI file.
    series
        SeriesInstanceUID or SeriesNumber, to pick one series from a folder that holds several.
    pixels
        False to load the geometry only (``scan.voxels`` is then None): enough for volumes, which
        need the mask and the grid, not the image. Pixel data is then neither read nor decoded: a
        DICOM file cut inside its pixel data is still refused, pixel data that only decoding would
        reject is not (the user guide's "Reading the geometry only" lists what is checked).

    Returns
    -------
    Scan
        Voxels in (slice, row, column) order, sorted along the slice normal, with spacing,
        thickness, affine and warnings.

    Raises
    ------
    ScanError
        When the geometry cannot be known exactly, or lies outside the plausible ranges of
        :mod:`onfh_volume.load.plausible` (see the user guide for every case).

    Examples
    --------
    >>> scan = load_scan("sample_scans/dicom/sub-01/baseline")
    >>> scan.shape, scan.slice_thickness, scan.slice_spacing, scan.orientation
    ((14, 224, 224), 4.0, 4.4, 'PIL')
    """
    path = Path(path)
    if not path.exists():
        raise ScanError(path, "no such file or folder")
    if path.is_dir() or is_dicom_file(path):
        return check_scan(load_dicom(path, series, pixels))
    if _is_nifti_file(path):
        if series is not None:
            raise ScanError(path, "a NIfTI file holds one image; --series applies to DICOM folders")
        from .nifti import load_nifti  # nibabel loads in a fifth of a second: only for NIfTI files

        return check_scan(load_nifti(path, pixels))
    raise ScanError(path, "neither a DICOM file (no DICM marker) nor a NIfTI-1/2 file")
