"""The LogGroup engine against the emulator: retention (null = never expire), create with tag and
retention, tags by the ARN without `:*`, never deleted, reads 50 names a call."""

from __future__ import annotations

from typing import Any

import pytest
from call_log import CallLog

from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.errors import PermanentError
from reconciler.kinds.log_group.engine import ENGINE
from reconciler.kinds.log_group.model import LogGroup
from reconciler.plan import OWNER_TAG, Action, Change, Diff, Plan
from tests.builders import apply_each, document_of, plan_with

ARN = "arn:aws:logs:us-east-1:123456789012:log-group:"
API = "/aws/lambda/api"

log_group = document_of(LogGroup)


def make_group(aws: Clients, name: str, days: int | None = None, owner: str | None = None) -> None:
    tags = {} if owner is None else {OWNER_TAG: owner}
    aws.service("logs").create_log_group(logGroupName=name, **({"tags": tags} if tags else {}))
    if days is not None:
        aws.service("logs").put_retention_policy(logGroupName=name, retentionInDays=days)


def aws_group(aws: Clients, name: str) -> dict[str, Any] | None:
    groups = aws.service("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((dict(group) for group in groups if group["logGroupName"] == name), None)


def aws_tags(aws: Clients, name: str) -> dict[str, str]:
    return dict(aws.service("logs").list_tags_for_resource(resourceArn=ARN + name)["tags"])


def plan_for(aws: Clients, context: Context, *manifests: LogGroup, prune: bool = False) -> Plan:
    return plan_with(ENGINE, aws, context, *manifests, prune=prune)


def logs_calls(calls: CallLog) -> list[str]:
    return [operation for service, operation in calls.calls if service == "logs"]


def record_params(aws: Clients) -> list[tuple[str, dict[str, Any]]]:
    """Every later Logs call with the parameters it was sent."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        sent.append((model.name, dict(params)))

    aws.service("logs").meta.events.register("before-parameter-build.cloudwatch-logs", record)
    return sent


# --- reading and comparing ----------------------------------------------------------------------


def test_a_group_made_by_default_never_expires_and_matches_null(
    aws: Clients, context: Context
) -> None:
    make_group(aws, API, owner="dev")  # AWS's default: no retentionInDays
    manifest = log_group(API, retentionDays=None)

    observed = ENGINE.observe(aws, [manifest], context)[API]

    assert observed.fields == {"retentionDays": None}
    assert observed.tags == {OWNER_TAG: "dev"}
    assert ENGINE.desired(manifest) == {"retentionDays": None}
    assert plan_for(aws, context, manifest).in_sync


def test_a_manifest_without_retention_manages_only_existence(
    aws: Clients, context: Context
) -> None:
    make_group(aws, API, days=14, owner="dev")

    assert plan_for(aws, context, log_group(API)).in_sync


def test_retention_drift_is_one_diff_applied_with_put_retention_policy(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_group(aws, API, days=14, owner="dev")
    manifest = log_group(API, retentionDays=30)
    plan = plan_for(aws, context, manifest)
    (change,) = plan.writes
    assert change.diffs == (Diff(field="retentionDays", desired=30, actual=14),)
    calls.clear()

    apply_each(ENGINE, aws, context, plan)

    assert [op for op in logs_calls(calls) if not op.startswith(("Describe", "List"))] == [
        "PutRetentionPolicy"
    ]
    assert (aws_group(aws, API) or {})["retentionInDays"] == 30
    assert plan_for(aws, context, manifest).in_sync


def test_null_against_a_retention_deletes_the_retention_policy(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_group(aws, API, days=14, owner="dev")
    manifest = log_group(API, retentionDays=None)
    plan = plan_for(aws, context, manifest)
    (change,) = plan.writes
    assert change.diffs == (Diff(field="retentionDays", desired=None, actual=14),)
    calls.clear()

    apply_each(ENGINE, aws, context, plan)

    assert [op for op in logs_calls(calls) if not op.startswith(("Describe", "List"))] == [
        "DeleteRetentionPolicy"
    ]
    assert "retentionInDays" not in (aws_group(aws, API) or {"retentionInDays": "missing"})
    assert plan_for(aws, context, manifest).in_sync


# --- creating and tagging -----------------------------------------------------------------------


def test_a_missing_group_is_created_with_its_tag_and_retention(
    aws: Clients, context: Context
) -> None:
    manifest = log_group(API, retentionDays=7)
    plan = plan_for(aws, context, manifest)
    (change,) = plan.changes
    assert change.action is Action.CREATE
    sent = record_params(aws)

    apply_each(ENGINE, aws, context, plan)

    writes = [(op, params) for op, params in sent if op in ("CreateLogGroup", "PutRetentionPolicy")]
    assert writes == [
        ("CreateLogGroup", {"logGroupName": API, "tags": {OWNER_TAG: "dev"}}),
        ("PutRetentionPolicy", {"logGroupName": API, "retentionInDays": 7}),
    ]
    assert aws_tags(aws, API) == {OWNER_TAG: "dev"}
    assert (aws_group(aws, API) or {})["retentionInDays"] == 7
    assert plan_for(aws, context, manifest).in_sync


def test_a_missing_group_declared_never_expiring_is_only_created(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    manifest = log_group(API, retentionDays=None)

    apply_each(ENGINE, aws, context, plan_for(aws, context, manifest))

    assert "PutRetentionPolicy" not in logs_calls(calls)
    assert "retentionInDays" not in (aws_group(aws, API) or {"retentionInDays": "missing"})
    assert plan_for(aws, context, manifest).in_sync


def test_an_untagged_group_is_tagged_by_its_arn_without_the_star(
    aws: Clients, context: Context
) -> None:
    make_group(aws, API, days=30)
    manifest = log_group(API, retentionDays=30)
    plan = plan_for(aws, context, manifest)
    (change,) = plan.writes
    assert change.diffs == (Diff(field=f"tags.{OWNER_TAG}", desired="dev", actual=None),)
    sent = record_params(aws)

    apply_each(ENGINE, aws, context, plan)

    tagged = [params for op, params in sent if op == "TagResource"]
    assert tagged == [{"resourceArn": ARN + API, "tags": {OWNER_TAG: "dev"}}]
    listed = {params["resourceArn"] for op, params in sent if op == "ListTagsForResource"}
    assert listed == {ARN + API}  # never the `arn` that DescribeLogGroups ends with `:*`
    assert aws_tags(aws, API) == {OWNER_TAG: "dev"}
    assert plan_for(aws, context, manifest).in_sync


def test_a_group_owned_by_another_environment_is_blocked(aws: Clients, context: Context) -> None:
    make_group(aws, API, days=14, owner="prod")
    manifest = log_group(API, retentionDays=30)

    (change,) = plan_for(aws, context, manifest).changes

    assert change.action is Action.BLOCKED


def test_a_group_retagged_for_another_environment_after_the_plan_is_not_changed(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_group(aws, API, days=14, owner="dev")
    plan = plan_for(aws, context, log_group(API, retentionDays=30))
    aws.service("logs").tag_resource(resourceArn=ARN + API, tags={OWNER_TAG: "prod"})
    calls.clear()

    with pytest.raises(PermanentError, match="owned by environment 'prod'"):
        apply_each(ENGINE, aws, context, plan)
    assert calls.writes == []
    assert (aws_group(aws, API) or {})["retentionInDays"] == 14


def test_a_create_finding_the_group_made_since_the_plan_carries_on_as_an_update(
    aws: Clients, context: Context
) -> None:
    manifest = log_group(API, retentionDays=60)
    plan = plan_for(aws, context, manifest)
    make_group(aws, API, days=3)  # made by hand meanwhile, untagged

    apply_each(ENGINE, aws, context, plan)

    assert aws_tags(aws, API) == {OWNER_TAG: "dev"}
    assert (aws_group(aws, API) or {})["retentionInDays"] == 60


# --- never deleted ------------------------------------------------------------------------------


def test_prune_never_deletes_an_owned_log_group(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_group(aws, API, days=30, owner="dev")
    make_group(aws, "/aws/lambda/old", days=30, owner="dev")  # owned, no longer declared

    plan = plan_for(aws, context, log_group(API, retentionDays=30), prune=True)

    assert [(c.name, c.action) for c in plan.changes] == [(API, Action.NOOP)]
    assert ENGINE.owned(aws, context) == {}
    assert "DeleteLogGroup" not in logs_calls(calls)


def test_a_delete_change_is_refused_before_anything_is_read(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_group(aws, API, owner="dev")
    change = Change(kind="LogGroup", name=API, action=Action.DELETE)
    calls.clear()

    with pytest.raises(PermanentError, match="only creates and updates log groups"):
        ENGINE.apply(aws, change, context)
    assert calls.calls == []
    assert aws_group(aws, API) is not None


# --- batches and idempotence --------------------------------------------------------------------


def test_120_groups_are_read_in_three_describe_calls_and_one_tag_read_each(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    names = [f"/aws/lambda/fn-{i:03}" for i in range(120)]
    for name in names:
        make_group(aws, name, days=30, owner="dev")
    for other in range(30):  # under the same prefix, not declared: never read
        make_group(aws, f"/aws/lambda/other-{other:02}")
    manifests = [log_group(name, retentionDays=30) for name in names]
    sent = record_params(aws)
    calls.clear()

    found = ENGINE.observe(aws, manifests, context)

    assert sorted(found) == names
    assert all(observed.tags == {OWNER_TAG: "dev"} for observed in found.values())
    assert logs_calls(calls).count("DescribeLogGroups") == 3
    assert logs_calls(calls).count("ListTagsForResource") == 120
    described = [params for op, params in sent if op == "DescribeLogGroups"]
    assert sorted(len(params["logGroupIdentifiers"]) for params in described) == [20, 50, 50]
    tagged = {params["resourceArn"] for op, params in sent if op == "ListTagsForResource"}
    assert tagged == {ARN + name for name in names}


def test_second_apply_makes_no_writes(aws: Clients, context: Context, calls: CallLog) -> None:
    make_group(aws, "/a", days=14, owner="dev")
    make_group(aws, "/b", days=14)
    make_group(aws, "/c", days=14, owner="dev")
    manifests = [
        log_group("/a", retentionDays=30),
        log_group("/b", retentionDays=14),
        log_group("/c", retentionDays=None),
        log_group("/d", retentionDays=90),
    ]
    first = plan_for(aws, context, *manifests)
    assert first.summary.model_dump() == {
        "create": 1,
        "update": 3,
        "delete": 0,
        "noop": 0,
        "blocked": 0,
    }
    apply_each(ENGINE, aws, context, first)
    calls.clear()

    second = plan_for(aws, context, *manifests)
    apply_each(ENGINE, aws, context, second)

    assert second.in_sync
    assert calls.writes == []


def test_a_missing_group_declaring_nothing_is_created_tagged(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    manifest = log_group(API)
    plan = plan_for(aws, context, manifest)
    assert [c.action for c in plan.changes] == [Action.CREATE]

    apply_each(ENGINE, aws, context, plan)

    assert aws_tags(aws, API) == {OWNER_TAG: "dev"}
    assert "PutRetentionPolicy" not in logs_calls(calls)
    assert plan_for(aws, context, manifest).in_sync
