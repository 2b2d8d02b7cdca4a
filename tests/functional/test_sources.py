"""Manifest sources: S3 bundles on moto, git over HTTP from a dulwich server on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import shutil
import tarfile
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import boto3
import pytest
from botocore.stub import Stubber
from dulwich.index import commit_tree
from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo
from dulwich.server import Backend, UploadPackHandler
from dulwich.web import make_wsgi_chain

from reconciler.aws import Clients
from reconciler.errors import PermanentError, TemporaryError
from reconciler.kinds.lambda_function.model import LambdaFunction
from reconciler.loader import load_environment
from reconciler.sources import Checkout, source_from_uri
from reconciler.sources import bundle as bundle_module
from reconciler.sources import cache as cache_module
from reconciler.sources import git as git_module
from reconciler.sources.bundle import Bundle, extract
from reconciler.sources.git import GitSource, write_manifests
from reconciler.sources.local import LocalSource
from reconciler.sources.s3 import S3BundleSource

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests"
BUCKET = "manifests-bucket"
TOKEN = "ghs_s3cr3tT0kenValue1234567890"


def memory_of(checkout: Checkout, environment: str = "dev") -> int | None:
    """What the loader reads from a checkout: the example function's memory."""
    loaded = load_environment(os.path.join(checkout.root, environment))
    (function,) = [f for f in loaded.of_kind(LambdaFunction) if f.name == "flask-api"]
    return function.spec.memory_mb


def example_files(memory: int = 512) -> dict[str, bytes]:
    """The example manifests as `<env>/<file>` → bytes, dev's flask-api memory set to `memory`."""
    files = {
        f"{folder.name}/{file.name}": file.read_bytes()
        for folder in sorted(EXAMPLES.iterdir())
        if folder.is_dir()
        for file in sorted(folder.iterdir())
        if file.suffix in (".yaml", ".yml")
    }
    api = files["dev/flask-api.yaml"]
    assert b"memoryMb: 512" in api
    files["dev/flask-api.yaml"] = api.replace(b"memoryMb: 512", f"memoryMb: {memory}".encode())
    return files


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


# -- local ------------------------------------------------------------------------------------


def test_a_local_folder_is_its_own_checkout_without_a_revision(tmp_path: Path) -> None:
    source = source_from_uri(str(write_tree(tmp_path / "m", example_files())))
    assert isinstance(source, LocalSource)
    checkout = source.checkout("0" * 40)
    assert checkout == Checkout(root=str(tmp_path / "m"), revision=None)
    assert memory_of(checkout) == 512
    with pytest.raises(PermanentError, match="does not exist"):
        source_from_uri(str(tmp_path / "missing")).checkout(None)


@pytest.mark.parametrize(
    "uri",
    ["http://git.example.com/org/repo.git", "ssh://git@github.com/org/repo", "ftp://x/y"],
)
def test_unsupported_uris_are_refused_without_echoing_credentials(uri: str) -> None:
    with pytest.raises(PermanentError, match="not supported") as raised:
        source_from_uri(uri.replace("://", f"://user:{TOKEN}@"), token=TOKEN)
    assert TOKEN not in str(raised.value)


def test_s3_uris_need_a_bucket() -> None:
    with pytest.raises(PermanentError, match="s3://BUCKET/PREFIX"):
        source_from_uri("s3:///prefix")


# -- S3 bundles -------------------------------------------------------------------------------


@pytest.fixture
def bucket(aws: Clients) -> Any:
    s3 = boto3.client("s3", region_name=aws.region)
    s3.create_bucket(Bucket=BUCKET)
    return s3


def s3_source(cache: Path, prefix: str = "team/manifests") -> S3BundleSource:
    source = source_from_uri(f"s3://{BUCKET}/{prefix}", cache_dir=str(cache))
    assert isinstance(source, S3BundleSource)
    return source


def count_calls(source: S3BundleSource, operation: str) -> list[str]:
    calls: list[str] = []
    source.client.meta.events.register(
        f"before-call.s3.{operation}", lambda params, **_: calls.append(params["url_path"])
    )
    return calls


def test_published_bundles_check_out_at_the_latest_and_at_a_named_revision(
    bucket: Any, tmp_path: Path
) -> None:
    first, second = "a" * 40, "b" * 40
    publisher = s3_source(tmp_path / "ci-cache")
    publisher.publish(Bundle(tuple(sorted(example_files(512).items()))), first)
    pointer = publisher.publish(Bundle(tuple(sorted(example_files(1024).items()))), second)

    latest = json.loads(
        bucket.get_object(Bucket=BUCKET, Key="team/manifests/latest.json")["Body"].read()
    )
    assert latest == pointer
    assert latest["key"] == f"team/manifests/bundles/{second}.tar.gz"
    assert latest["publishedAt"].endswith("Z")

    source = s3_source(tmp_path / "cache")
    newest = source.checkout(None)
    assert newest.revision == second
    assert memory_of(newest) == 1024
    older = source.checkout(first)
    assert older.revision == first
    assert memory_of(older) == 512
    assert sorted(os.listdir(older.root)) == ["dev", "prod", "staging"]
    for environment in ("staging", "prod"):
        load_environment(os.path.join(older.root, environment))


def test_a_revision_is_downloaded_once_per_cache(bucket: Any, tmp_path: Path) -> None:
    revision = "c" * 40
    s3_source(tmp_path / "ci").publish(Bundle(tuple(sorted(example_files().items()))), revision)
    cold = s3_source(tmp_path / "cache")
    downloads = count_calls(cold, "GetObject")
    first = cold.checkout(revision)
    assert len(downloads) == 1

    warm = s3_source(tmp_path / "cache")  # the next invocation of the same Lambda
    downloads = count_calls(warm, "GetObject")
    assert warm.checkout(revision) == first
    assert downloads == []
    assert warm.checkout(None) == first
    assert len(downloads) == 1  # latest.json only
    assert [p for p in os.listdir(os.path.dirname(first.root)) if p.startswith(".")] == []


def test_missing_bundles_and_pointers_are_permanent_errors_that_say_what_to_do(
    bucket: Any, tmp_path: Path
) -> None:
    source = s3_source(tmp_path / "cache")
    with pytest.raises(
        PermanentError, match=r"nothing is published .* `reconciler publish --to s3://"
    ):
        source.checkout(None)
    with pytest.raises(PermanentError, match=r"revision d{40} was never published"):
        source.checkout("d" * 40)
    with pytest.raises(PermanentError, match="not a bundle revision"):
        source.checkout("../../etc")
    assert not any(tmp_path.rglob("*.yaml"))


def test_a_published_revision_never_changes(bucket: Any, tmp_path: Path) -> None:
    source = s3_source(tmp_path / "cache")
    puts = count_calls(source, "PutObject")
    bundle = Bundle(tuple(sorted(example_files(512).items())))
    source.publish(bundle, "v1")
    source.publish(bundle, "v1")  # CI re-run: same bytes, only the pointer is written again
    assert len(puts) == 3
    with pytest.raises(PermanentError, match="already holds different manifests"):
        source.publish(Bundle(tuple(sorted(example_files(1024).items()))), "v1")
    assert memory_of(source.checkout("v1")) == 512


def test_s3_throttling_is_temporary_and_access_denied_permanent(tmp_path: Path) -> None:
    source = S3BundleSource(
        BUCKET, "p", session=boto3.Session(region_name="us-east-1"), cache_dir=str(tmp_path)
    )
    with Stubber(source.client) as stub:
        stub.add_client_error("get_object", "SlowDown", http_status_code=503)
        stub.add_client_error("get_object", "AccessDenied", http_status_code=403)
        with pytest.raises(TemporaryError, match="SlowDown"):
            source.checkout("e" * 40)
        with pytest.raises(PermanentError, match="AccessDenied"):
            source.checkout("e" * 40)
    assert [p.name for p in (tmp_path / "s3").rglob("*")] == ["manifests-bucket.p"]


def test_a_hostile_bundle_in_s3_leaves_nothing_in_the_cache(bucket: Any, tmp_path: Path) -> None:
    bucket.put_object(
        Bucket=BUCKET,
        Key="team/manifests/bundles/evil.tar.gz",
        Body=tarball([member("dev/ok.yaml", b"a: 1\n"), member("../escape.yaml", b"x")]),
    )
    with pytest.raises(PermanentError, match=r"refusing '\.\./escape\.yaml'"):
        s3_source(tmp_path / "cache").checkout("evil")
    assert not (tmp_path / "escape.yaml").exists()
    assert [p.name for p in (tmp_path / "cache").rglob("*")] == [
        "s3",
        "manifests-bucket.team_manifests",
    ]


def test_the_cache_keeps_complete_recent_trees_only(tmp_path: Path) -> None:
    def fill(into: str) -> None:
        Path(into, "dev").mkdir()

    def fail(into: str) -> None:
        Path(into, "dev").mkdir()
        raise PermanentError("bad bundle")

    with pytest.raises(PermanentError):
        cache_module.cached_tree(str(tmp_path), "broken", fail)
    assert os.listdir(tmp_path) == []
    for index in range(cache_module.KEEP_TREES):
        folder = cache_module.cached_tree(str(tmp_path), f"rev{index}", fill)
        os.utime(folder, (index, index))
    assert cache_module.cached_tree(str(tmp_path), "rev0", fail) == str(tmp_path / "rev0")
    cache_module.cached_tree(str(tmp_path), "latest", fill)  # one too many: rev1 is oldest
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["latest", "rev0", *[f"rev{i}" for i in range(2, cache_module.KEEP_TREES)]]
    )


# -- the bundle format ------------------------------------------------------------------------


def member(name: str, data: bytes = b"", **fields: Any) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


def tarball(members: Iterable[tuple[tarfile.TarInfo, bytes]], *, compress: bool = True) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz" if compress else "w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return raw.getvalue()


def test_bundles_are_deterministic_and_round_trip(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "m", example_files())
    (root / "dev" / "README.md").write_text("not a manifest")
    (root / "dev" / ".hidden.yaml").write_text("skipped like the loader skips it")
    first = Bundle.collect([str(root / "dev"), str(root / "prod")])
    os.utime(root / "dev" / "budget.yaml", (0, 1_000_000))
    second = Bundle.collect([str(root / "prod"), str(root / "dev")])
    assert first.archive() == second.archive()
    assert first.digest == second.digest
    assert first.environments == ["dev", "prod"]
    assert [name for name, _ in first.files if name.startswith("dev/")] == [
        "dev/budget.yaml",
        "dev/environment.yaml",
        "dev/flask-api.yaml",
        "dev/gateway.yaml",
    ]
    with tarfile.open(fileobj=io.BytesIO(first.archive())) as tar:
        assert {(m.mode, m.mtime, m.uid, m.uname, m.type) for m in tar} == {
            (0o644, 0, 0, "", tarfile.REGTYPE)
        }
    assert extract(first.archive(), str(tmp_path / "out"), "bundle") == len(first.files)
    for name, data in first.files:
        assert (tmp_path / "out" / name).read_bytes() == data
    changed = Bundle(((first.files[0][0], first.files[0][1] + b"\n"), *first.files[1:]))
    assert changed.digest != first.digest


HOSTILE = {
    "absolute path": [member("/tmp/evil.yaml", b"x")],
    "parent folder": [member("../evil.yaml", b"x")],
    "parent inside": [member("dev/../../evil.yaml", b"x")],
    "nested folder": [member("dev/sub/x.yaml", b"x")],
    "top-level file": [member("x.yaml", b"x")],
    "not a manifest": [member("dev/run.sh", b"x")],
    "hidden": [member("dev/.x.yaml", b"x")],
    "backslash": [member("dev\\..\\x.yaml", b"x")],
    "symlink": [member("dev/link.yaml", type=tarfile.SYMTYPE, linkname="/etc/passwd")],
    "hardlink": [
        member("dev/a.yaml", b"x"),
        member("dev/b.yaml", type=tarfile.LNKTYPE, linkname="dev/a.yaml"),
    ],
    "device": [member("dev/null.yaml", type=tarfile.CHRTYPE, devmajor=1, devminor=3)],
    "fifo": [member("dev/pipe.yaml", type=tarfile.FIFOTYPE)],
    "folder link": [
        member("dev", type=tarfile.SYMTYPE, linkname="/tmp"),
        member("dev/x.yaml", b"x"),
    ],
    "duplicate": [member("dev/a.yaml", b"x"), member("dev/a.yaml", b"y")],
}


@pytest.mark.parametrize("members", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_members_are_refused(
    members: list[tuple[tarfile.TarInfo, bytes]], tmp_path: Path
) -> None:
    into = tmp_path / "sandbox" / "into"
    into.mkdir(parents=True)
    with pytest.raises(PermanentError, match=r"refusing|twice"):
        extract(tarball(members), str(into), "s3://b/k")
    assert sorted(p.name for p in tmp_path.rglob("*")) in (
        ["into", "sandbox"],
        ["a.yaml", "dev", "into", "sandbox"],  # the legitimate first member, inside `into`
    )


def test_a_plain_folder_entry_is_accepted(tmp_path: Path) -> None:
    archive = tarball([member("dev/", type=tarfile.DIRTYPE), member("dev/a.yaml", b"a: 1\n")])
    assert extract(archive, str(tmp_path), "bundle") == 1


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        (b"not gzip at all", "not a readable"),
        (tarball([member("dev/a.yaml", b"a: 1\n" * 1000)])[:-40], "not a readable"),
        (tarball([member("dev/a.yaml", b"x")], compress=False), "not a readable"),
    ],
    ids=["garbage", "truncated", "uncompressed"],
)
def test_unreadable_bundles_are_permanent_errors(
    archive: bytes, message: str, tmp_path: Path
) -> None:
    with pytest.raises(PermanentError, match=message):
        extract(archive, str(tmp_path), "bundle")


def test_limits_hold_before_the_bytes_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "MAX_TOTAL_BYTES", 64 * 1024)
    big = tarball([member("dev/a.yaml", b"\0" * (200 * 1024))])
    with pytest.raises(PermanentError, match="more than 0 MiB of manifests"):
        extract(big, str(tmp_path / "a"), "bundle")
    assert not (tmp_path / "a" / "dev" / "a.yaml").exists()

    monkeypatch.setattr(bundle_module, "MAX_MEMBERS", 3)
    many = tarball([member(f"dev/{i}.yaml", b"x") for i in range(5)])
    with pytest.raises(PermanentError, match="more than 3 entries"):
        extract(many, str(tmp_path / "b"), "bundle")

    # A pax header is read whole by tarfile: the decompressed stream itself is bounded.
    monkeypatch.setattr(bundle_module, "_MAX_TAR_BYTES", 1024 * 1024)
    header, _ = member("dev/a.yaml", b"x")
    header.pax_headers = {"comment": "x" * (2 * 1024 * 1024)}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(header, io.BytesIO(b"x"))
    with pytest.raises(PermanentError, match="expands to more than 1 MiB"):
        extract(raw.getvalue(), str(tmp_path / "c"), "bundle")

    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BYTES", 10)
    with pytest.raises(PermanentError, match="larger than"):
        extract(tarball([member("dev/a.yaml", b"x")]), str(tmp_path / "d"), "bundle")


# -- git over HTTP ----------------------------------------------------------------------------


def commit_files(
    repo: Repo, files: dict[str, bytes], parent: bytes | None, *, links: Iterable[str] = ()
) -> bytes:
    """Commit `files` (path → content; `links` are symlinks) on top of `parent`; returns the sha."""
    entries = []
    for path, data in files.items():
        blob = Blob.from_string(data)
        repo.object_store.add_object(blob)
        mode = 0o120000 if path in links else 0o100644
        entries.append((path.encode(), blob.id, mode))
    commit = Commit()
    commit.tree = commit_tree(repo.object_store, entries)
    commit.parents = [parent] if parent else []
    commit.author = commit.committer = b"CI <ci@example.com>"
    commit.commit_time = commit.author_time = 1_700_000_000 + len(commit.parents)
    commit.commit_timezone = commit.author_timezone = 0
    commit.message = b"manifests"
    repo.object_store.add_object(commit)
    repo.refs[b"refs/heads/main"] = commit.id
    return commit.id


class ReachableShaUploadPack(UploadPackHandler):
    """Upload-pack that, like GitHub, accepts a want for any commit reachable from a ref."""

    def __init__(self, backend: Any, args: Any, proto: Any, **kwargs: Any) -> None:
        super().__init__(backend, args, proto, **kwargs)
        if not self.advertise_refs:  # only what is fetched widens, never what is advertised
            repo, advertised = self.repo, self.repo.get_refs

            def refs() -> dict[bytes, bytes]:
                found = dict(advertised())
                for entry in repo.get_walker(include=list(set(found.values()))):
                    found[b"refs/reachable/" + entry.commit.id] = entry.commit.id
                return found

            repo.get_refs = refs  # type: ignore[method-assign]


class FreshRepoBackend(Backend):
    """Opens the repository anew for every request, so handlers never share state."""

    def __init__(self, path: str) -> None:
        self.path = path

    def open_repository(self, path: str) -> Any:
        return Repo(self.path)


class GitServer:
    """A smart-HTTP git server on 127.0.0.1, optionally behind basic auth; records requests."""

    def __init__(self, repo_path: str, *, token: str | None, reachable_shas: bool) -> None:
        handlers = {b"git-upload-pack": ReachableShaUploadPack} if reachable_shas else None
        self._git = make_wsgi_chain(FreshRepoBackend(repo_path), handlers=handlers)
        self._token = token
        self.requests: list[tuple[str, str]] = []
        self.authorizations: list[str | None] = []

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

        self._server: WSGIServer = make_server("127.0.0.1", 0, self._app, handler_class=Quiet)
        self.url = f"http://127.0.0.1:{self._server.server_port}/org/manifests.git"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.requests.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        self.authorizations.append(environ.get("HTTP_AUTHORIZATION"))
        if self._token is not None:
            expected = base64.b64encode(f"x-access-token:{self._token}".encode()).decode()
            if environ.get("HTTP_AUTHORIZATION") != f"Basic {expected}":
                start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
                return [b"authentication required"]
        environ["PATH_INFO"] = environ["PATH_INFO"].removeprefix("/org/manifests.git")
        return self._git(environ, start_response)

    @property
    def fetches(self) -> int:
        return sum(1 for method, path in self.requests if method == "POST")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class Remote:
    """A repository with two commits that change `manifests/dev/flask-api.yaml`."""

    def __init__(self, path: Path) -> None:
        self.repo = Repo.init_bare(str(path), mkdir=True)
        self.repo.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")
        other = {"README.md": b"# app\n", "src/app.py": b"print('hi')\n"}
        first = {f"manifests/{k}": v for k, v in example_files(512).items()}
        second = {f"manifests/{k}": v for k, v in example_files(1024).items()}
        notes = {"manifests/dev/notes.txt": b"not a manifest", "manifests/.github/x.yaml": b""}
        self.old = commit_files(self.repo, {**other, **first}, None).decode()
        self.new = commit_files(self.repo, {**other, **second, **notes}, self.old.encode()).decode()


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Remote]:
    remote = Remote(tmp_path / "remote.git")
    yield remote
    remote.repo.close()


@pytest.fixture
def serve(remote: Remote) -> Iterator[Callable[..., GitServer]]:
    servers: list[GitServer] = []

    def start(*, token: str | None = None, reachable_shas: bool = True) -> GitServer:
        servers.append(GitServer(remote.repo.path, token=token, reachable_shas=reachable_shas))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def git_source(url: str, cache: Path, token: str | None = None) -> GitSource:
    source = source_from_uri(url, token=token, cache_dir=str(cache))
    assert isinstance(source, GitSource)
    return source


def test_git_checks_out_the_head_and_an_older_commit_and_only_the_manifests(
    remote: Remote, serve: Callable[..., GitServer], tmp_path: Path
) -> None:
    server = serve()
    source = git_source(server.url, tmp_path / "cache")

    head = source.checkout(None)
    assert head == Checkout(
        root=str(tmp_path / "cache" / "git-trees" / remote.new), revision=remote.new
    )
    assert memory_of(head) == 1024
    assert sorted(str(p.relative_to(head.root)) for p in Path(head.root).rglob("*.*")) == sorted(
        f"{env}/{name}"
        for env in ("dev", "prod", "staging")
        for name in ("budget.yaml", "environment.yaml", "flask-api.yaml", "gateway.yaml")
    )

    older = source.checkout(remote.old)
    assert older.revision == remote.old
    assert memory_of(older) == 512
    assert server.fetches == 2
    with Repo(source._repository_dir) as cached:  # shallow: the commit, not its history
        assert cached.get_shallow() == {remote.new.encode(), remote.old.encode()}


def test_git_fetches_a_commit_once_across_invocations(
    remote: Remote, serve: Callable[..., GitServer], tmp_path: Path
) -> None:
    server = serve()
    cache = tmp_path / "cache"
    first = git_source(server.url, cache).checkout(remote.old)
    assert server.fetches == 1

    server.requests.clear()
    warm = git_source(server.url, cache)  # the next invocation: a new source, the same /tmp
    assert warm.checkout(remote.old) == first
    assert server.requests == []  # not even a ref listing

    shutil.rmtree(cache / "git-trees")  # the trees go, the bare repository stays
    assert memory_of(warm.checkout(remote.old.upper())) == 512
    assert server.requests == []

    warm.checkout(None)
    warm.checkout(None)
    assert server.fetches == 1  # the head: fetched once, then only listed
    assert [method for method, _ in server.requests] == ["GET", "GET", "POST", "GET"]


def test_an_oversized_repository_cache_starts_over(
    remote: Remote,
    serve: Callable[..., GitServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = git_source(serve().url, tmp_path / "cache")
    source.checkout(remote.new)
    monkeypatch.setattr(git_module, "MAX_REPOSITORY_BYTES", 1)
    assert memory_of(source.checkout(remote.old)) == 512
    with Repo(source._repository_dir) as cached:
        assert cached.get_shallow() == {remote.old.encode()}


def test_a_server_that_refuses_unadvertised_shas_is_read_through_the_branch(
    remote: Remote, serve: Callable[..., GitServer], tmp_path: Path
) -> None:
    server = serve(reachable_shas=False)
    source = git_source(server.url, tmp_path / "cache")
    assert memory_of(source.checkout(None)) == 1024
    assert memory_of(source.checkout(remote.old)) == 512
    assert server.fetches == 3  # the head; the refused sha; the branch's history
    with pytest.raises(PermanentError, match=f"revision {'f' * 40} does not exist"):
        source.checkout("f" * 40)


@pytest.mark.parametrize("reachable_shas", [True, False])
def test_unknown_revisions_and_branches_are_permanent_errors(
    reachable_shas: bool, serve: Callable[..., GitServer], tmp_path: Path
) -> None:
    server = serve(reachable_shas=reachable_shas)
    source = git_source(server.url, tmp_path / "cache")
    with pytest.raises(PermanentError, match=f"revision {'0' * 40} does not exist"):
        source.checkout("0" * 40)
    with pytest.raises(PermanentError, match="not a full commit sha"):
        source.checkout("main")
    with pytest.raises(PermanentError, match="branch 'release' does not exist"):
        GitSource(server.url, branch="release", cache_dir=str(tmp_path / "c")).checkout(None)
    assert os.listdir(tmp_path / "cache" / "git-trees") == []


def test_the_token_goes_as_basic_auth_and_nowhere_else(
    remote: Remote,
    serve: Callable[..., GitServer],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = serve(token=TOKEN)
    source = git_source(server.url, tmp_path / "cache", token=TOKEN)
    assert memory_of(source.checkout(None)) == 1024
    expected = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert set(server.authorizations) == {expected}

    failures: list[BaseException] = []
    for attempt in (
        lambda: source.checkout("1" * 40),  # unknown revision, authenticated
        lambda: git_source(server.url, tmp_path / "c2", token=TOKEN[::-1]).checkout(None),
        lambda: git_source(server.url, tmp_path / "c3").checkout(None),
        lambda: git_source(
            server.url.replace("://", f"://x-access-token:{TOKEN}@"), tmp_path / "c4"
        ).checkout("2" * 40),
    ):
        with pytest.raises((PermanentError, TemporaryError)) as raised:
            attempt()
        failures.append(raised.value)
    assert "refused the credentials" in str(failures[1])
    assert "needs credentials" in str(failures[2])
    server.stop()
    with pytest.raises(TemporaryError, match="retry later") as raised:
        git_source(server.url, tmp_path / "c5", token=TOKEN).checkout(None)
    failures.append(raised.value)

    encoded = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    for failure in failures:
        text = "".join(traceback.format_exception(failure))
        assert TOKEN not in text
        assert encoded not in text
    assert TOKEN not in caplog.text
    assert encoded not in caplog.text
    assert TOKEN not in repr(source)


def test_links_in_the_manifests_are_refused(tmp_path: Path) -> None:
    with Repo.init_bare(str(tmp_path / "r.git"), mkdir=True) as repo:
        files = {f"manifests/{k}": v for k, v in example_files().items()}
        sha = commit_files(
            repo, {**files, "manifests/dev/extra.yaml": b"/etc/passwd"}, None,
            links=["manifests/dev/extra.yaml"],
        )  # fmt: skip
        with pytest.raises(PermanentError, match=r"manifests/dev/extra\.yaml is a symbolic link"):
            write_manifests(repo, repo[sha], str(tmp_path / "out"))  # type: ignore[arg-type]

        no_manifests = commit_files(repo, {"README.md": b"x"}, None)
        with pytest.raises(PermanentError, match="has no manifests/ folder"):
            write_manifests(repo, repo[no_manifests], str(tmp_path / "out2"))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [b"sub/../../../evil.yaml", b"a\\..\\evil.yaml"])
def test_tree_entries_that_would_leave_the_folder_are_refused(name: bytes, tmp_path: Path) -> None:
    with Repo.init_bare(str(tmp_path / "r.git"), mkdir=True) as repo:
        blob = Blob.from_string(b"a: 1\n")
        repo.object_store.add_object(blob)
        env = Tree()
        env.add(name, 0o100644, blob.id)
        repo.object_store.add_object(env)
        manifests, root = Tree(), Tree()
        manifests.add(b"dev", 0o040000, env.id)
        repo.object_store.add_object(manifests)
        root.add(b"manifests", 0o040000, manifests.id)
        repo.object_store.add_object(root)
        commit = Commit()
        commit.tree = root.id
        commit.author = commit.committer = b"x <x@example.com>"
        commit.commit_time = commit.author_time = 0
        commit.commit_timezone = commit.author_timezone = 0
        commit.message = b"x"
        repo.object_store.add_object(commit)
        with pytest.raises(PermanentError, match="refusing the entry"):
            write_manifests(repo, commit, str(tmp_path / "out"))
        assert not list(tmp_path.rglob("*evil.yaml"))
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.yaml"))
