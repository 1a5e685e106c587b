"""A click on a lesion's end slice that shows only its band and plate: that slice's part of the lesion.

Where the band is cut obliquely at a lesion's end, the slice holds no marrow inside the band, and
the head finder may not even find the head's edge there: traced from alone, such a click is
refused (on the band, or not inside a head). After a tracing, a reader who clicks there (Shift+click
in Band fill) means the lesion's end on that slice. Decision: on a slice next to the end of a
lesion traced from an earlier click, the dark pixels (band, plate) connected to the click that lie
over that lesion on the neighbouring slice (give or take a pixel) and inside the head where the
slice cuts it, are the lesion there, with any marrow they enclose. A click on a
light pixel, or on dark pixels away from the lesion, keeps its refusal.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from ..scan import Scan
from .barrier import Settings, head_window
from .segment import Tracing


def end_slice(
    scan: Scan, seed: tuple[int, int, int], tracings: Sequence[Tracing], settings: Settings | None = None
) -> Tracing | None:
    """The lesion on the slice of ``seed`` next to an end of one of ``tracings`` (None: no such slice).

    ``seed`` must be on a dark pixel over that tracing's lesion on the neighbouring slice.
    """
    k = seed[0]
    for tracing in tracings:
        step = -1 if k == tracing.slices[0] - 1 else 1 if k == tracing.slices[-1] + 1 else 0
        if not step:
            continue
        window = head_window(scan, tracing.head, tracing.seed, settings or Settings())
        _k, row, column = window.local(seed)
        if not (0 <= row < window.barrier.shape[1] and 0 <= column < window.barrier.shape[2]):
            continue
        neighbour = tracing.mask[k - step, window.rows, window.columns]
        # A pixel's tolerance: the band moves a little from one slice to the next.
        dark = window.barrier[k] & ndimage.binary_dilation(neighbour)
        if window.discs[k].any():
            dark &= window.discs[k]
        parts, _count = ndimage.label(dark)
        if not parts[row, column]:
            continue
        mask = np.zeros(scan.shape, dtype=bool)
        mask[k, window.rows, window.columns] = ndimage.binary_fill_holes(parts == parts[row, column])
        return Tracing(mask, tracing.head, (k, int(seed[1]), int(seed[2])), [k])
    return None
