"""Errors a user can cause and fix, and the exit status each gives (utils.plumbing.cli.run_cli reports them).

Anything the user controls (config files, question and answer files, model
names, command-line flags) is checked before work starts. A problem becomes
an ``InputError`` naming the file, the line and the key, which the entry
points print as a single line before exiting with status 2: no traceback, and
nothing half-written, because checks run before the first output file opens.
A ``StorageError`` (results that could not be written) is printed the same
way, with exit status 1. Ctrl-C ends a run with 130, SIGTERM and SIGHUP (handled
alike: ``Stopped``) with 143 and 129. A run stopped by its ``--max-cost`` cap ends with
status 3, everything it received stored; one that left batches running at
the provider (``--no-wait``) with status 4; a judging run that left questions
waiting for their baseline's answers with status 5. When several apply, the
first of 3, 4, 1 (failed requests), 5 is the status. ``gen_judgment.py
--until-decided`` says what it decided with 10 to 13 (docs/deciding.md#exit).
"""
from __future__ import annotations

EXIT_INPUT_ERROR = 2
EXIT_STORAGE_ERROR = 1
EXIT_FAILED = 1  # requests failed (gen_answer.py, gen_judgment.py), or a --until-decided round could not be counted
EXIT_COST_CAP = 3  # gen_answer.py / gen_judgment.py stopped at --max-cost
EXIT_BATCHES_RUNNING = 4  # gen_answer.py / gen_judgment.py stopped while its batches still run (--no-wait)
EXIT_WAITING = 5  # gen_judgment.py left questions waiting for their baseline's answers
# gen_judgment.py --until-decided: what the confidence sequence said when it stopped (utils/deciding/)
EXIT_A_BETTER = 10
EXIT_B_BETTER = 11
EXIT_EQUIVALENT = 12  # the interval lies inside +-margin
EXIT_UNDECIDED = 13  # every question judged (or, endless population, asked) without a decision
EXIT_BROKEN_PIPE = 141  # the reader of stdout left (`| head`): what a shell reports for a process SIGPIPE ended


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


class Stopped(KeyboardInterrupt):
    """A run stopped by SIGTERM or SIGHUP, which it handles as Ctrl-C; it exits with 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.exit_status = 128 + signum


class StorageError(Exception):
    """Paid-for results could not be written (a full disk, a quota, a file-size limit): ``path: message``."""

    def __init__(self, message: str, path: object):
        super().__init__(message)
        self.message = message
        self.path = str(path)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def os_reason(err: OSError) -> str:
    """An OSError as ``[Errno 28] No space left on device``, without the file name the caller names anyway."""
    return f"[Errno {err.errno}] {err.strerror}" if err.errno is not None else str(err)


def known_names(name: str, known, shown: int = 8) -> str:
    """What to tell a user who gave ``name`` where one of ``known`` was wanted: the likeliest meant, or the names."""
    import difflib  # only on the way to an error

    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
    if close:
        return f"did you mean {close[0]!r}?"
    if not known:
        return "none is there"
    return "known: " + ", ".join(known[:shown]) + (f" and {len(known) - shown} more" if len(known) > shown else "")
