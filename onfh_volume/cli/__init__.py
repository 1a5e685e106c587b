"""The ``onfh-volume`` command: scan geometry, lesion volumes, baseline/follow-up change, cohorts.

One module per command group, each with ``register(commands)`` adding its sub-commands and a
``run(args, out, err) -> int`` for each; :func:`main` owns the exit codes and turns a user's
mistake into one line. Exit codes: 0 success; 2 the input cannot be measured (one line on stderr
naming the file and the problem; for a bad manifest, one line per problem); 3 a batch ran but some
hips failed (their status in the results says why); 130 interrupted (Ctrl-C); 1 an internal error
(a bug: please report it).

The command modules import their heavy dependencies (the loaders, Dask, matplotlib) inside the
function that runs the command, so ``onfh-volume --help`` and each command start with only what
they use; rich too (a fifth of a quiet batch's start-up) is imported by what prints, when it prints.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import agreement, batch, detect, export_seg, export_sr, info, measure, pacs, propagate, stats, trace
from .exit_codes import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED

if TYPE_CHECKING:
    from rich.console import Console

COMMAND_MODULES = (
    (info, ("info",)),
    (measure, ("measure", "compare")),
    (trace, ("trace",)),
    (detect, ("detect",)),
    (propagate, ("propagate",)),
    (batch, ("batch",)),
    (export_seg, ("export-seg",)),
    (export_sr, ("export-sr",)),
    (pacs, ("pull", "push")),
    (agreement, ("agreement",)),
    (stats, ("stats",)),
)
"""Modules whose ``register`` adds sub-commands, with their names, in the order ``--help`` lists them."""


class _Version(argparse.Action):
    """``--version``: the version is read from the package metadata only when asked for.

    argparse's own version action needs the text up front, and importlib.metadata costs every
    command about 30 ms to import.
    """

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from .. import __version__

        print(f"{parser.prog} {__version__}")
        parser.exit()


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; given the name of a sub-command, with that command's options only
    (building every command's took a small batch 3 ms), else, for ``--help`` or a name argparse
    refuses with the list of commands, with all of them."""
    parser = argparse.ArgumentParser(
        prog="onfh-volume",
        description="Necrotic lesion volume of osteonecrosis of the femoral head on hip MRI "
        "(sum of traced area x slice thickness, and the Cavalieri sum of area x slice spacing).",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    known = any(command in names for _, names in COMMAND_MODULES)
    for module, names in COMMAND_MODULES:
        if not known or command in names:
            module.register(commands)
    return parser


POINT_OPTIONS = ("--seed", "--seed-voxel")


class _Console:
    """A rich Console, made when first used: a quiet batch prints nothing and never imports rich."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return getattr(self._console, name)


def _refuse(path: object, problem: str) -> None:
    print(
        f"onfh-volume: error: {path}: {problem}" if path else f"onfh-volume: error: {problem}",
        file=sys.stderr,
    )


def _glued_points(argv: Sequence[str]) -> list[str]:
    """``--seed -98.8,2,14`` as ``--seed=-98.8,2,14``: argparse takes a value starting with '-' for an option.

    A left-hip point in RAS millimetres starts with a minus sign, so the plain form must work.

    Examples
    --------
    >>> _glued_points(["trace", "s.nii.gz", "--seed", "-98.8,2.2,14", "--seed-voxel", "-1,2,3", "--json"])
    ['trace', 's.nii.gz', '--seed=-98.8,2.2,14', '--seed-voxel=-1,2,3', '--json']
    """
    glued: list[str] = []
    for argument in argv:
        if glued and glued[-1] in POINT_OPTIONS and re.fullmatch(r"-[\d.][^\s]*,.*", argument):
            glued[-1] = f"{glued[-1]}={argument}"
        else:
            glued.append(argument)
    return glued


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Examples
    --------
    >>> main(["info", "sample_scans/nifti/sub-01_baseline.nii.gz", "--json"])  # doctest: +ELLIPSIS
    {
      "source": "sample_scans/nifti/sub-01_baseline.nii.gz",
    ...
    0
    """
    from ..errors import ManifestError, OnfhError
    from ..interrupts import interrupted

    arguments = _glued_points(sys.argv[1:] if argv is None else argv)
    args = _parser(arguments[0] if arguments else None).parse_args(arguments)
    out, err = _Console(), _Console(stderr=True)
    try:
        with warnings.catch_warnings():
            # A reader's own warnings about a broken file would add lines to the one-line refusal;
            # what matters of them reaches the user as the error or as the scan's warnings.
            warnings.simplefilter("ignore")
            return args.run(args, out, err)
    except ManifestError as exc:
        # One line per problem, each naming the manifest and the line: all fixed in one go.
        for problem in exc.problems:
            _refuse(exc.path, problem)
        return EXIT_INPUT
    except OnfhError as exc:
        print(f"onfh-volume: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("onfh-volume: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if interrupted():  # the interrupt, turned into another error by a library on its way out
            print("onfh-volume: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        print(
            f"onfh-volume: internal error: {type(exc).__name__}: {exc} (a bug: please report it with the command)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
