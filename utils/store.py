"""Crash-safe JSON-lines files: one writer, append-and-fsync, resume, a final ordered rewrite.

Answers and judgments are paid for, so the file that holds them follows these rules:

* one run at a time: ``open`` takes an exclusive lock (``flock`` on a sidecar
  ``<file>.lock``; the data file itself is replaced by the final rewrite, so its
  inode cannot carry the lock) and a second run is told at once, before it
  sends a request;
* every record is appended as one whole line and the file is flushed and
  fsynced before the writer moves on, so ``kill -9`` loses at most the
  records still in flight;
* a run killed in the middle of a write can leave one unterminated last line;
  the next ``open`` reports it on stderr and cuts it off, and every complete
  line is kept;
* ``finish`` rewrites the file once, in the order asked for, one record per
  key (the one loading would keep: the first written, it was paid for first), to
  a temporary file that is renamed over the old one;
* a record can be completed (a judgment whose second game failed gets that
  game in a later run): the complete record is appended like any other, and
  whenever a key has several lines, loading keeps the one ``rank`` puts
  highest (the first among equals). So a run killed between that append and
  the final rewrite loses neither the old game nor the new one.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Iterator

from utils.errors import InputError
from utils.records import json_object


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def dump_line(record: dict) -> bytes:
    """One record as a JSON line (UTF-8, non-ASCII kept readable)."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` through a temporary file and a rename.

    Readers see the old file or the new one, never a part. ``durable`` also
    syncs the data before the rename; files that can be derived again
    (battles, bootstrap results, reports) skip that cost.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; the result should look like any file we write
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cannot_write(err: OSError, path: Path) -> InputError:
    """One line naming the place that cannot be written (a read-only folder, a folder where a file belongs, ...)."""
    if err.errno in (errno.EEXIST, errno.ENOTDIR):
        why = "this is a file where a folder for the output files belongs; move it away"
    elif err.errno == errno.EISDIR:
        why = "this is a folder where an output file belongs; move it away"
    else:
        why = f"cannot write the output file here ({err.strerror or err}); make the folder writable"
    return InputError(f"{why} or choose another --data-dir", err.filename or path)


@contextlib.contextmanager
def closed_on_error(stores: list["JsonlStore"]) -> Iterator[list["JsonlStore"]]:
    """Yield ``stores``; on an error or interrupt in the block, close those in it by then and re-raise.

    Closing keeps every appended record and rewrites nothing, so the next run resumes from them.
    """
    try:
        yield stores
    except BaseException:
        for store in stores:
            store.close()
        raise


class JsonlStore:
    """The records of one output file, keyed by ``key(record)`` (the question id)."""

    def __init__(self, path: Path | str, key: Callable[[dict], str], rank: Callable[[dict], int] | None = None):
        self.path = Path(path)
        self.key = key
        self.rank = rank or (lambda record: 0)  # how complete a record is: a higher rank replaces a lower
        self.records: dict[str, dict] = {}
        self._lock_file = None
        self._out = None

    # ------------------------------------------------------------ opening

    def open(self) -> "JsonlStore":
        """Lock the file, load what earlier runs completed, and get ready to append.

        A place we cannot write to is an InputError here, before any request
        is paid for, not an OSError at the first append.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(self.path.with_name(self.path.name + ".lock"), "a")
        except OSError as err:
            raise _cannot_write(err, self.path) from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise InputError("another run is writing this file right now; wait for it to finish "
                             "(or stop it) and run again", self.path) from None
        self._lock_file = lock
        try:
            self._load()
            self._check_writable()
        except OSError as err:
            self.close()
            raise _cannot_write(err, self.path) from None
        except BaseException:
            self.close()
            raise
        return self

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            tail = data[complete:]
            print(f"warning: {self.path}: dropping an unfinished last line ({len(tail)} bytes) left by an "
                  "interrupted run; its request will be sent again", file=sys.stderr)
            with open(self.path, "r+b") as f:
                f.truncate(complete)
                f.flush()
                os.fsync(f.fileno())
        for lineno, raw in enumerate(data[:complete].split(b"\n")[:-1], 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise InputError(f"not a JSON line ({err}); fix or remove the line and run again",
                                 self.path, lineno) from None
            key = self.key(json_object(record, self.path, lineno))
            if self._improves(key, record):
                self.records[key] = record

    def _check_writable(self) -> None:
        """Fail now if appending to the file, or the final rewrite beside it, would fail later."""
        if self.path.exists():
            open(self.path, "ab").close()
        tempfile.TemporaryFile(dir=self.path.parent).close()

    # ------------------------------------------------------------ writing

    def append_many(self, records: Iterable[dict]) -> None:
        """Append whole lines and make them durable before returning."""
        fresh = [r for r in records if self._improves(self.key(r), r)]
        if not fresh:
            return
        if self._out is None:
            self._out = open(self.path, "ab")
        self._out.write(b"".join(dump_line(r) for r in fresh))
        self._out.flush()
        os.fsync(self._out.fileno())
        for r in fresh:
            self.records[self.key(r)] = r

    def _improves(self, key: str, record: dict) -> bool:
        """Whether ``record`` is kept for ``key``: the first one, or one more complete than the one held."""
        held = self.records.get(key)
        return held is None or self.rank(record) > self.rank(held)

    def finish(self, order: list[str]) -> None:
        """Rewrite the file in ``order`` (records for other keys follow, never dropped) and unlock."""
        try:
            if self.records:
                rank = {k: i for i, k in enumerate(order)}
                keys = sorted(self.records, key=lambda k: (k not in rank, rank.get(k, 0)))
                atomic_write(self.path, b"".join(dump_line(self.records[k]) for k in keys))
        finally:
            self.close()

    def close(self) -> None:
        """Release the file without rewriting it (what was appended stays)."""
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._lock_file is not None:
            self._lock_file.close()  # closing the descriptor releases the flock
            self._lock_file = None
