"""Live wire: click points along the band on one slice; the path follows the darkest route.

Qt-free: the widget (``_qt/live_wire_widget.py``) only wires events to :class:`LiveWire`. The path
between consecutive clicks is :func:`onfh_volume.trace.livewire.minimal_path` on the slice's
band cost (computed once per slice, then each click costs a single path); closing fills the
outline with :func:`onfh_volume.trace.livewire.live_wire_fill`; accepting writes the filled slice
into the lesion layer through :func:`napari_onfh_volume.tools.set_pixels`, one undo step, on
background pixels only.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from onfh_volume.errors import TracingError
from onfh_volume.trace.livewire import band_cost, live_wire_fill, minimal_path

from .layers import scan_of
from .tools import set_pixels


class LiveWire:
    """Points clicked along the band on one slice, the path through them, and its filled area.

    Parameters
    ----------
    plane
        The slice's pixels (row, column).
    pixel_spacing
        Row and column spacing in mm.
    slice_index
        Which slice of the scan ``plane`` is (where :meth:`accept` writes).

    Examples
    --------
    >>> plane = np.full((30, 30), 800.0)
    >>> plane[8, 8:22] = plane[21, 8:22] = plane[8:22, 8] = plane[8:22, 21] = 150.0  # a dark square
    >>> wire = LiveWire(plane, (1.0, 1.0), slice_index=0)
    >>> for point in [(8, 8), (8, 21), (21, 21), (21, 8)]:
    ...     wire.add(point)
    >>> int(wire.path().sum())  # three sides of the square so far
    40
    >>> int(wire.close().sum())  # the 14 x 14 square, outline included
    196
    >>> from napari.layers import Labels
    >>> lesions = Labels(np.zeros((1, 30, 30), dtype=np.uint8))
    >>> wire.accept(lesions, 2)
    196
    """

    def __init__(self, plane: np.ndarray, pixel_spacing: tuple[float, float], slice_index: int) -> None:
        self.plane = np.asarray(plane, dtype=float)
        self.pixel_spacing = (float(pixel_spacing[0]), float(pixel_spacing[1]))
        self.slice_index = int(slice_index)
        self.points: list[tuple[int, int]] = []
        self.filled: np.ndarray | None = None
        self._cost: np.ndarray | None = None
        self._segments: dict[tuple[tuple[int, int], tuple[int, int]], np.ndarray] = {}

    @classmethod
    def on_layer(cls, layer, slice_index: int) -> LiveWire:
        """A live wire on slice ``slice_index`` of a scan layer (pixels from the layer, geometry from its scan)."""
        return cls(np.asarray(layer.data[slice_index]), scan_of(layer).pixel_spacing, slice_index)

    def add(self, point: Sequence[int]) -> None:
        """Add a clicked point (row, column); a new point drops any filled area.

        Raises
        ------
        TracingError
            For a point outside the slice.
        """
        row, column = (int(v) for v in point)
        if not (0 <= row < self.plane.shape[0] and 0 <= column < self.plane.shape[1]):
            raise TracingError(
                None,
                f"a live wire point lies outside the slice of {self.plane.shape[0]} x {self.plane.shape[1]}",
            )
        self.points.append((row, column))
        self.filled = None

    def cost(self) -> np.ndarray:
        """The slice's band cost (computed on first use)."""
        if self._cost is None:
            self._cost = band_cost(self.plane, self.pixel_spacing)
        return self._cost

    def path(self) -> np.ndarray:
        """The open path so far (boolean row, column mask): minimal paths between consecutive points."""
        points = list(self.points)  # a snapshot: a click may add a point while a worker runs this
        outline = np.zeros(self.plane.shape, dtype=bool)
        for start, end in pairwise(points):
            if (start, end) not in self._segments:
                self._segments[start, end] = minimal_path(self.cost(), start, end, self.pixel_spacing)
            segment = self._segments[start, end]
            outline[segment[:, 0], segment[:, 1]] = True
        if len(points) == 1:
            outline[points[0]] = True
        return outline

    def close(self) -> np.ndarray:
        """Close the path through the first point and fill it; the filled area (boolean row, column).

        Raises
        ------
        TracingError
            With fewer than two points, or when the closed path encloses nothing.
        """
        self.filled = live_wire_fill(self.plane, self.points, self.pixel_spacing)
        return self.filled

    def close_or_refusal(self) -> np.ndarray | str:
        """:meth:`close`, with a refusal given back as its one-line reason (for a worker thread)."""
        try:
            return self.close()
        except TracingError as error:
            return error.problem

    def accept(self, layer, label: int) -> int:
        """Write the filled area into ``layer`` with ``label`` as one undo step; return the pixels set.

        Only background pixels are set, so another label is never taken over. Nothing is written
        before :meth:`close`.
        """
        if self.filled is None:
            return 0
        pixels = self.filled & (np.asarray(layer.data[self.slice_index]) == 0)
        return set_pixels(layer, pixels, label, slice_index=self.slice_index)

    def clear(self) -> None:
        """Forget the points and the filled area (the slice's cost is kept)."""
        self.points = []
        self.filled = None
