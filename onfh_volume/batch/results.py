"""Turn a cohort's measurements into rows: one per hip (RESULTS.csv) and one per traced slice.

Each hip (patient_id, side, reader) is compared with :func:`onfh_volume.compare` exactly as
``onfh-volume compare`` does; the rows only lay its results out. Messages are made readable and
safe to share: paths relative to the manifest's folder, DICOM UIDs removed.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from ..atomic import Writer, write_atomically
from ..change import compare
from ..errors import OnfhError
from ..export import hip_dict
from ..notes import WHEN, Note
from ..spreadsheet import write_rows
from ..vocabulary import SIDES, Method
from ..volume import Measurement
from .columns import FAILED, HEAD_COLUMNS, OK, RESULT_COLUMNS, SEPARATOR
from .manifest import ROI_SEPARATOR, TIMEPOINTS, Entry, Hip, Manifest
from .run import Outcome

# DICOM UIDs (dot-separated numbers, usually 20 or more digits) can lead back to a patient in a
# PACS and are not in the manifest. Notes keep theirs apart (Note.shareable); an error message from
# a loader may still name one (a folder's several series), so a failed row's status is scrubbed.
_UID = re.compile(r"(?<![\w.])\d+(?:\.\d+){4,}(?![\w.])")


def readable(message: str, folder: Path) -> str:
    """A message as it goes into a results file: paths relative to ``folder``, no DICOM UIDs."""
    return _UID.sub("[UID]", message.replace(f"{folder}{os.sep}", ""))


def _merged(warnings: list[Note]) -> list[str]:
    """Shareable sentences, said once for what both timepoints warn about alike."""
    by_timepoint: dict[str | None, set[str]] = {}
    for note in warnings:
        by_timepoint.setdefault(note.timepoint, set()).add(note.shareable())
    both = by_timepoint.get("baseline", set()) & by_timepoint.get("followup", set())
    merged = []
    for note in warnings:
        text = note.shareable()
        if note.timepoint is None:
            merged.append(text)
        elif text not in both:
            merged.append(f"{WHEN[note.timepoint]}: {text}")
        elif note.timepoint == "baseline":
            merged.append(f"baseline and follow-up: {text}")
    return merged


def _order(patient_id: str, side: str, reader: str) -> tuple[str, int, str, str]:
    """Sort key: patient, then right before left (as in ``compare``), then reader."""
    return patient_id, SIDES.index(side) if side in SIDES else len(SIDES), side, reader


def result_columns(manifest: Manifest, head: bool = False) -> tuple[str, ...]:
    """Columns of RESULTS.csv: RESULT_COLUMNS (and HEAD_COLUMNS with ``head``), then the manifest's
    extra (clinical) columns as they are."""
    return RESULT_COLUMNS + (HEAD_COLUMNS if head else ()) + manifest.extra_columns


def hip_rows(
    manifest: Manifest, measured: Mapping[int, Outcome], method: Method, threshold_pct: float
) -> list[dict[str, Any]]:
    """One row per hip, with the RESULT_COLUMNS as keys, sorted by patient, side and reader.

    A hip with both timepoints measured gets the comparison; a hip with one timepoint missing
    (no row in the manifest, or a file that could not be read) gets that timepoint's volume and
    a status saying what is missing. ``status`` is ``"ok"`` for every complete hip. The manifest's
    extra columns are copied into each row (see :func:`result_columns`).
    """
    rows = [
        _hip_row(hip, entries, measured, method, threshold_pct, manifest.folder)
        for hip, entries in manifest.hips().items()
    ]
    return sorted(rows, key=lambda row: _order(row["patient_id"], row["side"], row["reader"]))


def _hip_row(
    hip: Hip,
    entries: Mapping[str, Entry],
    measured: Mapping[int, Outcome],
    method: Method,
    threshold_pct: float,
    folder: Path,
) -> dict[str, Any]:
    patient_id, side, reader = hip
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS + HEAD_COLUMNS)
    first = next(iter(entries.values()))
    row.update(
        patient_id=patient_id,
        side=side,
        reader=reader,
        group=first.group,
        method=method,
        threshold_pct=threshold_pct,
    )
    # The manifest's clinical columns, unchanged (its check made them equal on a hip's rows).
    row.update(first.extra)
    problems: list[str] = []
    warnings: list[Note] = []
    measurements: dict[str, Measurement] = {}
    for timepoint in TIMEPOINTS:
        entry = entries.get(timepoint)
        if entry is None:
            problems.append(f"no {WHEN[timepoint]} row in the manifest for this hip")
            continue
        row[f"{timepoint}_scan"], row[f"{timepoint}_mask"] = entry.scan, entry.mask
        # The segments or ROIs measured, as the manifest names them: which region the volume is of.
        row[f"{timepoint}_roi"] = ROI_SEPARATOR.join(entry.roi)
        outcome = measured[entry.line]
        if isinstance(outcome, str):
            problems.append(f"{WHEN[timepoint]}: {outcome}")
            continue
        row[f"{timepoint}_slice_thickness_mm"] = outcome.scan.slice_thickness
        row[f"{timepoint}_slice_spacing_mm"] = outcome.scan.slice_spacing
        measurements[timepoint] = outcome
        warnings += _elsewhere(entry, outcome)
    try:
        if measurements:
            comparison = compare(measurements.get("baseline"), measurements.get("followup"), threshold_pct)
            values = hip_dict(next(hip for hip in comparison.hips if hip.side == side))
            row.update((key, value) for key, value in values.items() if value is not None)
            warnings += comparison.warnings
            row.update(_head_fields(measurements, values))
    except OnfhError as exc:
        problems.append(str(exc))
    row["warnings"] = SEPARATOR.join(readable(warning, folder) for warning in _merged(warnings))
    row["status"] = SEPARATOR.join(readable(problem, folder) for problem in problems) or OK
    return row


def _head_fields(measurements: Mapping[str, Measurement], hip: Mapping[str, Any]) -> dict[str, Any]:
    """The HEAD_COLUMNS of a hip whose measurements were taken with their heads (``batch --head``)."""
    with_heads = {timepoint: m for timepoint, m in measurements.items() if m.heads is not None}
    if not with_heads:
        return {}  # without --head: no import of the head fit (scipy and scikit-image, ~1 s)
    from ..head import hip_in_head, hip_review

    fields: dict[str, Any] = {}
    for timepoint, measurement in with_heads.items():
        labels = hip.get(f"{timepoint}_labels") or []
        ratio, extent, kerboul = hip_in_head(measurement, labels)
        fields[f"{timepoint}_necrotic_ratio_pct"] = ratio
        fields[f"{timepoint}_steinberg_extent"] = extent
        fields[f"{timepoint}_kerboul_combined_deg"] = kerboul
        fields.update({f"{timepoint}_{key}": value for key, value in hip_review(measurement, labels).items()})
    return fields


def _elsewhere(entry: Entry, measurement: Measurement) -> list[Note]:
    """Warn when a row about one hip finds no lesion there but some in the other hip.

    The hip then measures 0 ("no lesion", "new lesion"): right if the lesion is really absent,
    wrong if the side in the manifest or the mask is mixed up.
    """
    if not entry.side or any(lesion.side == entry.side for lesion in measurement.lesions):
        return []
    other = [lesion for lesion in measurement.lesions if lesion.side in SIDES]
    if not other:
        return []
    labels = ", ".join(str(lesion.label) for lesion in other)
    return [
        Note(
            f"no lesion in the {entry.side} hip this row is about, but label(s) {labels} of the mask lie in the "
            f"{other[0].side} hip",
            timepoint=entry.timepoint,
        )
    ]


def per_slice_rows(manifest: Manifest, measured: Mapping[int, Outcome]) -> list[dict[str, Any]]:
    """One row per traced slice of every lesion a manifest row is about (long format).

    A row with a side contributes the lesions in that hip; a row without one, every lesion with
    the side it lies in. Rows that could not be measured contribute nothing (their hips' status
    in the results says why).
    """
    rows = []
    for entry in manifest.entries:
        outcome = measured[entry.line]
        if isinstance(outcome, str):
            continue
        for lesion in outcome.lesions:
            if entry.side and lesion.side != entry.side:
                continue
            rows += [
                {
                    "patient_id": entry.patient_id,
                    "side": lesion.side,
                    "reader": entry.reader,
                    "group": entry.group,
                    "timepoint": entry.timepoint,
                    "label": lesion.label,
                    "slice": index,
                    "pixels": int(lesion.pixel_counts[index]),
                    "area_mm2": area,
                }
                for index, area in lesion.traced_slices()
            ]
    return sorted(
        rows,
        key=lambda row: (
            *_order(row["patient_id"], row["side"], row["reader"]),
            TIMEPOINTS.index(row["timepoint"]),
            row["label"],
            row["slice"],
        ),
    )


def category_counts(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, Counter[str]]]:
    """Hips per group and category, groups sorted by name, then every group together.

    A hip whose status is not ok counts as ``"failed"``; hips without a group are
    ``"(no group)"``; the last entry is ``("all groups", counts)``.
    """
    groups: dict[str, Counter[str]] = {}
    for row in rows:
        category = row["category"] if row["status"] == OK else FAILED
        groups.setdefault(row["group"], Counter())[category] += 1
    everyone: Counter[str] = Counter()
    for counter in groups.values():
        everyone.update(counter)
    return [(group or "(no group)", counter) for group, counter in sorted(groups.items())] + [
        ("all groups", everyone)
    ]


def csv_writer(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Writer:
    """What writes rows as CSV (UTF-8, comma-separated, header first) to a path.

    Cells are written by :func:`onfh_volume.spreadsheet.cell`: numbers rounded, text that a
    spreadsheet would take for a formula neutralised.
    """
    rows = list(rows)

    def write(temporary: Path) -> None:
        with open(temporary, "w", newline="", encoding="utf-8") as f:
            write_rows(f, columns, rows)

    return write


def write_csv(
    path: str | PathLike[str],
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    *,
    overwrite: bool = False,
) -> Path:
    """Write rows as CSV (see :func:`csv_writer`) atomically.

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    """
    return write_atomically(path, csv_writer(columns, rows), overwrite=overwrite)
