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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # What the lazy names below are, for type checkers and editors (at run time each is imported
    # from its module on first use). Kept equal to _HOME by tests/core/test_package_face.py.
    from .change import Comparison as Comparison
    from .change import HipChange as HipChange
    from .change import classify_change as classify_change
    from .change import compare as compare
    from .errors import GeometryError as GeometryError
    from .errors import ManifestError as ManifestError
    from .errors import MaskError as MaskError
    from .errors import NonFiniteError as NonFiniteError
    from .errors import OnfhError as OnfhError
    from .errors import OutputError as OutputError
    from .errors import OutputExistsError as OutputExistsError
    from .errors import OutputIsInputError as OutputIsInputError
    from .errors import ScanError as ScanError
    from .errors import SeveralSeriesError as SeveralSeriesError
    from .errors import TracingError as TracingError
    from .load import load_scan as load_scan
    from .mask import load_mask as load_mask
    from .mask import save_mask as save_mask
    from .measure_files import measure_file as measure_file
    from .scan import Scan as Scan
    from .vocabulary import CATEGORIES as CATEGORIES
    from .volume import Lesion as Lesion
    from .volume import Measurement as Measurement
    from .volume import measure as measure

    __version__: str

_HOME = {
    "CATEGORIES": "vocabulary",
    "Comparison": "change",
    "HipChange": "change",
    "classify_change": "change",
    "compare": "change",
    "GeometryError": "errors",
    "ManifestError": "errors",
    "MaskError": "errors",
    "NonFiniteError": "errors",
    "OnfhError": "errors",
    "OutputError": "errors",
    "OutputExistsError": "errors",
    "OutputIsInputError": "errors",
    "ScanError": "errors",
    "SeveralSeriesError": "errors",
    "TracingError": "errors",
    "load_scan": "load",
    "load_mask": "mask",
    "measure_file": "measure_files",
    "save_mask": "mask",
    "Scan": "scan",
    "Lesion": "volume",
    "Measurement": "volume",
    "measure": "volume",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> object:
    if name == "__version__":
        # importlib.metadata takes 60 ms to import: only what asks for the version pays for it.
        from importlib.metadata import version

        globals()[name] = version("onfh-volume")
        return globals()[name]
    if name not in _HOME:
        raise AttributeError(f"module 'onfh_volume' has no attribute {name!r}")
    value = getattr(import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
