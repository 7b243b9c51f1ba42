"""What show_result parsed from each data file, kept in the user's cache directory while the file is unchanged.

Parsing 70 judgment files of 8 MB each takes most of a show_result run, and
a user runs it again and again on the same files (another flag, --compare,
--style-control). So each reader keeps, per directory it read, the columns it
made of every file there, and reuses a file's columns only while the file is
the same one: same device, inode, size, modification and status-change times
(st_ctime_ns, which every write moves and no tool can set back). A file
changed less than ``SETTLING`` ago is parsed but not kept (a write in the same
clock tick would not move its times). The key stored with a directory's
parses holds what else they depend on (the question file's ids and texts, the
benchmark, the reader's own code: a ``git pull`` starts afresh); a parse under
another key is never used, and the next save replaces it, so there is one
cache file per directory read.

The cache lives in $ARENA_CACHE_DIR, else in the ``parsed`` folder of the
user's cache (utils/plumbing/names.py's ``user_cache``). Its files are
pickles, so they are read only from folders and files this user owns that
no one else may write, and written through a private temporary file; a
relative location (no home directory) or ARENA_CACHE_DIR=off turns it off.
Files not used for ``UNUSED_DAYS`` are removed when another is written. Any
failure to read or write it, or anything unexpected in it, only means
parsing again.
"""
from __future__ import annotations

import functools
import hashlib
import os
import pickle
import stat
import time
from pathlib import Path

from utils.plumbing.names import user_cache
from utils.plumbing.store import atomic_write

FORMAT = 2  # of the cache files: bumped when what they hold changes shape
SETTLING = 0.05  # seconds since a file's last change before its parse is kept (2 s where times are whole seconds)
UNUSED_DAYS = 30
_CODE = Path(__file__).resolve().parent.parent  # utils/: any change to its modules makes new keys


def cache_root() -> Path | None:
    """The cache directory, or None when it is off (ARENA_CACHE_DIR=off, or no absolute place for it)."""
    chosen = os.environ.get("ARENA_CACHE_DIR")
    if chosen and chosen.lower() in ("off", "0", "no", "false"):
        return None
    root = Path(chosen) if chosen else user_cache("parsed")
    return root if root is not None and root.is_absolute() else None


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


def _private(st: os.stat_result) -> bool:
    """Whether a cache folder or file is this user's own and no one else may write it."""
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class ParsedFiles:
    """The parses (of type ``holds``) of one directory's files under one key: ``get`` a file's while it is
    unchanged, ``put`` new ones, ``save`` once (the parse of a file no longer there is dropped then)."""

    def __init__(self, kind: str, directory, key: str, holds: type):
        root = cache_root()
        self.directory, self.key, self.holds = Path(directory), key, holds
        # named by the directory as spelled: the parses keep their files' paths (in warnings and in the keys that
        # find one model's records in two files), which must be the ones this run reads them by
        name = hashlib.blake2b(os.path.abspath(self.directory).encode("utf-8", "surrogateescape"),
                               digest_size=16).hexdigest()
        self.path = None if root is None else root / kind / f"{name}.pickle"
        self.kept: dict[str, tuple] = {}  # file name -> (fingerprint, parse)
        self.new = False
        if self.path is not None:
            self.kept = self._load()

    def _folder_usable(self) -> bool:
        """Make the cache folder (private) if needed; whether it is this user's alone."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            return _private(os.stat(self.path.parent)) and _private(os.stat(self.path.parent.parent))
        except OSError:
            return False

    def _load(self) -> dict[str, tuple]:
        """The parses kept under this key ({}: none, another key, or a file not to be trusted)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return {}
        try:
            with os.fdopen(fd, "rb") as f:
                if not (_private(os.fstat(f.fileno())) and self._folder_usable()):
                    return {}
                found = pickle.load(f)
            if found.get("format") == FORMAT and found.get("key") == self.key and isinstance(found["files"], dict):
                return found["files"]
        except Exception:  # noqa: BLE001 - unreadable, truncated, or not ours: parse again
            pass
        return {}

    def get(self, path):
        """The parse kept of ``path``, if the file is the one it was made from (None: parse it)."""
        held = self.kept.get(os.path.basename(path)) if self.path is not None else None
        if not (isinstance(held, tuple) and len(held) == 2 and isinstance(held[1], self.holds)):
            return None
        return held[1] if held[0] == fingerprint(path) else None

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
        try:
            if not self.new:
                if self.kept and time.time() - self.path.stat().st_mtime > 86400:
                    os.utime(self.path)
                return
            if not self._folder_usable():
                return
            kept = {name: held for name, held in self.kept.items() if (self.directory / name).exists()}
            data = pickle.dumps({"format": FORMAT, "key": self.key, "files": kept}, pickle.HIGHEST_PROTOCOL)
            atomic_write(self.path, data, durable=False, private=True)
            _forget_unused(self.path.parent)
        except Exception:  # noqa: BLE001 - a full disk or a read-only home: the next run parses again
            pass


def _forget_unused(directory: Path) -> None:
    """Remove cache files not written for UNUSED_DAYS (a data directory since deleted)."""
    limit = time.time() - UNUSED_DAYS * 86400
    for entry in os.scandir(directory):
        try:
            if entry.stat().st_mtime < limit:
                os.unlink(entry.path)
        except OSError:
            continue
