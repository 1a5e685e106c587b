"""Writer contribution: a lesion labels layer as NIfTI on its scan's grid (ITK-SNAP and Slicer overlay it)."""

from __future__ import annotations

from typing import Any

import numpy as np

from onfh_volume import MaskError, save_mask
from onfh_volume.scan import Scan

from .layers import SCAN_KEY


def write_labels(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Save a labels layer of onfh-volume as NIfTI; an existing file is never replaced.

    Raises
    ------
    MaskError
        When the layer does not carry its scan's geometry (it was not made on a scan by this
        plugin), so its grid in patient space is unknown.
    OutputExistsError
        When ``path`` exists: the Lesion volume widget's Save asks before replacing a tracing.
    """
    scan = attributes.get("metadata", {}).get(SCAN_KEY)
    if not isinstance(scan, Scan):
        raise MaskError(
            path,
            f"layer '{attributes.get('name')}' has no scan geometry: create lesion layers with the "
            "Lesion volume widget, or open masks through onfh-volume",
        )
    return [str(save_mask(path, np.asarray(data), scan))]
