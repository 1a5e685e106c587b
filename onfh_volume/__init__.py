"""onfh-volume: necrotic lesion volume of osteonecrosis of the femoral head on hip MRI.

The pipeline, one module per step: :mod:`~onfh_volume.load` (scan with exact geometry) →
:mod:`~onfh_volume.mask` (labels on the scan's grid) → :mod:`~onfh_volume.areas` (area per slice)
→ :mod:`~onfh_volume.volume` (Σ area x thickness and Cavalieri, side) → :mod:`~onfh_volume.change`
(15% classification per hip) → :mod:`~onfh_volume.export` (plain data for files and the CLI).

This package never imports napari or Qt. Its names are imported on first use, so a command
that needs only part of the pipeline starts without loading the rest (pydicom alone takes a
third of a second).

Examples
--------
>>> import onfh_volume
>>> scan = onfh_volume.load_scan("sample_scans/dicom/sub-01/baseline", pixels=False)
>>> m = onfh_volume.measure_file(scan, "sample_scans/masks/sub-01_baseline_lesions.nii.gz")
>>> [(lesion.side, round(lesion.volume_thickness_cm3, 3)) for lesion in m.lesions]
[('right', 14.336), ('left', 8.192)]
"""

from importlib import import_module
from importlib.metadata import version as _distribution_version
from typing import Any

__version__ = _distribution_version("onfh-volume")

_HOME = {
    "CATEGORIES": "vocabulary",
    "Comparison": "change",
    "HipChange": "change",
    "classify_change": "change",
    "compare": "change",
    "GeometryError": "errors",
    "ManifestError": "errors",
    "MaskError": "errors",
    "OnfhError": "errors",
    "OutputExistsError": "errors",
    "ScanError": "errors",
    "SeveralSeriesError": "errors",
    "TracingError": "errors",
    "load_scan": "load",
    "load_mask": "mask",
    "measure_file": "mask",
    "save_mask": "mask",
    "Scan": "scan",
    "Lesion": "volume",
    "Measurement": "volume",
    "measure": "volume",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'onfh_volume' has no attribute {name!r}")
    value = getattr(import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
