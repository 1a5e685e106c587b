"""The ``onfh-volume`` console script: Ctrl-C at any moment is one line and exit code 130.

The command line's modules are imported here, inside the handler, so that an interrupt while
they load (rich, the CLI package: a tenth of a second) is the same one line as an interrupt
while measuring, not a traceback. :func:`onfh_volume.cli.main` handles the rest.
"""

from __future__ import annotations

import signal
import sys

from .interrupts import interrupted, record_interrupts


def run() -> None:
    """Run ``onfh-volume`` with the process's arguments and exit with its code."""
    record_interrupts()
    try:
        from .cli import main

        code = main()
        # Done and said: a Ctrl-C while Python shuts down would otherwise kill it by the signal
        # (exit -2), after the whole output, instead of giving the command's own exit code.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        code = _say_interrupted()
    except Exception:
        if not interrupted():
            raise
        code = _say_interrupted()
    sys.exit(code)


def _say_interrupted() -> int:
    print("onfh-volume: interrupted", file=sys.stderr)
    return 130  # EXIT_INTERRUPTED: onfh_volume.cli.exit_codes is not imported yet, or not whole
