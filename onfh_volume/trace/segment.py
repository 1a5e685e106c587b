"""One click, one lesion: the necrotic segment of a femoral head, from a seed inside it, in 3-D.

Slice by slice from the seed's slice outwards:

1. the femoral head is found around the seed (:mod:`onfh_volume.trace.head`); everything happens
   inside its sphere, so nothing leaks out of the head;
2. the barrier (:mod:`onfh_volume.trace.barrier`) is what is dark or a dark ridge on T1 relative to
   the head's own marrow: band, subchondral plate, cortex; closed, it bridges gaps in the band;
3. the parts of the head inside the closed barrier that hold the seed (on later slices: the
   previous slice's lesion) are the lesion's marrow; the parts that reach the far side of the head,
   by the far edge of its cross-section, are healthy marrow (a lesion over most of the head, its
   band crossing below the head's centre, stops short of that edge: healthy marrow runs on to it); a watershed on the dark-ridge image shares out what the closing took between
   the two, so corners against the band are not lost and a gap is cut across, not flooded through;
   where the band is open wider than the closing bridges, the seeds compete with the far side
   directly, and the region is kept only if the barrier walls most of it and it did not balloon;
4. the band and the subchondral plate are added: the dark head pixels within ``rim_mm`` of that
   marrow, and the head's outer ``plate_mm`` wherever the point beneath it is in the lesion, as a
   reader traces along the band's outer edge and along the articular surface; where the band runs
   into the plate, the two fuse into a dark layer thicker than the slice's healthy plate, and that
   layer, next to the lesion, is the lesion too (:mod:`onfh_volume.trace.surface`);
5. a slice with no seed left ends the lesion; up to two slices beyond, where the band is cut
   obliquely, that thickened dark layer under the last slice's lesion is the lesion's end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed

from ..errors import ScanError, SeedError
from ..scan import Scan
from .barrier import HeadWindow, Settings, head_window
from .head import Head, find_head
from .seeds import check_voxel
from .surface import joined, widen

MAX_END_SLICES = 2  # slices beyond the last traced one where the band may show only as a dark patch
UNDER_PREVIOUS = 0.8  # share of a region past the quarter-radius line near the previous slice's lesion
NEAR_PREVIOUS_MM = 3.0
MIN_CAP_MM2 = 4.0  # an end slice's cap smaller than this is the plate's noise, not the lesion
WALLED = 0.7  # a region through an opening in the band: at least this much of its outline on the barrier


@dataclass
class Tracing:
    """A traced lesion: its mask on the scan grid, the head it lies in, and the slices it covers."""

    mask: np.ndarray
    head: Head
    seed: tuple[int, int, int]
    slices: list[int] = field(default_factory=list)


def trace_lesion(scan: Scan, seed: tuple[int, int, int], settings: Settings | None = None) -> Tracing:
    """Segment the necrotic segment around ``seed`` (slice, row, column), band and plate included.

    Raises
    ------
    SeedError
        When the seed lies outside the scan, outside any femoral head, or on the band itself.

    Examples
    --------
    >>> from onfh_volume.testing.phantom_set import small_phantom
    >>> phantom = small_phantom()
    >>> inside = np.argwhere(phantom.inside)  # where a reader would click
    >>> tracing = trace_lesion(phantom.scan, tuple(inside[len(inside) // 2]))
    >>> truth = phantom.labels == 1
    >>> dice = 2 * (tracing.mask & truth).sum() / (tracing.mask.sum() + truth.sum())
    >>> bool(dice > 0.85)
    True
    """
    if scan.voxels is None:
        raise SeedError(scan.source, "the scan was loaded without its pixels: nothing to trace on")
    settings = settings or Settings()
    seed = check_voxel(scan, seed)
    _check_pixels(scan)
    head = find_head(scan, seed)
    if head is None:
        raise SeedError(
            scan.source, f"seed voxel {seed} is not inside a femoral head (no head outline around it)"
        )
    window = head_window(scan, head, seed, settings)
    local = window.local(seed)
    inside = all(0 <= i < n for i, n in zip(local, window.discs.shape, strict=True))
    if not inside or not window.discs[local] or window.far[local]:
        raise SeedError(scan.source, f"seed voxel {seed} is not inside a femoral head")
    start = _start(window, local, settings)
    if start is None:
        raise SeedError(
            scan.source,
            f"seed voxel {seed} is on the band (or the cortex): click inside the lesion, within the band",
        )
    lesion = _propagate(window, local[0], start, settings)
    if lesion.any():
        _add_end_caps(window, lesion, settings)
    mask = np.zeros(scan.shape, dtype=bool)
    mask[:, window.rows, window.columns] = lesion
    return Tracing(mask, head, seed, [int(k) for k in np.nonzero(lesion.any(axis=(1, 2)))[0]])


def _check_pixels(scan: Scan) -> None:
    """Refuse pixels the band cannot be told on: not coronal, non-finite, or an image whose black is not 0.

    The band is dark relative to the marrow, as a ratio: that holds on a magnitude image, not on
    one shifted by an offset (a rescale intercept applied twice, a subtraction).
    """
    voxels = scan.voxels
    assert voxels is not None
    if scan.orientation_known and scan.orientation[0] not in "AP":
        plane = "axial" if scan.orientation[0] in "SI" else "sagittal"
        raise ScanError(scan.source, f"its slices are {plane}: band fill traces coronal slices")
    if voxels.dtype.kind == "f" and not np.isfinite(voxels).all():
        count = int(np.count_nonzero(~np.isfinite(voxels)))
        raise ScanError(
            scan.source, f"{count} voxels are not finite (NaN or inf): band fill needs finite pixels"
        )
    low, high = (float(v) for v in np.percentile(voxels, [1, 99]))
    if high <= 0 or low < -0.05 * high or low > 0.25 * high:
        raise ScanError(
            scan.source,
            f"its darkest 1% of voxels is at {low:g} and its brightest at {high:g}: band fill needs a "
            "magnitude image whose black is 0 (is an offset or a rescale intercept applied?)",
        )


def _start(window: HeadWindow, seed: tuple[int, int, int], settings: Settings) -> np.ndarray | None:
    """The seed pixels on the seed's slice; ``None`` for a seed on the band, the plate or the cortex.

    A click on a dark patch of a mottled lesion is a click inside the lesion: a dark patch that
    reaches nowhere near the head's surface starts from the light pixels around it. The band,
    which runs to the subchondral plate, and the plate itself do not.
    """
    k = seed[0]
    start = np.zeros(window.free.shape[1:], dtype=bool)
    start[seed[1:]] = True
    if window.barrier[seed]:
        labels, _ = ndimage.label(window.barrier[k] & window.discs[k])
        start = labels == labels[seed[1:]]
        if np.any(start & (window.depth[k] <= 1.0)):
            return None
    # Reach a little further through light pixels: the closing may have rounded off the clicked spot.
    light = window.discs[k] & ~window.barrier[k]
    reach = int(np.ceil((settings.bridge_mm + 1.0) / min(window.pixel_spacing)))
    return ndimage.binary_dilation(start, iterations=reach, mask=light | start) & light


def _propagate(window: HeadWindow, k0: int, start: np.ndarray, settings: Settings) -> np.ndarray:
    """The lesion slice by slice, from the seed's slice until it ends in each direction."""
    lesion = np.zeros_like(window.free, dtype=bool)
    first = _slice_marrow(window, k0, start, np.inf, erode=0)
    if first is None:
        return lesion
    lesion[k0] = _with_rim(window, k0, first, settings)
    for step in (-1, 1):
        previous, k = first, k0 + step
        while 0 <= k < lesion.shape[0]:
            marrow = _slice_marrow(window, k, previous, settings.growth * previous.sum() + 10, erode=2)
            if marrow is None:
                break
            lesion[k] = _with_rim(window, k, marrow, settings)
            previous, k = marrow, k + step
    return lesion


def _slice_marrow(
    window: HeadWindow, k: int, seeds: np.ndarray, limit: float, erode: int
) -> np.ndarray | None:
    """The lesion's marrow on slice ``k`` from seed pixels; ``None`` when no seed is in a lesion.

    Healthy marrow is what reaches the far edge of the slice's cross-section. A region that runs
    on past the quarter-radius line (the lesion over most of the head) is kept on a slice after
    the first only if ``UNDER_PREVIOUS`` of it lies within ``NEAR_PREVIOUS_MM`` of the previous
    slice's lesion (which carries the seeds; a lesion's outline moves a little from slice to
    slice): else it has taken in healthy marrow that a line short of the far edge parted from
    the rest, and the slice is read again with all beyond that line as healthy.
    """
    marrow = _marrow_against(window, k, seeds, limit, erode, window.far_edge[k])
    if marrow is None or not erode or not np.any(marrow & window.far[k]):
        return marrow
    near = ndimage.distance_transform_edt(~seeds, sampling=window.pixel_spacing) <= NEAR_PREVIOUS_MM
    if np.count_nonzero(marrow & near) >= UNDER_PREVIOUS * np.count_nonzero(marrow):
        return marrow
    return _marrow_against(window, k, seeds, limit, erode, window.far[k])


def _marrow_against(
    window: HeadWindow, k: int, seeds: np.ndarray, limit: float, erode: int, far: np.ndarray
) -> np.ndarray | None:
    """The lesion's marrow on slice ``k`` from seed pixels, the parts that reach ``far`` healthy.

    A region walled by the closed barrier is the lesion's whatever its size (from a lesion's end
    slice the next one may be many times larger); a region found through an opening in the band is
    refused when larger than ``limit`` pixels: it has run out into healthy marrow. Seeds carried
    over from the previous slice are eroded ``erode`` times first, off the band's moving edge.
    """
    free = window.free[k]
    labels, _ = ndimage.label(free)
    healthy_labels = np.unique(labels[far & free])
    healthy = np.isin(labels, healthy_labels[healthy_labels > 0])
    pockets = free & ~healthy
    inside = seeds & pockets
    if inside.any():
        return _shared_out(window, k, np.isin(labels, np.unique(labels[inside])), healthy)
    # The band is open here beyond what the closing bridges: the seeds alone against the far side.
    # That holds only if the region found is walled by the barrier all round but for the opening;
    # where the lesion has ended, the seeds lie in healthy marrow and nothing walls them.
    # A thin lesion may hold no pixel outside the closed barrier: its light pixels are the core then.
    core = _eroded(seeds, erode) & window.discs[k] & ~window.barrier[k]
    if not core.any():
        return None
    marrow = _shared_out(window, k, core, far & free)
    return marrow if _walled(window, k, marrow) >= WALLED and marrow.sum() <= limit else None


def _eroded(seeds: np.ndarray, erode: int) -> np.ndarray:
    """``seeds`` eroded up to ``erode`` times; a thin lesion's marrow keeps its innermost pixels."""
    distance = ndimage.distance_transform_cdt(np.pad(seeds, 1), metric="chessboard")[1:-1, 1:-1]
    return seeds & (distance > min(erode, distance.max(initial=0) - 1))


def _shared_out(window: HeadWindow, k: int, core: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Share the head's light pixels between the lesion ``core`` and healthy marrow ``other``.

    A watershed on the dark-ridge image from the two markers, within the head's light pixels: the
    two floods meet on the faint band where it is open, and in the middle of a bridged gap.
    """
    markers = np.zeros(core.shape, dtype=np.int32)
    markers[other] = 2
    markers[core] = 1
    light = window.discs[k] & ~window.barrier[k]
    return watershed(window.ridges[k], markers, mask=light | core | other) == 1


def _walled(window: HeadWindow, k: int, region: np.ndarray) -> float:
    """Fraction of the region's outline inside the head that runs along the barrier."""
    outline = region & ~ndimage.binary_erosion(region)
    outline &= ndimage.binary_erosion(window.discs[k], iterations=2)
    if not outline.any():
        return 1.0
    return float(ndimage.binary_dilation(window.barrier[k])[outline].mean())


def _with_rim(window: HeadWindow, k: int, marrow: np.ndarray, settings: Settings) -> np.ndarray:
    """The marrow with its band and its part of the subchondral plate.

    The band: the dark head pixels within ``rim_mm`` of the marrow. The plate: the head's outer
    ``plate_mm``, where the point just beneath it, towards the head's centre, is in the lesion, as a
    reader traces the lesion's outline along the articular surface; and beyond, for as long as band
    and plate are fused into one dark layer thicker than the slice's healthy plate.
    """
    distance = ndimage.distance_transform_edt(~marrow, sampling=window.pixel_spacing)
    deep = window.depth[k] > settings.plate_mm
    core = ndimage.binary_fill_holes(marrow | (window.rim[k] & deep & (distance <= settings.rim_mm)))
    shell = window.discs[k] & ~deep
    rows, columns = np.nonzero(shell)
    row_mm, column_mm = window.pixel_spacing
    offset = np.stack([(rows - window.centre[0]) * row_mm, (columns - window.centre[1]) * column_mm])
    inward = (settings.plate_mm + 0.5) / np.maximum(np.hypot(*offset), 1e-6)
    beneath = (
        np.rint(rows - offset[0] * inward / row_mm).astype(int),
        np.rint(columns - offset[1] * inward / column_mm).astype(int),
    )
    lesion = core.copy()
    lesion[rows, columns] = core[beneath]
    layer = window.surface(k, settings)
    footprint = layer.footprint(lesion, settings.plate_mm)
    layer = layer.away_from(footprint)
    return lesion | (layer.pixels(joined(footprint, layer.thick(settings.thick_mm))) & window.discs[k])


def _add_end_caps(window: HeadWindow, lesion: np.ndarray, settings: Settings) -> None:
    """Add, beyond each end of ``lesion``, the slices where the band is cut obliquely.

    Where the band surface turns parallel to the slices, partial volume fuses band and plate into
    one dark layer with little marrow left inside: under the previous slice's lesion, that layer,
    where it is thicker than the slice's healthy plate, is the lesion, with any marrow it encloses.
    """
    traced = np.nonzero(lesion.any(axis=(1, 2)))[0]
    for step, first in ((-1, traced[0]), (1, traced[-1])):
        k = first + step
        while 0 <= k < lesion.shape[0] and abs(k - first) <= MAX_END_SLICES and window.radii[k] > 0:
            layer = window.surface(k, settings)
            under = widen(layer.footprint(lesion[k - step], settings.plate_mm))
            layer = layer.away_from(under)
            thick = layer.thick(settings.thick_mm)
            cap = ndimage.binary_fill_holes(layer.pixels(joined(under & thick, thick))) & window.discs[k]
            if np.count_nonzero(cap) * np.prod(window.pixel_spacing) < MIN_CAP_MM2:
                break  # no more than the healthy plate under it: the lesion has ended
            lesion[k] = cap
            k += step
