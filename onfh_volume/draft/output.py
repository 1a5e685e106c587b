"""Writing a drafted mask, and the plain data of a draft for ``--json``."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputExistsError
from ..head.fit import HeadSphere
from ..scan import Scan


def check_output(output: str | PathLike[str], inputs: list[str | PathLike[str]], overwrite: bool) -> None:
    """Refuse a mask name that is no NIfTI's, an input's path, or an existing file without ``overwrite``.

    Examples
    --------
    >>> check_output("draft.nii.gz", ["scan.nii.gz"], overwrite=False)
    >>> check_output("scan.nii.gz", ["scan.nii.gz"], overwrite=True)
    Traceback (most recent call last):
    ...
    onfh_volume.errors.OutputExistsError: scan.nii.gz: is an input of this command: an input is never overwritten
    """
    from ..mask import check_mask_name

    check_mask_name(output)
    if any(Path(output).resolve() == Path(path).resolve() for path in inputs):
        raise OutputExistsError(output, "is an input of this command: an input is never overwritten")
    if Path(output).exists() and not overwrite:
        raise OutputExistsError(output, "file exists; refusing to overwrite it (--force replaces it)")


def head_dict(head: HeadSphere) -> dict[str, Any]:
    """The head's sphere, fit and quality, as the JSON gives it."""
    return {
        "centre_ras_mm": [round(float(v), 2) for v in head.centre_ras],
        "radius_mm": round(head.radius_mm, 2),
        "fit_rms_mm": round(head.fit_rms_mm, 3),
        "quality": head.quality,
        "reasons": list(head.reasons),
    }


def missing_hip_dict(side: str) -> dict[str, Any]:
    """A hip whose head was not found, as the JSON gives it: ``uncertain``, nothing measured.

    Examples
    --------
    >>> missing_hip_dict("left")["status"], missing_hip_dict("left")["label"]
    ('uncertain', 2)
    """
    from ..vocabulary import LABEL_OF_SIDE
    from .field_edge import not_found

    return {
        "side": side,
        "label": LABEL_OF_SIDE[side],
        "status": "uncertain",
        "reasons": [not_found(side)],
        "seed_ras_mm": None,
        "volume_thickness_cm3": None,
        "volume_cavalieri_cm3": None,
        "head": None,
    }


def volumes_cm3(scan: Scan, labels: np.ndarray, label: int) -> dict[str, float | None]:
    """The lesion ``label``'s volume by both methods (Σ area x thickness, Cavalieri), cm³; 0 when empty."""
    count = int(np.count_nonzero(labels == label))
    area = float(np.prod(scan.pixel_spacing))
    return {
        "volume_thickness_cm3": None
        if scan.slice_thickness is None
        else count * area * scan.slice_thickness / 1000,
        "volume_cavalieri_cm3": None
        if scan.slice_spacing is None
        else count * area * scan.slice_spacing / 1000,
    }
