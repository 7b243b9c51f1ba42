"""A bundle on disk: one gzip-compressed tar whose first member is manifest.json.

The same inputs give the same bytes, so two bundles can be compared by
their own hash: members come in ``member_order`` (the manifest, the judge
config, the claimed table, the questions, the answers, the judgments, the
cost files), each with modification time 0, owner 0, no owner names and
mode 0644, and the gzip header holds neither a file name nor a time.
Reading streams the archive once: each member is hashed as it is written
out, and only the members the manifest lists are written.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import tarfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterator

from isal import igzip, isal_zlib

from utils.bundles.manifest import MANIFEST, manifest_bytes, member_order, parse_manifest
from utils.plumbing.errors import InputError
from utils.plumbing.names import inside
from utils.plumbing.store import atomic_write

CHUNK = 1 << 20
COMPRESSION = 6  # zlib's default: a sixth of the size of judgment files, and decompressed as fast as any level


class _Hashing:
    """A file read through it is hashed as tarfile copies it, so what is packed is what was hashed."""

    def __init__(self, f):
        self.f, self.sha = f, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.sha.update(data)
        return data


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = size, 0, 0o644, 0, 0, "", ""
    return info


def write_bundle(target: Path, manifest: dict, sources: dict[str, Path | bytes]) -> None:
    """Write ``target``: the manifest, then each member from its file or bytes, in ``member_order``.

    A file whose bytes no longer have the SHA-256 the manifest records (it
    changed since it was read) stops the packing; nothing is written then.
    The bundle replaces ``target`` in one rename, so a killed run leaves no
    half bundle.
    """
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=COMPRESSION) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        head = manifest_bytes(manifest)
        tar.addfile(_info(MANIFEST, len(head)), io.BytesIO(head))
        for name in sorted(sources, key=member_order):
            source = sources[name]
            expected = manifest["files"][name]
            if isinstance(source, bytes):
                tar.addfile(_info(name, len(source)), io.BytesIO(source))
                continue
            with open(source, "rb") as f:
                reader = _Hashing(f)
                tar.addfile(_info(name, expected["bytes"]), reader)
            if reader.sha.hexdigest() != expected["sha256"]:
                raise InputError("the file changed while it was being packed; pack again", source)
    atomic_write(target, buffer.getvalue())


@dataclass
class Unpacked:
    """A bundle written out: its manifest, where its listed members went, and their hashes as found."""
    bundle: Path
    manifest: dict
    root: Path
    hashes: dict[str, str] = field(default_factory=dict)  # member -> SHA-256 of its bytes
    unlisted: list[str] = field(default_factory=list)  # members the manifest does not list: not written

    def path(self, member: str) -> Path:
        return self.root.joinpath(*PurePosixPath(member).parts)


@contextlib.contextmanager
def _opened(bundle: Path) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo, dict]]:
    """(the bundle as a tar stream, its first member, the manifest it holds); an unreadable one is an InputError."""
    if not bundle.is_file():
        raise InputError("bundle not found", bundle)
    try:
        # ISA-L's gzip reader (zlib's decompresses at a sixth of its speed), read by tarfile as a plain file
        # ("r:"): the members are read in order, so its seeks only ever skip forward. tarfile's own stream
        # modes ("r|gz", "r|") copy their buffer at every read, which cost three times the decompression,
        # and with large reads grew quadratic on members that compress well (minutes on padded judge texts).
        with igzip.open(bundle, "rb") as gz, tarfile.open(fileobj=gz, mode="r:") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isreg():
                raise InputError(f"not a bundle: its first member is not {MANIFEST}", bundle)
            yield tar, first, parse_manifest(tar.extractfile(first).read(), bundle)
    except (tarfile.TarError, EOFError, zlib.error, isal_zlib.error, gzip.BadGzipFile) as err:
        raise InputError(f"not a readable bundle (a gzip-compressed tar): {err}", bundle) from None


def read_manifest(bundle: Path) -> dict:
    """A bundle's manifest, read without the rest (it is the first member)."""
    with _opened(bundle) as (_, _, manifest):
        return manifest


def unpack(bundle: Path, dest: Path) -> Unpacked:
    """Read ``bundle`` once: its manifest (checked), then every member the manifest lists, written below ``dest``.

    Not a gzip tar, no manifest first, a member twice, a link or device, or
    a name that leaves ``dest``: an InputError naming the bundle.
    """
    with _opened(bundle) as (tar, first, manifest), ThreadPoolExecutor(1) as writer:
        found = Unpacked(bundle, manifest, dest)
        for info in tar:
            if info is not first:  # iterating a tar starts again from the members already read
                _extract(tar, info, found, writer)
    return found


def _store(sha, out, chunk: bytes) -> None:
    sha.update(chunk)
    out.write(chunk)


def _extract(tar: tarfile.TarFile, info: tarfile.TarInfo, found: Unpacked, writer: ThreadPoolExecutor) -> None:
    """Write one member out, hashing it on the way; skip a directory and a member the manifest does not list.

    The hashing and writing of a chunk happen on ``writer``'s thread while the next chunk is decompressed
    (both let go of the GIL), one chunk at a time.
    """
    name = info.name
    if info.isdir():
        return
    if not info.isreg():
        raise InputError(f"member {name!r} is a link or a device, which a bundle never holds", found.bundle)
    if name in found.hashes or name in found.unlisted:
        raise InputError(f"member {name!r} appears twice", found.bundle)
    if name not in found.manifest["files"]:
        found.unlisted.append(name)
        return
    target = inside(found.root, *PurePosixPath(name).parts)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        out = open(target, "wb")
    except OSError:  # a member both a file and a directory (data/x and data/x/y): no bundle pack writes holds it
        raise InputError(f"member {name!r} cannot be unpacked beside the others (a name both a file and a "
                         "directory?)", found.bundle) from None
    sha = hashlib.sha256()
    with tar.extractfile(info) as src, out:
        pending = None
        while chunk := src.read(CHUNK):
            if pending is not None:
                pending.result()
            pending = writer.submit(_store, sha, out, chunk)
        if pending is not None:
            pending.result()
    found.hashes[name] = sha.hexdigest()
