"""The triggers' pure decisions: signatures, changed environments, execution names."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone

import pytest

from reconciler.triggers import (
    ENVIRONMENT_NAME,
    EXECUTION_NAME_MAX,
    ZERO_SHA,
    PushEvent,
    changed_environments,
    commit_runs,
    execution_name,
    parse_environments,
    push_ignored_because,
    scheduled_runs,
    sign,
    signature_is_valid,
)

SECRET = "It's a Secret to Everybody"
BODY = b"Hello, World!"
# GitHub's documented test vector for X-Hub-Signature-256.
GITHUB_VECTOR = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
ENVS = ("dev", "staging", "prod")
SHA = "a" * 40


# --- signatures -----------------------------------------------------------------------------


def test_githubs_documented_signature_is_valid() -> None:
    assert signature_is_valid(SECRET, BODY, GITHUB_VECTOR)
    assert sign(SECRET, BODY) == GITHUB_VECTOR


def test_upper_case_hex_is_the_same_digest() -> None:
    assert signature_is_valid(SECRET, BODY, "sha256=" + GITHUB_VECTOR[7:].upper())


@pytest.mark.parametrize(
    ("secret", "body", "header"),
    [
        pytest.param("another secret", BODY, GITHUB_VECTOR, id="wrong-secret"),
        pytest.param(SECRET, BODY + b" ", GITHUB_VECTOR, id="body-changed"),
        pytest.param(SECRET, BODY, None, id="missing"),
        pytest.param(SECRET, BODY, "", id="empty"),
        pytest.param(SECRET, BODY, GITHUB_VECTOR[7:], id="no-prefix"),
        pytest.param(SECRET, BODY, "sha1=" + GITHUB_VECTOR[7:], id="other-algorithm"),
        pytest.param(SECRET, BODY, GITHUB_VECTOR[:-2], id="shorter"),
        pytest.param(SECRET, BODY, GITHUB_VECTOR + "00", id="longer"),
        pytest.param(SECRET, BODY, GITHUB_VECTOR[:-1] + "g", id="not-hex"),
        pytest.param(SECRET, BODY, GITHUB_VECTOR[:-1] + "é", id="not-ascii"),
        pytest.param(SECRET, BODY, "sha256=" + "0" * 64, id="zeros"),
        pytest.param(
            "", BODY, "sha256=" + hmac.new(b"", BODY, hashlib.sha256).hexdigest(), id="empty-secret"
        ),
    ],
)
def test_anything_but_the_exact_signature_is_refused(
    secret: str, body: bytes, header: str | None
) -> None:
    assert not signature_is_valid(secret, body, header)


def test_the_digests_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert signature_is_valid(SECRET, BODY, GITHUB_VECTOR)
    assert len(compared) == 1


# --- which pushes count ---------------------------------------------------------------------


def push(**fields: object) -> PushEvent:
    return PushEvent.model_validate({"ref": "refs/heads/main", "after": SHA, **fields})


@pytest.mark.parametrize(
    ("fields", "ignored"),
    [
        ({}, False),
        ({"ref": "refs/heads/feature"}, True),
        ({"ref": "refs/heads/main-old"}, True),
        ({"ref": "refs/tags/main"}, True),
        ({"ref": "refs/tags/v1.0.0"}, True),
        ({"deleted": True, "after": ZERO_SHA}, True),
        ({"after": ZERO_SHA}, True),
        ({"deleted": True}, True),
    ],
)
def test_only_pushes_that_update_the_branch_count(
    fields: dict[str, object], *, ignored: bool
) -> None:
    assert (push_ignored_because(push(**fields), "main") is not None) is ignored


def test_the_branch_is_configurable() -> None:
    assert push_ignored_because(push(ref="refs/heads/release"), "release") is None
    assert push_ignored_because(push(), "release") is not None


# --- changed environments -------------------------------------------------------------------


def commit(
    added: list[str] | None = None,
    modified: list[str] | None = None,
    removed: list[str] | None = None,
) -> dict[str, list[str]]:
    return {"added": added or [], "modified": modified or [], "removed": removed or []}


@pytest.mark.parametrize(
    ("commits", "expected"),
    [
        pytest.param([commit(modified=["manifests/dev/api.yaml"])], ["dev"], id="modified"),
        pytest.param([commit(added=["manifests/prod/new.yml"])], ["prod"], id="added"),
        pytest.param([commit(removed=["manifests/staging/old.yaml"])], ["staging"], id="removed"),
        pytest.param(
            [commit(modified=["manifests/prod/a.yaml"]), commit(added=["manifests/dev/b.yaml"])],
            ["dev", "prod"],
            id="several-in-configured-order",
        ),
        pytest.param(
            [commit(modified=["manifests/dev/sub/deep.yaml", "manifests/dev/x.yaml"])],
            ["dev"],
            id="nested-and-repeated",
        ),
        pytest.param([commit(modified=["README.md", "src/app.py"])], [], id="outside-manifests"),
        pytest.param([commit(modified=["manifests/qa/api.yaml"])], [], id="unknown-environment"),
        pytest.param([commit(modified=["manifests/README.md"])], [], id="manifests-root-file"),
        pytest.param([commit(modified=["manifests/dev"])], [], id="env-name-as-a-file"),
        pytest.param([commit(modified=["other/manifests/dev/a.yaml"])], [], id="not-at-root"),
        pytest.param([commit(modified=["manifests/devx/a.yaml"])], [], id="prefix-of-name"),
        pytest.param([commit(modified=["Manifests/dev/a.yaml"])], [], id="case-matters"),
        pytest.param([], [], id="no-commits"),
    ],
)
def test_changed_environments(commits: list[dict[str, list[str]]], expected: list[str]) -> None:
    assert changed_environments(push(commits=commits), ENVS) == expected


def test_head_commit_files_count() -> None:
    event = push(commits=[], head_commit=commit(modified=["manifests/staging/a.yaml"]))
    assert changed_environments(event, ENVS) == ["staging"]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"commits": [commit()] * 21}, id="more-than-20-commits"),
        pytest.param({"commits": [commit()] * 3, "size": 4}, id="size-beyond-list"),
        pytest.param({"forced": True}, id="forced"),
        pytest.param({"created": True}, id="branch-created"),
    ],
)
def test_an_incomplete_commit_list_means_every_environment(fields: dict[str, object]) -> None:
    assert changed_environments(push(**fields), ENVS) == list(ENVS)


def test_a_complete_list_of_twenty_is_trusted() -> None:
    event = push(commits=[commit(modified=["manifests/dev/a.yaml"])] * 20, size=20)
    assert changed_environments(event, ENVS) == ["dev"]


def test_unknown_payload_fields_are_ignored() -> None:
    event = PushEvent.model_validate(
        {"ref": "refs/heads/main", "after": SHA, "repository": {"id": 1}, "pusher": {}}
    )
    assert event.after == SHA


# --- ENVIRONMENTS ---------------------------------------------------------------------------


def test_environments_list_is_trimmed_and_deduplicated_in_order() -> None:
    assert parse_environments(" dev, prod ,,dev,staging ") == ("dev", "prod", "staging")
    assert parse_environments("") == ()


def test_environments_list_refuses_names_no_environment_can_have() -> None:
    with pytest.raises(ValueError, match="Prod"):
        parse_environments("dev,Prod")


def test_environment_name_rule_matches_the_manifests() -> None:
    from reconciler.kinds.environment import ENVIRONMENT_NAME as MANIFEST_RULE

    assert ENVIRONMENT_NAME == MANIFEST_RULE


# --- execution names ------------------------------------------------------------------------

NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


def test_safe_parts_are_kept_as_they_are() -> None:
    delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert execution_name(delivery, "prod") == f"{delivery}-prod"


@pytest.mark.parametrize(
    "parts",
    [
        ("abc def", "dev"),
        ("a.b:c/d", "prod"),
        ("ünïcode", "dev"),
        ("x" * 200, "staging"),
        ("", ""),
        ("[*]?$", "dev"),
    ],
)
def test_names_are_always_acceptable_to_step_functions(parts: tuple[str, ...]) -> None:
    name = execution_name(*parts)
    assert NAME.fullmatch(name), name
    assert execution_name(*parts) == name  # deterministic


def test_sanitising_never_merges_distinct_parts() -> None:
    names = {execution_name(d, "dev") for d in ("a.b", "a:b", "a-b", "a b", "a/b")}
    assert len(names) == 5


def test_long_names_keep_distinct_tails_apart() -> None:
    long = "d" * 90
    assert execution_name(long, "dev") != execution_name(long, "prod")
    assert len(execution_name(long, "dev")) == EXECUTION_NAME_MAX


def test_commit_runs_carry_the_contract_input() -> None:
    runs = commit_runs("delivery-1", SHA, ["dev", "prod"])
    assert [run.name for run in runs] == ["delivery-1-dev", "delivery-1-prod"]
    assert runs[1].input() == {
        "environment": "prod",
        "trigger": "commit",
        "revision": SHA,
        "mode": None,
    }


def test_scheduled_runs_are_named_after_the_tick_in_utc() -> None:
    tick = datetime(2025, 3, 1, 14, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    runs = scheduled_runs(["dev", "prod"], tick)
    assert [run.name for run in runs] == [
        "schedule-dev-20250301T123005Z",
        "schedule-prod-20250301T123005Z",
    ]
    assert runs[0].input() == {
        "environment": "dev",
        "trigger": "schedule",
        "revision": None,
        "mode": None,
    }
