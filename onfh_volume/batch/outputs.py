"""A batch's output files as one set: checked before measuring, written all together or not at all.

RESULTS.csv, PER_SLICE.csv and REPORT.html describe one run. They are written with
:func:`onfh_volume.atomic.write_set`: an interrupted, failed or concurrent run never leaves a new
results file beside an old report, and no output ever replaces the manifest, a scan (or a file
in a scan folder) or a mask.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from ..atomic import Writer, check_not_inputs, write_set
from ..errors import OutputError
from ..volume import Method
from .columns import PER_SLICE_COLUMNS
from .manifest import Manifest
from .results import csv_writer, per_slice_rows, result_columns
from .run import Outcome


def batch_inputs(manifest: Manifest) -> list[Path]:
    """Every file and folder a batch reads: the manifest, each scan (file or folder) and each mask."""
    paths = {manifest.path}
    for entry in manifest.entries:
        paths.update((entry.scan_path, entry.mask_path))
    return sorted(paths)


def check_outputs(manifest: Manifest, outputs: Sequence[str | PathLike[str]]) -> None:
    """Refuse, before any measuring, outputs that name one file twice or would replace an input.

    Raises
    ------
    OutputError
        When two outputs name the same file.
    OutputIsInputError
        When an output is the manifest, a scan (or inside a scan folder) or a mask, or the same
        file as one of them: whatever overwriting was asked for.
    """
    where = [os.path.abspath(path) for path in outputs]
    if len(set(where)) < len(where):
        raise OutputError(None, "two outputs (-o, --per-slice, --report) name the same file")
    check_not_inputs(outputs, batch_inputs(manifest))


def write_outputs(
    manifest: Manifest,
    measured: Mapping[int, Outcome],
    rows: Sequence[Mapping[str, Any]],
    *,
    results: str | PathLike[str],
    per_slice: str | PathLike[str] | None = None,
    report: str | PathLike[str] | None = None,
    method: Method,
    threshold_pct: float,
    overwrite: bool = False,
    head: bool = False,
) -> list[Path]:
    """Write the results (one row per hip) and, if asked for, the per-slice areas and the report, as one set.

    ``head``: the results have the femoral head measures' columns (``batch --head``).

    Raises
    ------
    OutputExistsError, OutputIsInputError, OutputError
        See :func:`onfh_volume.atomic.write_set`; nothing is then written.
    """
    # The manifest's clinical columns follow the results' own, unchanged.
    files: list[tuple[str | PathLike[str], Writer]] = [
        (results, csv_writer(result_columns(manifest, head), rows))
    ]
    if per_slice:
        files.append((per_slice, csv_writer(PER_SLICE_COLUMNS, per_slice_rows(manifest, measured))))
    if report:
        title = f"ONFH lesion volume change: {manifest.path.name}"
        from .report import report_writer  # html and the plot: only for a report

        files.append((report, report_writer(rows, title=title, method=method, threshold_pct=threshold_pct)))
    return write_set(files, overwrite=overwrite, inputs=batch_inputs(manifest))
