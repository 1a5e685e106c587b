"""Ctrl-C remembered: an interrupt that a library turns into another error is still an interrupt.

numpy's C import of ``datetime``, interrupted, raises an ImportError rather than the
KeyboardInterrupt: without this record, the command would report an internal error (exit 1)
instead of "interrupted" (exit 130).
"""

from __future__ import annotations

import signal
from types import FrameType

_interrupts: list[int] = []


def record_interrupts() -> None:
    """From now on, remember each Ctrl-C before raising KeyboardInterrupt as Python does.

    Only Python's own handler is replaced: a handler the caller installed is left alone.
    """
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_interrupt)


def interrupted() -> bool:
    """Whether Ctrl-C came since :func:`record_interrupts` (always false without it).

    Examples
    --------
    >>> interrupted()
    False
    """
    return bool(_interrupts)


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    _interrupts.append(signum)
    signal.default_int_handler(signum, frame)
