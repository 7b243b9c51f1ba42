"""Crash-safe JSON-lines files: one writer, append-and-fsync, resume, a final ordered rewrite.

Answers and judgments are paid for, so the file that holds them follows these rules:

* one run at a time: ``open`` takes an exclusive lock (``flock`` on a sidecar
  ``<file>.lock``, removed again by ``close``; see ``_lock`` for why that is
  safe) and a second run is told at once, before it sends a request;
* every record is appended as one whole line and the file is fsynced before
  the writer moves on, so ``kill -9`` loses at most the records still in
  flight; a write that fails (a full disk) is cut back off, so the file keeps
  only whole lines, and tells which records it left unwritten (``NotWritten``);
* records a run had to keep aside in a recovery file (its disk stayed full:
  utils/plumbing/recovery.py) are taken in by the next ``open``;
* a run killed in the middle of a write can leave one unterminated last line;
  the next ``open`` reports it on stderr and cuts it off, and every complete
  line is kept (a last line that is a whole record and only lacks its newline
  is kept too);
* ``finish`` rewrites the file once, in the order asked for, one record per
  key (the one loading would keep: the first written, it was paid for first), to
  a temporary file that is renamed over the old one; the temporary file of a
  run killed during that rewrite is removed by the next ``open``;
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
import re
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Iterator

from utils.plumbing import recovery
from utils.plumbing.errors import InputError, StorageError, os_reason
from utils.plumbing.jsonl import json_object, parse_jsonl, parse_line


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
_TEMP_SUFFIX = ".tmp"


def is_temporary_of(name: str, path: Path) -> bool:
    """Whether ``name`` is one of ``atomic_write``'s temporary files for ``path`` (mkstemp adds 8 of [a-z0-9_])."""
    return re.fullmatch(re.escape(f".{path.name}.") + "[a-z0-9_]{8}" + re.escape(_TEMP_SUFFIX), name) is not None


def dump_line(record: dict) -> bytes:
    """One record as a JSON line (UTF-8, non-ASCII kept readable); it never raises for a record.

    The writer calls this for every paid-for record, so one odd record must
    not stop it: a string UTF-8 cannot hold (a lone surrogate, which JSON
    allows) gets U+FFFD instead, a value JSON has no form for gets its text,
    and the record counts what was changed under ``repaired``.
    """
    try:
        return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    except (UnicodeEncodeError, TypeError):
        counts = {"lone_surrogates": 0, "not_json": 0}
        cleaned = _storable(record, counts)
        noted = cleaned.get("repaired") if isinstance(cleaned.get("repaired"), dict) else {}
        cleaned["repaired"] = {**noted, **{k: noted.get(k, 0) + n for k, n in counts.items() if n}}
        return (json.dumps(cleaned, ensure_ascii=False) + "\n").encode("utf-8")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads pairs proper surrogates, so any left are lone


def repair_text(text: str) -> tuple[str, int]:
    """``text`` with every lone surrogate replaced by U+FFFD, and how many there were."""
    return _LONE_SURROGATE.subn("\ufffd", text)


def _storable(value, counts: dict[str, int]):
    """``value`` with every string made UTF-8-safe and every non-JSON value made text, counted in ``counts``."""
    if isinstance(value, str):
        text, n = repair_text(value)
        counts["lone_surrogates"] += n
        return text
    if isinstance(value, dict):
        return {_storable(k if isinstance(k, str) else str(k), counts): _storable(v, counts) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(v, counts) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    counts["not_json"] += 1
    return _storable(str(value), counts)


def temporary_beside(path: Path, private: bool = False) -> tuple[int, str]:
    """(open descriptor, name) of a new empty file in ``path``'s folder (made if missing), named as the
    temporary files of ``path`` are (``is_temporary_of``). ``private``: only this user may read or write it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX)
    if not private:  # mkstemp makes 0600; the result should look like any file we write
        try:
            os.fchmod(fd, 0o666 & ~_UMASK)
        except OSError:
            os.close(fd)
            os.unlink(tmp)
            raise
    return fd, tmp


def atomic_write(path: Path, data: bytes, durable: bool = True, private: bool = False) -> None:
    """Replace ``path`` with ``data`` through a temporary file and a rename.

    Readers see the old file or the new one, never a part. ``durable`` also
    syncs the data before the rename; files that can be derived again
    (battles, bootstrap results, reports) skip that cost. ``private``: only
    this user may read or write the file (a cache of pickles).
    """
    fd, tmp = temporary_beside(path, private)
    try:
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


class NotWritten(StorageError):
    """A write that failed, and the records it left unwritten (``left``: not on disk, not in the store)."""

    def __init__(self, err: StorageError, left: list[dict]):
        super().__init__(err.message, err.path)
        self.left = left


class JsonlStore:
    """The records of one output file, keyed by ``key(record)`` (the question id)."""

    def __init__(self, path: Path | str, key: Callable[[dict], str | None],
                 rank: Callable[[dict], int] | None = None):
        self.path = Path(path)
        self.key = key
        self.rank = rank or (lambda record: 0)  # how complete a record is: a higher rank replaces a lower
        self.records: dict[str, dict] = {}
        self._lock_fd: int | None = None
        self._fd: int | None = None

    @property
    def _lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    # ------------------------------------------------------------ opening

    def open(self) -> "JsonlStore":
        """Lock the file, clear what a killed rewrite left, load what earlier runs completed.

        A place we cannot write to is an InputError here, before any request
        is paid for, not an OSError at the first append.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock()
        except OSError as err:
            raise _cannot_write(err, self.path) from None
        try:
            self._remove_leftover_temporaries()
            self._load()
            self._check_writable()
            self._take_in_recovered(write=True)
        except OSError as err:
            self.close()
            raise _cannot_write(err, self.path) from None
        except BaseException:
            self.close()
            raise
        return self

    def _lock(self) -> None:
        """Take the exclusive lock, or stop at once if another run holds it.

        The lock file is removed by ``close``, so none is left beside the data
        once a run ends cleanly. Removing a lock file is only safe with these
        two rules, which together let exactly one run in at a time:

        1. only the run holding the flock of the file at the lock path ever
           unlinks it, and it does so before releasing the flock;
        2. after its flock succeeds, a run checks that the file it locked is
           still the one at the lock path. Between its ``open`` and its
           ``flock``, the holder may have unlinked that file and let go; the
           flock then lands on an orphan that no other run can see, and a
           third run could create and lock a new file at the same path. The
           check catches this, and the run tries again with the new file.

        By (1), while a run holds the flock of the file at the path, that file
        stays at the path; a second run that passes (2) would hold the flock
        of that same file at the same time, which flock does not allow.
        A run killed with the lock leaves the file behind, unlocked: the kernel
        releases the flock, and the next run reuses the file and removes it.
        """
        while True:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise InputError("another run is writing this file right now; wait for it to finish "
                                 "(or stop it) and run again", self.path) from None
            try:
                current = os.path.samestat(os.fstat(fd), os.stat(self._lock_path))
            except FileNotFoundError:
                current = False
            if current:
                self._lock_fd = fd
                return
            os.close(fd)

    def _remove_leftover_temporaries(self) -> None:
        """Remove the temporary files of a rewrite of this file that was killed before its rename.

        Only a run holding this file's lock rewrites it, and we hold it now,
        so no such file can be in use.
        """
        for entry in os.scandir(self.path.parent):
            if is_temporary_of(entry.name, self.path):
                Path(entry.path).unlink(missing_ok=True)

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            tail = data[complete:]
            if self._whole_record(tail):
                # a whole record that only lacks its line end (say, an editor dropped it): keep it
                self._append(b"\n")
                data, complete = data + b"\n", len(data) + 1
            else:
                print(f"warning: {self.path}: dropping an unfinished last line ({len(tail)} bytes) left by an "
                      "interrupted run; its request will be sent again", file=sys.stderr)
                with open(self.path, "r+b") as f:
                    f.truncate(complete)
                    f.flush()
                    os.fsync(f.fileno())
        self._keep(data[:complete])

    def _keep(self, data: bytes) -> None:
        """Hold the records of ``data`` (whole lines), one per key: the first, or the one ``rank`` puts highest."""
        for lineno, record in parse_jsonl(data, self.path, "; fix or remove the line and run again"):
            key = self.key(json_object(record, self.path, lineno))
            if self._improves(key, record):
                self.records[key] = record

    def read(self) -> "JsonlStore":
        """Load what earlier runs completed without touching the disk: no lock, no folder, no repair.

        For a run that only looks (``--dry-run``). What ``open`` would load is
        loaded: an unfinished last line is left out (and left in the file),
        a last line that is a whole record but lacks its line end is kept.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return self
        except OSError as err:
            raise InputError(f"cannot read the file ({err.strerror or err})", self.path) from None
        complete = data.rfind(b"\n") + 1
        if complete < len(data) and self._whole_record(data[complete:]):
            data, complete = data + b"\n", len(data) + 1
        self._keep(data[:complete])
        self._take_in_recovered(write=False)
        return self

    def _take_in_recovered(self, write: bool) -> None:
        """Take in the records a run whose disk was full kept aside for this file (utils/plumbing/recovery.py):
        appended as if they had just arrived (``write``; the recovery file goes once they are on disk), or only
        held, for a run that only looks."""
        for path in recovery.found(self.path):
            data = path.read_bytes()
            whole = data[:data.rfind(b"\n") + 1]  # a kill -9 during its write may have left a torn last line
            records = [json_object(r, path, n) for n, r in parse_jsonl(whole, path, "; fix or remove the line")]
            fresh = [r for r in records if self._improves(self.key(r), r)]
            if write:
                self.append_many(fresh)
                path.unlink()
            else:
                for record in fresh:
                    self.records[self.key(record)] = record
            print(f"{self.path}: took in {len(fresh)} record(s) from {path}, where a run whose disk was full kept "
                  "them", file=sys.stderr)

    def _check_writable(self) -> None:
        """Fail now if appending to the file, or the final rewrite beside it, would fail later."""
        if self.path.exists():
            open(self.path, "ab").close()
        tempfile.TemporaryFile(dir=self.path.parent).close()

    def _whole_record(self, raw: bytes) -> bool:
        """Whether ``raw`` is a complete record: a JSON object that has a key (a cut-off line never parses)."""
        try:
            record = parse_line(raw)
        except InputError:
            return False
        return isinstance(record, dict) and self.key(record) is not None

    # ------------------------------------------------------------ writing

    def _append(self, data: bytes) -> None:
        """Append ``data`` and make it durable, or raise ``StorageError`` with the file as it was before.

        A write to a full disk can store part of ``data`` before it fails; that
        part is cut off again, so the file never ends in a torn line.
        """
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
            size = os.fstat(self._fd).st_size
            try:
                rest = memoryview(data)
                while rest:
                    rest = rest[os.write(self._fd, rest):]
                os.fsync(self._fd)
            except OSError:
                os.ftruncate(self._fd, size)  # shrinking needs no space
                os.fsync(self._fd)
                raise
        except OSError as err:
            raise StorageError(f"could not write ({os_reason(err)})", self.path) from None

    def append_many(self, records: Iterable[dict]) -> None:
        """Append whole lines and make them durable before returning.

        On a failed write (``NotWritten``) the records that did fit are
        stored (and in ``records``); the error holds the others, in order.
        """
        fresh = [r for r in records if self._improves(self.key(r), r)]
        if not fresh:
            return
        lines = [dump_line(r) for r in fresh]
        try:
            self._append(b"".join(lines))
        except StorageError as err:
            if len(fresh) == 1:
                raise NotWritten(err, fresh) from None
            # a nearly full disk may still take some of them: keep as many as fit, one at a time
            for i, (r, line) in enumerate(zip(fresh, lines)):
                try:
                    self._append(line)
                except StorageError as one:
                    raise NotWritten(one, fresh[i:]) from None
                self.records[self.key(r)] = r
            return
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
        except OSError as err:
            raise StorageError(f"could not rewrite it in question order ({os_reason(err)}); every result is "
                               "stored in it as it arrived, and the next run puts them in order", self.path) from None
        finally:
            self.close()

    def close(self) -> None:
        """Release the file without rewriting it (what was appended stays)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):  # a lock file left behind is reused by the next run
                self._lock_path.unlink()  # before the unlock: see _lock
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None
