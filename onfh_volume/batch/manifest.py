"""Read and check a cohort manifest: one CSV row per measurement (a scan and its lesion mask).

Everything that can be known before measuring is checked here, and every problem is reported at
once with its line number, so that a coordinator fixes the manifest in one go instead of
discovering one mistake per hour-long run.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cached_property
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import ManifestError
from ..vocabulary import SIDES
from .columns import OUTPUT_COLUMNS

REQUIRED_COLUMNS = ("patient_id", "timepoint", "scan", "mask")
OPTIONAL_COLUMNS = ("side", "reader", "group", "series", "study_uid", "series_uid", "roi")
#: Between the names of a ``roi`` cell: not the comma or semicolon, which may delimit the CSV.
ROI_SEPARATOR = "|"
#: The scan of a row that names a series on the PACS (``study_uid``, ``series_uid``) instead of a folder,
#: until ``batch --pacs`` has pulled it: ``pacs:STUDY/SERIES``.
PACS_SCAN = "pacs:"
TIMEPOINTS = ("baseline", "followup")
#: Spreadsheets save CSV with commas, or with semicolons where the comma is the decimal mark.
DELIMITERS = (",", ";", "\t")
#: A column this similar to a known one is taken for a misspelling of it, not for a clinical variable.
SIMILAR = 0.75

Hip = tuple[str, str, str]
"""A hip's identity in a cohort: (patient_id, side, reader)."""


@dataclass(frozen=True)
class Entry:
    """One manifest row: a scan and the lesion mask traced on it at one timepoint.

    Attributes
    ----------
    line
        Line of the manifest the row starts on (the header is line 1).
    scan, mask
        Paths as written in the manifest (relative to ``folder`` unless absolute).
    side
        ``"right"`` or ``"left"``: the hip the row is about; ``""`` for every lesion of the mask,
        each in the hip it lies in.
    series
        SeriesInstanceUID or SeriesNumber, for a scan folder that holds several series.
        A row may give ``study_uid`` and ``series_uid`` instead of a scan: its scan is then
        ``pacs:STUDY/SERIES`` until ``batch --pacs`` pulls it (:mod:`onfh_volume.pacs.cache`).
        ``None`` for a folder of several series is fine when the mask is a DICOM SEG or RTSTRUCT
        referencing one of them: it is measured on that series.
    roi
        The segments or ROIs of the row's DICOM SEG or RTSTRUCT mask to measure (``measure --roi``);
        empty for the mask's lesions by the usual rule.
    folder
        The manifest's folder (absolute), which relative paths start from.
    """

    line: int
    patient_id: str
    timepoint: str
    scan: str
    mask: str
    side: str
    reader: str
    group: str
    series: str | None
    folder: Path
    #: (column, value) of the manifest's other columns (clinical variables), in header order.
    extra: tuple[tuple[str, str], ...] = ()
    roi: tuple[str, ...] = ()

    # Cached: a batch asks each row for its paths a dozen times, and the fields are frozen.
    @cached_property
    def scan_path(self) -> Path:
        """Absolute path of the scan (worker processes and Dask workers have another working folder)."""
        return self.folder / self.scan

    @cached_property
    def mask_path(self) -> Path:
        """Absolute path of the mask."""
        return self.folder / self.mask

    @property
    def sides(self) -> tuple[str, ...]:
        """The hips this row measures: its side, or both without one."""
        return (self.side,) if self.side else SIDES

    def hips(self) -> list[Hip]:
        """The identities of the hips this row measures."""
        return [(self.patient_id, side, self.reader) for side in self.sides]


@dataclass(frozen=True)
class Manifest:
    """A checked manifest: every row's paths exist and no hip is measured twice at one timepoint."""

    path: Path
    #: The manifest's folder (absolute): relative paths in it start from there.
    folder: Path
    entries: tuple[Entry, ...]
    #: Columns beyond the known ones (age, collapse, follow-up time...): carried to the results.
    extra_columns: tuple[str, ...] = ()

    def hips(self) -> dict[Hip, dict[str, Entry]]:
        """Each hip with its row per timepoint (one timepoint is missing when the manifest lacks it)."""
        hips: dict[Hip, dict[str, Entry]] = {}
        for entry in self.entries:
            for hip in entry.hips():
                hips.setdefault(hip, {})[entry.timepoint] = entry
        return hips


def read_manifest(path: str | PathLike[str], *, drafting: bool = False) -> Manifest:
    """Read a manifest and check everything that can be checked without measuring.

    Columns ``patient_id``, ``timepoint`` (``baseline`` or ``followup``), ``scan`` and ``mask`` are
    required; ``side`` (``right``, ``left`` or empty), ``reader``, ``group``, ``series`` and ``roi``
    (names separated by ``|``) are optional. Paths are relative to the manifest's folder. Values are stripped of surrounding
    spaces; timepoint and side are case-insensitive. Any other column (a clinical variable: age,
    collapse, follow-up months) is carried through unchanged to each hip's row of the results, as
    pyradiomics' batch mode does; a hip's rows must then agree on its value. With ``drafting``
    (``batch --draft-masks``) a row's mask may be empty: it will be drafted. A column named almost
    like a known one (``sides``, ``Reader``) is refused as a likely misspelling, and one named like a
    results column (``status``) as a clash.

    Raises
    ------
    ManifestError
        Listing every problem with its line: unreadable file, missing or unknown column, a row with
        too few or too many values, empty required value, unknown timepoint or side, a scan or mask
        that does not exist, a hip given twice at one timepoint, a hip whose rows disagree on the
        group or on an extra column, a hip whose baseline and follow-up rows name the same scan.

    Examples
    --------
    >>> manifest = read_manifest("sample_scans/cohort.csv")
    >>> sorted(manifest.hips())[0]
    ('sub-01', 'left', 'R1')
    """
    path = Path(path)
    problems: list[tuple[int, str]] = []
    text = _text(path)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ManifestError(
            path, ["line 1: no header line (expected columns " + ", ".join(REQUIRED_COLUMNS) + ")"]
        )
    delimiter = max(DELIMITERS, key=lines[0].count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    folder = Path(os.path.abspath(path)).parent
    header: list[str] = []
    entries: list[Entry] = []
    try:
        header = [name.strip() for name in next(reader)]
        problems += _header_problems(header)
        problems += _rows(reader, header, folder, entries, drafting)
    except csv.Error as exc:
        # Past a line the CSV reader cannot parse (a NUL byte, a runaway quote) nothing is reliable.
        problems.append((reader.line_num, f"not readable as CSV from here on ({exc})"))
    if not entries and not problems:
        problems.append((1, "no rows under the header: nothing to measure"))
    problems += _cross_row_problems(entries)
    if problems:
        raise ManifestError(
            path, [f"line {line}: {problem}" for line, problem in sorted(problems, key=lambda p: p[0])]
        )
    extra = tuple(name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    return Manifest(path=path, folder=folder, entries=tuple(entries), extra_columns=extra)


def _rows(
    reader: Any, header: list[str], folder: Path, entries: list[Entry], drafting: bool = False
) -> list[tuple[int, str]]:
    """Read the rows under the header into ``entries``; return each row's problems with its line."""
    problems: list[tuple[int, str]] = []
    start = reader.line_num + 1
    for values in reader:
        line, start = start, reader.line_num + 1
        if not any(value.strip() for value in values):
            continue  # blank lines and spreadsheets' rows of empty cells
        if len(values) != len(header):
            problems.append((line, f"{len(values)} values but the header has {len(header)} columns"))
            continue
        entry, row_problems = _entry(
            line, dict(zip(header, (v.strip() for v in values), strict=True)), folder, drafting
        )
        problems += [(line, problem) for problem in row_problems]
        if entry is not None:
            entries.append(entry)
    return problems


def _text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(path, ["no such file"]) from None
    except OSError as exc:
        raise ManifestError(path, [f"cannot read the file ({exc.strerror or exc})"]) from exc
    try:
        # utf-8-sig: spreadsheets put a byte order mark before the header.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(
            path, [f"line {line}: not UTF-8 text (save the manifest as 'CSV UTF-8' from the spreadsheet)"]
        ) from None


def _extra_column_problem(name: str, known: tuple[str, ...]) -> str | None:
    """Why a column beyond the known ones cannot be carried through, or ``None`` when it can."""
    import difflib  # only for a manifest with a column of its own: 1 ms of start-up otherwise

    like = difflib.get_close_matches(name.lower(), known, n=1, cutoff=SIMILAR)
    if like:
        # A misspelt optional column ("sides") would otherwise be carried along without a word.
        return (
            f"unknown column '{name}', like a misspelt '{like[0]}' (known columns: {', '.join(known)}; "
            "any other column is carried through to the results)"
        )
    if name in OUTPUT_COLUMNS:
        return f"column '{name}' is a column of the results: rename it"
    return None


def _header_problems(header: list[str]) -> list[tuple[int, str]]:
    problems = []
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    for position, name in enumerate(header, start=1):
        if not name:
            problems.append((1, f"column {position} has no name"))
        elif name not in known and (problem := _extra_column_problem(name, known)):
            problems.append((1, problem))
        elif header.index(name) != position - 1:
            problems.append((1, f"column '{name}' appears twice"))
    problems += [(1, f"missing column '{name}'") for name in REQUIRED_COLUMNS if name not in header]
    return problems


def _entry(
    line: int, row: dict[str, str], folder: Path, drafting: bool = False
) -> tuple[Entry | None, list[str]]:
    """Build the entry of one row, or list what is wrong with it (an empty mask is fine when ``drafting``)."""
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    problems = [
        f"empty {name}"
        for name in REQUIRED_COLUMNS
        if name in row and not row[name] and not (drafting and name == "mask")
    ]
    timepoint = row.get("timepoint", "").lower()
    if timepoint and timepoint not in TIMEPOINTS:
        problems.append(f"timepoint '{row['timepoint']}' is neither 'baseline' nor 'followup'")
    side = row.get("side", "").lower()
    if side and side not in SIDES:
        problems.append(
            f"side '{row['side']}' is neither 'right' nor 'left' (or empty: every lesion of the mask)"
        )
    roi = tuple(name.strip() for name in row["roi"].split(ROI_SEPARATOR)) if row.get("roi") else ()
    if "" in roi:
        problems.append(f"roi '{row['roi']}' has an empty name (names are separated by '{ROI_SEPARATOR}')")
    pacs, pacs_problems = _pacs_scan(row)
    if pacs or pacs_problems:  # the row means a PACS series: its empty scan is no problem of its own
        problems = [problem for problem in problems if problem != "empty scan"] + pacs_problems
        row = {**row, "scan": pacs or row.get("scan", "")}
    for name in ("scan", "mask"):
        written = row.get(name, "")
        if not written or written.startswith(PACS_SCAN):
            continue
        where = folder / written
        if not where.exists():
            looked = "" if Path(written).is_absolute() else f" (looked for {where})"
            problems.append(f"{name} '{written}' does not exist{looked}")
        elif name == "mask" and where.is_dir():
            problems.append(f"mask '{written}' is a folder, not a NIfTI label file")
    if problems or any(name not in row for name in REQUIRED_COLUMNS):
        return None, problems
    entry = Entry(
        line=line,
        patient_id=row["patient_id"],
        timepoint=timepoint,
        scan=row["scan"],
        mask=row["mask"],
        side=side,
        reader=row.get("reader", ""),
        group=row.get("group", ""),
        series=row.get("series") or None,
        folder=folder,
        extra=tuple((name, value) for name, value in row.items() if name not in known),
        roi=roi,
    )
    return entry, []


def _pacs_scan(row: dict[str, str]) -> tuple[str, list[str]]:
    """``pacs:STUDY/SERIES`` for a row naming a series on the PACS instead of a scan; what is wrong with it."""
    study, series = row.get("study_uid", ""), row.get("series_uid", "")
    if not (study or series):
        return "", []
    if not (study and series):
        return "", ["give both study_uid and series_uid (the series to measure), or a scan folder"]
    if row.get("scan"):
        return "", [f"scan '{row['scan']}' and study_uid/series_uid: give one or the other"]
    return f"{PACS_SCAN}{study}/{series}", []


def _describe(sides: list[str], entry: Entry) -> str:
    which = "both hips" if len(sides) == 2 else f"the {sides[0]} hip"
    return f"{which} of patient '{entry.patient_id}'" + (
        f" (reader '{entry.reader}')" if entry.reader else ""
    )


def _differing(earlier: Entry, entry: Entry) -> str:
    """The first extra column two rows disagree on, as a phrase."""
    name, value, before = next(
        (name, value, before)
        for (name, value), (_, before) in zip(entry.extra, earlier.extra, strict=True)
        if value != before
    )
    return f"{name} '{value}' differs from {name} '{before}'"


def _clashes(
    entries: list[Entry], key: Callable[[Entry, Hip], Hashable], clash: Callable[[Entry, Entry], bool]
) -> dict[tuple[Entry, Entry], list[str]]:
    """Pairs (row, earlier row) that ``clash`` on a hip they share by ``key``, with the sides concerned."""
    first: dict[Hashable, Entry] = {}
    clashes: dict[tuple[Entry, Entry], list[str]] = {}
    for entry in entries:
        for hip in entry.hips():
            earlier = first.setdefault(key(entry, hip), entry)
            if earlier is not entry and clash(earlier, entry):
                clashes.setdefault((entry, earlier), []).append(hip[1])
    return clashes


def _cross_row_problems(entries: list[Entry]) -> list[tuple[int, str]]:
    """What no single row shows: a hip given twice, rows of a hip that disagree."""
    twice = _clashes(entries, lambda entry, hip: (hip, entry.timepoint), lambda earlier, entry: True)
    groups = _clashes(entries, lambda entry, hip: hip, lambda earlier, entry: earlier.group != entry.group)
    extras = _clashes(entries, lambda entry, hip: hip, lambda earlier, entry: earlier.extra != entry.extra)
    # Copying the baseline row and forgetting to change its scan gives a "change" of exactly 0.
    same_scan = _clashes(
        entries,
        lambda entry, hip: hip,
        lambda earlier, entry: earlier.timepoint != entry.timepoint and earlier.scan_path == entry.scan_path,
    )
    return (
        [
            (
                entry.line,
                f"{_describe(sides, entry)} at {entry.timepoint} is already on line {earlier.line} (one row "
                "per hip, reader and timepoint; a row without side covers both hips)",
            )
            for (entry, earlier), sides in twice.items()
        ]
        + [
            (
                entry.line,
                f"group '{entry.group}' differs from group '{earlier.group}' on line {earlier.line} for "
                f"{_describe(sides, entry)}",
            )
            for (entry, earlier), sides in groups.items()
        ]
        + [
            (
                entry.line,
                f"{_differing(earlier, entry)} on line {earlier.line} for {_describe(sides, entry)} (a "
                "hip's clinical columns hold one value for both timepoints)",
            )
            for (entry, earlier), sides in extras.items()
        ]
        + [
            (
                entry.line,
                f"{_describe(sides, entry)}: the {entry.timepoint} scan is the {earlier.timepoint} scan of "
                f"line {earlier.line}",
            )
            for (entry, earlier), sides in same_scan.items()
        ]
    )
