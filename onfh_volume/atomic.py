"""Atomic file writes that never replace an existing file unless asked to."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from os import PathLike
from pathlib import Path

from .errors import OutputExistsError


def _suffixes(path: Path) -> str:
    # Keep compound endings such as ".nii.gz": writers pick their format from them.
    return "".join(path.suffixes[-2:]) if path.name.endswith(".nii.gz") else path.suffix


def write_atomically(
    path: str | PathLike[str], write: Callable[[Path], None], *, overwrite: bool = False
) -> Path:
    """Write a file through ``write(temporary_path)``, then move it into place in one step.

    Readers never see a half-written file, and a crash leaves the previous file intact. Without
    ``overwrite`` an existing file is never replaced, even one created while we were writing.

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path, "file exists; refusing to overwrite it (ask for overwrite explicitly)")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.part-", suffix=_suffixes(path))
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            try:
                # A hard link fails if the target exists: no race with another writer.
                os.link(temporary, path)
            except FileExistsError:
                raise OutputExistsError(path, "file exists; refusing to overwrite it") from None
            except OSError:
                # Filesystems without hard links (some network shares): check, then rename.
                if path.exists():
                    raise OutputExistsError(path, "file exists; refusing to overwrite it") from None
                os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
