"""A git repository over HTTPS, read with dulwich: only the commit a run needs, only `manifests/`.

`checkout(None)` asks the server for the branch head (one small request); `checkout(sha)` asks
nothing when that commit's tree is already cached. Otherwise the commit is fetched shallow
(`depth=1`, the wanted sha itself, as GitHub and GitLab allow) into a bare repository cached under
`cache_dir/git/<hash of the URL>`, and its `manifests/<env>/*.yaml|yml` files are written to
`cache_dir/git-trees/<sha>/`. A server that refuses a sha it does not advertise gets one more
chance: the branch's whole history is fetched and the commit looked up in it.

The token travels only as HTTP basic auth (`x-access-token:<token>`, what GitHub expects), sent
only to the repository's own origin, and appears in no message: errors are worded here, and a
cause whose text mentions the token is dropped from the chain.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import NoReturn
from urllib.parse import unquote, urlsplit, urlunsplit

from dulwich.client import HTTPUnauthorized, Urllib3HttpGitClient
from dulwich.errors import GitProtocolError, NotGitRepository, ObjectFormatException
from dulwich.object_store import tree_lookup_path
from dulwich.objects import S_ISGITLINK, Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from reconciler.errors import PermanentError, ReconcilerError, TemporaryError
from reconciler.loader import MANIFEST_SUFFIXES
from reconciler.sources import Checkout
from reconciler.sources.cache import TreeWriter, cached_tree, safe_name

#: A full commit id (SHA-1 or SHA-256 repositories); abbreviations and ref names are refused.
COMMIT_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
MANIFESTS_FOLDER = b"manifests"
#: Git's own "infinite" depth: deepens a shallow repository to the branch's whole history.
_WHOLE_HISTORY = 0x7FFFFFFF
_TIMEOUT_SECONDS = 30.0
#: Each shallow fetch adds a pack: past this size the cached repository starts over.
MAX_REPOSITORY_BYTES = 256 * 1024 * 1024


class GitSource:
    """The `manifests/` folder of a git repository at a commit or at the head of `branch`."""

    def __init__(
        self, url: str, *, branch: str = "main", token: str | None = None, cache_dir: str
    ) -> None:
        parts = urlsplit(url)
        # Credentials written into the URL are honoured like a token, then kept out of it.
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        if token is not None:
            username, password = "x-access-token", token
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        self.url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.branch = branch
        self._username = username
        self._password = password
        self._secrets = [secret for secret in (password, parts.password) if secret]
        self._repository_dir = os.path.join(
            cache_dir, "git", hashlib.sha256(self.url.encode()).hexdigest()[:24]
        )
        self._trees = os.path.join(cache_dir, "git-trees")

    def __repr__(self) -> str:
        return f"GitSource({self.url!r}, branch={self.branch!r})"

    def checkout(self, revision: str | None) -> Checkout:
        """The manifests at commit `revision`, or at the branch head when it is None."""
        sha = self.head() if revision is None else revision.lower()
        if not COMMIT_SHA.match(sha):
            raise PermanentError(
                f"revision {revision!r} is not a full commit sha (40 or 64 hex digits)"
            )
        root = cached_tree(self._trees, sha, lambda into: self._materialise(sha, into))
        return Checkout(root=root, revision=sha)

    def newest(self) -> str:
        """The commit the branch points at on the server."""
        return self.head()

    def head(self) -> str:
        """The commit the branch points at on the server."""
        ref = Ref(f"refs/heads/{self.branch}".encode())
        try:
            refs = self._client().get_refs("").refs
        except Exception as exc:
            self._fail(exc, f"listing the branches of {self.url}")
        sha = refs.get(ref)
        if not sha:
            raise PermanentError(f"branch {self.branch!r} does not exist in {self.url}")
        return bytes(sha).decode("ascii")

    # -- fetching ------------------------------------------------------------------------------

    def _materialise(self, sha: str, into: str) -> None:
        with self._repository() as repository:
            if _commit(repository, sha) is None:
                self._fetch(repository, sha)
            commit = _commit(repository, sha)
            if commit is None:
                raise PermanentError(
                    f"revision {sha} does not exist in {self.url} (not on branch {self.branch!r} "
                    "or anywhere the server lets us fetch)"
                )
            try:
                write_manifests(repository, commit, into)
            except ObjectFormatException as exc:
                raise PermanentError(f"commit {sha} holds a malformed git object: {exc}") from exc

    def _fetch(self, repository: Repo, sha: str) -> None:
        """The commit alone, shallow; else (the server refused it) the branch's whole history."""
        wanted = ObjectID(sha.encode("ascii"))
        try:
            self._fetch_pack(repository, lambda _refs: [wanted], depth=1)
            return
        except GitProtocolError:
            pass  # refused an unadvertised sha, or it does not exist: try through the branch
        except Exception as exc:
            self._fail(exc, f"fetching {sha} from {self.url}")
        branch = Ref(f"refs/heads/{self.branch}".encode())
        try:
            self._fetch_pack(
                repository,
                lambda refs: [refs[branch]] if branch in refs else [],
                depth=_WHOLE_HISTORY,
            )
        except Exception as exc:
            self._fail(exc, f"fetching branch {self.branch!r} from {self.url}")

    def _fetch_pack(
        self,
        repository: Repo,
        wants: Callable[[Mapping[Ref, ObjectID]], list[ObjectID]],
        depth: int,
    ) -> None:
        def determine_wants(
            refs: Mapping[Ref, ObjectID], depth: int | None = None
        ) -> list[ObjectID]:
            return wants(refs)

        self._client().fetch("", repository, determine_wants=determine_wants, depth=depth)

    def _client(self) -> Urllib3HttpGitClient:
        return Urllib3HttpGitClient(
            self.url,
            username=self._username,
            password=self._password,
            timeout=_TIMEOUT_SECONDS,
            quiet=True,
        )

    @contextmanager
    def _repository(self) -> Iterator[Repo]:
        """The cached bare repository, created atomically the first time (or when too big)."""
        if _size(self._repository_dir) > MAX_REPOSITORY_BYTES:
            shutil.rmtree(self._repository_dir, ignore_errors=True)
        if not os.path.isdir(self._repository_dir):
            parent = os.path.dirname(self._repository_dir)
            os.makedirs(parent, mode=0o700, exist_ok=True)
            partial = tempfile.mkdtemp(prefix=".partial-", dir=parent)
            try:
                Repo.init_bare(partial).close()
                os.rename(partial, self._repository_dir)
            except OSError:
                shutil.rmtree(partial, ignore_errors=True)
                if not os.path.isdir(self._repository_dir):
                    raise
        repository = Repo(self._repository_dir)
        try:
            yield repository
        finally:
            repository.close()

    # -- errors --------------------------------------------------------------------------------

    def _fail(self, exc: Exception, doing: str) -> NoReturn:
        """Raise the reconciler's error for a failure of dulwich or the network, token-free."""
        error: ReconcilerError
        if isinstance(exc, ReconcilerError):
            raise exc
        if isinstance(exc, HTTPUnauthorized):
            error = PermanentError(
                f"{doing}: the server refused the credentials (HTTP 401); check the token"
                if self._password
                else f"{doing}: the repository needs credentials (HTTP 401); configure a token"
            )
        elif isinstance(exc, NotGitRepository):
            error = PermanentError(
                f"{doing}: no git repository there, or the token does not grant access to it"
            )
        elif isinstance(exc, GitProtocolError | OSError):
            error = TemporaryError(f"{doing}: {self._redact(str(exc))}; retry later")
        else:
            error = PermanentError(f"{doing}: {type(exc).__name__}: {self._redact(str(exc))}")
        if self._mentions_secret(exc):
            raise error from None
        raise error from exc

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _mentions_secret(self, exc: BaseException | None) -> bool:
        seen: set[int] = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            text = f"{exc!s} {exc!r}"
            if any(secret in text for secret in self._secrets):
                return True
            exc = exc.__cause__ or exc.__context__
        return False


def _size(folder: str) -> int:
    """Bytes of the files under `folder` (0 when it does not exist)."""
    return sum(
        os.path.getsize(os.path.join(path, name))
        for path, _, names in os.walk(folder)
        for name in names
    )


def _commit(repository: Repo, sha: str) -> Commit | None:
    try:
        found = repository.object_store[ObjectID(sha.encode("ascii"))]
    except KeyError:
        return None
    return found if isinstance(found, Commit) else None


def write_manifests(repository: Repo, commit: Commit, into: str) -> None:
    """Write the commit's `manifests/<env>/*.yaml|yml` regular files under `into`.

    Hidden entries and other files are left out, as the loader leaves them; a link, a submodule
    or a name that could leave the folder where a manifest is expected is refused.
    """
    store = repository.object_store
    where = f"commit {commit.id.decode('ascii')}"
    try:
        mode, folder_id = tree_lookup_path(store.__getitem__, commit.tree, MANIFESTS_FOLDER)
    except KeyError:
        raise PermanentError(f"{where} has no manifests/ folder") from None
    if not stat.S_ISDIR(mode):
        raise PermanentError(f"{where}: manifests is not a folder")
    writer = TreeWriter(into, where)
    for environment, env_mode, env_id in _entries(store[folder_id], where, "manifests"):
        if not stat.S_ISDIR(env_mode) or S_ISGITLINK(env_mode):
            continue
        for name, file_mode, file_id in _entries(store[env_id], where, environment):
            if not name.endswith(MANIFEST_SUFFIXES):
                continue
            relative = f"{environment}/{name}"
            if not stat.S_ISREG(file_mode) or S_ISGITLINK(file_mode):
                kind = "a symbolic link" if stat.S_ISLNK(file_mode) else "not a regular file"
                raise PermanentError(f"{where}: manifests/{relative} is {kind}")
            blob = store[file_id]
            if not isinstance(blob, Blob):
                raise PermanentError(f"{where}: manifests/{relative} is not a file")
            writer.reserve(relative, blob.raw_length())
            writer.write(relative, blob.as_raw_string())


def _entries(tree: object, where: str, folder: str) -> Iterator[tuple[str, int, ObjectID]]:
    """A tree's visible entries; a name that is not a plain path component is refused."""
    if not isinstance(tree, Tree):
        raise PermanentError(f"{where}: {folder} is not a folder")
    for entry in tree.iteritems():
        name = entry.path.decode("utf-8", "surrogateescape")
        if name.startswith("."):
            continue
        if not safe_name(name):
            raise PermanentError(f"{where}: refusing the entry {name!r} in {folder}/")
        yield name, entry.mode, entry.sha
