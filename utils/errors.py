"""Errors a user can cause and fix, and the one way the scripts report them.

Anything the user controls (config files, question and answer files, model
names, command-line flags) is checked before work starts. A problem becomes
an ``InputError`` naming the file, the line and the key, which the entry
points print as a single line before exiting with status 2: no traceback, and
nothing half-written, because checks run before the first output file opens.
"""
from __future__ import annotations

import sys
from typing import Callable

EXIT_INPUT_ERROR = 2


class InputError(Exception):
    """Bad input: ``path:line: key: message``; every part but the message is optional."""

    def __init__(self, message: str, path: object = None, line: int | None = None, key: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.key = key

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


def run_cli(main: Callable[[], int | None]) -> None:
    """Run an entry point, turning an InputError into one line on stderr and exit 2."""
    try:
        code = main()
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_INPUT_ERROR)
    except KeyboardInterrupt:
        print("interrupted: completed work is saved; run again to resume", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
