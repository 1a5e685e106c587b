"""Trace the lesions of several seeds into one label mask, and write it: what ``onfh-volume trace`` does."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np

from ..errors import OutputExistsError, SeedError
from ..notes import Note
from ..scan import Scan
from ..side import side_of
from ..vocabulary import LABEL_OF_SIDE
from .barrier import Settings
from .end_slice import end_slice
from .seeds import check_voxel
from .segment import Tracing, trace_lesion


def trace_lesions(
    scan: Scan, seeds: Sequence[tuple[int, int, int]], settings: Settings | None = None
) -> tuple[np.ndarray, list[Tracing]]:
    """Labels (slice, row, column) of the lesions around ``seeds``: 1 right hip, 2 left hip.

    The side of each lesion comes from the project's side rule (:func:`onfh_volume.side.side_of`).
    A seed inside a lesion traced from an earlier seed is that lesion again (not traced twice);
    seeds elsewhere in it add what they find; a voxel already labelled is never taken over by a
    later seed's lesion. A later seed on the band or plate of a slice next to a traced lesion's end
    adds that slice's band and plate over the lesion (:func:`~onfh_volume.trace.end_slice.end_slice`).

    Raises
    ------
    SeedError
        For a seed outside the scan, outside a femoral head or on the band; for a seed around which
        no lesion is found; when the scan does not say where the patient's left and right are.

    Examples
    --------
    >>> from onfh_volume.testing.phantom_set import small_phantom
    >>> phantom = small_phantom()
    >>> inside = np.argwhere(phantom.inside)
    >>> labels, _ = trace_lesions(phantom.scan, [tuple(inside[0]), tuple(inside[-1])])
    >>> sorted(np.unique(labels).tolist())  # a small field of the right hip: label 1
    [0, 1]
    """
    if not scan.orientation_known:
        raise SeedError(
            scan.source,
            "the scan does not say where the patient's left and right are: a lesion cannot be labelled",
        )
    if not seeds:
        raise SeedError(scan.source, "no seed given: give a point inside each lesion to trace")
    labels = np.zeros(scan.shape, dtype=np.uint8)
    tracings: list[Tracing] = []
    for seed in seeds:
        if labels[check_voxel(scan, seed)]:
            continue  # inside a lesion traced already: the same lesion again
        try:
            tracing = trace_lesion(scan, seed, settings)
        except SeedError:
            # On an end slice that is only band and plate, next to a lesion traced: its end there.
            at_end = end_slice(scan, check_voxel(scan, seed), tracings, settings)
            if at_end is None:
                raise
            tracing = at_end
        if not tracing.mask.any():
            raise SeedError(scan.source, f"seed voxel {tracing.seed}: no lesion found around it")
        side = side_of(scan, np.argwhere(tracing.mask)).side
        if side not in LABEL_OF_SIDE:
            raise SeedError(
                scan.source, f"seed voxel {tracing.seed}: its lesion lies on the patient's midline"
            )
        labels[tracing.mask & (labels == 0)] = LABEL_OF_SIDE[side]
        tracings.append(tracing)
    return labels, tracings


def write_traced_mask(
    scan: Scan, seeds: Sequence[tuple[int, int, int]], output: str | PathLike[str], *, overwrite: bool = False
) -> tuple[Path, list[Tracing]]:
    """Trace the lesions around ``seeds`` and save their mask on the scan grid, atomically.

    Raises
    ------
    OutputExistsError
        When ``output`` exists and ``overwrite`` is false, or ``output`` is the scan itself.
    SeedError
        As :func:`trace_lesions`.
    """
    from ..mask import check_mask_name, save_mask

    check_mask_name(output)
    if Path(output).resolve() == Path(scan.source).resolve():
        raise OutputExistsError(output, "is the scan being traced: an input is never overwritten")
    if Path(output).exists() and not overwrite:
        raise OutputExistsError(output, "file exists; refusing to overwrite it (--force replaces it)")
    labels, tracings = trace_lesions(scan, seeds)
    return save_mask(output, labels, scan, overwrite=overwrite), tracings


def edge_notes(scan: Scan, tracings: Sequence[Tracing]) -> list[Note]:
    """A warning for each lesion that reaches the scan's first or last slice: it may go on beyond.

    Examples
    --------
    >>> from onfh_volume.scan import Scan
    >>> scan = Scan(None, (1.0, 1.0), 4.0, 4.0, np.eye(4), "s.nii.gz", grid=(12, 8, 8))
    >>> [str(note) for note in edge_notes(scan, [Tracing(None, None, (1, 4, 4), [0, 1, 2])])]
    ["the lesion traced from seed voxel (1, 4, 4) reaches the scan's first slice: it may go on beyond the scanned field, and its volume be too small"]
    """
    last = scan.shape[0] - 1
    return [
        Note(
            f"the lesion traced from seed voxel {tracing.seed} reaches the scan's {end} slice: it may go on "
            "beyond the scanned field, and its volume be too small"
        )
        for tracing in tracings
        for end, k in (("first", 0), ("last", last))
        if k in tracing.slices
    ]
