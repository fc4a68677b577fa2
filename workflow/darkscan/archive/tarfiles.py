"""Deterministic tar files: sorted names, fixed mtime, uid/gid 0, no user names, gzip without a time stamp.

The same entries give the same bytes, so two archives of the same inputs compare equal.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import pathlib
import tarfile
from collections.abc import Iterable
from typing import BinaryIO

#: mtime of every member (and of the gzip header): 2000-01-01T00:00:00Z
FIXED_MTIME = 946684800


@dataclasses.dataclass(frozen=True)
class TarEntry:
    """One member: its name in the tar and either its bytes or a symlink target."""

    name: str
    data: bytes = b""
    executable: bool = False
    link: str | None = None

    @classmethod
    def from_path(cls, name: str, path: str | os.PathLike) -> TarEntry:
        path = pathlib.Path(path)
        if path.is_symlink():
            return cls(name, link=os.readlink(path))
        return cls(name, path.read_bytes(), executable=os.access(path, os.X_OK))


def _info(entry: TarEntry) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.name)
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if entry.link is not None:
        info.type = tarfile.SYMTYPE
        info.linkname = entry.link
        info.mode = 0o777
    else:
        info.size = len(entry.data)
        info.mode = 0o755 if entry.executable else 0o644
    return info


def write_tar(stream: BinaryIO, entries: Iterable[TarEntry], *, compress: bool) -> None:
    """Write ``entries`` (sorted by name; names must be unique) as a tar, gzip-compressed if ``compress``."""
    entries = sorted(entries, key=lambda e: e.name)
    names = [e.name for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate tar member names: {duplicates}")
    target = (
        gzip.GzipFile(filename="", mode="wb", fileobj=stream, mtime=FIXED_MTIME, compresslevel=6)
        if compress
        else stream
    )
    try:
        with tarfile.open(fileobj=target, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for entry in entries:
                tar.addfile(_info(entry), io.BytesIO(entry.data) if entry.link is None else None)
    finally:
        if compress:
            target.close()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
