"""Atomic writes of one file or of a set of files that belong together, never over an input.

Every file the tool writes goes through :func:`write_set`: each file is written in full to a
temporary file in its target folder, and only when all of them are complete are they moved into
place, together, while no other onfh-volume process moves files into those folders. A failure
(a full disk, a read-only folder, an error while writing, Ctrl-C) leaves the previous files as
they were, and no half-written file is ever seen. A process killed between two of the set's
renames leaves a journal (:mod:`onfh_volume.set_journal`) that the next write into those folders,
or a read through :func:`settle`, finishes: onfh-volume never uses half of one set beside half of
another, and the links that kept the previous files are removed once the set is whole. Files get
the permissions the user's umask gives new files (0644 under the usual 022), as other tools'
files do.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from os import PathLike
from pathlib import Path

from .errors import OnfhError, OutputError, OutputExistsError, OutputIsInputError
from .set_journal import BACK, FORWARD, Move, new_journal, pending, random_token, staged

Writer = Callable[[Path], object]
"""Writes a file's whole content to the path it is given (what it returns is ignored)."""

ABANDONED_S = 10.0  # a temporary unchanged this long, with no writer holding it, was left by a killed one


def _suffixes(path: Path) -> str:
    # Keep compound endings such as ".nii.gz": writers pick their format from them.
    return "".join(path.suffixes[-2:]) if path.name.endswith(".nii.gz") else path.suffix


def _cannot_write(folder: Path, exc: OSError) -> OutputError:
    return OutputError(folder, f"cannot write in this folder ({_reason(exc)}); nothing was replaced")


def _reason(exc: BaseException) -> str:
    """The system's words for a failed write (``No space left on device``), in one line.

    A library may re-raise the system's error with its own traceback in the message (pydicom
    does, naming the tag it was writing): the original error, its cause, says it in one line.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        cause = cause.__cause__ or cause.__context__
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _temporary(path: Path, kind: str) -> Path:
    """A new empty file beside ``path``, created with the mode the umask gives (mkstemp's is 0600)."""
    while True:
        name = path.with_name(f".{path.name}.{kind}-{random_token()}{_suffixes(path)}")
        try:
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return name
        except FileExistsError:
            continue


def _claimed(temporary: Path) -> int:
    """An open descriptor holding a lock on ``temporary``: it is being written, by a living process."""
    descriptor = os.open(temporary, os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


def _clear_abandoned(path: Path) -> None:
    """Remove the temporaries of ``path`` that a killed writer left behind.

    A writer holds a lock on its temporary until the set is in place; the system drops the lock
    when the process dies (even by kill -9). A temporary that can be locked and has not changed
    for ``ABANDONED_S`` is nobody's: it is removed.
    """
    for stale in path.parent.glob(f".{glob.escape(path.name)}.part-*"):
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime < ABANDONED_S:
                continue
            descriptor = os.open(stale, os.O_RDONLY)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                stale.unlink()
            finally:
                os.close(descriptor)


def check_not_inputs(outputs: Iterable[str | PathLike[str]], inputs: Iterable[str | PathLike[str]]) -> None:
    """Refuse an output that is an input, the same file as one (a link to it), or inside an input folder.

    Raises
    ------
    OutputIsInputError
        Naming the output and the input; whatever overwriting was asked for.
    """
    files: dict[str, Path] = {}
    folders: dict[str, Path] = {}
    real_path = _RealPaths()
    for item in map(Path, inputs):
        (folders if item.is_dir() else files)[real_path(item)] = item
    same_file: dict[tuple[int, int], Path] | None = None
    for output in map(Path, outputs):
        real = real_path(output)
        hit = files.get(real) or folders.get(real)
        hit = hit or next((f for where, f in folders.items() if real.startswith(where + os.sep)), None)
        if hit is None and output.exists():
            if same_file is None:  # stat every input file only when an output exists already
                same_file = {_identity(file): known for file, known in _input_files(files, folders)}
            hit = same_file.get(_identity(output))
        if hit is not None:
            raise OutputIsInputError(
                output,
                f"this output would write over the input {hit}; choose another output name (even --force never replaces an input)",
            )


class _RealPaths:
    """``os.path.realpath``, each folder resolved once: a cohort's hundreds of masks lie in a few
    folders, and resolving a path looks at each of its folders in turn."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def __call__(self, path: Path) -> str:
        folder, name = os.path.split(path)
        if name in ("", os.curdir, os.pardir):
            return os.path.realpath(path)
        if folder not in self._folders:
            self._folders[folder] = os.path.realpath(folder or os.curdir)
        real = os.path.join(self._folders[folder], name)
        # A link is resolved whole (its target may lead anywhere); any other name is itself.
        return os.path.realpath(real) if os.path.islink(real) else real


def _identity(path: str | Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino


def _input_files(files: dict[str, Path], folders: dict[str, Path]) -> Iterator[tuple[str, Path]]:
    yield from ((real, known) for real, known in files.items() if os.path.exists(real))
    for folder, known in folders.items():
        for root, _, names in os.walk(folder):
            yield from ((os.path.join(root, name), known) for name in names)


@contextlib.contextmanager
def _locked(folders: Sequence[Path]) -> Iterator[None]:
    """Hold an exclusive lock on each folder (in a fixed order): concurrent sets are moved in one at a time."""
    with contextlib.ExitStack() as stack:
        for folder in sorted(set(folders)):
            descriptor = os.open(folder, os.O_RDONLY)
            stack.callback(os.close, descriptor)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def _interrupt_held() -> Iterator[None]:
    """Hold Ctrl-C back while files are moved into place; raise it once the set is whole."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def write_set(
    files: Sequence[tuple[str | PathLike[str], Writer]],
    *,
    overwrite: bool = False,
    inputs: Iterable[str | PathLike[str]] = (),
) -> list[Path]:
    """Write files that belong together: all are replaced, or none is.

    Parameters
    ----------
    files
        (path, writer) pairs; ``writer(temporary)`` writes the file's content to ``temporary``.
    overwrite
        Replace existing files; without it, an existing file (even one created while writing) is
        never replaced.
    inputs
        Files and folders the outputs must never be (nor be inside): a run's scans, masks, manifest.

    Raises
    ------
    OutputExistsError
        When a file exists and ``overwrite`` is false (nothing is written).
    OutputIsInputError
        When an output is an input (nothing is written).
    OutputError
        When a folder cannot be written (full disk, read-only, no permission): it names the folder,
        and the previous files are left as they were.
    """
    paths = [Path(path) for path, _ in files]
    if len({os.path.abspath(path) for path in paths}) < len(paths):
        raise OutputError(None, f"two outputs name the same file: {', '.join(map(str, paths))}")
    check_not_inputs(paths, inputs)
    if not overwrite:
        _refuse_existing(paths)
    temporaries: list[Path] = []
    claims: list[int] = []
    settle(paths)  # first: a killed writer's journal names temporaries that are not abandoned
    try:
        for path, (_, write) in zip(paths, files, strict=True):
            _clear_abandoned(path)
            temporaries.append(_written(path, write, claims))
        with _interrupt_held(), _locked([path.parent for path in paths]):
            if not overwrite:
                _refuse_existing(paths)  # made by another process while we were writing
            _move_into_place(list(zip(temporaries, paths, strict=True)), overwrite)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        for descriptor in claims:
            os.close(descriptor)
    return paths


def _refuse_existing(paths: Sequence[Path]) -> None:
    existing = [path for path in paths if path.exists()]
    if existing:
        raise OutputExistsError(
            existing[0], "file exists; refusing to overwrite it (ask for overwrite explicitly)"
        )


def _written(path: Path, write: Writer, claims: list[int]) -> Path:
    """Write ``path``'s content in full to a new temporary file beside it, on disk, claimed in ``claims``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _temporary(path, "part")
        claims.append(_claimed(temporary))
    except OSError as exc:
        raise _cannot_write(path.parent, exc) from exc
    try:
        write(temporary)
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(path.parent, exc) from exc
        raise
    return temporary


def _move_into_place(moves: list[tuple[Path, Path]], overwrite: bool) -> None:
    """Move complete temporaries onto their targets, under a journal; on a failure, put back what was there.

    The journal (:mod:`onfh_volume.set_journal`) is on disk before the first move: a process
    killed between two moves leaves it for the next write (or read) of the set to finish.
    """
    previous = [_aside_name(path) if overwrite and path.exists() else None for _, path in moves]
    journal = new_journal(
        [Move(temporary, path, kept) for (temporary, path), kept in zip(moves, previous, strict=True)]
    )
    try:
        journal = journal.write(FORWARD)
    except OSError as exc:
        journal.discard()  # no target was touched yet
        raise _cannot_write(moves[0][1].parent, exc) from exc
    done = 0
    try:
        for move in journal.moves:
            if move.previous is not None:
                _keep_aside(move.target, move.previous)
            # Without overwrite, a hard link fails if the target exists: no race with another writer.
            (os.replace if overwrite else _link)(move.temporary, move.target)
            done += 1
    except (OSError, OnfhError) as exc:
        back = journal.turned(BACK)
        with contextlib.suppress(OSError):  # a disk too full for the journal still gets its files back
            back = back.write(BACK)
        back.finish()
        if isinstance(exc, OnfhError):
            raise
        raise _cannot_write(moves[done][1].parent, exc) from exc
    journal.finish()


def _aside_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.previous-{random_token()}")


def _keep_aside(path: Path, aside: Path) -> None:
    """Give the file at ``path`` a second name ``aside`` (a hard link), to put it back if the set fails.

    Where hard links cannot be made (some network shares) the set is still moved in, without a
    way back.
    """
    with contextlib.suppress(OSError):
        os.link(path, aside)


def settle(paths: Iterable[str | PathLike[str]]) -> None:
    """Finish every set whose moves into the folders of ``paths`` were cut short (a killed writer).

    Called before each write, and by readers of a set's files, so that what onfh-volume reads or
    replaces is never half of one set and half of another. Links that kept a previous file of
    ``paths`` and that no journal names any more (left by a killed writer of an earlier version)
    are removed too.
    """
    files = [Path(path).absolute() for path in paths]
    folders = sorted({file.parent for file in files})
    found = pending(folders)
    if not found and not staged(folders) and not _kept(files):
        return
    involved = set(folders).union(*(journal.folders for journal in found))
    try:
        with _interrupt_held(), _locked([folder for folder in involved if folder.is_dir()]):
            # Again, under the lock: a living writer finishes its own set before it lets go.
            for journal in pending(folders):
                journal.finish()
            for leftover in staged(folders) + _kept(files):
                leftover.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(
            folders[0], f"a killed run's files could not be finished here ({_reason(exc)})"
        ) from exc


def _kept(paths: Sequence[Path]) -> list[Path]:
    """The links keeping previous files of ``paths`` (``.RESULTS.csv.previous-…``)."""
    return [
        kept
        for path in paths
        if path.parent.is_dir()
        for kept in sorted(path.parent.glob(f".{glob.escape(path.name)}.previous-*"))
    ]


def _link(temporary: Path, path: Path) -> None:
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise OutputExistsError(path, "file exists; refusing to overwrite it") from None
    except OSError:
        # Filesystems without hard links (some network shares): check, then rename.
        if path.exists():
            raise OutputExistsError(path, "file exists; refusing to overwrite it") from None
        os.replace(temporary, path)


def write_atomically(
    path: str | PathLike[str],
    write: Writer,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | PathLike[str]] = (),
) -> Path:
    """Write one file through ``write(temporary_path)``, then move it into place in one step.

    Readers never see a half-written file, and a crash leaves the previous file intact. Without
    ``overwrite`` an existing file is never replaced, even one created while we were writing.
    See :func:`write_set` for the errors raised.
    """
    return write_set([(path, write)], overwrite=overwrite, inputs=inputs)[0]
