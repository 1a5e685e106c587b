"""The tracing session: which scan a lesion layer belongs to, unsaved edits, autosave, recovery, saving.

Qt-free model of the Lesion volume widget (the widget in ``_qt`` only wires its buttons and keys
to it): it works on a napari ``ViewerModel``, asks the reader yes/no questions through the
``ask`` callable it is given, and reports problems as :class:`~onfh_volume.OnfhError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from onfh_volume import OnfhError, load_mask
from onfh_volume.errors import TracingError
from onfh_volume.record import RecordPaths, save_record
from onfh_volume.scan import Scan
from onfh_volume.vocabulary import RIGHT_LABEL
from onfh_volume.volume import Measurement

from . import recovery
from .layers import SCAN_KEY, is_lesion_layer, is_scan_layer, lesion_layer, scan_name, scan_of
from .provenance import MASK_FILE_KEY, Marked, by_field, slice_sources
from .readout import LiveReadout
from .timepoint import ActiveTimepoint, captions

if TYPE_CHECKING:
    from onfh_volume.head import LesionInHead

Ask = Callable[[str, str], bool]


@dataclass(frozen=True)
class SaveOrder:
    """A tracing to save, the reader's questions answered: written by :meth:`write` (any thread)."""

    paths: RecordPaths
    labels: np.ndarray
    scan: Scan
    reader: str | None
    overwrite: bool
    aided: dict

    def write(self, heads: Mapping[int, LesionInHead] | None = None) -> Measurement:
        """Write the mask, JSON and CSV; ``heads`` go into the JSON.

        Raises
        ------
        OnfhError
            When the tracing cannot be measured or written.
        """
        return save_record(
            self.paths.mask,
            self.labels,
            self.scan,
            method="thickness" if self.scan.slice_thickness is not None else "spacing",
            reader=self.reader,
            overwrite=self.overwrite,
            aided=self.aided,
            heads=heads,
        )


def _digest(data) -> bytes:
    """A fingerprint of a mask's content: unsaved edits are a change of content, not a count of edits."""
    return hashlib.blake2b(np.ascontiguousarray(data).view(np.uint8), digest_size=16).digest()


class TracingSession:
    """The lesion layer being traced on the active scan of a viewer, with its readout and saving.

    Which scan is active is the viewer's :class:`~napari_onfh_volume.timepoint.ActiveTimepoint`,
    shared with every other dock; the session follows its lesion layer.

    Parameters
    ----------
    viewer
        A napari viewer (its model: ``napari.components.ViewerModel`` is enough).
    ask
        Asks the reader a yes/no question ``(title, question)``.
    readout_changed
        Called with the recounted slices (None: all) whenever the readout changes, including when
        the session follows another lesion layer.

    Examples
    --------
    >>> from napari.components import ViewerModel
    >>> from onfh_volume import load_scan
    >>> from napari_onfh_volume.layers import scan_layer
    >>> viewer = ViewerModel()
    >>> data, kwargs, _kind = scan_layer(load_scan("sample_scans/dicom/sub-02/baseline"))
    >>> _ = viewer.add_image(data, **kwargs)
    >>> session = TracingSession(viewer, ask=lambda title, question: False)
    >>> session.refresh()  # messages of recoveries: none
    []
    >>> session.create_lesion_layer().name
    'sub-02 baseline lesions'
    >>> session.unsaved
    False
    """

    def __init__(
        self, viewer, ask: Ask, readout_changed: Callable[[set[int] | None], None] | None = None
    ) -> None:
        self.viewer = viewer
        self.ask = ask
        self.readout_changed = readout_changed
        self.timepoint = ActiveTimepoint.of(viewer)
        self.lesions = None
        self.readout: LiveReadout | None = None
        self._saved: bytes | None = None
        self._autosaved: bytes | None = None
        self._offered: set[str] = set()

    # --- scans and their lesion layers ------------------------------------------------------

    @property
    def scan_name(self) -> str | None:
        """Name of the active scan layer."""
        return self.timepoint.scan_name

    def scan_names(self) -> list[str]:
        """Names of the scan layers, in the viewer's order."""
        return [layer.name for layer in self.timepoint.scan_layers()]

    def scan(self) -> Scan | None:
        """Geometry of the active scan."""
        return self.timepoint.scan()

    def lesion_layer_of(self, scan: Scan):
        """The lesion layer traced on ``scan`` (never another scan's, even on the same grid)."""
        return self.timepoint.lesion_layer_of(scan)

    def refresh(self, offer: bool = True) -> list[str]:
        """After layers were added, removed or renamed: follow the active scan, adopt masks, offer recovery.

        Recovery is offered only when ``offer`` (a layer was added): a scan left without its lesion
        layer, as when the viewer quits and removes its layers one by one, is not asked about.
        Returns the messages for the reader (recoveries done or refused).
        """
        self.timepoint.refresh()
        self.adopt_masks()
        self.attach()
        if not offer:
            return []
        return [
            message
            for layer in list(self.viewer.layers)
            if is_scan_layer(layer) and (message := self.offer_recovery(scan_of(layer)))
        ]

    def choose_scan(self, name: str | None) -> None:
        """Trace on the scan layer named ``name``: it is shown on top with its tracing, selected."""
        self.timepoint.choose(name)
        self.attach()

    def adopt_masks(self) -> None:
        """A mask opened from a file lies on a scan's grid: give it that scan (its path and series).

        The active scan is preferred when several open scans share the mask's grid.
        """
        scans = [scan_of(layer) for layer in self.viewer.layers if is_scan_layer(layer)]
        sources = {scan.source for scan in scans}
        chosen = self.scan()
        for layer in self.viewer.layers:
            if is_lesion_layer(layer) and scan_of(layer).source not in sources:
                matches = [scan for scan in scans if scan.same_grid(scan_of(layer))]
                if matches:
                    match = next((m for m in matches if chosen and m.source == chosen.source), matches[0])
                    layer.metadata = {**layer.metadata, SCAN_KEY: match}

    def attach(self) -> None:
        """Follow the lesion layer of the active scan (if there is one)."""
        scan = self.scan()
        layer = None if scan is None else self.lesion_layer_of(scan)
        if layer is self.lesions:
            return
        self.detach()
        self.lesions = layer
        captions(self.viewer, [] if layer is None else [layer])  # the canvas names the tracing
        if layer is not None:
            self.readout = LiveReadout(layer, scan, changed=self._readout_changed, edited=self._edited)
            self._saved = self._autosaved = _digest(layer.data)
        self._readout_changed(None)

    def detach(self) -> None:
        """Stop following the lesion layer; what was traced since the last autosave is kept."""
        if self.readout is not None:
            self.autosave()
            self.readout.disconnect()
        self.readout = self.lesions = None

    def _edited(self, slices: set[int]) -> None:
        slice_sources(self.lesions).edited(slices)

    def _readout_changed(self, slices: set[int] | None) -> None:
        if self.readout is not None:
            slice_sources(self.lesions).settle(self.readout.pixel_counts)
        if self.readout_changed is not None:
            self.readout_changed(slices)

    # --- creating and opening lesion layers -------------------------------------------------

    def create_lesion_layer(self):
        """The lesion layer of the active scan, made empty when it has none (right hip lesion active)."""
        scan = self.scan()
        if scan is None:
            return None
        existing = self.lesion_layer_of(scan)
        if existing is not None:
            self.timepoint.show()
            return existing
        return self._add_lesions(scan, None)

    def _add_lesions(self, scan: Scan, labels: np.ndarray | None, source: Path | None = None):
        data, kwargs, _kind = lesion_layer(scan, labels)
        if source is not None:
            kwargs["metadata"] = {**kwargs["metadata"], MASK_FILE_KEY: str(source)}
        layer = self.viewer.add_labels(data, **kwargs)
        layer.selected_label = RIGHT_LABEL
        layer.mode = "paint"
        layer.brush_size = 3
        self.timepoint.show()
        self.attach()
        return layer

    def load_mask(self, path: str | Path):
        """Open a saved mask on the active scan, to go on tracing (replacing no tracing).

        Raises
        ------
        OnfhError
            When the mask does not lie on the scan's grid, or the scan already holds a tracing.
        """
        scan = self.scan()
        if scan is None:
            return None
        labels = load_mask(path, scan)
        if self.lesions is not None and np.any(np.asarray(self.lesions.data)):
            raise TracingError(
                path, f"'{self.lesions.name}' already holds a tracing: remove or rename it first"
            )
        if self.lesions is not None:
            self.viewer.layers.remove(self.lesions)
        return self._add_lesions(scan, labels, Path(path))

    # --- tracing aids -----------------------------------------------------------------------

    def aided_slices(self) -> Marked:
        """Per tracing aid, the slices of each label it filled that still hold that label (see
        :mod:`napari_onfh_volume.provenance`: an undone fill drops out)."""
        if self.readout is None:
            return {}
        return slice_sources(self.lesions).marked(self.readout.pixel_counts)

    # --- unsaved edits, autosave, recovery, saving ------------------------------------------

    @property
    def unsaved(self) -> bool:
        """True when the tracing differs from what was opened or last saved."""
        return self.lesions is not None and _digest(self.lesions.data) != self._saved

    def autosave(self) -> Path | None:
        """Write the tracing to its recovery file if it changed since the last save or autosave.

        A tracing whose edits were all undone needs no recovery: its recovery file is removed.

        Raises
        ------
        OnfhError, OSError
            When the recovery file cannot be written.
        """
        if self.lesions is None:
            return None
        self.readout.recount()  # what is written is what the readout counts
        scan, now = scan_of(self.lesions), _digest(self.lesions.data)
        if now == self._autosaved:
            return None
        self._autosaved = now
        if now == self._saved:
            recovery.discard(scan)
            return None
        return recovery.autosave(np.asarray(self.lesions.data), scan, by_field(self.aided_slices()))

    def offer_recovery(self, scan: Scan) -> str | None:
        """Once per scan: offer the tracing autosaved before a crash, when no lesion layer exists yet.

        Declining removes the recovery file, so the question is not asked again.
        """
        if scan.source in self._offered or self.lesion_layer_of(scan) is not None:
            return None
        self._offered.add(scan.source)
        found = recovery.find_recovery(scan)
        if found is None:
            return None
        path, written = found
        if not self.ask(
            "Recover tracing?",
            f"A tracing of {scan_name(scan)} was autosaved on {written:%Y-%m-%d at %H:%M:%S} and not saved "
            f"since:\n{path}\n\nRestore it? (No deletes it.)",
        ):
            recovery.discard(scan)
            return None
        try:
            labels = load_mask(path, scan)  # checked to lie on the scan's grid
        except OnfhError as exc:
            return f"⚠ Cannot recover: {exc}"
        self.timepoint.choose(
            next(
                (
                    layer.name
                    for layer in self.viewer.layers
                    if is_scan_layer(layer) and scan_of(layer).source == scan.source
                ),
                None,
            )
        )
        self._add_lesions(scan, labels, path)  # its aided slices are read from the file beside it
        self._saved = None  # recovered edits are not saved yet
        return f"Recovered the tracing autosaved on {written:%Y-%m-%d %H:%M:%S}."

    def ask_to_save(self, path: str | Path, reader: str | None) -> SaveOrder | None:
        """The questions before a save; None when the reader declines one, else what to write.

        The reader is asked before any existing file is replaced, and before saving without a
        reader's name. The order holds a copy of the tracing as it is now: the writing may run
        in another thread while the reader goes on.
        """
        scan = scan_of(self.lesions) if self.lesions is not None else None
        if scan is None:
            return None
        paths = RecordPaths.beside(path)
        existing = paths.existing()
        if existing and not self.ask(
            "Replace saved tracing?",
            "These files exist:\n" + "\n".join(map(str, existing)) + "\n\nReplace them with this tracing?",
        ):
            return None
        if not reader and not self.ask("Save without a reader?", "No reader name is given. Save anyway?"):
            return None
        # Pixels some napari tool wrote with no event (a stroke staged, not committed) are counted
        # now: what is saved is what the readout shows.
        self.readout.recount()
        return SaveOrder(
            paths,
            np.array(self.lesions.data),
            scan,
            reader or None,
            bool(existing),
            by_field(self.aided_slices()),
        )

    def saved(self, order: SaveOrder) -> None:
        """After ``order`` was written: its tracing is the saved one, and needs no recovery."""
        self._saved = self._autosaved = _digest(order.labels)
        recovery.discard(order.scan)

    def save(
        self, path: str | Path, reader: str | None, heads: Mapping[int, LesionInHead] | None = None
    ) -> tuple[RecordPaths, Measurement] | None:
        """Save the tracing (mask, JSON, CSV); None when the reader declines a question.

        ``heads`` (each lesion in its femoral head, by label) go into the JSON.

        Raises
        ------
        OnfhError
            When the tracing cannot be measured or written.
        """
        order = self.ask_to_save(path, reader)
        if order is None:
            return None
        measurement = order.write(heads)
        self.saved(order)
        return order.paths, measurement

    def save_seg(self, path: str | Path, reader: str | None) -> Path | None:
        """Save the tracing as a DICOM SEG on the scan's series, for the PACS; None when declined.

        Raises
        ------
        OnfhError
            When the scan has no DICOM images to reference, the tracing is empty, or the file
            cannot be written (see :func:`onfh_volume.dicom_mask.write_seg.write_seg`).
        """
        from onfh_volume.dicom_mask.write_seg import write_seg

        scan = scan_of(self.lesions) if self.lesions is not None else None
        if scan is None:
            return None
        replace = Path(path).exists()
        if replace and not self.ask("Replace DICOM SEG?", f"{path} exists.\n\nReplace it with this tracing?"):
            return None
        return write_seg(path, np.asarray(self.lesions.data), scan, reader=reader or None, overwrite=replace)
