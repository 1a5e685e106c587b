"""A lesion measured against its femoral head: the head, the measures relative to it, or why none.

Its own module, apart from the measuring: a :class:`~onfh_volume.volume.Measurement` holds these
results, and the measuring reads Measurements.
"""

from __future__ import annotations

from dataclasses import dataclass

from .fit import HeadSphere
from .measures import KerboulAngle


@dataclass(frozen=True)
class LesionInHead:
    """A lesion measured against its femoral head; ``failure`` says why not, when ``head`` is None.

    ``necrotic_ratio_pct`` and ``steinberg_extent`` are None also when the scan states no slice
    spacing (a single slice: no Cavalieri volume). ``steinberg_near`` is the class boundary (15 or
    30 %) the ratio lies within 1 point of, if any. ``collapse_depth_mm`` is the depth of the
    surface over the lesion below the intact surface's sphere (image heads only), ``collapse`` its
    ARCO 2019 reading against the scan's detection limit.
    """

    head: HeadSphere | None
    necrotic_ratio_pct: float | None = None
    steinberg_extent: str | None = None
    kerboul: KerboulAngle | None = None
    failure: str | None = None
    steinberg_near: float | None = None
    collapse_depth_mm: float | None = None
    collapse: str | None = None
