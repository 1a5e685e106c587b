"""What the walk expects of the zero-click actions (Find lesions, Carry baseline), read off the screen.

Shared by the walk (``test_reader_walk.py``) and the regression tests of its findings. The voxels
an accept must write are computed from the preview the reader saw and the tracing before it, by
the rule the user guide states (only background voxels, slices already traced with that label
kept as they are), not by the plugin's code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from qtpy.QtWidgets import QPushButton, QWidget

#: A background search or carry on a machine shared by several readers' tests.
WORK_TIMEOUT_MS = 300_000
#: How the readout marks a slice written from each proposal (the user guide's words), and the field
#: of the saved record listing those slices.
BAND_FILL, DETECTED, PROPAGATED = "band fill", "detected", "propagated"
FIELDS = {BAND_FILL: "band_fill_slices", DETECTED: "detected_slices", PROPAGATED: "propagated_slices"}


def buttons_starting(dock: QWidget, text: str) -> list[QPushButton]:
    """The dock's shown push buttons whose text starts with ``text``."""
    return [b for b in dock.findChildren(QPushButton) if b.text().startswith(text) and b.parent()]


def hips_to_review(finder: QWidget) -> list[str]:
    """Sides with a proposal still to accept or reject in the Find lesions dock."""
    return [b.text().split()[-1] for b in buttons_starting(finder, "Accept ")]


def accepted(before: np.ndarray, preview: np.ndarray, labels: list[int] | None = None) -> np.ndarray:
    """The tracing after accepting ``preview``'s ``labels`` (all of its labels when None).

    Examples
    --------
    >>> before = np.zeros((2, 1, 3), np.uint8); before[0, 0, 0] = 1
    >>> preview = np.ones((2, 1, 3), np.uint8); preview[:, 0, 2] = 2
    >>> accepted(before, preview)[:, 0].tolist()  # slice 0 already held label 1: kept as it was
    [[1, 0, 2], [1, 1, 2]]
    """
    after = before.copy()
    for label in labels if labels is not None else [int(v) for v in np.unique(preview) if v]:
        pixels = (preview == label) & (after == 0)
        pixels[(before == label).any(axis=(1, 2))] = False
        after[pixels] = label
    return after


def cell_marks(text: str) -> list[str]:
    """The marks of a slice table cell: "12.5 (filled, detected)" has two.

    Examples
    --------
    >>> cell_marks("12.5 (filled, detected)"), cell_marks("12.5")
    (['filled', 'detected'], [])
    """
    inside = text.partition("(")[2].rstrip(")")
    return inside.split(", ") if inside else []


def marked_rows(widget, label: int, mark: str) -> set[int]:
    """Slices whose area the Lesion volume dock's slice table marks with ``mark``, for ``label``."""
    table = widget.slice_table
    labels = [lesion.label for lesion in widget.session.readout.lesions()]
    if label not in labels:
        return set()
    column = 1 + labels.index(label)
    return {
        row
        for row in range(table.rowCount())
        if table.item(row, column) is not None and mark in cell_marks(table.item(row, column).text())
    }


def saved_marks(record_json: Path, mark: str) -> dict[int, set[int]]:
    """Per label, the slices a saved record lists as marked ``mark`` (under its field)."""
    record = json.loads(Path(record_json).read_text(encoding="utf-8"))
    return {lesion["label"]: set(lesion[FIELDS[mark]]) for lesion in record["lesions"]}


def added_slices(before: np.ndarray, after: np.ndarray, label: int) -> set[int]:
    """Slices where ``label`` gained voxels."""
    return set(np.flatnonzero(((after == label) & (before != label)).any(axis=(1, 2))).tolist())
