"""CSV as the tool writes it: cells a spreadsheet opens as data, never as formulas.

Every CSV writer (cohort results, per-slice areas, a saved tracing) goes through :func:`write_rows`.
Text from the user (patient codes, reader names, groups, paths, messages) that starts with a
character a spreadsheet reads as the start of a formula gets a leading apostrophe, as OWASP
recommends against CSV injection; NUL bytes are removed. Numbers the tool computes are written
as numbers, so a change of -20.0% stays a number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

#: A text cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Decimals kept for cm³, mm² and %: 1e-6 cm³ is a thousandth of a mm³, far below any voxel.
DECIMALS = 6


def neutralised(text: str) -> str:
    """Text that a spreadsheet shows as it is: a leading ``'`` before a formula start, no NUL bytes.

    Examples
    --------
    >>> neutralised("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralised("sub-01")
    'sub-01'
    """
    text = text.replace("\0", "")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    """A value as CSV text: empty for unknown, numbers rounded, labels joined by ';', text neutralised.

    Examples
    --------
    >>> [cell(v) for v in (None, -20.0, 1 / 3, [1, 2], "-2+3")]
    ['', '-20.0', '0.333333', '1;2', "'-2+3"]
    """
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, DECIMALS))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return ";".join(cell(v) for v in value)
    return neutralised(str(value))


def write_rows(f: TextIO, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Write a header and one line per row (UTF-8 text file opened with ``newline=""``).

    Lines end with CR LF, as RFC 4180 has it: Python's csv module quotes a cell holding a line
    end character only if that character is in the line terminator, and a bare CR in a reader's
    name must not split a row in two.
    """
    import csv

    writer = csv.writer(f, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([cell(row[column]) for column in columns] for row in rows)
