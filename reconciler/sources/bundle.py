"""The bundle format: one gzipped tar of the manifests, written deterministically, read warily.

A bundle holds exactly the files the loader reads, `<env>/<file>.yaml|yml`, as regular members
with fixed owner, mode and time, in sorted order, so the same manifests always make the same
bytes. Reading one refuses anything else (absolute paths, `..`, links, devices, sparse files,
unexpected folders) and stops at the size and count limits of `reconciler.sources.cache` while
decompressing, so a hostile or corrupt bundle cannot write outside its folder or fill the disk.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, cast

from reconciler.errors import PermanentError
from reconciler.loader import MANIFEST_SUFFIXES
from reconciler.sources.cache import (
    MAX_FILES,
    MAX_TOTAL_BYTES,
    TreeWriter,
    is_manifest_path,
    safe_name,
)

#: The largest compressed bundle a source downloads.
MAX_BUNDLE_BYTES = 16 * 1024 * 1024
#: Tar members of any type (folders, pax headers count through the byte limit).
MAX_MEMBERS = MAX_FILES + 1_000
#: Decompressed bytes read from one bundle: the file limit plus room for headers.
_MAX_TAR_BYTES = MAX_TOTAL_BYTES + MAX_MEMBERS * 2 * tarfile.BLOCKSIZE


@dataclass(frozen=True)
class Bundle:
    """The manifest files of some environments: `(<env>/<file>, content)` pairs, sorted."""

    files: tuple[tuple[str, bytes], ...]

    @classmethod
    def collect(cls, folders: Iterable[str]) -> Bundle:
        """The files the loader would read from these environment folders."""
        files: list[tuple[str, bytes]] = []
        for folder in folders:
            environment = os.path.basename(os.path.abspath(folder))
            for name in sorted(os.listdir(folder)):
                path = os.path.join(folder, name)
                if name.startswith(".") or not name.endswith(MANIFEST_SUFFIXES):
                    continue
                if os.path.isfile(path):
                    with open(path, "rb") as file:
                        files.append((f"{environment}/{name}", file.read()))
        return cls(tuple(sorted(files)))

    @property
    def environments(self) -> list[str]:
        """The environment folders the bundle holds, sorted."""
        return sorted({path.split("/", 1)[0] for path, _ in self.files})

    @property
    def digest(self) -> str:
        """`sha256:<hex>` of the files' names and contents (not of the archive's bytes)."""
        content = hashlib.sha256()
        for path, data in self.files:
            content.update(f"{path}\0{len(data)}\0".encode())
            content.update(data)
        return f"sha256:{content.hexdigest()}"

    def archive(self) -> bytes:
        """The `.tar.gz` bytes: regular files only, owner 0, mode 0644, time 0, no gzip name."""
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path, data in self.files:
                member = tarfile.TarInfo(path)
                member.size = len(data)
                member.mode = 0o644
                member.mtime = 0
                member.uid = member.gid = 0
                member.uname = member.gname = ""
                tar.addfile(member, io.BytesIO(data))
        compressed = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as stream:
            stream.write(raw.getvalue())
        return compressed.getvalue()


class _Bounded:
    """A read-only stream that refuses to yield more than `limit` bytes in total."""

    def __init__(self, inner: gzip.GzipFile, limit: int, source: str) -> None:
        self._inner = inner
        self._left = limit
        self._source = source

    def read(self, size: int = -1) -> bytes:
        wanted = self._left + 1 if size < 0 else min(size, self._left + 1)
        data = self._inner.read(wanted)
        self._left -= len(data)
        if self._left < 0:
            raise PermanentError(
                f"{self._source} expands to more than {_MAX_TAR_BYTES // (1024 * 1024)} MiB"
            )
        return data


def extract(archive: bytes, into: str, source: str) -> int:
    """Write a bundle's manifest files under `into`; returns how many were written.

    `source` names the bundle in error messages. Raises `PermanentError` for a bundle that is not
    a gzipped tar, holds anything but `<env>/<file>.yaml|yml` regular files (and their folders),
    or exceeds the limits.
    """
    if len(archive) > MAX_BUNDLE_BYTES:
        raise PermanentError(
            f"{source} is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MiB compressed"
        )
    writer = TreeWriter(into, source)
    stream = _Bounded(gzip.GzipFile(fileobj=io.BytesIO(archive), mode="rb"), _MAX_TAR_BYTES, source)
    try:
        # Stream mode ("r|"): members are read once, in order, never by seeking.
        with tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|") as tar:
            for count, member in enumerate(tar, start=1):
                if count > MAX_MEMBERS:
                    raise PermanentError(f"{source} holds more than {MAX_MEMBERS} entries")
                if _is_environment_folder(member):
                    continue
                _check_member(member, source)
                writer.reserve(member.name, member.size)
                content = tar.extractfile(member)
                assert content is not None  # a regular member always has content
                writer.write(member.name, content.read(member.size))
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise PermanentError(f"{source} is not a readable .tar.gz bundle ({exc})") from exc
    return writer.files


def _is_environment_folder(member: tarfile.TarInfo) -> bool:
    return member.isdir() and member.size == 0 and safe_name(member.name.rstrip("/"))


def _check_member(member: tarfile.TarInfo, source: str) -> None:
    shown = repr(member.name)
    if not member.isfile() or member.issparse():
        what = "a link" if member.issym() or member.islnk() else "not a regular file"
        raise PermanentError(f"{source}: refusing {shown}: it is {what}")
    if not is_manifest_path(member.name.split("/")):
        raise PermanentError(
            f"{source}: refusing {shown}: a bundle holds only <env>/<file>.yaml|yml files"
        )
