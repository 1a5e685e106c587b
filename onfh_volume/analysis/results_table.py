"""Read the batch's RESULTS.csv for the statistics: one hip per row, numbers checked, one reader."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from ..atomic import settle
from ..batch.columns import RESULT_COLUMNS
from ..errors import AnalysisError
from .results_checks import check_volume, check_words, recomputed_change, refuse_duplicates, threshold

#: The hip, its group and volumes (the batch's first columns), and what the checks compare them with.
REQUIRED: tuple[str, ...] = (*RESULT_COLUMNS[:6], "change_pct", "category", "status")
NO_GROUP = "(no group)"


@dataclass(frozen=True)
class HipResult:
    """One row of RESULTS.csv: a hip's volumes, change and category, and every column as written."""

    line: int
    group: str
    ok: bool
    baseline_cm3: float | None
    followup_cm3: float | None
    change_pct: float | None
    category: str
    columns: dict[str, str]

    @property
    def measured(self) -> bool:
        """Status ok and a baseline volume > 0: the hips volumes, means and tests are over."""
        return self.ok and self.baseline_cm3 is not None and self.baseline_cm3 > 0

    @property
    def name(self) -> str:
        """``patient side`` for messages."""
        return f"{self.columns['patient_id']} {self.columns['side']}"


def number(path: str | Path, line: int, column: str, text: str) -> float | None:
    """A cell as a finite number, ``None`` when empty; text or NaN is refused with its line.

    A quote before a number is the results writer's guard against spreadsheet formulas (a
    clinical value ``-1`` is written ``'-1``): it is taken off.

    Examples
    --------
    >>> number(Path("r.csv"), 2, "age", "41"), number(Path("r.csv"), 2, "delta", "'-1.5"), number(Path("r.csv"), 2, "age", "")
    (41.0, -1.5, None)
    """
    if not text.strip():
        return None
    try:
        value = float(text.removeprefix("'"))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise AnalysisError(path, f"line {line}: {column} '{text}' is not a number")
    return value


def read_results(path: str | PathLike[str], reader: str | None = None) -> list[HipResult]:
    """The hips of a results file, of one reader.

    Raises
    ------
    AnalysisError
        Unreadable file, a missing column, a volume that is not a number, several readers and none
        chosen (each hip must count once), a chosen reader who is not in the file, or a row the
        checks of :mod:`~onfh_volume.analysis.results_checks` refuse (naming its line).
    """
    path = Path(path)
    settle([path])  # a batch killed while moving its outputs into place: its whole set first
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
            header = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AnalysisError(path, f"cannot read the results ({exc})") from None
    missing = [column for column in REQUIRED if column not in header]
    if not rows or missing:
        raise AnalysisError(
            path, "not a results file of onfh-volume batch (missing: " + ", ".join(missing or ["rows"]) + ")"
        )
    readers = sorted({row["reader"] for row in rows})
    if reader is None and len(readers) > 1:
        raise AnalysisError(
            path,
            f"hips of {len(readers)} readers ({', '.join(readers)}): choose one with --reader (each hip counts once)",
        )
    if reader is not None and reader not in readers:
        raise AnalysisError(path, f"no hip of reader '{reader}' (readers: {', '.join(readers)})")
    refuse_duplicates(path, rows)
    # Every row is checked, the other readers' too: a file that contradicts itself is not used.
    hips = [hip_result(path, line, row) for line, row in enumerate(rows, start=2)]
    return [hip for hip in hips if reader in (None, hip.columns["reader"])]


def hip_result(path: Path, line: int, row: dict[str, str]) -> HipResult:
    """One row, checked (:mod:`~onfh_volume.analysis.results_checks`); an ok row's change and category
    are the ones its volumes give."""
    ok = check_words(path, line, row)
    baseline, followup = (
        check_volume(path, line, column, number(path, line, column, row[column]))
        for column in ("baseline_volume_cm3", "followup_volume_cm3")
    )
    change = number(path, line, "change_pct", row["change_pct"])
    category = row["category"]
    if ok:
        at = threshold(path, line, number(path, line, "threshold_pct", row.get("threshold_pct") or ""))
        change, category = recomputed_change(path, line, (baseline, followup), (change, category), at)
    return HipResult(
        line=line,
        group=row["group"] or NO_GROUP,
        ok=ok,
        baseline_cm3=baseline,
        followup_cm3=followup,
        change_pct=change,
        category=category,
        columns=row,
    )
