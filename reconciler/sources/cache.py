"""The on-disk cache of checked-out manifest trees, shared by the remote sources.

A tree is written once into a temporary folder next to its final place and renamed into place, so
a folder that exists under its final name is always complete: a warm Lambda invocation (or a
second process) either sees the whole tree or builds its own. Only the newest few trees are kept,
because `/tmp` is small and lives as long as the execution environment.

Both remote sources write the same selection, `<env>/<name>.yaml|yml` regular files and nothing
else, through `TreeWriter`, which refuses names that could leave the folder and enforces the same
size and count limits whatever the input.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable

from reconciler.errors import PermanentError
from reconciler.loader import MANIFEST_SUFFIXES

#: Limits on one checked-out tree: far above any real manifests, far below what fills `/tmp`.
MAX_FILES = 5_000
MAX_TOTAL_BYTES = 64 * 1024 * 1024

#: Trees kept per cache folder; older ones are removed when a new one is added.
KEEP_TREES = 8

_PARTIAL = ".partial-"
_STALE_PARTIAL_SECONDS = 3600


def is_manifest_path(parts: list[str]) -> bool:
    """Whether a relative path is one the loader reads: `<env>/<file>.yaml|yml`."""
    return len(parts) == 2 and all(map(safe_name, parts)) and parts[1].endswith(MANIFEST_SUFFIXES)


def safe_name(name: str) -> bool:
    """A single path component that stays where it is put: no separators, no dots, not hidden."""
    return (
        0 < len(name) <= 255
        and not name.startswith(".")
        and not any(char in name for char in "/\\\0")
    )


class TreeWriter:
    """Writes manifest files under one folder, refusing anything a hostile source could abuse.

    `source` names where the files come from in error messages (a bundle key, a commit).
    """

    def __init__(self, root: str, source: str) -> None:
        self.root = root
        self.source = source
        self.files = 0
        self.total_bytes = 0
        self._written: set[str] = set()

    def reserve(self, relative: str, size: int) -> None:
        """Count a file before its bytes are read, so limits hold before any work is done."""
        self.files += 1
        self.total_bytes += size
        if self.files > MAX_FILES:
            raise PermanentError(f"{self.source} holds more than {MAX_FILES} manifest files")
        if self.total_bytes > MAX_TOTAL_BYTES:
            raise PermanentError(
                f"{self.source} holds more than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB of "
                f"manifests (at {relative})"
            )

    def write(self, relative: str, data: bytes) -> None:
        """Create `root/<env>/<file>`; the path must be a manifest path seen for the first time."""
        parts = relative.split("/")
        if not is_manifest_path(parts):
            raise PermanentError(f"{self.source}: refusing to write {relative!r}")
        if relative in self._written:
            raise PermanentError(f"{self.source} holds {relative} twice")
        self._written.add(relative)
        folder = os.path.join(self.root, parts[0])
        os.makedirs(folder, mode=0o755, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(os.path.join(folder, parts[1]), flags, 0o644)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)


def cached_tree(parent: str, name: str, fill: Callable[[str], None]) -> str:
    """The folder `parent/name`, created by `fill(folder)` the first time and reused after.

    `fill` writes into a fresh temporary folder; on success it is renamed to its final name, on
    any failure it is removed and nothing is cached.
    """
    if not safe_name(name):
        raise PermanentError(f"cannot cache a tree named {name!r}")
    final = os.path.join(parent, name)
    if os.path.isdir(final):
        os.utime(final)  # most recently used: pruning keeps it
        return final
    os.makedirs(parent, mode=0o700, exist_ok=True)
    partial = tempfile.mkdtemp(prefix=_PARTIAL, dir=parent)
    try:
        fill(partial)
        os.rename(partial, final)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        if os.path.isdir(final):  # another process finished the same tree first
            return final
        raise
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    prune(parent, keep=final)
    return final


def prune(parent: str, *, keep: str, limit: int = KEEP_TREES) -> None:
    """Remove all but the `limit` most recently used trees (never `keep`) and stale partials."""
    now = time.time()
    trees: list[tuple[float, str]] = []
    for entry in os.scandir(parent):
        if not entry.is_dir(follow_symlinks=False):
            continue
        used = entry.stat(follow_symlinks=False).st_mtime
        if entry.name.startswith(_PARTIAL):
            if now - used > _STALE_PARTIAL_SECONDS:
                shutil.rmtree(entry.path, ignore_errors=True)
        elif entry.path != keep:
            trees.append((used, entry.path))
    trees.sort(reverse=True)
    for _, path in trees[limit - 1 :]:
        shutil.rmtree(path, ignore_errors=True)
