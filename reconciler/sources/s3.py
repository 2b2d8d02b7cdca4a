"""Manifest bundles in S3, published by `reconciler publish` and read by the deployed reconciler.

Layout under `s3://BUCKET/PREFIX/`:

- `bundles/<revision>.tar.gz`: one bundle per revision (see `reconciler.sources.bundle`). A
  revision's bundle is immutable: publishing different content under a published revision is
  refused (the object carries the content digest in its metadata to tell).
- `latest.json`: `{"revision", "key", "publishedAt"}`, written after the bundle, so a reader that
  finds the pointer always finds its bundle.

Reading needs `s3:GetObject` on `PREFIX/*`; publishing adds `s3:PutObject`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from reconciler import aws, aws_errors
from reconciler.aws import RETRY_CONFIG
from reconciler.aws_errors import Failure
from reconciler.errors import PermanentError, ReconcilerError, TemporaryError
from reconciler.sources import DEFAULT_CACHE_DIR, Checkout
from reconciler.sources.bundle import MAX_BUNDLE_BYTES, Bundle, extract
from reconciler.sources.cache import cached_tree

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_s3 import S3Client

#: What a revision may look like: a commit sha, `sha256:<hex>`, a tag-like name; never a path.
REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$")

_DIGEST_METADATA = "content-sha256"


def check_revision(revision: str) -> str:
    """`revision` when it can name a bundle; `PermanentError` otherwise."""
    if not REVISION.match(revision):
        raise PermanentError(
            f"{revision!r} is not a bundle revision (letters, digits and . _ : + -, at most 128)"
        )
    return revision


class S3BundleSource:
    """Bundles under `s3://bucket/prefix`; extracted trees are cached under `cache_dir/s3/`."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        session: boto3.Session | None = None,
        cache_dir: str,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._session = session
        # Keyed by the location too: two sources never share a revision's tree by accident.
        location = re.sub(r"[^A-Za-z0-9._-]", "_", f"{bucket}.{self.prefix}")[:200]
        self._cache = f"{cache_dir}/s3/{location}"

    @classmethod
    def from_uri(
        cls, uri: str, *, session: boto3.Session | None = None, cache_dir: str = DEFAULT_CACHE_DIR
    ) -> S3BundleSource:
        """The source `s3://BUCKET[/PREFIX]` names; `PermanentError` for anything else."""
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or not bucket:
            raise PermanentError(f"{uri!r} is not s3://BUCKET/PREFIX")
        return cls(bucket, prefix, session=session, cache_dir=cache_dir)

    def __repr__(self) -> str:
        return f"S3BundleSource({self.uri!r})"

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def key(self, name: str) -> str:
        """The object key of `name` under the prefix."""
        return f"{self.prefix}/{name}" if self.prefix else name

    def bundle_key(self, revision: str) -> str:
        return self.key(f"bundles/{check_revision(revision)}.tar.gz")

    @cached_property
    def client(self) -> S3Client:
        found: S3Client = aws.client("s3", session=self._session, config=RETRY_CONFIG)
        return found

    def checkout(self, revision: str | None) -> Checkout:
        """The bundle of `revision` (None: the one `latest.json` names), extracted once."""
        wanted = self.latest() if revision is None else check_revision(revision)
        root = cached_tree(self._cache, wanted, lambda into: self._extract(wanted, into))
        return Checkout(root=root, revision=wanted)

    def newest(self) -> str:
        """The revision `latest.json` names."""
        return self.latest()

    def latest(self) -> str:
        """The revision `latest.json` names."""
        where = f"{self.uri}/latest.json"
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key("latest.json"))
            pointer = json.loads(body["Body"].read(64 * 1024))
        except ClientError as exc:
            if aws_errors.failure(exc) is Failure.MISSING:
                raise PermanentError(
                    f"nothing is published at {self.uri} yet ({where} does not exist): run "
                    f"`reconciler publish --to {self.uri}` first"
                ) from exc
            raise _failure(exc, f"reading {where}") from exc
        except BotoCoreError as exc:
            raise _failure(exc, f"reading {where}") from exc
        except ValueError as exc:
            raise PermanentError(f"{where} is not valid JSON") from exc
        revision = pointer.get("revision") if isinstance(pointer, dict) else None
        if not isinstance(revision, str) or not REVISION.match(revision):
            raise PermanentError(f"{where} names no valid revision")
        return revision

    def _extract(self, revision: str, into: str) -> None:
        key = self.bundle_key(revision)
        where = f"s3://{self.bucket}/{key}"
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=key)
            if found["ContentLength"] > MAX_BUNDLE_BYTES:
                raise PermanentError(
                    f"{where} is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MiB compressed"
                )
            archive = found["Body"].read()
        except ClientError as exc:
            if aws_errors.failure(exc) is Failure.MISSING:
                raise PermanentError(
                    f"revision {revision} was never published to {self.uri} ({where} does not "
                    f"exist): publish it with `reconciler publish --to {self.uri} --revision "
                    f"{revision}`"
                ) from exc
            raise _failure(exc, f"reading {where}") from exc
        except BotoCoreError as exc:
            raise _failure(exc, f"reading {where}") from exc
        extract(archive, into, where)

    def publish(self, bundle: Bundle, revision: str) -> dict[str, Any]:
        """Upload `bundle` as `revision`, then point `latest.json` at it; returns the pointer.

        Publishing the same content again is a no-op for the bundle; different content under a
        published revision is refused (`PermanentError`), since runs may already have read it.
        """
        key = self.bundle_key(revision)
        where = f"s3://{self.bucket}/{key}"
        try:
            published = self._digest_at(key)
            if published is not None and published != bundle.digest:
                raise PermanentError(
                    f"{where} already holds different manifests for revision {revision}; a "
                    "published revision never changes: publish under another revision"
                )
            if published is None:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=bundle.archive(),
                    ContentType="application/gzip",
                    Metadata={_DIGEST_METADATA: bundle.digest, "revision": revision},
                )
            pointer = {
                "revision": revision,
                "key": key,
                "publishedAt": datetime.now(UTC)
                .isoformat(timespec="seconds")
                .replace("+00:00", "Z"),
            }
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key("latest.json"),
                Body=json.dumps(pointer, indent=2).encode(),
                ContentType="application/json",
                CacheControl="no-cache",
            )
        except (ClientError, BotoCoreError) as exc:
            raise _failure(exc, f"publishing to {self.uri}") from exc
        return pointer

    def _digest_at(self, key: str) -> str | None:
        """The content digest of the bundle at `key`, or None when there is none to compare.

        Without `s3:ListBucket` S3 answers 403 for a missing key: that too is "none to compare".
        """
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if aws_errors.failure(exc) in (Failure.MISSING, Failure.DENIED):
                return None
            raise
        return head.get("Metadata", {}).get(_DIGEST_METADATA, "")


def _failure(exc: ClientError | BotoCoreError, doing: str) -> ReconcilerError:
    """Throttling, S3-side errors and dropped connections are worth a retry; the rest are not."""
    temporary = aws_errors.failure(exc) in aws_errors.TRANSIENT
    code = aws_errors.code(exc)
    if code is not None:
        if temporary:
            return TemporaryError(f"S3 answered {code} {doing}; retry later")
        return PermanentError(f"S3 answered {code} {doing}")
    if temporary:
        return TemporaryError(f"cannot reach S3 {doing}: {exc}")
    return PermanentError(f"{doing}: {exc}")
