"""The DynamoDBTable engine against the emulator: observe, diff, apply, waiting and AWS's limits.

AWS facts relied on (botocore ``dynamodb/2012-08-10``; the DynamoDB developer guide): a table is
`UPDATING` after `UpdateTable` and refuses another meanwhile; TTL changes once per table an hour
and on one attribute at a time; four switches to on-demand per table in a rolling 24 hours; an
on-demand table reports zero capacities.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from call_log import CallLog

from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.emulator import behaviour, dynamodb
from reconciler.errors import PermanentError
from reconciler.kinds.dynamodb_table.engine import ENGINE
from reconciler.kinds.dynamodb_table.model import DynamoDBTable
from reconciler.pipeline import apply
from reconciler.plan import OWNER_TAG, Action, Diff, Plan
from tests.builders import document_of, plan_with

table_manifest = document_of(DynamoDBTable)
NOW = datetime(2026, 12, 3, 18, 30, 10, tzinfo=UTC)
#: The engine with a fixed clock and no real sleeping (the sleeps are recorded).
SLEPT: list[float] = []
FIXED = replace(ENGINE, now=lambda: NOW, sleep=SLEPT.append, poll_seconds=0.01)

FULL_SPEC: dict[str, Any] = {
    "pointInTimeRecovery": True,
    "deletionProtection": True,
    "ttlAttribute": "expiresAt",
    "billingMode": "PROVISIONED",
    "readCapacity": 5,
    "writeCapacity": 3,
}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The emulator's clock for AWS's hour and 24-hour windows, moved by the test."""
    moment = [NOW.timestamp()]
    monkeypatch.setattr(dynamodb, "clock", lambda: moment[0])
    return moment


def ddb(aws: Clients) -> Any:
    return aws.service("dynamodb")


def make_table(
    aws: Clients,
    name: str,
    *,
    capacity: tuple[int, int] | None = None,
    recovery: bool = False,
    protection: bool = False,
    ttl: str | None = None,
    owner: str | None = None,
    tags: int = 1,
    indexes: bool = False,
) -> None:
    """A table as AWS makes it (on-demand unless `capacity`), settled: ACTIVE, TTL ENABLED."""
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "DeletionProtectionEnabled": protection,
        "Tags": [{"Key": f"team{i}" if i else "team", "Value": "data"} for i in range(tags)],
    }
    if capacity is None:
        params["BillingMode"] = "PAY_PER_REQUEST"
    else:
        params["ProvisionedThroughput"] = {
            "ReadCapacityUnits": capacity[0],
            "WriteCapacityUnits": capacity[1],
        }
    if owner is not None:
        params["Tags"].append({"Key": OWNER_TAG, "Value": owner})
    if indexes:
        params["AttributeDefinitions"].append({"AttributeName": "email", "AttributeType": "S"})
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by-email",
                "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ]
    ddb(aws).create_table(**params)
    if recovery:
        ddb(aws).update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    if ttl is not None:
        with behaviour(dynamodb_ttl_rules=False):  # set up long ago: not counted
            set_ttl(aws, name, ttl, True)
        settle_ttl(aws, name)


def set_ttl(aws: Clients, name: str, attribute: str, enabled: bool) -> None:
    ddb(aws).update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": attribute, "Enabled": enabled}
    )


def settle_ttl(aws: Clients, name: str) -> dict[str, Any]:
    ddb(aws).describe_time_to_live(TableName=name)
    ttl: dict[str, Any] = ddb(aws).describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    return ttl


def plan_for(aws: Clients, context: Context, *manifests: DynamoDBTable) -> Plan:
    return plan_with(FIXED, aws, context, *manifests)


def params_of(aws: Clients, operation: str) -> list[dict[str, Any]]:
    """The parameters of every later `operation` call made through the DynamoDB client."""
    seen: list[dict[str, Any]] = []
    ddb(aws).meta.events.register(
        f"provide-client-params.dynamodb.{operation}",
        lambda params, **_: seen.append(dict(params)),
    )
    return seen


def observed(aws: Clients, context: Context, manifest: DynamoDBTable) -> dict[str, Any]:
    return dict(FIXED.observe(aws, [manifest], context)[manifest.name].fields)


# --- observe and diff ---------------------------------------------------------------------------


def test_a_table_set_as_declared_shows_no_diff(aws: Clients, context: Context) -> None:
    make_table(
        aws, "orders", capacity=(5, 3), recovery=True, protection=True, ttl="expiresAt", owner="dev"
    )
    manifest = table_manifest("orders", **FULL_SPEC)

    assert observed(aws, context, manifest) == FULL_SPEC
    assert plan_for(aws, context, manifest).in_sync


def test_an_on_demand_tables_zero_capacities_are_never_drift(
    aws: Clients, context: Context
) -> None:
    make_table(aws, "events", owner="dev")
    manifest = table_manifest(
        "events", billingMode="PAY_PER_REQUEST", pointInTimeRecovery=False, ttlAttribute=None
    )

    fields = observed(aws, context, manifest)

    assert (fields["readCapacity"], fields["writeCapacity"]) == (None, None)
    assert plan_for(aws, context, manifest).in_sync


def test_fields_the_manifest_leaves_out_are_not_compared(aws: Clients, context: Context) -> None:
    make_table(aws, "orders", capacity=(5, 3), protection=True, ttl="expiresAt", owner="dev")

    assert plan_for(aws, context, table_manifest("orders", pointInTimeRecovery=False)).in_sync


@pytest.mark.parametrize(
    ("field", "value", "actual"),
    [
        ("pointInTimeRecovery", False, True),
        ("deletionProtection", False, True),
        ("ttlAttribute", "ttl", "expiresAt"),
        ("ttlAttribute", None, "expiresAt"),
        ("readCapacity", 10, 5),
        ("writeCapacity", 1, 3),
    ],
)
def test_each_field_drift_is_one_diff(
    aws: Clients, context: Context, field: str, value: Any, actual: Any
) -> None:
    make_table(
        aws, "orders", capacity=(5, 3), recovery=True, protection=True, ttl="expiresAt", owner="dev"
    )
    manifest = table_manifest("orders", **{**FULL_SPEC, field: value})

    (change,) = plan_for(aws, context, manifest).changes

    assert change.diffs == (Diff(field=field, desired=value, actual=actual),)


def test_a_switch_to_provisioned_shows_the_capacities_the_table_lacks(
    aws: Clients, context: Context
) -> None:
    make_table(aws, "events", owner="dev")
    manifest = table_manifest("events", billingMode="PROVISIONED", readCapacity=2, writeCapacity=2)

    (change,) = plan_for(aws, context, manifest).changes

    assert change.diffs == (
        Diff(field="billingMode", desired="PROVISIONED", actual="PAY_PER_REQUEST"),
        Diff(field="readCapacity", desired=2, actual=None),
        Diff(field="writeCapacity", desired=2, actual=None),
    )


def test_ttl_enabling_counts_as_enabled_and_is_not_written_again(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    """AWS takes up to an hour to enable TTL and refuses another change meanwhile: ENABLING on
    the declared attribute is in sync (DISABLING likewise counts as off)."""
    make_table(aws, "orders", owner="dev")
    with behaviour(dynamodb_ttl_reads=5):
        set_ttl(aws, "orders", "expiresAt", True)
        manifest = table_manifest("orders", ttlAttribute="expiresAt")
        ttl = ddb(aws).describe_time_to_live(TableName="orders")["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLING"

        assert plan_for(aws, context, manifest).in_sync
        off = table_manifest("orders", ttlAttribute=None)
        (change,) = plan_for(aws, context, off).changes
        assert change.diffs == (Diff(field="ttlAttribute", desired=None, actual="expiresAt"),)


def test_ttl_disabling_counts_as_off(aws: Clients, context: Context, clock: list[float]) -> None:
    make_table(aws, "orders", owner="dev", ttl="expiresAt")
    clock[0] += 3600
    with behaviour(dynamodb_ttl_reads=5):
        set_ttl(aws, "orders", "expiresAt", False)

        assert plan_for(aws, context, table_manifest("orders", ttlAttribute=None)).in_sync


def test_missing_table_is_absent_and_blocked(aws: Clients, context: Context) -> None:
    make_table(aws, "present")
    manifests = [
        table_manifest("present", pointInTimeRecovery=True),
        table_manifest("gone", pointInTimeRecovery=True),
    ]

    assert list(FIXED.observe(aws, manifests, context)) == ["present"]
    change = plan_for(aws, context, *manifests).changes[1]
    assert (change.name, change.action) == ("gone", Action.BLOCKED)


def test_each_table_costs_four_reads_and_a_missing_one_only_its_describe(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    names = [f"t-{i:02}" for i in range(12)]
    for name in names:
        make_table(aws, name)
    calls.clear()

    found = FIXED.observe(
        aws, [table_manifest(n, pointInTimeRecovery=False) for n in [*names, "gone"]], context
    )

    assert sorted(found) == names
    assert sorted(set(calls.calls)) == [
        ("dynamodb", "DescribeContinuousBackups"),
        ("dynamodb", "DescribeTable"),
        ("dynamodb", "DescribeTimeToLive"),
        ("dynamodb", "ListTagsOfResource"),
    ]
    assert len(calls.calls) == 4 * len(names) + 1


def test_tags_are_read_across_pages(aws: Clients, context: Context) -> None:
    """ListTagsOfResource pages with NextToken (moto: 10 a page); the owner tag is last."""
    make_table(aws, "orders", tags=14, owner="prod")
    manifest = table_manifest("orders", pointInTimeRecovery=False)

    tags = FIXED.observe(aws, [manifest], context)["orders"].tags

    assert len(tags) == 15
    assert tags[OWNER_TAG] == "prod"
    assert plan_for(aws, context, manifest).changes[0].action is Action.BLOCKED


# --- apply --------------------------------------------------------------------------------------


def test_apply_converges_every_field_and_adds_the_owner_tag(aws: Clients, context: Context) -> None:
    make_table(aws, "orders")
    manifest = table_manifest("orders", **FULL_SPEC)
    (change,) = plan_for(aws, context, manifest).writes
    assert {diff.field for diff in change.diffs} == {*FULL_SPEC, f"tags.{OWNER_TAG}"}

    FIXED.apply(aws, change, context)

    assert plan_for(aws, context, manifest).in_sync
    tags = FIXED.observe(aws, [manifest], context)["orders"].tags
    assert tags == {"team": "data", OWNER_TAG: "dev"}


def test_each_setting_gets_its_own_call_and_update_table_waits_for_active(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    """The table is UPDATING after each UpdateTable and refuses another meanwhile: the engine
    reads it until ACTIVE in between, so no UpdateTable is ever refused (none is sent twice)."""
    make_table(aws, "orders", owner="dev")
    manifest = table_manifest(
        "orders",
        billingMode="PROVISIONED",
        readCapacity=4,
        writeCapacity=2,
        deletionProtection=True,
        pointInTimeRecovery=True,
    )
    updates = params_of(aws, "UpdateTable")
    (change,) = plan_for(aws, context, manifest).writes
    calls.clear()

    with behaviour(dynamodb_update_reads=2):
        FIXED.apply(aws, change, context)

    assert updates == [
        {
            "TableName": "orders",
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 4, "WriteCapacityUnits": 2},
        },
        {"TableName": "orders", "DeletionProtectionEnabled": True},
    ]
    writes = [op for _, op in calls.writes]
    assert writes == ["UpdateTable", "UpdateTable", "UpdateContinuousBackups"]
    first = calls.calls.index(("dynamodb", "UpdateTable"))
    second = calls.calls.index(("dynamodb", "UpdateTable"), first + 1)
    between = calls.calls[first + 1 : second]
    assert between.count(("dynamodb", "DescribeTable")) == 3  # UPDATING twice, then ACTIVE
    assert plan_for(aws, context, manifest).in_sync


def test_capacities_alone_change_with_provisioned_throughput_only(
    aws: Clients, context: Context
) -> None:
    make_table(aws, "orders", capacity=(5, 3), owner="dev")
    manifest = table_manifest("orders", billingMode="PROVISIONED", readCapacity=5, writeCapacity=9)
    updates = params_of(aws, "UpdateTable")

    (change,) = plan_for(aws, context, manifest).writes
    FIXED.apply(aws, change, context)

    assert updates == [
        {
            "TableName": "orders",
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 9},
        }
    ]


def test_a_busy_table_is_waited_for_before_the_write(aws: Clients, context: Context) -> None:
    make_table(aws, "orders", owner="dev")
    manifest = table_manifest("orders", deletionProtection=True)
    (change,) = plan_for(aws, context, manifest).writes
    with behaviour(dynamodb_update_reads=3):
        ddb(aws).update_table(TableName="orders", DeletionProtectionEnabled=False)  # someone else

        FIXED.apply(aws, change, context)

    assert plan_for(aws, context, manifest).in_sync


def test_applying_a_change_twice_writes_once(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_table(aws, "orders")
    manifest = table_manifest("orders", **FULL_SPEC)
    (change,) = plan_for(aws, context, manifest).writes
    FIXED.apply(aws, change, context)
    calls.clear()

    FIXED.apply(aws, change, context)  # a retry after a lost response

    assert calls.writes == []


def test_ttl_null_turns_ttl_off(aws: Clients, context: Context, clock: list[float]) -> None:
    make_table(aws, "orders", ttl="expiresAt", owner="dev")
    manifest = table_manifest("orders", ttlAttribute=None)

    (change,) = plan_for(aws, context, manifest).writes
    FIXED.apply(aws, change, context)

    assert settle_ttl(aws, "orders") == {"TimeToLiveStatus": "DISABLED"}


# --- AWS's limits: failed changes that say when to try again ------------------------------------


def test_a_ttl_change_within_the_hour_is_a_failed_change_saying_when_to_retry(
    aws: Clients, context: Context, clock: list[float]
) -> None:
    make_table(aws, "orders", owner="dev")
    set_ttl(aws, "orders", "expiresAt", True)  # someone else, a minute ago
    settle_ttl(aws, "orders")
    manifest = table_manifest("orders", ttlAttribute=None)
    plan = plan_for(aws, context, manifest)
    ttl_calls = params_of(aws, "UpdateTimeToLive")

    (result,) = apply(aws, plan, context, {"DynamoDBTable": FIXED})

    assert len(ttl_calls) == 1  # refused once, not retried
    assert not result.succeeded
    assert result.error is not None
    assert "AWS refused to disable TTL on 'expiresAt'" in result.error
    assert "modified multiple times within a fixed interval" in result.error
    assert "one TTL change per table an hour: apply again after 2026-12-03 19:31 UTC" in (
        result.error
    )


def test_moving_ttl_to_another_attribute_turns_it_off_then_fails_for_the_hour(
    aws: Clients, context: Context, clock: list[float]
) -> None:
    """AWS enables TTL on one attribute at a time, and changes it once an hour: the move turns
    TTL off, the enable is refused, and the failed change says so; an apply an hour later ends
    the move."""
    make_table(aws, "orders", ttl="expiresAt", owner="dev")
    manifest = table_manifest("orders", ttlAttribute="ttl")
    (change,) = plan_for(aws, context, manifest).writes
    ttl_calls = params_of(aws, "UpdateTimeToLive")

    with pytest.raises(PermanentError) as refused:
        FIXED.apply(aws, change, context)

    message = str(refused.value)
    assert "TTL was turned off on 'expiresAt' to move it to 'ttl'" in message
    assert "AWS refused to enable TTL on 'ttl'" in message
    assert "apply again after 2026-12-03 19:31 UTC; TTL stays off until then" in message
    assert [c["TimeToLiveSpecification"] for c in ttl_calls] == [
        {"AttributeName": "expiresAt", "Enabled": False},
        {"AttributeName": "ttl", "Enabled": True},
    ]
    (again,) = plan_for(aws, context, manifest).writes
    assert again.diffs == (Diff(field="ttlAttribute", desired="ttl", actual=None),)

    clock[0] += 3600
    FIXED.apply(aws, again, context)
    settle_ttl(aws, "orders")
    assert plan_for(aws, context, manifest).in_sync


def test_a_fifth_switch_to_on_demand_in_24_hours_fails_saying_why_and_when(
    aws: Clients, context: Context, clock: list[float]
) -> None:
    make_table(aws, "orders", capacity=(1, 1), owner="dev")
    table = ddb(aws)
    for _ in range(4):
        table.update_table(TableName="orders", BillingMode="PAY_PER_REQUEST")
        table.describe_table(TableName="orders")
        table.update_table(
            TableName="orders",
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        )
        table.describe_table(TableName="orders")
        clock[0] += 600
    # The last switch was at 19:00:10; 24 hours later, rounded up to the minute.
    manifest = table_manifest("orders", billingMode="PAY_PER_REQUEST")

    (result,) = apply(aws, plan_for(aws, context, manifest), context, {"DynamoDBTable": FIXED})

    assert not result.succeeded
    assert result.error is not None
    assert "AWS refused the switch to PAY_PER_REQUEST" in result.error
    assert "LimitExceededException" in result.error
    assert "4 times in a rolling 24 hours" in result.error
    assert "apply again after 2026-12-04 19:01 UTC at the latest" in result.error


def test_a_table_with_global_indexes_is_not_switched_to_provisioned(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_table(aws, "orders", owner="dev", indexes=True)
    manifest = table_manifest("orders", billingMode="PROVISIONED", readCapacity=1, writeCapacity=1)
    (change,) = plan_for(aws, context, manifest).writes
    calls.clear()

    with pytest.raises(PermanentError, match=r"global secondary indexes \(by-email\)"):
        FIXED.apply(aws, change, context)
    assert calls.writes == []


# --- ownership ----------------------------------------------------------------------------------


def test_a_table_owned_by_another_environment_is_blocked(aws: Clients, context: Context) -> None:
    make_table(aws, "orders", owner="prod")
    (change,) = plan_for(aws, context, table_manifest("orders", deletionProtection=True)).changes

    assert change.action is Action.BLOCKED
    assert "prod" in (change.reason or "")


def test_apply_refuses_a_table_that_became_owned_elsewhere(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_table(aws, "orders")
    (change,) = plan_for(aws, context, table_manifest("orders", deletionProtection=True)).writes
    arn = ddb(aws).describe_table(TableName="orders")["Table"]["TableArn"]
    ddb(aws).tag_resource(ResourceArn=arn, Tags=[{"Key": OWNER_TAG, "Value": "prod"}])
    calls.clear()

    with pytest.raises(PermanentError, match="owned by environment 'prod'"):
        FIXED.apply(aws, change, context)
    assert calls.writes == []
