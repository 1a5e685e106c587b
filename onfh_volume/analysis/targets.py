"""What several readers traced: each target (patient, side, timepoint) with every reader's volume.

A target enters the agreement when every reader of the manifest traced it and at least one of them
found a lesion there (two empty tracings agree trivially and would inflate every statistic);
targets that a reader did not trace, or whose file could not be measured, are listed and left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..batch.manifest import Entry, Manifest
from ..batch.results import readable
from ..batch.run import Outcome
from ..change import check_sides_known, hip_volume
from ..errors import AnalysisError, OnfhError
from ..vocabulary import Method

Target = tuple[str, str, str]
"""(patient_id, side, timepoint)."""


@dataclass(frozen=True)
class Traced:
    """One reader's tracing of one target: the manifest row, the hip's labels and its volume."""

    entry: Entry
    labels: tuple[int, ...]
    volume_cm3: float


@dataclass
class Targets:
    """The readers (in manifest order), the targets every reader traced, and what was left out."""

    readers: tuple[str, ...]
    traced: dict[Target, dict[str, Traced]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    empty: int = 0

    def included(self) -> list[Target]:
        """Targets traced by every reader with a lesion found by at least one, sorted."""
        return sorted(
            target
            for target, by_reader in self.traced.items()
            if len(by_reader) == len(self.readers) and any(t.volume_cm3 > 0 for t in by_reader.values())
        )


def readers_of(manifest: Manifest) -> tuple[str, ...]:
    """The manifest's readers in order of first appearance; refuses fewer than two.

    Raises
    ------
    AnalysisError
        When the manifest names one reader only (or has no ``reader`` column).
    """
    readers = tuple(dict.fromkeys(entry.reader for entry in manifest.entries))
    if len(readers) < 2:
        named = f"one reader only ('{readers[0]}')" if readers[0] else "no reader column"
        raise AnalysisError(
            manifest.path,
            f"{named}: agreement needs the same hips traced by two or more readers (the 'reader' column)",
        )
    return readers


def _describe(target: Target) -> str:
    patient_id, side, timepoint = target
    return f"{patient_id} {side} {timepoint}"


def collect(manifest: Manifest, measured: Mapping[int, Outcome], method: Method) -> Targets:
    """Every reader's volume of every target, and the list of targets left out and why."""
    targets = Targets(readers_of(manifest))
    failed: dict[Target, list[str]] = {}
    for entry in manifest.entries:
        outcome = measured[entry.line]
        for side in entry.sides:
            target = (entry.patient_id, side, entry.timepoint)
            if isinstance(outcome, str):
                # As in the batch's results: paths relative to the manifest, no DICOM UIDs.
                failed.setdefault(target, []).append(
                    f"reader {entry.reader}: {readable(outcome, manifest.folder)}"
                )
                continue
            try:
                check_sides_known(outcome)
            except OnfhError as exc:
                failed.setdefault(target, []).append(
                    f"reader {entry.reader}: {readable(str(exc), manifest.folder)}"
                )
                continue
            hip = hip_volume(outcome, side)
            # measure_file refused a scan that does not state the method's slice length.
            volume = hip.volume(method) or 0.0
            targets.traced.setdefault(target, {})[entry.reader] = Traced(entry, hip.labels, volume)
    for target in sorted(set(targets.traced) | set(failed)):
        by_reader = targets.traced.get(target, {})
        if target in failed:
            targets.missing.append(f"{_describe(target)}: " + "; ".join(failed[target]))
        elif len(by_reader) < len(targets.readers):
            absent = ", ".join(r for r in targets.readers if r not in by_reader)
            targets.missing.append(f"{_describe(target)}: not traced by {absent}")
        elif not any(t.volume_cm3 > 0 for t in by_reader.values()):
            targets.empty += 1
    return targets
