"""Reader contribution: DICOM series folders, DICOM files and NIfTI files, through ``onfh_volume``.

A NIfTI label image (an integer image with at most a hundred distinct values) opens as a lesion
layer; anything else as a scan. A DICOM SEG or RTSTRUCT opens as a lesion layer on its scan:
the one opened with it, or the one open in the viewer. Per napari's contract, a path this reader cannot read gives None:
:func:`napari_get_reader` declines paths that are not DICOM or NIfTI, and the reader itself
returns None, with the reason shown to the user, for a scan ``onfh_volume`` refuses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import napari
import numpy as np
from napari.utils.notifications import show_error, show_warning

from onfh_volume import OnfhError, load_scan
from onfh_volume.dicom_mask import dicom_mask_kind, referenced_series
from onfh_volume.errors import DicomMaskError
from onfh_volume.load import is_dicom_file
from onfh_volume.mask import MAX_LABELS, load_mask_with_warnings
from onfh_volume.scan import Scan

from .layers import SCAN_KEY, LayerData, is_scan_layer, lesion_layer, scan_layer, scan_name, scan_of

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


def _scans_for_masks(layers: list[LayerData]) -> list[Scan]:
    """The scans opened with the masks, or else those already open in the current viewer."""
    scans = [meta["metadata"][SCAN_KEY] for _, meta, kind in layers if kind == "image"]
    if scans:
        return scans
    viewer = napari.current_viewer()
    return [scan_of(layer) for layer in viewer.layers if is_scan_layer(layer)] if viewer else []


def placed_masks(masks: Sequence[str | os.PathLike[str]], layers: list[LayerData]) -> list[LayerData]:
    """Lesion layers of DICOM SEG and RTSTRUCT files, on their scan.

    Their scan is the one opened with them, or the one open in the viewer; among several, the one
    whose series the mask references.

    Raises
    ------
    OnfhError
        When no single scan is theirs, or a mask does not lie on its scan.
    """
    candidates = _scans_for_masks(layers)
    placed = []
    for mask in masks:
        referenced = referenced_series(mask)
        scans = [s for s in candidates if s.series_uid in referenced] if len(candidates) > 1 else candidates
        if len(scans) != 1:
            raise DicomMaskError(
                mask,
                "a DICOM SEG or RTSTRUCT lies on its scan: open its scan first (only that one), then the "
                "mask, or use Load mask in the Lesion volume widget",
            )
        labels, warnings = load_mask_with_warnings(mask, scans[0])
        for warning in warnings:
            show_warning(warning)
        placed.append(lesion_layer(scans[0], labels, name=Path(mask).name))
    return placed


def read(path: str | Sequence[str]) -> list[LayerData] | None:
    """Read scans and masks; None (with the reason shown) when any of them is refused."""
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    masks = [one for one in paths if dicom_mask_kind(one)]
    layers: list[LayerData] = []
    try:
        for one in paths:
            if one not in masks:
                layers += layers_of(one)
        layers += placed_masks(masks, layers)
    except OnfhError as exc:
        show_error(str(exc))
        return None
    return layers
