"""One measurement from files: a lesion mask on its scan, with or without each lesion's femoral head.

The one home of "measure a mask file", for ``measure``, ``compare``, ``trace``, ``batch``,
``export-sr``, the PACS send, the plugin and :func:`onfh_volume.measure_file`: the mask is read and checked (:mod:`~onfh_volume.mask`),
measured (:mod:`~onfh_volume.volume`), its warnings kept, and, when asked, each lesion is measured
against its femoral head (:mod:`~onfh_volume.head`), found in the image or given by the reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike

import numpy as np

from .mask import load_mask, mask_on_grid
from .mask_series import load_scan_for_mask
from .scan import Scan
from .vocabulary import Method
from .volume import Measurement, check_method, measure, measure_voxels


def measure_labels(
    scan: Scan,
    labels: np.ndarray,
    method: Method = "thickness",
    *,
    mask_source: str | None = None,
    heads: bool = False,
    points: Mapping[str, np.ndarray] | None = None,
    head_labels: np.ndarray | None = None,
) -> Measurement:
    """Measure ``labels`` on ``scan``; with ``heads``, each lesion against its femoral head too.

    ``points`` (surface points by side, RAS mm) and ``head_labels`` (traced heads on the scan's
    grid) are the reader's heads (see :func:`onfh_volume.head.lesions_in_heads`); they are used
    with ``heads`` only, which needs the scan's pixels.

    Examples
    --------
    >>> from onfh_volume import load_mask, load_scan
    >>> scan = load_scan("sample_scans/dicom/sub-02/baseline")
    >>> labels = load_mask("sample_scans/masks/sub-02_baseline_lesions.nii.gz", scan)
    >>> measurement = measure_labels(scan, labels, heads=True)
    >>> measurement.heads[1].steinberg_extent  # drawn with a 23.5 mm radius
    'B'
    """
    measurement = measure(scan, labels, method, mask_source=mask_source)
    return _with_heads(measurement, labels, points, head_labels) if heads else measurement


def measure_file(
    scan: Scan,
    mask_path: str | PathLike[str],
    method: Method = "thickness",
    roi: Sequence[str] = (),
    *,
    heads: bool = False,
    points: Mapping[str, np.ndarray] | None = None,
    head_mask_path: str | PathLike[str] | None = None,
) -> Measurement:
    """Measure the lesion mask file ``mask_path`` on ``scan``, with the mask's own warnings.

    The method is checked before the mask is read, so a scan that cannot give the volume asked
    for is refused without reading anything else. ``roi`` names the segments or ROIs of a DICOM
    mask to measure (:func:`onfh_volume.mask.load_mask_with_warnings`). ``heads``, ``points`` as in
    :func:`measure_labels`; ``head_mask_path`` is a traced head mask on the scan's grid.

    Examples
    --------
    >>> from onfh_volume import load_scan
    >>> scan = load_scan("sample_scans/dicom/sub-01/baseline", pixels=False)
    >>> [lesion.voxel_count for lesion in measure_file(scan, "sample_scans/masks/sub-01_baseline_lesions.nii.gz").lesions]
    [1400, 800]
    """
    check_method(scan, method)
    mask = mask_on_grid(mask_path, scan, roi)
    measurement = measure_voxels(scan, mask.voxels, mask.values, method, mask_source=str(mask_path))
    measurement.warnings += mask.warnings
    if not heads:
        return measurement
    head_labels = None if head_mask_path is None else load_mask(head_mask_path, scan)
    return _with_heads(measurement, mask.labels, points, head_labels)


def measure_files(
    scan_path: str | PathLike[str],
    mask_path: str | PathLike[str],
    method: Method = "thickness",
    *,
    series: str | None = None,
    roi: Sequence[str] = (),
    heads: bool = False,
    head_points_path: str | PathLike[str] | None = None,
    head_mask_path: str | PathLike[str] | None = None,
) -> Measurement:
    """Load the scan (the series a DICOM mask references, in a folder of several) and measure the mask.

    The scan's pixels are read only for the heads. ``head_points_path`` is a CSV of the reader's
    points on a head's surface (:func:`onfh_volume.head.points_file.read_head_points`); the rest as
    in :func:`measure_file`.

    Examples
    --------
    >>> measurement = measure_files(
    ...     "sample_scans/dicom/sub-01/baseline", "sample_scans/masks/sub-01_baseline_lesions.nii.gz"
    ... )
    >>> [lesion.side for lesion in measurement.lesions], measurement.heads is None
    (['right', 'left'], True)
    """
    scan = load_scan_for_mask(scan_path, mask_path, series=series, pixels=heads)
    points = None
    if heads and head_points_path is not None:
        from .head.points_file import read_head_points

        points = read_head_points(head_points_path)
    return measure_file(
        scan, mask_path, method, roi, heads=heads, points=points, head_mask_path=head_mask_path
    )


def _with_heads(
    measurement: Measurement,
    labels: np.ndarray,
    points: Mapping[str, np.ndarray] | None,
    head_labels: np.ndarray | None,
) -> Measurement:
    # The head finder (scipy's filters) is imported only by a measurement that asks for the heads.
    from .head import add_heads

    return add_heads(measurement, labels, points=points, head_labels=head_labels)
