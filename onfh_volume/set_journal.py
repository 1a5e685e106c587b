"""The journal of a set of files being moved into place: a killed move is finished by the next write.

Moving several files into place takes one rename each, and a process killed between two renames
(kill -9, a power cut) would leave a new results file beside an old report. So before its first
rename, :func:`onfh_volume.atomic.write_set` writes a journal into every folder of the set (one
small JSON file, itself moved into place by one rename) naming each complete temporary, its
target and the hard link that keeps the target's previous content. From then on the set is
committed: whoever finds the journal later finishes the moves (:func:`settle`) and removes the
links and the journal, so what onfh-volume reads or writes next is the whole new set. A set
whose temporaries were not all written has no journal and never touched its targets: the
previous set stays whole. A move that fails in the process itself (a full disk, a read-only
folder) turns the journal back before the previous files are put back, so a kill in the middle
of that is finished backwards.

Every step is idempotent: finishing a journal twice, or one that was half finished, gives the
same files.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FORWARD, BACK = "forward", "back"
_PATTERN = ".onfh-set-*.journal"
_STAGED = ".onfh-set-*.journal.new"


@dataclass(frozen=True)
class Move:
    """One file of a set: the complete ``temporary``, its ``target``, and ``previous``, the hard
    link keeping the target's earlier content (None when there was none, or no way to keep it)."""

    temporary: Path
    target: Path
    previous: Path | None


@dataclass(frozen=True)
class Journal:
    """Where a set's journal copies are (one per folder of the set) and what they say."""

    copies: tuple[Path, ...]
    moves: tuple[Move, ...]
    direction: str

    @property
    def folders(self) -> list[Path]:
        """Every folder the set writes into (to lock before finishing it)."""
        return sorted({move.target.parent for move in self.moves})

    def write(self, direction: str) -> Journal:
        """Put this journal (in ``direction``) on disk in every folder, each copy in one rename."""
        text = json.dumps(
            {
                "direction": direction,
                "moves": [
                    [str(m.temporary), str(m.target), m.previous and str(m.previous)] for m in self.moves
                ],
            }
        )
        for copy in self.copies:
            staged = copy.with_name(f"{copy.name}.new")  # matched by _STAGED, cleared if left
            with open(staged, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(staged, copy)
            _sync_folder(copy.parent)
        return self.turned(direction)

    def turned(self, direction: str) -> Journal:
        """The same journal in ``direction`` (not yet on disk)."""
        return Journal(self.copies, self.moves, direction)

    def discard(self) -> None:
        """Remove the journal's copies, whole or half written, before any move was made."""
        for copy in self.copies:
            copy.with_name(f"{copy.name}.new").unlink(missing_ok=True)
            copy.unlink(missing_ok=True)

    def finish(self) -> None:
        """Finish the moves in the journal's direction, then remove the links and the journal."""
        for move in self.moves:
            (_forward if self.direction == FORWARD else _back)(move)
        for move in self.moves:
            if move.previous is not None:
                move.previous.unlink(missing_ok=True)
        for folder in self.folders:
            _sync_folder(folder)
        for copy in self.copies:
            copy.unlink(missing_ok=True)


def random_token() -> str:
    """Eight random hexadecimal digits, for names no other writer picks.

    ``secrets.token_hex(4)``, the same bytes from the same source, without importing ``secrets``
    (hashlib and random with it: 5 ms of every batch's start-up).
    """
    return os.urandom(4).hex()


def new_journal(moves: Sequence[Move]) -> Journal:
    """A journal for ``moves``, not yet on disk (see :meth:`Journal.write`)."""
    token = random_token()
    folders = sorted({move.target.parent for move in moves})
    return Journal(tuple(folder / f".onfh-set-{token}.journal" for folder in folders), tuple(moves), FORWARD)


def _moved(move: Move) -> bool:
    """Whether the temporary already is the target (renamed onto it, or hard-linked to it)."""
    if not move.temporary.exists():
        return True
    with contextlib.suppress(OSError):
        return os.path.samefile(move.temporary, move.target)
    return False


def _forward(move: Move) -> None:
    if move.temporary.exists() and not _moved(move):
        os.replace(move.temporary, move.target)
    move.temporary.unlink(missing_ok=True)


def _back(move: Move) -> None:
    moved = _moved(move)
    if move.previous is not None and move.previous.exists():
        os.replace(move.previous, move.target)
    elif moved and move.previous is None:
        move.target.unlink(missing_ok=True)  # a file the set added
    move.temporary.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Put the folder's new entries on disk (the renames survive a power cut)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def read_journal(copy: Path) -> Journal | None:
    """The journal in ``copy`` with the other copies of its set; None if it is gone or unreadable.

    A copy is only ever seen whole (it is moved into place in one rename), so an unreadable one
    was not written by onfh-volume and is left alone.
    """
    try:
        data = json.loads(copy.read_text(encoding="utf-8"))
        moves = tuple(
            Move(Path(temporary), Path(target), None if previous is None else Path(previous))
            for temporary, target, previous in data["moves"]
        )
        direction = data["direction"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if direction not in (FORWARD, BACK) or not moves:
        return None
    folders = sorted({move.target.parent for move in moves})
    copies = tuple(folder / copy.name for folder in folders)
    return Journal(copies, moves, direction)


def pending(folders: Sequence[Path]) -> list[Journal]:
    """The journals left in ``folders`` by a set whose moves were cut short."""
    found = []
    for folder in sorted(set(folders)):
        for copy in sorted(folder.glob(_PATTERN)) if folder.is_dir() else []:
            journal = read_journal(copy)
            if journal is not None:
                found.append(journal)
    return found


def staged(folders: Sequence[Path]) -> list[Path]:
    """Journal copies a killed writer was still writing (never in use: the journal is not yet valid)."""
    return [
        path for folder in sorted(set(folders)) if folder.is_dir() for path in sorted(folder.glob(_STAGED))
    ]
