"""Reader contribution: DICOM series folders, DICOM files and NIfTI files, through ``onfh_volume``.

A NIfTI label image (an integer image with at most a hundred distinct values) opens as a lesion
layer; anything else as a scan. Per napari's contract, a path this reader cannot read gives None:
:func:`napari_get_reader` declines paths that are not DICOM or NIfTI, and the reader itself
returns None, with the reason shown to the user, for a scan ``onfh_volume`` refuses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from napari.utils.notifications import show_error, show_warning

from onfh_volume import OnfhError, load_scan
from onfh_volume.load import is_dicom_file
from onfh_volume.mask import MAX_LABELS
from onfh_volume.scan import Scan

from .layers import LayerData, lesion_layer, scan_layer, scan_name

NIFTI_ENDINGS = (".nii", ".nii.gz")
#: A folder is offered to this reader when one of its first files is DICOM (files have no set names).
FILES_LOOKED_AT = 20


def _is_dicom_folder(folder: Path) -> bool:
    looked_at = 0
    for root, _dirs, names in os.walk(folder):
        for name in sorted(names):
            if is_dicom_file(Path(root) / name):
                return True
            looked_at += 1
            if looked_at >= FILES_LOOKED_AT:
                return False
    return False


def _readable(path: Path) -> bool:
    try:
        if path.is_dir():
            return _is_dicom_folder(path)
        return path.name.lower().endswith(NIFTI_ENDINGS) or (path.is_file() and is_dicom_file(path))
    except (OSError, OnfhError):
        return False


def napari_get_reader(
    path: str | Sequence[str],
) -> Callable[[str | Sequence[str]], list[LayerData] | None] | None:
    """Return :func:`read` when every path is a DICOM folder or file or a NIfTI file, else None."""
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths or not all(_readable(Path(p)) for p in paths):
        return None
    return read


def is_label_image(scan: Scan) -> bool:
    """True for a lesion mask given as an image: integers, few distinct values, from a NIfTI file."""
    voxels = scan.voxels
    if voxels is None or scan.series_uid is not None or not np.issubdtype(voxels.dtype, np.integer):
        return False
    return voxels.min() >= 0 and len(np.unique(voxels)) <= MAX_LABELS + 1


def layers_of(path: str | os.PathLike[str]) -> list[LayerData]:
    """The layer of one scan or mask file, its warnings shown as napari notifications.

    Raises
    ------
    OnfhError
        When ``onfh_volume`` refuses the file.
    """
    scan = load_scan(path)
    if is_label_image(scan):
        assert scan.voxels is not None
        labels = scan.voxels.astype(np.min_scalar_type(int(scan.voxels.max())), copy=False)
        return [lesion_layer(scan, labels, name=Path(path).name.removesuffix(".gz").removesuffix(".nii"))]
    for warning in scan.warnings:
        show_warning(f"{scan_name(scan)}: {warning}")
    return [scan_layer(scan)]


def read(path: str | Sequence[str]) -> list[LayerData] | None:
    """Read scans and masks; None (with the reason shown) when any of them is refused."""
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    layers: list[LayerData] = []
    for one in paths:
        try:
            layers += layers_of(one)
        except OnfhError as exc:
            show_error(str(exc))
            return None
    return layers
