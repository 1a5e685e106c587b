"""The active timepoint: the one scan of a viewer being traced, and its lesion layer.

Qt-free. One per viewer (:meth:`ActiveTimepoint.of`), shared by every dock: the Lesion volume
dock's tracing session, its Fill tools and Fit heads, Band fill and Live wire all act on this scan
and its lesion layer, and only on them. Choosing a scan shows it on top with its tracing, the
tracing selected (so the brush paints where the reader looks) and named on the canvas; a scan
opened later becomes the active one, as it is the one on screen.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from onfh_volume.scan import Scan

from .layers import is_lesion_layer, is_scan_layer, scan_of

#: viewer id -> (weak reference to the viewer, its active timepoint).
_SHARED: dict[int, tuple[weakref.ref, ActiveTimepoint]] = {}


class ActiveTimepoint:
    """Which scan layer of ``viewer`` is being traced; its lesion layer is found from it.

    Examples
    --------
    >>> from napari.components import ViewerModel
    >>> from onfh_volume import load_scan
    >>> from napari_onfh_volume.layers import lesion_layer, scan_layer
    >>> viewer = ViewerModel()
    >>> for timepoint in ("baseline", "followup"):
    ...     scan = load_scan(f"sample_scans/dicom/sub-02/{timepoint}")
    ...     data, kwargs, _kind = scan_layer(scan)
    ...     _ = viewer.add_image(data, **kwargs)
    ...     data, kwargs, _kind = lesion_layer(scan)
    ...     _ = viewer.add_labels(data, **kwargs)
    >>> active = ActiveTimepoint.of(viewer)
    >>> active.title("tracing")  # the scan opened last is the one on screen
    'sub-02 followup · tracing'
    >>> active.choose("sub-02 baseline")
    >>> [layer.name for layer in viewer.layers][-2:], viewer.layers.selection.active.name
    (['sub-02 baseline', 'sub-02 baseline lesions'], 'sub-02 baseline lesions')
    >>> ActiveTimepoint.of(viewer) is active
    True
    """

    def __init__(self, viewer: Any) -> None:
        self._viewer = weakref.ref(viewer)  # the registry must not keep a closed viewer alive
        self._scan: Any = None
        self._known: list[weakref.ref] = []
        self._followers: list[Callable[[], None]] = []

    @classmethod
    def of(cls, viewer: Any) -> ActiveTimepoint:
        """The active timepoint of ``viewer`` (made on first use, then the same one for every dock).

        napari hands each dock widget its own public-only proxy of the viewer: the timepoint is
        the viewer's own, found through the proxy's ``__wrapped__``, so every dock shares it.
        """
        viewer = getattr(viewer, "__wrapped__", viewer)
        entry = _SHARED.get(id(viewer))
        if entry is not None and entry[0]() is viewer:
            return entry[1]
        made = cls(viewer)
        _SHARED[id(viewer)] = (weakref.ref(viewer), made)
        weakref.finalize(viewer, _SHARED.pop, id(viewer), None)
        return made

    @property
    def viewer(self) -> Any:
        return self._viewer()

    # --- which scan ---------------------------------------------------------------------------

    def scan_layers(self) -> list:
        """The scan layers, in the viewer's order."""
        return [layer for layer in self.viewer.layers if is_scan_layer(layer)]

    def refresh(self) -> None:
        """After layers were added or removed: a newly opened scan becomes active; a removed one is replaced."""
        layers = self.scan_layers()
        known = [ref() for ref in self._known]
        opened = [layer for layer in layers if not any(layer is k for k in known)]
        self._known = [weakref.ref(layer) for layer in layers]
        if opened:
            self._scan = opened[-1]
        elif not any(layer is self._scan for layer in layers):
            self._scan = layers[-1] if layers else None

    def scan_layer(self) -> Any:
        """The active scan layer (None without a scan)."""
        self.refresh()
        return self._scan

    @property
    def scan_name(self) -> str | None:
        layer = self.scan_layer()
        return None if layer is None else layer.name

    def scan(self) -> Scan | None:
        """Geometry of the active scan."""
        layer = self.scan_layer()
        return None if layer is None else scan_of(layer)

    def lesion_layer_of(self, scan: Scan) -> Any:
        """The lesion layer traced on ``scan`` (never another scan's, even on the same grid)."""
        return next(
            (
                layer
                for layer in self.viewer.layers
                if is_lesion_layer(layer) and scan_of(layer).source == scan.source
            ),
            None,
        )

    def lesions(self) -> Any:
        """The active scan's lesion layer (None when it has none yet)."""
        scan = self.scan()
        return None if scan is None else self.lesion_layer_of(scan)

    def choose(self, name: str | None, show: bool = True) -> None:
        """Make the scan layer named ``name`` active and show it (None or an unknown name: no change).

        ``show=False`` (while the timepoints are side by side, their layers laid out in the grid):
        its tracing is only selected, and shown on top when the reader is back to tracing. The
        docks that follow the active timepoint (:meth:`follow`) are told.
        """
        layer = next((layer for layer in self.scan_layers() if layer.name == name), None)
        if layer is None:
            return
        self._scan = layer
        if show:
            self.show()
        else:
            lesions = self.lesions()
            self.viewer.layers.selection.active = lesions if lesions is not None else layer
        for follower in list(self._followers):
            follower()

    def follow(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever a scan is chosen (by any dock); :meth:`unfollow` stops it."""
        self._followers.append(callback)

    def unfollow(self, callback: Callable[[], None]) -> None:
        if callback in self._followers:
            self._followers.remove(callback)

    # --- what the reader sees -----------------------------------------------------------------

    def show(self) -> None:
        """The active scan and its tracing on top and visible, the tracing selected and named on the canvas."""
        scan = self.scan_layer()
        if scan is None:
            return
        lesions = self.lesions()
        layers = self.viewer.layers
        for layer in (scan, lesions):
            if layer is not None:
                layers.move(layers.index(layer), len(layers))
                set_visible(layer, True)
        layers.selection.active = lesions if lesions is not None else scan
        captions(self.viewer, [lesions if lesions is not None else scan])

    def title(self, doing: str) -> str:
        """What the reader is doing, and on which scan: e.g. ``sub-01 followup · tracing``."""
        name = self.scan_name
        return doing if name is None else f"{name} · {doing}"


def set_visible(layer: Any, visible: bool) -> None:
    """Show or hide ``layer``, its mode (the brush) untouched when it is already so.

    napari puts a layer in pan/zoom mode when it is hidden and gives its mode back when it is
    shown; told to be visible when it already is, it is put in pan/zoom too, and the tracing would
    stop painting.

    Examples
    --------
    >>> import numpy as np
    >>> from napari.components import ViewerModel
    >>> layer = ViewerModel().add_labels(np.zeros((2, 4, 4), dtype=np.uint8))
    >>> layer.mode = "paint"
    >>> set_visible(layer, True)
    >>> layer.mode
    'paint'
    >>> set_visible(layer, False); set_visible(layer, True); layer.mode
    'paint'
    """
    if layer.visible != visible:
        layer.visible = visible


def captions(viewer: Any, layers: list) -> None:
    """Show the name of each of ``layers`` on the canvas (in its grid cell side by side); no other."""
    for layer in viewer.layers:
        layer.name_overlay.visible = any(layer == shown for shown in layers)  # ==: proxies too


@contextmanager
def selection_kept(viewer: Any) -> Iterator[None]:
    """Within the block, layers may be added or removed: the reader's selected layer stays selected."""
    active = viewer.layers.selection.active
    try:
        yield
    finally:
        if active is not None and active in viewer.layers:
            viewer.layers.selection.active = active
