"""nibabel, imported without the optional packages it would load for what onfh-volume never uses.

On its own import nibabel imports pydicom (for DICOM extensions inside NIfTI headers) and scipy
(for SPM's .mat sidecars of Analyze images) whenever they are installed: 0.2 to 0.4 s, more than
measuring a hundred masks. Neither feature reads a NIfTI image's voxels or its geometry, so they
are switched off for nibabel only, while it is imported: onfh-volume itself still imports pydicom
and scipy whenever it needs them (a DICOM SEG mask, the head fit). nibabel then keeps a DICOM
extension as its raw bytes, which onfh-volume does not read.

Examples
--------
>>> import nibabel
>>> nib is nibabel
True
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from types import ModuleType

#: What nibabel imports on its import for features outside onfh-volume's use.
UNUSED_BY_NIBABEL = ("pydicom", "scipy")


class _NotForNibabel(importlib.abc.MetaPathFinder):
    """Refuses ``names`` to the thread importing nibabel only: another thread (a napari worker
    fitting a head with scipy, say) importing one of them at that instant must still get it."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.thread = threading.get_ident()

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if threading.get_ident() == self.thread and name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"{name} is not imported with nibabel", name=name)


def _import_nibabel() -> ModuleType:
    if "nibabel" in sys.modules:
        return sys.modules["nibabel"]
    finder = _NotForNibabel({name for name in UNUSED_BY_NIBABEL if name not in sys.modules})
    sys.meta_path.insert(0, finder)
    try:
        import nibabel
    finally:
        sys.meta_path.remove(finder)
    return nibabel


nib = _import_nibabel()
