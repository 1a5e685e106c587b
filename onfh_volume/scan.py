"""The scan object every step of the pipeline works on, and its grid geometry."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Two positions closer than this (mm), or within this fraction of the slice step, are "the same".
TOLERANCE_MM = 0.1
TOLERANCE_REL = 0.01

# DICOM patient coordinates are LPS, NIfTI/nibabel ones RAS: x and y change sign.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


GRID_TOLERANCE_VOXELS = 0.01
"""A voxel may sit this far (in voxels) from another and still be "the same voxel": far below any
real misregistration, far above the float32 rounding of NIfTI headers."""


#: Which end of each axis the 8 corners of a box take, in the order of np.meshgrid(..., indexing="ij").
_CORNER_ENDS = np.indices((2, 2, 2)).reshape(3, -1).T.astype(bool)


def box_corners(low: float | np.ndarray, high: np.ndarray) -> np.ndarray:
    """The (8, 3) corners of the box from ``low`` to ``high`` on each axis: np.meshgrid's, a tenth of its time.

    Examples
    --------
    >>> box_corners(0, np.array([2, 3, 4]))[[0, 1, 7]].tolist()
    [[0, 0, 0], [0, 0, 4], [2, 3, 4]]
    """
    return np.where(_CORNER_ENDS, high, low)


def tolerance(step_mm: float) -> float:
    """Allowed deviation (mm) of a geometric length of about ``step_mm``: 0.1 mm or 1%, the larger."""
    return max(TOLERANCE_MM, TOLERANCE_REL * abs(step_mm))


@dataclass
class Scan:
    """A loaded hip MRI with exact geometry.

    Attributes
    ----------
    voxels
        Image array in (slice, row, column) order; slices are sorted by position along the slice
        normal (row direction x column direction, as DICOM defines it). ``None`` when the scan was
        loaded for its geometry only (``load_scan(..., pixels=False)``).
    pixel_spacing
        (row spacing, column spacing) in mm: the distance between rows, then between columns.
    slice_thickness
        Nominal slice thickness in mm (DICOM SliceThickness, or a NIfTI's BIDS sidecar); ``None``
        when the file does not state it: it is never guessed.
    slice_spacing
        Centre-to-centre distance of adjacent slices in mm, from the slice positions (DICOM) or the
        affine (NIfTI); ``None`` for a single slice whose file states no spacing.
    affine
        4 x 4 matrix from voxel index (slice, row, column) to patient coordinates in mm, RAS+
        (the NIfTI/nibabel convention; DICOM's LPS has x and y negated).
    source
        The path the scan was loaded from.
    series_uid
        DICOM SeriesInstanceUID, ``None`` for NIfTI.
    warnings
        Geometry facts the reader should know (slice gap, overlap, header disagreements).
    orientation_known
        False for a NIfTI whose header states no orientation: left and right are then unknown.
    grid
        (slices, rows, columns); taken from ``voxels`` when they are loaded.
    laterality
        What the file says of the side imaged: DICOM ``Laterality``, ``ImageLaterality`` and
        ``SeriesDescription`` as stated (a NIfTI's BIDS sidecar may state the description);
        :func:`onfh_volume.side.stated_sides` reads them.
    sop_class_uid
        The DICOM storage class of the scan's files (MR Image Storage...), ``None`` for NIfTI.
    """

    voxels: np.ndarray | None
    pixel_spacing: tuple[float, float]
    slice_thickness: float | None
    slice_spacing: float | None
    affine: np.ndarray
    source: str
    series_uid: str | None = None
    warnings: list[str] = field(default_factory=list)
    orientation_known: bool = True
    grid: tuple[int, int, int] | None = None
    laterality: dict[str, str] = field(default_factory=dict)
    sop_class_uid: str | None = None

    def __post_init__(self) -> None:
        if self.voxels is not None:
            s, r, c = self.voxels.shape
            if self.grid is not None and self.grid != (s, r, c):
                raise ValueError(f"grid {self.grid} disagrees with the voxels' shape {self.voxels.shape}")
            self.grid = (s, r, c)
        elif self.grid is None:
            raise ValueError("a scan needs its voxels or its grid shape")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(slices, rows, columns)."""
        assert self.grid is not None  # set by __post_init__
        return self.grid

    @property
    def orientation(self) -> str:
        """Patient direction of increasing (slice, row, column) index, e.g. ``"PIL"`` for coronal."""
        return axcodes(self.affine)

    def index_to_patient(self, indices: np.ndarray) -> np.ndarray:
        """Map (N, 3) voxel indices (slice, row, column) to (N, 3) RAS coordinates in mm."""
        indices = np.asarray(indices, dtype=float)
        return indices @ self.affine[:3, :3].T + self.affine[:3, 3]

    def same_grid(self, other: Scan) -> bool:
        """True when ``other`` has this scan's voxel grid: the same shape, every voxel in the same place.

        "The same place" is within :data:`GRID_TOLERANCE_VOXELS` of a voxel at every corner of the
        grid: the one test of a shared grid (masks, timepoints, layers).

        Examples
        --------
        >>> def grid(shape, affine=np.diag([0.8, 0.8, 4.0, 1.0])):
        ...     return Scan(None, (0.8, 0.8), 4.0, 4.0, affine, "a scan", grid=shape)
        >>> shifted = np.diag([0.8, 0.8, 4.0, 1.0]); shifted[0, 3] = 0.4  # half a voxel
        >>> grid((3, 4, 5)).same_grid(grid((3, 4, 5))), grid((3, 4, 5)).same_grid(grid((3, 4, 6)))
        (True, False)
        >>> grid((3, 4, 5)).same_grid(grid((3, 4, 5), shifted))
        False
        """
        if self.shape != other.shape:
            return False
        corners = box_corners(0, np.array(self.shape) - 1).T
        homogeneous = np.vstack([corners, np.ones(corners.shape[1])])
        mapped = np.linalg.solve(self.affine, other.affine @ homogeneous)[:3]
        return bool(np.all(np.isfinite(mapped)) and np.abs(mapped - corners).max() <= GRID_TOLERANCE_VOXELS)

    def centre(self) -> np.ndarray:
        """RAS coordinates (mm) of the centre of the voxel grid."""
        return self.index_to_patient((np.array(self.shape, dtype=float)[None, :] - 1) / 2)[0]

    def left_right_extent_mm(self) -> float:
        """Width of the imaged field along the patient's left-right axis, in mm."""
        corners = box_corners(-0.5, np.array(self.shape) - 0.5)
        x = self.index_to_patient(corners)[:, 0]
        return float(x.max() - x.min())


def axcodes(affine: np.ndarray) -> str:
    """Patient direction (RAS letters) each voxel axis mostly points to, as nibabel's ``aff2axcodes``.

    Each axis takes the patient axis it has the largest component along, the axes being assigned
    largest component first, so that no two share one (nibabel's ``io_orientation`` on the
    orthonormalised matrix does the same; written here so a DICOM scan never imports nibabel).

    Examples
    --------
    >>> axcodes(np.diag([-1.0, 2.0, 3.0, 1.0]))
    'LAS'
    """
    directions = np.asarray(affine, dtype=float)[:3, :3]
    # Orthonormalise as nibabel does (polar decomposition), so a sheared axis is read like it.
    u, _, vt = np.linalg.svd(directions / np.linalg.norm(directions, axis=0))
    rotation = np.abs(u @ vt)
    signed = u @ vt
    codes = ["", "", ""]
    free_patient, free_voxel = {0, 1, 2}, {0, 1, 2}
    for _ in range(3):
        patient, voxel = max(
            ((p, v) for p in free_patient for v in free_voxel), key=lambda pv: rotation[pv[0], pv[1]]
        )
        codes[voxel] = ("RAS" if signed[patient, voxel] > 0 else "LPI")[patient]
        free_patient.discard(patient)
        free_voxel.discard(voxel)
    return "".join(codes)


def gap_warning(slice_thickness: float | None, slice_spacing: float | None) -> list[str]:
    """Say how far area x thickness will fall below area x spacing, when thickness and spacing differ."""
    if slice_thickness is None or slice_spacing is None:
        return []
    difference = slice_spacing - slice_thickness
    if abs(difference) <= tolerance(slice_spacing):
        return []
    percent = 100 * difference / slice_spacing
    kind = f"slice gap of {difference:.3g} mm" if difference > 0 else f"slice overlap of {-difference:.3g} mm"
    relation = "below" if difference > 0 else "above"
    return [
        f"{kind}: slices are {slice_thickness:.4g} mm thick every {slice_spacing:.4g} mm, so the "
        f"area x thickness volume is {abs(percent):.1f}% {relation} the Cavalieri (area x spacing) volume"
    ]
