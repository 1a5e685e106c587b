"""onfh-volume: necrotic lesion volume of osteonecrosis of the femoral head on hip MRI.

The pipeline, one module per step: :mod:`~onfh_volume.load` (scan with exact geometry) →
:mod:`~onfh_volume.mask` (labels on the scan's grid) → :mod:`~onfh_volume.areas` (area per slice)
→ :mod:`~onfh_volume.volume` (Σ area x thickness and Cavalieri, side) → :mod:`~onfh_volume.change`
(15% classification per hip) → :mod:`~onfh_volume.export` (plain data for files and the CLI).

This package never imports napari or Qt.
"""

__version__ = "0.1.0"

from .change import CATEGORIES, Comparison, HipChange, classify_change, compare
from .errors import (
    GeometryError,
    ManifestError,
    MaskError,
    OnfhError,
    OutputExistsError,
    ScanError,
    SeveralSeriesError,
)
from .load import load_scan
from .mask import load_mask, save_mask
from .scan import Scan
from .volume import Lesion, Measurement, measure

__all__ = [
    "CATEGORIES",
    "Comparison",
    "GeometryError",
    "HipChange",
    "Lesion",
    "ManifestError",
    "MaskError",
    "Measurement",
    "OnfhError",
    "OutputExistsError",
    "Scan",
    "ScanError",
    "SeveralSeriesError",
    "classify_change",
    "compare",
    "load_mask",
    "load_scan",
    "measure",
    "save_mask",
]
