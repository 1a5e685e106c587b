"""A user's value as a one-line message quotes it: quoted, control characters escaped, long text cut.

A refusal names the value it refuses, but a cell holding a pasted paragraph or a line break must
neither fill the terminal nor split the message over several lines.
"""

from __future__ import annotations

#: Characters of a value quoted in a message.
SHOWN_CHARACTERS = 40


def shown(text: str) -> str:
    """``text`` in quotes, control characters escaped, cut after :data:`SHOWN_CHARACTERS` with "…".

    Examples
    --------
    >>> shown("OK"), shown("a\\nb"), shown("x" * 50)[-3:]
    ("'OK'", "'a\\\\nb'", "x'…")
    """
    cut = str(text)[:SHOWN_CHARACTERS]
    return repr(cut) + ("…" if len(str(text)) > SHOWN_CHARACTERS else "")
