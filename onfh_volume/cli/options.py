"""Argument types and options several commands share, so each is spelled and checked one way."""

from __future__ import annotations

import argparse

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


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json``."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")
