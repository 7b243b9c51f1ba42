"""Crash-safe JSON-lines files: one writer, append-and-fsync, resume, a final ordered rewrite.

Answers and judgments are paid for, so the file that holds them follows four rules:

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
  key (the first one written wins: it is the one that was paid for first), to
  a temporary file that is renamed over the old one.
"""
from __future__ import annotations

import contextlib
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


def check_writable(path: Path, key: str | None = None) -> None:
    """Raise an InputError now if ``atomic_write(path, ...)`` would fail on the path itself.

    For output flags, checked before a long computation rather than after it:
    the path must not be a directory, and its nearest existing parent must be a
    directory this process may create files in (missing ones below it are
    created by the write). It creates nothing; a full disk still fails later.
    """
    if path.is_dir():
        raise InputError("is a directory: give the path of a file to write", path, key=key)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot create the file: {parent} is not a directory", path, key=key)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot create the file: cannot write in {parent} (no permission, or a read-only "
                         "file system)", path, key=key)


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

    def __init__(self, path: Path | str, key: Callable[[dict], str]):
        self.path = Path(path)
        self.key = key
        self.records: dict[str, dict] = {}
        self._lock_file = None
        self._out = None

    # ------------------------------------------------------------ opening

    def open(self) -> "JsonlStore":
        """Lock the file, load what earlier runs completed, and get ready to append."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(self.path.with_name(self.path.name + ".lock"), "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise InputError("another run is writing this file right now; wait for it to finish "
                             "(or stop it) and run again", self.path) from None
        self._lock_file = lock
        try:
            self._load()
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
            self.records.setdefault(self.key(json_object(record, self.path, lineno)), record)

    # ------------------------------------------------------------ writing

    def append_many(self, records: Iterable[dict]) -> None:
        """Append whole lines and make them durable before returning."""
        fresh = [r for r in records if self.key(r) not in self.records]
        if not fresh:
            return
        if self._out is None:
            self._out = open(self.path, "ab")
        self._out.write(b"".join(dump_line(r) for r in fresh))
        self._out.flush()
        os.fsync(self._out.fileno())
        for r in fresh:
            self.records[self.key(r)] = r

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
