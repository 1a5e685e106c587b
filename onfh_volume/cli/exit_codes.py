"""Exit codes of ``onfh-volume``, in one place (the user guide lists them)."""

EXIT_OK = 0
EXIT_INTERNAL = 1
"""A bug: the message asks for a report."""
EXIT_INPUT = 2
"""The input cannot be measured, or an option is wrong: one line naming the file and the problem."""
EXIT_SOME_FAILED = 3
"""A batch ran but some hips failed; their status column says why."""
EXIT_INTERRUPTED = 130
"""Ctrl-C, as shells report SIGINT."""
