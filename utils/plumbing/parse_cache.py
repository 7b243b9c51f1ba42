"""What show_result parsed from each data file, kept in the user's cache directory while the file is unchanged.

Parsing 70 judgment files of 8 MB each takes most of a show_result run, and
a user runs it again and again on the same files (another flag, --html,
--compare). So each reader keeps, per directory it read, the columns it made
of every file there, and reuses a file's columns only while the file is the
same one: same device, inode, size, modification and status-change times
(st_ctime_ns, which every write moves and no tool can set back). A file
changed less than ``SETTLING`` ago is parsed but not kept (a write in the same
clock tick would not move its times). The key of a directory's cache file
holds what else the parse depends on (the question file's ids and texts, the
benchmark, the reader's own code: a ``git pull`` starts afresh), so nothing
kept can answer a different question.

The cache lives under $ARENA_CACHE_DIR, else $XDG_CACHE_HOME/arena-bench,
else ~/.cache/arena-bench: the user's own directory, never a data directory
another person may have written (its files are pickles). ARENA_CACHE_DIR=off
turns it off. Files not used for ``UNUSED_DAYS`` are removed when another is
written. Any failure to read or write it only means parsing again.
"""
from __future__ import annotations

import functools
import hashlib
import os
import pickle
import time
from pathlib import Path

FORMAT = 1  # of the cache files: bumped when what they hold changes shape
SETTLING = 0.05  # seconds since a file's last change before its parse is kept (2 s where times are whole seconds)
UNUSED_DAYS = 30
_CODE = Path(__file__).resolve().parent.parent  # utils/: any change to its modules makes new keys


def cache_root() -> Path | None:
    """The cache directory, or None when ARENA_CACHE_DIR=off."""
    chosen = os.environ.get("ARENA_CACHE_DIR")
    if chosen:
        return None if chosen.lower() in ("off", "0", "no", "false") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "arena-bench"


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """Of the size and modification time of every module under utils/ (150 stats, once per process)."""
    h = hashlib.blake2b(str(FORMAT).encode(), digest_size=16)
    for path in sorted(_CODE.rglob("*.py")):
        st = path.stat()
        h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def fingerprint(path) -> tuple | None:
    """The identity of a file's current content, or None when it cannot be trusted to mark it (just changed)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    age = time.time_ns() - st.st_ctime_ns
    whole_seconds = st.st_ctime_ns % 1_000_000_000 == 0 and st.st_mtime_ns % 1_000_000_000 == 0
    if age < (2.0 if whole_seconds else SETTLING) * 1e9:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class ParsedFiles:
    """The parses of one directory's files under one key: ``get`` a file's while it is unchanged, ``put`` new
    ones, ``save`` once (the parse of a file no longer there is dropped then)."""

    def __init__(self, kind: str, directory, key: str):
        root = cache_root()
        self.directory = Path(directory)
        name = hashlib.blake2b(f"{self.directory.resolve()}\0{key}".encode(), digest_size=16).hexdigest()
        self.path = None if root is None else root / kind / f"{name}.pickle"
        self.kept: dict[str, tuple] = {}  # file name -> (fingerprint, parse)
        self.new = False
        if self.path is not None:
            try:
                with open(self.path, "rb") as f:
                    found = pickle.load(f)
                if isinstance(found, dict):
                    self.kept = found
            except Exception:  # noqa: BLE001 - missing, unreadable or from another version: parse again
                self.kept = {}

    def get(self, path) -> object | None:
        """The parse kept of ``path``, if the file is the one it was made from (None: parse it)."""
        held = self.kept.get(os.path.basename(path)) if self.path is not None else None
        if held is None or held[0] != fingerprint(path):
            return None
        return held[1]

    def mark(self, path) -> tuple | None:
        """``fingerprint`` of ``path`` before it is parsed (None: do not keep the parse)."""
        return None if self.path is None else fingerprint(path)

    def put(self, path, mark: tuple | None, parse) -> None:
        """Keep ``parse`` of ``path`` if the file still has the fingerprint ``mark`` taken before it was parsed."""
        if mark is not None and fingerprint(path) == mark:
            self.kept[os.path.basename(path)] = (mark, parse)
            self.new = True

    def save(self) -> None:
        """Write what is kept if anything was added (else mark the cache file used today); failures are ignored."""
        if self.path is None:
            return
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            if not self.new:
                if self.kept and time.time() - self.path.stat().st_mtime > 86400:
                    os.utime(self.path)
                return
            kept = {name: held for name, held in self.kept.items() if (self.directory / name).exists()}
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(temp, "wb") as f:
                pickle.dump(kept, f, pickle.HIGHEST_PROTOCOL)
            os.replace(temp, self.path)
            _forget_unused(self.path.parent)
        except Exception:  # noqa: BLE001 - a full disk or a read-only home: the next run parses again
            try:
                temp.unlink()
            except OSError:
                pass


def _forget_unused(directory: Path) -> None:
    """Remove cache files not written for UNUSED_DAYS (a data directory since deleted, an old key)."""
    limit = time.time() - UNUSED_DAYS * 86400
    for entry in os.scandir(directory):
        if entry.stat().st_mtime < limit:
            os.unlink(entry.path)
