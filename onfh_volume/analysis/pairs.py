"""Per target and pair of readers: both volumes, and Dice and HD95 of their masks (PER_PAIR.csv)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from ..load import load_scan
from ..mask import load_mask
from ..scan import Scan
from .overlap import dice, hd95
from .targets import Target, Targets, Traced

PAIR_COLUMNS = (
    "patient_id",
    "side",
    "timepoint",
    "reader_a",
    "reader_b",
    "volume_a_cm3",
    "volume_b_cm3",
    "dice",
    "hd95_mm",
    "note",
)


def _scan_key(traced: Traced) -> tuple[Path, str | None]:
    return traced.entry.scan_path, traced.entry.series


def _spacing(scan: Scan) -> tuple[float, float, float]:
    """Voxel centre-to-centre distances (mm) along (slice, row, column)."""
    if scan.slice_spacing is None:
        # A single slice: no through-plane neighbour, any positive spacing gives the same distances.
        return (1.0, *scan.pixel_spacing)
    return (scan.slice_spacing, *scan.pixel_spacing)


class _Masks:
    """Masks on one scan, each file read once, as boolean arrays of one hip's labels."""

    def __init__(self, scan_key: tuple[Path, str | None]) -> None:
        self.scan = load_scan(scan_key[0], series=scan_key[1], pixels=False)
        self.labels: dict[Path, np.ndarray] = {}

    def of(self, traced: Traced) -> np.ndarray:
        path = traced.entry.mask_path
        if path not in self.labels:
            self.labels[path] = load_mask(path, self.scan)
        return np.isin(self.labels[path], traced.labels)


def _overlap(masks: _Masks, a: Traced, b: Traced) -> tuple[float, float | None, str]:
    mask_a, mask_b = masks.of(a), masks.of(b)
    if not mask_a.any() or not mask_b.any():
        return dice(mask_a, mask_b), None, "one reader traced no lesion: no surface, HD95 undefined"
    return dice(mask_a, mask_b), hd95(mask_a, mask_b, _spacing(masks.scan)), ""


def _row(target: Target, a: Traced, b: Traced) -> dict[str, Any]:
    patient_id, side, timepoint = target
    return {
        "patient_id": patient_id,
        "side": side,
        "timepoint": timepoint,
        "reader_a": a.entry.reader,
        "reader_b": b.entry.reader,
        "volume_a_cm3": a.volume_cm3,
        "volume_b_cm3": b.volume_cm3,
        "dice": None,
        "hd95_mm": None,
        "note": "",
    }


def pair_rows(targets: Targets) -> Iterator[dict[str, Any]]:
    """One row per included target and pair of readers (PAIR_COLUMNS), in target order.

    Masks are compared where both readers traced on the same scan (and series); otherwise Dice
    and HD95 are empty and the note says why. Each scan's geometry and each mask is read once.
    """
    cache: dict[tuple[Path, str | None], _Masks] = {}
    patient = None
    for target in targets.included():
        if target[0] != patient:
            # Targets come sorted by patient: a patient's scans and masks are read once, then let go.
            cache, patient = {}, target[0]
        by_reader = targets.traced[target]
        for reader_a, reader_b in combinations(targets.readers, 2):
            a, b = by_reader[reader_a], by_reader[reader_b]
            row = _row(target, a, b)
            if _scan_key(a) != _scan_key(b):
                row["note"] = "traced on different scans: masks not compared"
            else:
                if _scan_key(a) not in cache:
                    cache[_scan_key(a)] = _Masks(_scan_key(a))
                row["dice"], row["hd95_mm"], row["note"] = _overlap(cache[_scan_key(a)], a, b)
            yield row
