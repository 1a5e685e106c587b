"""Each row of a results file checked against the rule that made it, before any statistic.

A results file is a spreadsheet a person may have opened, sorted and edited. ``stats`` recomputes
each hip's change and category from its two volumes with the batch's own rule
(:func:`onfh_volume.change.classify_change`, at the row's ``threshold_pct``) and refuses a row
whose written change or category contradicts them, a hip on two rows, a side, category or status
spelt otherwise than the batch writes it, a negative volume or one beyond any lesion, and a row
whose status says the hip was not measured but that still carries a category. A refusal names the
line; nothing is ever dropped or reclassified without a word.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..batch.results import OK
from ..change import classify_change
from ..errors import AnalysisError, shown
from ..vocabulary import CATEGORIES, DEFAULT_THRESHOLD_PCT, SIDES

#: Over 100 litres: beyond any lesion, any hip, any body; a volume this large is a broken cell.
MAX_VOLUME_CM3 = 1e5
#: How far (percentage points) a written change may lie from the one its volumes give: volumes
#: rounded to 3 decimals by a spreadsheet move the change by a few hundredths at most.
CHANGE_TOLERANCE_PCT = 0.05


def refuse_duplicates(path: Path, rows: Sequence[Mapping[str, str]]) -> None:
    """Refuse a hip (patient, side, reader) written on two lines: each hip counts once."""
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in enumerate(rows, start=2):
        key = (row["patient_id"], row["side"], row["reader"])
        if key in seen:
            raise AnalysisError(
                path,
                f"line {line}: hip '{shown(key[0])}' '{shown(key[1])}' of reader '{shown(key[2])}' is already on "
                f"line {seen[key]}: each hip counts once",
            )
        seen[key] = line


def check_words(path: Path, line: int, row: Mapping[str, str]) -> bool:
    """Side, status and category as the batch writes them; whether the status is ok."""
    if row["side"] not in SIDES:
        raise AnalysisError(path, f"line {line}: side '{shown(row['side'])}' is neither 'right' nor 'left'")
    status = row["status"]
    if not status.strip():
        raise AnalysisError(path, f"line {line}: the status is empty ('ok', or why the hip was not measured)")
    if status != OK and status.strip().lower() == OK:
        raise AnalysisError(
            path, f"line {line}: status '{shown(status)}' is not 'ok' as onfh-volume batch writes it"
        )
    category = row["category"]
    if category and category not in CATEGORIES:
        raise AnalysisError(
            path, f"line {line}: category '{shown(category)}' is none of {', '.join(map(repr, CATEGORIES))}"
        )
    if status != OK and (category or row["change_pct"].strip()):
        raise AnalysisError(
            path,
            f"line {line}: the status says the hip was not measured ('{shown(status)}') yet the row has a "
            "change or category (batch leaves them empty)",
        )
    return status == OK


def check_volume(path: Path, line: int, column: str, value: float | None) -> float | None:
    """A volume cell (already a finite number or None): refused when negative or beyond any lesion."""
    if value is not None and not 0 <= value <= MAX_VOLUME_CM3:
        why = "negative" if value < 0 else f"over {MAX_VOLUME_CM3:g} cm³, beyond any lesion"
        raise AnalysisError(path, f"line {line}: {column} {value:g} is {why}")
    return value


def threshold(path: Path, line: int, value: float | None) -> float:
    """The row's threshold_pct (the study's 15% when the file has none)."""
    if value is None:
        return DEFAULT_THRESHOLD_PCT
    if not 0 < value < MAX_VOLUME_CM3:
        raise AnalysisError(path, f"line {line}: threshold_pct {value:g} is not a positive percentage")
    return value


def recomputed_change(
    path: Path,
    line: int,
    volumes: tuple[float | None, float | None],
    written: tuple[float | None, str],
    threshold_pct: float,
) -> tuple[float | None, str]:
    """The change and category of an ok row, from its volumes; refused where the row says otherwise."""
    baseline, followup = volumes
    written_change, written_category = written
    if baseline is None or followup is None or not written_category:
        raise AnalysisError(
            path, f"line {line}: status ok but no baseline volume, follow-up volume or category"
        )
    change = classify_change(baseline, followup, threshold_pct)
    given = f"{baseline:g} → {followup:g} cm³"
    if change.change_pct is not None and not math.isfinite(change.change_pct):
        raise AnalysisError(path, f"line {line}: the change {given} is not a finite number")
    if change.category != written_category:
        at = "" if change.change_pct is None else f" {change.change_pct:+.6g}%,"
        raise AnalysisError(
            path,
            f"line {line}: category '{written_category}' contradicts the volumes ({given}:{at} "
            f"'{change.category}' at ±{threshold_pct:g}%)",
        )
    if (written_change is None) != (change.change_pct is None) or (
        change.change_pct is not None and abs(written_change - change.change_pct) > CHANGE_TOLERANCE_PCT  # type: ignore[operator]
    ):
        expected = "no change_pct" if change.change_pct is None else f"{change.change_pct:+.6g}%"
        raise AnalysisError(
            path,
            f"line {line}: change_pct {'empty' if written_change is None else f'{written_change:g}'} "
            f"contradicts the volumes ({given} give {expected})",
        )
    return change.change_pct, change.category
