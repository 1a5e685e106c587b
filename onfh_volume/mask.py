"""Step 2 of the pipeline: lesion label images on the scan's voxel grid (load, check, save)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np

from .atomic import Writer, check_not_inputs, write_atomically
from .errors import MaskError, OutputError
from .notes import Note, another_series_warning
from .scan import GRID_TOLERANCE_VOXELS, Scan

#: More distinct labels than this is an image given as a mask, not lesions.
MAX_LABELS = 100
#: save_mask records the scan's series in the NIfTI description field as this prefix + UID.
SERIES_NOTE = "series "


def grid_orientation(path: Path, shape: tuple[int, ...], affine: np.ndarray, scan: Scan) -> np.ndarray:
    """The nibabel orientation that maps an array on (``shape``, ``affine``) onto the scan's grid.

    The two grids must be the same voxels, listed in another axis order and/or direction (the
    way ITK-SNAP, 3D Slicer or dcm2niix lay out the same image). Anything else is refused.
    """
    index_map = np.linalg.solve(scan.affine, affine)  # mask index -> scan index
    linear, offset = index_map[:3, :3], index_map[:3, 3]
    rounded = np.round(linear)
    is_signed_permutation = (
        np.all(np.isin(rounded, (-1, 0, 1)))
        and np.all(np.abs(rounded).sum(axis=0) == 1)
        and np.all(np.abs(rounded).sum(axis=1) == 1)
    )
    if not is_signed_permutation or np.abs(linear - rounded).max() > GRID_TOLERANCE_VOXELS / max(scan.shape):
        mask_sizes = sorted(np.round(np.linalg.norm(affine[:3, :3], axis=0), 4).tolist())
        scan_sizes = sorted(np.round(np.linalg.norm(scan.affine[:3, :3], axis=0), 4).tolist())
        difference = (
            f"voxel size {mask_sizes} mm vs the scan's {scan_sizes} mm"
            if not np.allclose(mask_sizes, scan_sizes, rtol=1e-3)
            else "same voxel size, another orientation"
        )
        raise MaskError(
            path, f"mask grid does not coincide with the grid of the scan {scan.source} ({difference})"
        )
    ornt = np.zeros((3, 2))
    for mask_axis in range(3):
        scan_axis = int(np.argmax(np.abs(rounded[:, mask_axis])))
        ornt[mask_axis] = scan_axis, rounded[scan_axis, mask_axis]
        size = shape[mask_axis]
        if size != scan.shape[scan_axis]:
            raise MaskError(
                path,
                f"mask has {size} voxels along the scan's {('slice', 'row', 'column')[scan_axis]} axis, "
                f"the scan {scan.source} has {scan.shape[scan_axis]}",
            )
        expected_offset = 0 if ornt[mask_axis, 1] > 0 else size - 1
        shift = offset[scan_axis] - expected_offset
        if abs(shift) > GRID_TOLERANCE_VOXELS:
            raise MaskError(
                path,
                f"mask grid is shifted by {shift:.3g} voxel(s) along the scan's "
                f"{('slice', 'row', 'column')[scan_axis]} axis: it is not the scan {scan.source}'s grid",
            )
    return ornt


def load_mask(path: str | PathLike[str], scan: Scan, roi: Sequence[str] = ()) -> np.ndarray:
    """Load a NIfTI label image and return it on ``scan``'s grid, as (slice, row, column) labels.

    Masks written by ITK-SNAP, 3D Slicer, dcm2niix-based tools or onfh-volume itself are accepted
    whatever their axis order and direction, as long as their voxels are the scan's voxels. A DICOM
    file is read as a DICOM SEG or RTSTRUCT (:func:`onfh_volume.dicom_mask.load_dicom_mask`).

    Raises
    ------
    MaskError
        Unreadable file, non-integer or negative labels, or a grid that is not the scan's.

    Examples
    --------
    >>> from onfh_volume import load_scan
    >>> scan = load_scan("sample_scans/dicom/sub-01/baseline", pixels=False)
    >>> labels = load_mask("sample_scans/masks/sub-01_baseline_lesions.nii.gz", scan)
    >>> labels.shape, sorted(set(labels.ravel().tolist()))
    ((14, 224, 224), [0, 1, 2])
    """
    return load_mask_with_warnings(path, scan, roi)[0]


def load_mask_with_warnings(
    path: str | PathLike[str], scan: Scan, roi: Sequence[str] = ()
) -> tuple[np.ndarray, list[Note]]:
    """:func:`load_mask`, with warnings about a mask that lies on the scan's grid but may not belong to it.

    A baseline and a follow-up on the same protocol share one grid, so swapped masks would fit;
    masks saved by onfh-volume name the series they were traced on, which catches that. Also
    warned about: a mask whose own qform and sform disagree, an empty mask, and a scan that is not
    MR. The file is read once for all. ``roi`` names the segments or ROIs of a DICOM SEG or
    RTSTRUCT to measure (:mod:`onfh_volume.dicom_mask.lesion_rule`); a NIfTI mask has none.
    """
    labels, warnings = labels_on_grid(path, scan, roi)
    # A copy where the labels are a read-only view of the file's bytes: the caller may edit them.
    return np.require(labels, np.int32, ["C", "W"]), warnings


def labels_on_grid(
    path: str | PathLike[str], scan: Scan, roi: Sequence[str] = ()
) -> tuple[np.ndarray, list[Note]]:
    """:func:`load_mask_with_warnings`'s labels as the file stores them (any integer type), on the grid.

    A NIfTI mask's array is a view of the file's data, transposed or flipped onto the grid:
    measuring it needs no copy (a fifth of a batch measurement's time went to one, as int32).
    """
    mask = mask_on_grid(path, scan, roi)
    return mask.labels, mask.warnings


@dataclass(frozen=True)
class MaskOnGrid:
    """A lesion mask read and checked: its labels on the scan's grid, and its lesion voxels.

    ``voxels`` (N, 3) are the (slice, row, column) indices of the non-zero voxels in the grid's
    order and ``values`` their labels, as :func:`onfh_volume.volume.lesion_voxels` gives them;
    ``labels`` may be a read-only view of the file's data.
    """

    labels: np.ndarray
    voxels: np.ndarray
    values: np.ndarray
    warnings: list[Note]


def mask_on_grid(path: str | PathLike[str], scan: Scan, roi: Sequence[str] = ()) -> MaskOnGrid:
    """:func:`labels_on_grid`, with the lesion voxels: a NIfTI mask's are found once, in the file's
    own order (fast), for the label checks and the measure both."""
    path = Path(path)
    if not path.exists():
        raise MaskError(path, "no such file")
    from .load.dicom_files import is_dicom_file, starts_as_nifti
    from .load.modality import not_mr_warnings

    if is_dicom_file(path) or (not starts_as_nifti(path) and _dicom_mask(path)):
        from .dicom_mask import load_dicom_mask  # DICOM SEG and RTSTRUCT, recognised by content
        from .volume import lesion_voxels

        labels, dicom_warnings = load_dicom_mask(path, scan, roi)
        return MaskOnGrid(
            labels, *lesion_voxels(scan, labels, str(path)), dicom_warnings + not_mr_warnings(scan)
        )
    if roi:
        raise MaskError(
            path,
            "--roi names a segment or ROI of a DICOM SEG or RTSTRUCT; this is a label image, which has none",
        )
    from .load.nifti import affine_mm, read_nifti
    from .load.reorient import apply_orientation

    header, data = read_nifti(path, MaskError)
    affine, header_warnings = affine_mm(path, header, MaskError)
    try:
        ornt = grid_orientation(path, data.shape, affine, scan)
    except MaskError as exc:
        if not header.orientation_known:
            raise MaskError(path, f"{exc.problem}; the mask's header states no orientation") from None
        raise
    data, order = _in_memory_order(data)
    found, values = _checked_lesion_values(path, data.ravel(order=order))
    warnings = [Note(f"mask {path}: {warning}") for warning in header_warnings]
    if not found.size:
        warnings.append(Note(f"mask {path} is empty (every voxel is 0): no lesion is measured on it"))
    warnings += _traced_on_another_series(path, header.description, scan) + not_mr_warnings(scan)
    voxels, values = _on_grid(found, values, data.shape, order, ornt, scan.shape)
    return MaskOnGrid(apply_orientation(data, ornt), voxels, values, warnings)


def _in_memory_order(data: np.ndarray) -> tuple[np.ndarray, Literal["C", "F"]]:
    """``data``, and the order ("F" or "C") in which its elements lie in memory."""
    if data.flags.f_contiguous:
        return data, "F"
    if data.flags.c_contiguous:
        return data, "C"
    return np.asfortranarray(data), "F"


def _checked_lesion_values(path: Path, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions in ``flat`` of the non-zero voxels and their labels, refused unless whole,
    non-negative and few. Background voxels (0) pass every check: only the others are looked at."""
    found = _nonzero_positions(flat)  # NaN is non-zero: found, and refused below
    values = flat[found]
    if not np.issubdtype(values.dtype, np.integer) and (
        not np.all(np.isfinite(values)) or np.any(values != np.round(values))
    ):
        raise MaskError(
            path, "mask holds non-integer values (a probability map?); labels must be whole numbers"
        )
    # Each check is skipped where the type alone rules the problem out.
    if values.size and values.dtype.kind != "u" and values.min() < 0:
        raise MaskError(
            path, f"mask holds negative label {int(values.min())}; labels must be 0 (background) or positive"
        )
    fits = values.dtype.kind in "iu" and np.iinfo(values.dtype).max <= np.iinfo(np.int32).max
    if values.size and not fits and values.max() > np.iinfo(np.int32).max:
        raise MaskError(path, f"mask holds label {values.max():.0f}, beyond any label a tracing tool writes")
    # Sorted and counted rather than np.unique, whose plain form imports numpy.ma (15 ms at start-up).
    lesion = np.sort(values)
    distinct = int(np.count_nonzero(lesion[1:] != lesion[:-1])) + 1 if lesion.size else 0
    if distinct > MAX_LABELS:
        raise MaskError(
            path, f"mask holds {distinct} different labels: this looks like an image, not a lesion label mask"
        )
    return found, values


def _nonzero_positions(flat: np.ndarray) -> np.ndarray:
    """``np.flatnonzero(flat != 0)``, several times faster on a mask, which is mostly zeros: the
    zero bytes are skipped 8 at a time, and only the 8-byte words holding a non-zero byte are
    looked at element by element (a non-zero value has a non-zero byte; -0.0 is then dropped).

    Examples
    --------
    >>> _nonzero_positions(np.array([0, 0, 3, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], dtype=np.uint8))
    array([2, 9])
    """
    per_word = 8 // flat.itemsize
    if flat.itemsize > 8 or flat.size % per_word or not flat.flags.c_contiguous:
        return np.flatnonzero(flat != 0)
    words = np.flatnonzero(flat.view(np.uint64) != 0)
    within = np.nonzero(flat.reshape(-1, per_word)[words] != 0)
    return words[within[0]] * per_word + within[1]


def _on_grid(
    found: np.ndarray,
    values: np.ndarray,
    shape: tuple[int, ...],
    order: Literal["C", "F"],
    ornt: np.ndarray,
    grid: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """The lesion voxels at ``found`` (flat positions in an array of ``shape``, ``order``) as grid
    indices, in the grid's order: what :func:`onfh_volume.volume.lesion_voxels` finds on the
    reoriented labels, without passing over the grid again."""
    indices = np.unravel_index(found, shape, order=order)
    on_grid: list[np.ndarray] = [indices[0]] * 3
    for axis, (grid_axis, flip) in enumerate(ornt):
        on_grid[int(grid_axis)] = indices[axis] if flip > 0 else shape[axis] - 1 - indices[axis]
    position = np.ravel_multi_index(tuple(on_grid), grid)
    in_grid_order = np.argsort(position)
    return np.stack(np.unravel_index(position[in_grid_order], grid), axis=1), values[in_grid_order]


def _dicom_mask(path: Path) -> bool:
    from .dicom_mask import dicom_mask_kind  # pydicom and the mask readers: only for a DICOM file

    return dicom_mask_kind(path) is not None


def _traced_on_another_series(path: Path, description: str, scan: Scan) -> list[Note]:
    traced_on = description[len(SERIES_NOTE) :] if description.startswith(SERIES_NOTE) else None
    if traced_on and scan.series_uid and traced_on != scan.series_uid:
        return another_series_warning(path, traced_on, scan.series_uid)
    return []


def save_mask(
    path: str | PathLike[str],
    labels: np.ndarray,
    scan: Scan,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | PathLike[str]] = (),
) -> Path:
    """Save (slice, row, column) labels as NIfTI on ``scan``'s grid, atomically.

    The file is laid out as dcm2niix lays out images (column, row, slice), with qform and sform
    both set, so ITK-SNAP and 3D Slicer overlay it on the scan. It is never written over the scan
    (:func:`scan_inputs`) nor over ``inputs`` (see :func:`onfh_volume.atomic.write_set`).

    Raises
    ------
    MaskError
        When ``labels`` is not on the scan's grid (shape) or holds negative values.
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    """
    inputs = [*inputs, *scan_inputs(scan)]
    check_not_inputs([path], inputs)  # first: over an input is the graver mistake, whatever the name
    return write_atomically(path, mask_writer(path, labels, scan), overwrite=overwrite, inputs=inputs)


def scan_inputs(scan: Scan) -> list[Path]:
    """What a scan was read from, which no output may replace: its folder, or its file and a NIfTI's sidecar."""
    source = Path(scan.source)
    if source.is_dir():
        return [source]
    from .load.nifti import sidecar_path

    return [source, sidecar_path(source)]


def check_mask_name(path: str | PathLike[str]) -> None:
    """Refuse a mask name that is not a NIfTI file's (``.nii.gz`` or ``.nii``) or that is a folder.

    Examples
    --------
    >>> check_mask_name("lesions.nii.gz")
    >>> check_mask_name("lesions.txt")
    Traceback (most recent call last):
    ...
    onfh_volume.errors.OutputError: lesions.txt: a mask is saved as NIfTI: end its name in .nii.gz or .nii
    """
    if Path(path).is_dir():
        raise OutputError(path, "is a folder: name the mask file to write in it (e.g. lesions.nii.gz)")
    if not str(path).endswith((".nii.gz", ".nii")):
        raise OutputError(path, "a mask is saved as NIfTI: end its name in .nii.gz or .nii")


def mask_writer(path: str | PathLike[str], labels: np.ndarray, scan: Scan) -> Writer:
    """What writes ``labels`` as :func:`save_mask` does, to any path; ``path`` names the mask in errors.

    Raises
    ------
    MaskError
        When ``labels`` is not on the scan's grid (shape) or holds negative values.
    """
    check_mask_name(path)
    labels = np.asarray(labels)
    if labels.shape != scan.shape:
        raise MaskError(path, f"labels of shape {labels.shape} are not on the scan grid {scan.shape}")
    if labels.size and labels.min() < 0:
        raise MaskError(path, "labels must not be negative")
    top = int(labels.max()) if labels.size else 0
    dtype = (
        np.uint8
        if top <= np.iinfo(np.uint8).max
        else np.uint16
        if top <= np.iinfo(np.uint16).max
        else np.int32
    )
    from .load.nibabel_import import nib
    from .load.reorient import reorient

    column_row_slice = np.array([[2, 1], [1, 1], [0, 1]], dtype=float)
    data, affine = reorient(labels.astype(dtype, copy=False), scan.affine, column_row_slice)
    image = nib.Nifti1Image(np.ascontiguousarray(data), affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm")
    if scan.series_uid:
        image.header["descrip"] = (SERIES_NOTE + scan.series_uid).encode("ascii")
    return lambda temporary: nib.save(image, temporary)
