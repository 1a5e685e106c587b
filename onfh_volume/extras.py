"""The optional parts of onfh-volume, the packages each needs and the pip extra that installs them.

``pip install onfh-volume`` installs what ``info``, ``measure``, ``compare``, ``trace``, ``batch``,
``agreement`` and ``stats`` need. What only some options use is an extra, checked before any work
starts, so that a missing one is one line naming the extra instead of a traceback an hour into a
batch.

Examples
--------
>>> require("report", "batch --report")  # installed here: nothing to say
>>> EXTRAS["dask"]
('dask', 'distributed')
"""

from __future__ import annotations

from importlib.util import find_spec

from .errors import MissingExtraError

#: Each extra of pyproject.toml (beside ``test`` and ``bench``) and the top-level modules it installs.
EXTRAS = {
    # `batch --dask-scheduler`: the measurements on an existing Dask cluster.
    "dask": ("dask", "distributed"),
    # `export-seg`: DICOM SEG written by highdicom.
    "seg": ("highdicom",),
    # The HTML reports' plots (`batch`, `agreement`, `stats` with --report).
    "report": ("matplotlib",),
    # `pull`, `push`, `--send`, `batch --pacs`: DICOMweb (QIDO-RS, WADO-RS, STOW-RS).
    "pacs": ("dicomweb_client",),
    # `propagate` and `batch --draft-masks` at follow-up: rigid registration per hip.
    "register": ("SimpleITK",),
    # The viewer: the napari plugin and `napari-onfh-volume`.
    "napari": ("napari", "qtpy", "magicgui", "npe2"),
}


def _installed(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False  # a module blocked by an import hook, or left half-imported


def require(extra: str, what: str) -> None:
    """Refuse ``what`` unless every package of ``extra`` is installed (found without importing it).

    Raises
    ------
    MissingExtraError
        Naming the missing packages and ``pip install 'onfh-volume[EXTRA]'``.
    """
    missing = [module for module in EXTRAS[extra] if not _installed(module)]
    if missing:
        raise MissingExtraError(extra, what, missing)
