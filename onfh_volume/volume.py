"""Step 4 of the pipeline: lesion volumes (area x thickness and Cavalieri) and the hip they lie in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .areas import pixel_counts, slice_areas_mm2
from .errors import GeometryError, MaskError
from .scan import Scan
from .side import side_of
from .vocabulary import METHODS, UNKNOWN_SIDE, Method

if TYPE_CHECKING:
    from .head.in_head import LesionInHead


def volume_cm3(pixel_count: int, pixel_spacing: tuple[float, float], slice_length_mm: float) -> float:
    """Volume in cm³ of ``pixel_count`` pixels, each slice counting ``slice_length_mm`` deep.

    Examples
    --------
    >>> volume_cm3(1000, (0.5, 0.5), 4.0)  # 1000 x 0.25 mm² x 4 mm = 1000 mm³
    1.0
    """
    return pixel_count * (pixel_spacing[0] * pixel_spacing[1]) * slice_length_mm / 1000.0


def both_volumes_cm3(scan: Scan, pixel_count: int) -> tuple[float | None, float | None]:
    """(Σ area x thickness, Σ area x spacing) of ``pixel_count`` pixels on ``scan``; None where unknown."""

    def by(length: float | None) -> float | None:
        return None if length is None else volume_cm3(pixel_count, scan.pixel_spacing, length)

    return by(scan.slice_thickness), by(scan.slice_spacing)


@dataclass(frozen=True)
class Lesion:
    """One label of a mask: a necrotic lesion in one femoral head.

    Attributes
    ----------
    label
        The mask value.
    side
        ``"right"`` or ``"left"``: the patient's hip the lesion's centroid lies in; ``"unknown"``
        only for a scan that states no orientation.
    pixel_counts
        Pixels on each slice of the scan (length = number of slices).
    slice_areas_mm2
        Traced area on each slice, mm².
    volume_thickness_cm3
        Σ area x slice thickness (the study's method); ``None`` when the thickness is unknown.
    volume_cavalieri_cm3
        Σ area x slice spacing (Cavalieri; what 3D Slicer and ITK-SNAP report); ``None`` when the
        spacing is unknown (a single slice).
    centroid_ras
        Centroid in patient RAS coordinates, mm.
    """

    label: int
    side: str
    pixel_counts: np.ndarray
    slice_areas_mm2: np.ndarray
    volume_thickness_cm3: float | None
    volume_cavalieri_cm3: float | None
    centroid_ras: tuple[float, float, float]

    @property
    def voxel_count(self) -> int:
        """Pixels of the lesion over all slices."""
        return int(self.pixel_counts.sum())

    def volume(self, method: Method) -> float | None:
        """The volume by ``method``: ``"thickness"`` (Σ area x thickness) or ``"spacing"`` (Cavalieri)."""
        return self.volume_thickness_cm3 if method == "thickness" else self.volume_cavalieri_cm3

    def traced_slices(self) -> list[tuple[int, float]]:
        """(slice index, area mm²) of every slice the lesion is traced on, in slice order."""
        return [(int(k), float(self.slice_areas_mm2[k])) for k in np.flatnonzero(self.pixel_counts)]


@dataclass
class Measurement:
    """All lesions of one mask on one scan, measured by one method.

    ``heads`` holds each lesion (by label) measured against its femoral head, once
    :func:`onfh_volume.head.add_heads` has looked at the pixels; ``None`` until then.
    """

    scan: Scan
    method: Method
    lesions: list[Lesion]
    warnings: list[str] = field(default_factory=list)
    heads: dict[int, LesionInHead] | None = None


def check_method(scan: Scan, method: Method) -> None:
    """Refuse a method whose slice length the scan does not state (never a default value)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if method == "thickness" and scan.slice_thickness is None:
        raise GeometryError(
            scan.source,
            "slice thickness unknown (no SliceThickness, or a NIfTI without a BIDS sidecar stating it): "
            "area x thickness cannot be computed; use the spacing (Cavalieri) method or supply the thickness",
        )
    if method == "spacing" and scan.slice_spacing is None:
        raise GeometryError(scan.source, "slice spacing unknown (a single slice): use the thickness method")


def measure(
    scan: Scan, labels: np.ndarray, method: Method = "thickness", *, mask_source: str | None = None
) -> Measurement:
    """Measure every lesion (non-zero label) of ``labels`` on ``scan``.

    Parameters
    ----------
    scan
        The scan the lesions were traced on.
    labels
        (slice, row, column) integer labels on the scan's grid (see :func:`onfh_volume.load_mask`).
    method
        Which volume is *the* volume: ``"thickness"`` (Σ area x slice thickness, the study's
        method) or ``"spacing"`` (Σ area x slice spacing, Cavalieri). Both are always computed
        where the geometry allows.
    mask_source
        Where ``labels`` came from, to name it in error messages.

    Examples
    --------
    >>> from onfh_volume import load_mask, load_scan
    >>> scan = load_scan("sample_scans/nifti/sub-01_baseline.nii.gz", pixels=False)
    >>> m = measure(scan, load_mask("sample_scans/masks/sub-01_baseline_lesions.nii.gz", scan))
    >>> [(lesion.label, lesion.side, round(lesion.volume_thickness_cm3, 6)) for lesion in m.lesions]
    [(1, 'right', 14.336), (2, 'left', 8.192)]
    """
    check_method(scan, method)  # before the grid: the scan alone may rule the method out
    voxels, values = lesion_voxels(scan, labels, mask_source)
    return measure_voxels(scan, voxels, values, method, mask_source=mask_source)


def lesion_voxels(
    scan: Scan, labels: np.ndarray, mask_source: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The (slice, row, column) indices of ``labels``' non-zero voxels, in the grid's order, and their labels.

    Raises
    ------
    MaskError
        When ``labels`` is not on the scan's grid.
    """
    if labels.shape != scan.shape:
        raise MaskError(mask_source, f"labels of shape {labels.shape} are not on the scan grid {scan.shape}")
    # Lesions fill a small part of the grid: find their voxels once and work on those alone
    # (a flat search of a boolean array is an order of magnitude faster than np.argwhere).
    found = np.flatnonzero(labels != 0)
    return np.stack(np.unravel_index(found, labels.shape), axis=1), labels.ravel()[found]


def measure_voxels(
    scan: Scan,
    voxels: np.ndarray,
    values: np.ndarray,
    method: Method = "thickness",
    *,
    mask_source: str | None = None,
) -> Measurement:
    """:func:`measure`, from the lesion voxels :func:`lesion_voxels` finds (or a mask reader found)."""
    check_method(scan, method)
    warnings = list(scan.warnings)
    lesions = []
    for label, counts in pixel_counts(voxels[:, 0], values, scan.shape[0]).items():
        lesion, notes = _lesion(scan, label, counts, voxels[values == label], mask_source)
        lesions.append(lesion)
        warnings += notes
    if lesions and not scan.orientation_known:
        warnings.append(
            f"side '{UNKNOWN_SIDE}': the scan does not say where the patient's left and right are"
        )
    return Measurement(scan=scan, method=method, lesions=lesions, warnings=warnings)


def _lesion(
    scan: Scan, label: int, counts: np.ndarray, voxels: np.ndarray, mask_source: str | None
) -> tuple[Lesion, list[str]]:
    """One label's lesion (side, both volumes, areas) and what the side rule warns about it."""
    decision = side_of(scan, voxels, label)
    side, straddles, warnings = decision.side, decision.straddles, list(decision.warnings)
    if not scan.orientation_known:
        side, straddles, warnings = UNKNOWN_SIDE, False, []
    elif not side:
        raise MaskError(
            mask_source, f"label {label} is centred on the patient's midline: cannot tell which hip"
        )
    if straddles:
        warnings.append(
            f"label {label} extends across the patient's midline: one label should not cover both "
            "hips (give each hip's lesion its own label)"
        )
    thickness_cm3, cavalieri_cm3 = both_volumes_cm3(scan, int(counts.sum()))
    centroid = decision.centroid
    lesion = Lesion(
        label=label,
        side=side,
        pixel_counts=counts,
        slice_areas_mm2=slice_areas_mm2(counts, scan.pixel_spacing),
        volume_thickness_cm3=thickness_cm3,
        volume_cavalieri_cm3=cavalieri_cm3,
        centroid_ras=(float(centroid[0]), float(centroid[1]), float(centroid[2])),
    )
    return lesion, warnings
