"""The files of ``agreement`` and ``stats``, each command's written as one set, never over an input.

As the batch's outputs (:mod:`onfh_volume.batch.outputs`): all files of a run are replaced or
none is (:func:`onfh_volume.atomic.write_set`), and none may be the manifest, a scan, a mask or
the results file the statistics were read from.
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from pathlib import Path

from ..atomic import Writer, write_set
from ..batch.results import csv_writer
from .agreement import Agreement
from .pairs import PAIR_COLUMNS
from .report import agreement_report_writer, statistics_report_writer
from .statistics import Statistics

OutputPath = str | PathLike[str] | None


def write_agreement(
    result: Agreement,
    *,
    pairs: OutputPath = None,
    report: OutputPath = None,
    overwrite: bool = False,
    inputs: Iterable[str | PathLike[str]] = (),
) -> list[Path]:
    """Write PER_PAIR.csv (one row per target and pair of readers) and the HTML report, if asked for.

    Raises
    ------
    OutputExistsError, OutputIsInputError, OutputError
        See :func:`onfh_volume.atomic.write_set`; nothing is then written.
    """
    files: list[tuple[str | PathLike[str], Writer]] = []
    if pairs:
        files.append((pairs, csv_writer(PAIR_COLUMNS, result.pairs)))
    if report:
        files.append((report, agreement_report_writer(result)))
    return write_set(files, overwrite=overwrite, inputs=inputs)


def write_statistics(
    result: Statistics,
    *,
    report: OutputPath,
    overwrite: bool = False,
    inputs: Iterable[str | PathLike[str]] = (),
) -> list[Path]:
    """Write the statistics' HTML report (never over the results it was computed from: pass them as input)."""
    files = [(report, statistics_report_writer(result))] if report else []
    return write_set(files, overwrite=overwrite, inputs=inputs)
