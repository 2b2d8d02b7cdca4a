"""Where a run reads its manifests from: a local folder, bundles in S3, or a git repository.

`source_from_uri` turns the `MANIFEST_SOURCE` setting (or a CLI path) into a `ManifestSource`, and
`ManifestSource.checkout(revision)` gives a local folder holding the environment folders (`dev/`,
`staging/`, …) at that revision, ready for `reconciler.loader.load_environment`. Remote sources
keep what they fetched under `cache_dir`, so a warm Lambda invocation that asks for a revision it
has already seen reads nothing over the network.

Failures are `PermanentError` (a revision, bundle or branch that does not exist, access refused, a
malformed source) or `TemporaryError` (throttling, timeouts, a server error), so the state machine
retries only what may pass. Importing this package is cheap: boto3 and dulwich are imported only by
the source that needs them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from reconciler.errors import PermanentError

if TYPE_CHECKING:
    import boto3

__all__ = ["Checkout", "ManifestSource", "source_from_uri"]

#: Default cache location; Lambda gives each execution environment a writable `/tmp`.
DEFAULT_CACHE_DIR = "/tmp/reconciler"  # noqa: S108 - Lambda's only writable folder

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Checkout:
    """The manifests at one revision, on local disk.

    `root` contains the environment folders. `revision` is what was actually read: the commit sha
    or bundle revision (the newest one when `checkout(None)` was asked), or None for a plain local
    folder, which has no revisions.
    """

    root: str
    revision: str | None


class ManifestSource(Protocol):
    """Somewhere manifests can be checked out from."""

    def checkout(self, revision: str | None) -> Checkout:
        """The manifests at `revision`; None means the newest (branch head, latest bundle)."""
        ...

    def newest(self) -> str | None:
        """The newest revision (branch head, latest bundle), or None for a source without
        revisions. Commit-triggered runs of any other revision only observe."""
        ...


def source_from_uri(
    uri: str,
    *,
    session: boto3.Session | None = None,
    branch: str = "main",
    token: str | None = None,
    cache_dir: str = DEFAULT_CACHE_DIR,
) -> ManifestSource:
    """The source a URI names.

    - `s3://BUCKET[/PREFIX]`: bundles published by `reconciler publish` (`session` reads them).
    - `https://host/org/repo(.git)`: a git repository; `branch` is the newest revision, `token`
      (if any) is sent as HTTP basic auth and never logged. Plain `http://` is accepted only for
      a loopback host, so a token never crosses a network in clear text.
    - anything without a scheme: a local folder, read as it is.

    Raises `PermanentError` for a URI no source understands.
    """
    if uri.startswith("s3://"):
        from reconciler.sources.s3 import S3BundleSource

        return S3BundleSource.from_uri(uri, session=session, cache_dir=cache_dir)
    if _SCHEME.match(uri):
        parts = urlsplit(uri)
        secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
        if not secure or not parts.hostname:
            shown = f"{parts.scheme}://{parts.hostname or ''}{parts.path}"
            raise PermanentError(
                f"manifest source {shown!r} is not supported: use s3://BUCKET/PREFIX, an "
                "https:// git URL or a local folder"
            )
        from reconciler.sources.git import GitSource

        return GitSource(uri, branch=branch, token=token, cache_dir=cache_dir)
    from reconciler.sources.local import LocalSource

    return LocalSource(os.path.normpath(uri))
