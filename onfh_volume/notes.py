"""Warnings as values: the text, the timepoint it is about, and the identifiers it names.

A :class:`Note` reads as the plain sentence a user sees (it is a ``str``), so it prints, joins and
compares like one; its parts stay apart, so a comparison says which timepoint a warning is about
without a prefix being parsed back, and a results file can leave out the DICOM UIDs a note names.

Examples
--------
>>> note = Note(f"mask was saved on series {UID_SLOT}", uids=("1.2.840.1",)).at("followup")
>>> str(note)
'follow-up: mask was saved on series 1.2.840.1'
>>> note.timepoint, note.shareable()
('followup', 'mask was saved on series [UID]')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from os import PathLike

UID_SLOT = "\x00uid\x00"
"""Where a note's text names a DICOM UID (filled in on screen, ``[UID]`` in shared files)."""
WHEN = {"baseline": "baseline", "followup": "follow-up"}
"""How a timepoint is written before a note about it."""


def _filled(text: str, uids: Sequence[str]) -> str:
    for uid in uids:
        text = text.replace(UID_SLOT, uid, 1)
    return text


class Note(str):
    """A warning about a measurement, optionally about one timepoint of a comparison.

    Parameters
    ----------
    text
        The sentence, with :data:`UID_SLOT` where a DICOM UID goes.
    timepoint
        ``"baseline"``, ``"followup"`` or ``None`` (about both, or about a single measurement).
    uids
        The UIDs for the slots, in order.
    """

    text: str
    timepoint: str | None
    uids: tuple[str, ...]

    def __new__(cls, text: str, *, timepoint: str | None = None, uids: Sequence[str] = ()) -> Note:
        shown = _filled(text, uids)
        note = super().__new__(cls, f"{WHEN[timepoint]}: {shown}" if timepoint else shown)
        note.text, note.timepoint, note.uids = text, timepoint, tuple(uids)
        return note

    def at(self, timepoint: str) -> Note:
        """The same note, about ``timepoint``."""
        return Note(self.text, timepoint=timepoint, uids=self.uids)

    def shareable(self) -> str:
        """The sentence without its timepoint and with ``[UID]`` for each UID: for files others read."""
        return self.text.replace(UID_SLOT, "[UID]")


def notes(warnings: Iterable[str]) -> list[Note]:
    """Plain warnings (a loader's) as notes; notes stay as they are."""
    return [warning if isinstance(warning, Note) else Note(warning) for warning in warnings]


def another_series_warning(path: str | PathLike[str], traced_on: str, scan_series: str | None) -> list[Note]:
    """The warning for a mask that fits the scan's grid but names another series (``traced_on``) than
    the scan's (``scan_series``).

    Examples
    --------
    >>> [note.shareable() for note in another_series_warning("a.nii.gz", "1.2.3", "1.2.4")]
    ["mask a.nii.gz was saved on series [UID], not on this scan's series [UID]: is it another timepoint's mask?"]
    """
    return [
        Note(
            f"mask {path} was saved on series {UID_SLOT}, not on this scan's series {UID_SLOT}: "
            "is it another timepoint's mask?",
            uids=(traced_on, scan_series or ""),
        )
    ]
