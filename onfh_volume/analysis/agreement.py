"""Reader agreement from a cohort manifest with two or more readers (``onfh-volume agreement``).

Volumes: ICC(2,1) and ICC(3,1) with 95% CIs, Bland–Altman bias and limits of agreement, SEM and
the smallest detectable change (SDC), with the verdict on the change threshold. Categories: κ of
the readers' per-hip change categories. Masks: Dice and HD95 per target and pair of readers.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from os import PathLike
from typing import Any

import numpy as np

from .. import __version__
from ..batch.manifest import Manifest, read_manifest
from ..batch.run import Progress, measure_cohort
from ..change import classify_change
from ..errors import AnalysisError
from ..vocabulary import DEFAULT_THRESHOLD_PCT, Method
from .bland_altman import BlandAltman, bland_altman, sdc_from_sem
from .estimate import Estimate, finite
from .icc import icc_2_1, icc_3_1, mean_squares
from .kappa import Kappa, category_agreement
from .pairs import pair_rows
from .targets import Targets, collect


@dataclass(frozen=True)
class VolumeAgreement:
    """Agreement of the readers' volumes over the targets."""

    icc_2_1: Estimate
    icc_3_1: Estimate
    #: First reader against second (``None`` for more than two readers: see ``pairs``).
    bland_altman: BlandAltman | None
    #: Every pair of readers: ((reader a, reader b), Bland–Altman of b - a).
    pairs: tuple[tuple[tuple[str, str], BlandAltman], ...]
    mean_cm3: float
    sem_cm3: float
    sdc_cm3: float
    sdc_pct: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data with the issue's keys."""
        return {
            "icc_2_1": self.icc_2_1.to_dict() | {"name": "ICC(2,1): two-way random, absolute agreement"},
            "icc_3_1": self.icc_3_1.to_dict() | {"name": "ICC(3,1): two-way mixed, consistency"},
            "bland_altman": None if self.bland_altman is None else self.bland_altman.to_dict(),
            "bland_altman_pairs": [
                {"readers": list(readers), **result.to_dict()} for readers, result in self.pairs
            ],
            "mean_cm3": self.mean_cm3,
            "sem_cm3": self.sem_cm3,
            "sdc_cm3": self.sdc_cm3,
            "sdc_pct": self.sdc_pct,
        }


def volume_agreement(table: np.ndarray, readers: Sequence[str]) -> VolumeAgreement:
    """ICC, Bland–Altman, SEM and SDC of an n targets x k readers table of volumes (cm³).

    SEM is the root of the ANOVA's residual mean square, which for two readers is exactly the SD
    of their differences / √2; SDC = 1.96 x √2 x SEM, also as % of the mean volume.

    Examples
    --------
    >>> table = np.array([[10.0, 11.0], [20.0, 20.0], [30.0, 32.0], [15.0, 14.0]])
    >>> result = volume_agreement(table, ["A", "B"])
    >>> round(result.icc_2_1.value, 3), round(result.sdc_pct, 1)
    (0.991, 13.3)
    """
    pairs = tuple(
        ((readers[i], readers[j]), bland_altman(table[:, i], table[:, j]))
        for i, j in combinations(range(len(readers)), 2)
    )
    mean = finite(table.mean(), "mean volume")
    sem = math.sqrt(mean_squares(table).error)
    sdc = sdc_from_sem(sem)
    return VolumeAgreement(
        icc_2_1=icc_2_1(table),
        icc_3_1=icc_3_1(table),
        bland_altman=pairs[0][1] if len(readers) == 2 else None,
        pairs=pairs,
        mean_cm3=mean,
        sem_cm3=sem,
        sdc_cm3=sdc,
        sdc_pct=finite(sdc / mean * 100, "SDC %"),
    )


def categories_of(targets: Targets, threshold_pct: float) -> list[list[str]]:
    """Per hip traced at both timepoints by every reader (with a lesion at either), each reader's category."""
    hips = sorted({(patient_id, side) for patient_id, side, _ in targets.traced})
    ratings = []
    for patient_id, side in hips:
        baseline = targets.traced.get((patient_id, side, "baseline"), {})
        followup = targets.traced.get((patient_id, side, "followup"), {})
        if not all(reader in baseline and reader in followup for reader in targets.readers):
            continue
        volumes = [(baseline[r].volume_cm3, followup[r].volume_cm3) for r in targets.readers]
        if any(b > 0 or f > 0 for b, f in volumes):
            ratings.append([classify_change(b, f, threshold_pct).category for b, f in volumes])
    return ratings


@dataclass(frozen=True)
class Agreement:
    """Everything ``onfh-volume agreement`` reports; :meth:`to_json` gives its JSON."""

    manifest: str
    method: Method
    threshold_pct: float
    readers: tuple[str, ...]
    n_targets: int
    n_empty: int
    missing: tuple[str, ...]
    volume: VolumeAgreement
    #: ``None`` when no hip has both timepoints traced by every reader.
    category: Kappa | None
    pairs: tuple[dict[str, Any], ...]

    @property
    def verdict(self) -> str:
        """The sentence a reader of the study needs: is the threshold above the readers' noise?"""
        where = "above" if self.threshold_pct > self.volume.sdc_pct else "below"
        if round(self.threshold_pct, 1) == round(self.volume.sdc_pct, 1):
            where = "at"
        return (
            f"SDC is {self.volume.sdc_pct:.1f}%: a change smaller than that is within the readers' "
            f"disagreement; the {self.threshold_pct:g}% threshold is {where} it"
        )

    def pairs_by_readers(self) -> list[tuple[tuple[str, str], list[tuple[float, float]]]]:
        """Each pair of readers with its (volume a, volume b) per target, for plots."""
        grouped: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for row in self.pairs:
            grouped.setdefault((row["reader_a"], row["reader_b"]), []).append(
                (row["volume_a_cm3"], row["volume_b_cm3"])
            )
        return list(grouped.items())

    def overlap(self) -> dict[str, Any]:
        """Median and minimum Dice and median HD95 over the pairs whose masks were compared."""
        dices = [row["dice"] for row in self.pairs if row["dice"] is not None]
        distances = [row["hd95_mm"] for row in self.pairs if row["hd95_mm"] is not None]
        return {
            "n_pairs_compared": len(dices),
            "dice_median": statistics.median(dices) if dices else None,
            "dice_min": min(dices) if dices else None,
            "hd95_median_mm": statistics.median(distances) if distances else None,
            "hd95_definition": "95th percentile of the boundary voxels' centre distances, both directions pooled",
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data with the issue's keys (and the names of the statistics)."""
        return {
            "software": f"onfh-volume {__version__}",
            "manifest": self.manifest,
            "method": self.method,
            "threshold_pct": self.threshold_pct,
            "readers": list(self.readers),
            "n_targets": self.n_targets,
            "n_targets_without_lesion": self.n_empty,
            "missing": list(self.missing),
            "volume": self.volume.to_dict(),
            "category": (
                {
                    "kappa": None,
                    "percent_agreement": None,
                    "note": "no hip traced at both timepoints by every reader",
                }
                if self.category is None
                else self.category.to_dict()
            ),
            "overlap": self.overlap(),
            "verdict": self.verdict,
        }

    def to_json(self) -> str:
        """The result as JSON text (never NaN: undefined statistics are null with a note)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)


def agreement(
    manifest: Manifest | str | PathLike[str],
    method: Method = "thickness",
    *,
    threshold_pct: float = DEFAULT_THRESHOLD_PCT,
    jobs: int = 1,
    progress: Progress | None = None,
) -> Agreement:
    """Measure every row of a manifest with two or more readers and compute their agreement.

    ``manifest`` is a checked :class:`~onfh_volume.batch.manifest.Manifest` or the path of one.

    Raises
    ------
    ManifestError
        When the manifest cannot be run (see :func:`onfh_volume.batch.read_manifest`).
    AnalysisError
        One reader only, or fewer than 2 targets traced by every reader with a lesion.

    Examples
    --------
    >>> result = agreement("sample_scans/cohort-two-readers.csv")
    >>> result.readers, result.n_targets
    (('R1', 'R2'), 15)
    """
    if not isinstance(manifest, Manifest):
        manifest = read_manifest(manifest)
    targets = collect(manifest, measure_cohort(manifest, method, jobs=jobs, progress=progress), method)
    included = targets.included()
    if len(included) < 2:
        raise AnalysisError(
            manifest.path,
            f"{len(included)} target(s) traced by every reader with a lesion: agreement needs at least 2",
        )
    table = np.array([[targets.traced[t][r].volume_cm3 for r in targets.readers] for t in included])
    ratings = categories_of(targets, threshold_pct)
    return Agreement(
        manifest=str(manifest.path),
        method=method,
        threshold_pct=threshold_pct,
        readers=targets.readers,
        n_targets=len(included),
        n_empty=targets.empty,
        missing=tuple(targets.missing),
        volume=volume_agreement(table, targets.readers),
        category=category_agreement(ratings) if ratings else None,
        pairs=tuple(pair_rows(targets)),
    )
