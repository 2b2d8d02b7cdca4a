"""`reconciler publish --to s3://BUCKET/PREFIX [--revision SHA] [PATH]`: CI's half of S3 sources.

The manifests are validated first, exactly as `reconciler validate` does, and nothing is uploaded
unless every environment is valid. The revision defaults to the commit at the git HEAD of the
repository holding PATH, but only when the manifests on disk are the ones committed there (a
bundle must never claim a commit it does not match); outside a git repository it is the
`sha256:` digest of the content.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from reconciler.errors import PermanentError
from reconciler.explain import printable
from reconciler.loader import validate
from reconciler.sources.bundle import Bundle


def register(commands: Any) -> None:
    publish = commands.add_parser(
        "publish",
        help="validate, then upload the manifests to S3 as one bundle",
        description=(
            "Validate the manifests, upload them as PREFIX/bundles/<revision>.tar.gz and point "
            "PREFIX/latest.json at it, for a reconciler deployed with ManifestSource=s3://…"
        ),
    )
    publish.add_argument("--to", required=True, metavar="s3://BUCKET/PREFIX")
    publish.add_argument(
        "--revision",
        metavar="SHA",
        help="default: the git HEAD commit of the repository holding PATH, else a sha256: digest",
    )
    publish.add_argument(
        "path", nargs="?", default="manifests", metavar="PATH",
        help="the manifests root (default: manifests)",
    )  # fmt: skip
    publish.set_defaults(run=run_publish)


def run_publish(args: argparse.Namespace) -> int:
    usage = _usage_error(args)
    if usage:
        print(f"reconciler publish: {usage}", file=sys.stderr)
        return 2
    environments, errors = validate([args.path])
    if errors:
        for error in sorted(errors):
            print(printable(str(error)), file=sys.stderr)
        count = len(errors)
        print(f"{count} error{'s' if count != 1 else ''}; nothing published", file=sys.stderr)
        return 1
    folders = [environment.folder for environment in environments]
    bundle = Bundle.collect(folders)
    revision = args.revision or committed_revision(args.path, folders, bundle) or bundle.digest
    return _upload(args.to, bundle, revision)


def _usage_error(args: argparse.Namespace) -> str | None:
    from reconciler.sources.s3 import REVISION

    if not args.to.startswith("s3://") or not args.to[len("s3://") :].split("/", 1)[0]:
        return f"--to must be s3://BUCKET/PREFIX, not {args.to!r}"
    if not os.path.isdir(args.path):
        return f"no such folder: {args.path}"
    if args.revision is not None and not REVISION.match(args.revision):
        return f"--revision {args.revision!r}: letters, digits and . _ : + - only, at most 128"
    return None


def _upload(uri: str, bundle: Bundle, revision: str) -> int:
    from reconciler.sources.s3 import S3BundleSource

    source = S3BundleSource.from_uri(uri)
    pointer = source.publish(bundle, revision)
    print(
        f"published {len(bundle.files)} file(s) of {', '.join(bundle.environments)} as revision "
        f"{revision}: s3://{source.bucket}/{pointer['key']}"
    )
    print(f"s3://{source.bucket}/{source.key('latest.json')} now names revision {revision}")
    return 0


def committed_revision(path: str, folders: list[str], bundle: Bundle) -> str | None:
    """The HEAD commit of the git repository holding `path`, if the bundle matches it.

    None outside a repository (or in one without commits). `PermanentError` when the manifests
    on disk differ from those committed at HEAD: publish the commit, or name a revision.
    """
    from dulwich.errors import NotGitRepository
    from dulwich.objects import Blob
    from dulwich.repo import Repo

    try:
        repository = Repo.discover(path)
    except NotGitRepository:
        return None
    with repository:
        try:
            head = repository.head()
        except KeyError:
            return None
        committed = _committed_files(repository, head, folders)
        on_disk = {name: Blob.from_string(data).id for name, data in bundle.files}
        if committed != on_disk:
            changed = sorted(
                name for name in committed.keys() | on_disk.keys()
                if committed.get(name) != on_disk.get(name)
            )  # fmt: skip
            raise PermanentError(
                f"the manifests differ from the commit at HEAD ({head.decode()[:12]}): "
                f"{', '.join(changed[:5])}{' …' if len(changed) > 5 else ''}; commit them, or "
                "pass --revision"
            )
        return head.decode("ascii")


def _committed_files(repository: Any, head: bytes, folders: list[str]) -> dict[str, bytes]:
    """`<env>/<file>` → blob id of the manifest files committed at `head` in these folders."""
    from dulwich.object_store import tree_lookup_path
    from dulwich.objects import Tree

    from reconciler.loader import MANIFEST_SUFFIXES

    store = repository.object_store
    top = os.path.realpath(repository.path)
    files: dict[str, bytes] = {}
    for folder in folders:
        relative = os.path.relpath(os.path.realpath(folder), top).replace(os.sep, "/")
        environment = os.path.basename(os.path.abspath(folder))
        tree_id = store[head].tree
        if relative != ".":
            try:
                _, tree_id = tree_lookup_path(store.__getitem__, tree_id, relative.encode())
            except KeyError:
                continue  # not committed at all
        tree = store[tree_id]
        if not isinstance(tree, Tree):
            continue
        for entry in tree.iteritems():
            name = entry.path.decode("utf-8", "surrogateescape")
            if not name.startswith(".") and name.endswith(MANIFEST_SUFFIXES):
                files[f"{environment}/{name}"] = entry.sha
    return files
