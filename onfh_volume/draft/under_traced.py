"""Whether a drafted lesion's tracing stops short of its band: a draft the reader must look at.

Band fill follows the band slice by slice; where the band is open wider than its closing bridges,
or cut so obliquely that the marrow inside it is lost, the tracing may stop early or keep only the
band's rim on a slice. Two signs of that, either of which makes a detected lesion ``uncertain``:

- **the band runs on**: on the slice beyond the tracing's first or last one, where the slice still
  cuts the head well inside its edge (``WELL_INSIDE``), a dark line deeper than the subchondral plate lies within the lesion's
  footprint (its outline over all traced slices, and ``NEAR_MM`` around it) over at least
  ``BAND_MM2``: the lesion goes on there (past a lesion's true end, that slice shows healthy
  marrow under the footprint, with at most specks of dark);
- **a slice falls short**: a slice that cuts the head steeply, between two traced slices, holds
  less than either neighbour's tracing and less than ``SHORT_SHARE`` of the larger one (a
  lesion's cross-sections change smoothly from slice to slice, and shrink towards its ends, never
  dip in between: the band's gap let the marrow go).

Examples
--------
A lesion traced on three slices whose middle one holds a tenth of its neighbours' area:

>>> areas = np.array([0.0, 100.0, 10.0, 120.0, 0.0])
>>> short_slices(areas, np.ones(5, dtype=bool))
[2]
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..trace.barrier import HeadWindow

STEEP = 0.5  # slices whose cross-section of the head is at least this share of its radius
#: Beyond a tracing's end, only a slice this far inside the head's edge counts: nearer the edge,
#: partial volume of the curved surface darkens the marrow under any lesion's footprint.
WELL_INSIDE = 0.7
DEPTH_MM = 5.0  # deeper than the subchondral plate and its partial volume
BAND_MM2 = 10.0
NEAR_MM = 3.0
SHORT_SHARE = 0.2


def short_slices(areas: np.ndarray, steep: np.ndarray) -> list[int]:
    """Steep slices between traced ones whose area is under ``SHORT_SHARE`` of a neighbour's."""
    traced = np.nonzero(areas > 0)[0]
    short = []
    for k in range(int(traced[0]) + 1, int(traced[-1])) if traced.size else ():
        neighbours = areas[k - 1], areas[k + 1]
        if steep[k] and areas[k] < min(SHORT_SHARE * max(neighbours), min(neighbours)):
            short.append(k)
    return short


def under_traced(window: HeadWindow, lesion: np.ndarray, radius_mm: float) -> list[str]:
    """Why the tracing ``lesion`` (window coordinates) stops short of its band; empty when it does not."""
    steep = window.radii >= STEEP * radius_mm
    areas = lesion.sum(axis=(1, 2)) * float(np.prod(window.pixel_spacing))
    traced = np.nonzero(areas > 0)[0]
    if traced.size == 0:
        return []
    reasons = [
        f"slice {k} is traced over {areas[k]:.0f} mm² only, between slices of "
        f"{areas[k - 1]:.0f} and {areas[k + 1]:.0f} mm²: part of its band left open?"
        for k in short_slices(areas, steep)
    ]
    footprint = lesion.any(axis=0)
    near = ndimage.distance_transform_edt(~footprint, sampling=window.pixel_spacing) <= NEAR_MM
    for last, beyond in ((traced[0], traced[0] - 1), (traced[-1], traced[-1] + 1)):
        if not 0 <= beyond < lesion.shape[0] or window.radii[beyond] < WELL_INSIDE * radius_mm:
            continue
        band = window.barrier[beyond] & (window.depth[beyond] > DEPTH_MM) & near
        band_mm2 = float(np.count_nonzero(band) * np.prod(window.pixel_spacing))
        if band_mm2 >= BAND_MM2:
            reasons.append(
                f"the band runs on past the tracing's end slice {last}: {band_mm2:.0f} mm² of it on slice {beyond}"
            )
    return reasons
