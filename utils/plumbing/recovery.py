"""Results a full disk could not take: kept in a recovery file elsewhere, and taken in by the next run.

When the disk of an output file stays full (utils/asking/runs.py holds the
results received meanwhile and retries), a run that must end writes what it
holds here instead of dropping it: one JSON-lines file per output file,
named after the output file's absolute path, in the first of these folders
that lies on another filesystem than the output file (else the first that
takes the write):

1. ``$XDG_CACHE_HOME/arena-bench/recovery`` (``~/.cache/arena-bench/recovery``):
   kept across reboots;
2. ``<temporary folder>/arena-bench-recovery`` (``$TMPDIR``, else ``/tmp``):
   often a RAM disk, so it has room when the data disk has none, but
   emptied by a reboot.

The next run that opens the output file (utils/plumbing/store.py) looks in
both folders, appends the records it finds to the output file as if they
had just arrived (the store's rules decide, so nothing is stored twice),
and removes the recovery file once they are on disk. A dry run counts them
as stored.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from utils.plumbing.names import user_cache


def folders() -> list[Path]:
    """Where recovery files go, in order of preference (see the module's docstring)."""
    home = user_cache("recovery")
    return [*([home] if home else []), Path(tempfile.gettempdir()) / "arena-bench-recovery"]


def file_name(output: Path) -> str:
    """The recovery file's name for an output file: its name, made safe, and a digest of its absolute path."""
    digest = hashlib.sha256(str(output.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '_', output.name)}.{digest}.recovered"


def _device(path: Path) -> int | None:
    """The filesystem of ``path`` or of its nearest existing parent."""
    for place in (path, *path.parents):
        try:
            return os.stat(place).st_dev
        except OSError:
            continue
    return None


def save(output: Path, lines: list[bytes]) -> Path:
    """Append ``lines`` (whole JSON lines) to the recovery file of ``output``, durably; its path.

    OSError when no folder takes them (a folder that takes only a part is cut back: no torn line).
    """
    home = _device(output.parent)
    candidates = sorted(folders(), key=lambda folder: _device(folder) == home)  # another filesystem first
    error: OSError | None = None
    for folder in candidates:
        path = folder / file_name(output)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _append(path, b"".join(lines))
            return path
        except OSError as err:
            error = error or err
    raise error or OSError("no folder for a recovery file")


def _append(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        size = os.fstat(fd).st_size
        try:
            rest = memoryview(data)
            while rest:
                rest = rest[os.write(fd, rest):]
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)


def found(output: Path) -> list[Path]:
    """The recovery files an earlier run left for ``output``."""
    return [path for path in (folder / file_name(output) for folder in folders()) if path.is_file()]
