"""Argument types and options several commands share, so each is spelled and checked one way."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..vocabulary import DEFAULT_THRESHOLD_PCT, METHODS


def count(text: str) -> int:
    """A whole number of 1 or more (``--jobs``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def positive(text: str) -> float:
    """A finite percentage above 0 (``--threshold``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive percentage, not {text}")
    return value


def add_method(parser: argparse.ArgumentParser) -> None:
    """``--method thickness|spacing``."""
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="thickness",
        help="volume reported as THE volume: area x slice thickness (the study's method, default) or "
        "area x slice spacing (Cavalieri); both are always computed",
    )


def add_threshold(parser: argparse.ArgumentParser) -> None:
    """``--threshold PCT``."""
    parser.add_argument(
        "--threshold",
        type=positive,
        default=DEFAULT_THRESHOLD_PCT,
        help="change (%%) that counts as increase or decrease; default 15 (|change| < 15%% = no change)",
    )


def add_series(parser: argparse.ArgumentParser, flag: str = "--series", what: str = "the folder") -> None:
    """``--series UID|NUMBER`` for a folder holding several series."""
    parser.add_argument(flag, help=f"SeriesInstanceUID or SeriesNumber, when {what} holds several")


def add_timepoint_series(parser: argparse.ArgumentParser) -> None:
    """``--baseline-series`` and ``--followup-series``, for commands reading a scan at each timepoint."""
    add_series(parser, "--baseline-series", "the baseline folder")
    add_series(parser, "--followup-series", "the follow-up folder")


def add_roi(parser: argparse.ArgumentParser) -> None:
    """``--roi NAME`` (repeatable): the segments or ROIs of a DICOM SEG or RTSTRUCT to measure."""
    parser.add_argument(
        "--roi",
        action="append",
        metavar="NAME",
        help="measure the segment or ROI of this name in a DICOM SEG or RTSTRUCT mask (repeat for several), "
        "whatever its coding; by default only those coded or named as lesions are measured",
    )


def refuse_outputs(outputs: Mapping[str, str | None], inputs: Iterable[str | Path], force: bool) -> None:
    """Refuse, before any work, two outputs on one file, an output that is an input, or one that exists.

    ``outputs`` maps each output's option ("-o") to its path (``None`` when not asked for);
    ``inputs`` are the files and folders the command reads.

    Raises
    ------
    OutputError, OutputIsInputError, OutputExistsError
        One line naming the file and the problem.
    """
    from ..atomic import check_not_inputs
    from ..errors import OutputError, OutputExistsError

    chosen = [Path(path) for path in outputs.values() if path]
    if len({os.path.abspath(path) for path in chosen}) < len(chosen):
        raise OutputError(None, f"two outputs ({', '.join(outputs)}) name the same file")
    check_not_inputs(chosen, inputs)
    for path in chosen:
        if path.exists() and not force:
            raise OutputExistsError(path, "file exists; refusing to overwrite it (use --force)")


def add_force(parser: argparse.ArgumentParser) -> None:
    """``--force``."""
    parser.add_argument("--force", action="store_true", help="overwrite output files that exist")


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json``."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")
