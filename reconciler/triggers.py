"""What the commit and schedule triggers decide, with no AWS in sight.

A trigger only starts runs; the run itself reads the manifests. So the decisions are small: is a
webhook delivery genuinely from GitHub (:func:`signature_is_valid`), does a push concern the
watched branch (:func:`push_ignored_because`), which environments did it change
(:func:`changed_environments`), and what is each run's Step Functions execution called
(:func:`execution_name`) and given as input (:class:`RunRequest`).

Execution names are deterministic on purpose: the same delivery, or the same schedule tick, always
yields the same names, and Step Functions refuses a second execution of a name, so a redelivered
webhook or a retried invocation cannot run an environment twice.

This module imports neither boto3 nor the engine, so the webhook can refuse a forged request
cheaply and tests need no emulator.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: The largest webhook body accepted (GitHub caps its own at 25 MB; a push that only triggers
#: runs is far smaller, and the cap bounds the memory and CPU a forged request can cost).
MAX_BODY_BYTES = 1 << 20

#: GitHub lists at most this many commits in a push payload's `commits` the reconciler relies on;
#: a longer list, or a `size` beyond the list, means the file lists are incomplete.
MAX_LISTED_COMMITS = 20

#: The `after` of a push that deleted the branch.
ZERO_SHA = "0" * 40

#: Step Functions' limit on execution names.
EXECUTION_NAME_MAX = 80

#: The folder, at the repository's root, that holds one folder per environment (contract §1).
MANIFESTS_ROOT = "manifests"

#: The same rule as `reconciler.kinds.environment.ENVIRONMENT_NAME` (kept apart so the webhook
#: does not import the manifest kinds; a unit test holds the two equal).
ENVIRONMENT_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")

Trigger = Literal["schedule", "commit", "manual"]


def signature_is_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is GitHub's `X-Hub-Signature-256` of `body` under `secret`.

    The header must be `sha256=` and 64 hex digits; the digests are compared in constant time.
    An empty secret never validates anything (an HMAC under an empty key proves nothing).
    """
    if not secret or header is None:
        return False
    match = _SIGNATURE.fullmatch(header.strip())
    if match is None:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, bytes.fromhex(match.group(1)))


def sign(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` GitHub sends for `body`: for tests and for tools that replay."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def parse_environments(value: str) -> tuple[str, ...]:
    """The `ENVIRONMENTS` comma list, in order, without blanks or repeats.

    Raises ValueError naming every entry that is not an environment name.
    """
    names = [name.strip() for name in value.split(",") if name.strip()]
    bad = [name for name in names if not re.fullmatch(ENVIRONMENT_NAME, name)]
    if bad:
        raise ValueError(f"ENVIRONMENTS holds names that are not environment names: {bad}")
    return tuple(dict.fromkeys(names))


class Commit(BaseModel):
    """The part of a pushed commit a trigger reads: the files it touched."""

    model_config = ConfigDict(extra="ignore")

    added: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)

    def paths(self) -> Iterable[str]:
        yield from self.added
        yield from self.modified
        yield from self.removed


class PushEvent(BaseModel):
    """The part of GitHub's `push` webhook payload a trigger reads."""

    model_config = ConfigDict(extra="ignore")

    ref: str
    after: str
    before: str | None = None
    created: bool = False
    deleted: bool = False
    forced: bool = False
    size: int | None = None
    commits: list[Commit] = Field(default_factory=list)
    head_commit: Commit | None = None

    @property
    def commit_list_incomplete(self) -> bool:
        """Whether `commits` may not name every file the push changed.

        GitHub truncates long lists. A new branch or a forced push is described against a
        history the payload does not show (a force push back to an older commit lists nothing,
        yet changes files), so both count as incomplete too.
        """
        listed = len(self.commits)
        return (
            listed > MAX_LISTED_COMMITS
            or (self.size is not None and self.size > listed)
            or self.created
            or self.forced
        )


def push_ignored_because(push: PushEvent, branch: str) -> str | None:
    """Why a push starts nothing regardless of its files, or None when it may start runs."""
    if push.ref != f"refs/heads/{branch}":
        return f"not a push to refs/heads/{branch}"
    if push.deleted or push.after == ZERO_SHA:
        return "branch deleted"
    return None


def changed_environments(
    push: PushEvent, environments: Sequence[str], root: str = MANIFESTS_ROOT
) -> list[str]:
    """The environments, in `environments`' order, whose folder under `root` the push changed.

    A file is an environment's when its path is `<root>/<env>/…` and `<env>` is one of
    `environments`; folders of environments not deployed here, and files elsewhere, start
    nothing. When the payload's commit list is incomplete every environment is returned, since
    a run that finds nothing to do costs little and a missed one leaves drift until the schedule.
    """
    if push.commit_list_incomplete:
        return list(environments)
    known = set(environments)
    commits = [*push.commits, *([push.head_commit] if push.head_commit else [])]
    touched: set[str] = set()
    for commit in commits:
        for path in commit.paths():
            parts = path.split("/")
            if len(parts) >= 3 and parts[0] == root and parts[1] in known and parts[2]:
                touched.add(parts[1])
    return [env for env in environments if env in touched]


def execution_name(*parts: str) -> str:
    """A Step Functions execution name from `parts`: `[A-Za-z0-9_-]`, at most 80 characters.

    Unsafe characters become `-`. When that changed anything, or the name is too long, an
    8-digit hash of the original parts is appended (after truncating), so distinct parts never
    collide into one name and the same parts always give the same name.
    """
    raw = "-".join(parts)
    safe = "-".join(_NAME_UNSAFE.sub("-", part) for part in parts)
    if safe == raw and len(safe) <= EXECUTION_NAME_MAX:
        return safe
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
    return f"{safe[: EXECUTION_NAME_MAX - len(digest) - 1]}-{digest}"


@dataclass(frozen=True)
class RunRequest:
    """One run to start: its execution name and the state machine's input (contract §4)."""

    name: str
    environment: str
    trigger: Trigger
    revision: str | None = None
    mode: Literal["observe", "apply"] | None = None

    def input(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "trigger": self.trigger,
            "revision": self.revision,
            "mode": self.mode,
        }


def commit_runs(delivery: str, revision: str, environments: Iterable[str]) -> list[RunRequest]:
    """The runs a push starts: one per changed environment, named `<delivery>-<env>`."""
    return [
        RunRequest(execution_name(delivery, env), env, "commit", revision) for env in environments
    ]


def scheduled_runs(environments: Iterable[str], when: datetime) -> list[RunRequest]:
    """The runs a schedule tick starts: one per environment, `schedule-<env>-<UTC time>`."""
    stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return [
        RunRequest(execution_name("schedule", env, stamp), env, "schedule") for env in environments
    ]
