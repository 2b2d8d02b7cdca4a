"""The DatabaseInstance engine against the emulator: batched reads, pending modifications as AWS
reports them, scheduled and immediate changes, Aurora instances refused, ownership."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.emulator import behaviour
from reconciler.emulator.rds_instances import maintenance_window
from reconciler.errors import PermanentError
from reconciler.kinds.database_instance.engine import ENGINE
from reconciler.kinds.database_instance.model import DatabaseInstance
from reconciler.plan import OWNER_TAG, Action, Diff, Plan
from tests.builders import apply_each, document_of, plan_with

instance_manifest = document_of(DatabaseInstance)


def make_instance(
    aws: Clients,
    name: str,
    *,
    klass: str = "db.t4g.micro",
    multi_az: bool = False,
    retention: int = 7,
    protection: bool = False,
    owner: str | None = None,
) -> None:
    tags = [{"Key": "team", "Value": "data"}]
    if owner is not None:
        tags.append({"Key": OWNER_TAG, "Value": owner})
    aws.rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass=klass,
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="password-1234",
        MultiAZ=multi_az,
        BackupRetentionPeriod=retention,
        DeletionProtection=protection,
        Tags=tags,
    )


def aws_instance(aws: Clients, name: str) -> dict[str, Any]:
    found: dict[str, Any] = dict(
        aws.rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    )
    return found


def settings(aws: Clients, name: str) -> tuple[Any, ...]:
    instance = aws_instance(aws, name)
    return (
        instance["DBInstanceClass"],
        instance["MultiAZ"],
        instance["BackupRetentionPeriod"],
        instance["DeletionProtection"],
        instance.get("PendingModifiedValues", {}),
    )


def plan_for(aws: Clients, context: Context, *manifests: DatabaseInstance) -> Plan:
    return plan_with(ENGINE, aws, context, *manifests)


def sent(aws: Clients, operation: str) -> list[dict[str, Any]]:
    """The parameters of every later `operation` call made through `aws.rds`."""
    seen: list[dict[str, Any]] = []
    aws.rds.meta.events.register(
        f"provide-client-params.rds.{operation}",
        lambda params, **_: seen.append(dict(params)),
    )
    return seen


FULL_SPEC = {
    "instanceClass": "db.r6g.large",
    "multiAz": True,
    "backupRetentionDays": 14,
    "deletionProtection": True,
}


# --- observing ----------------------------------------------------------------------------------


def test_an_instance_as_created_matches_a_manifest_of_its_settings(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders", owner="dev")
    manifest = instance_manifest(
        "orders",
        instanceClass="db.t4g.micro",
        multiAz=False,
        backupRetentionDays=7,
        deletionProtection=False,
    )

    observed = ENGINE.observe(aws, [manifest], context)["orders"]

    assert observed.fields == {
        "instanceClass": "db.t4g.micro",
        "multiAz": False,
        "backupRetentionDays": 7,
        "deletionProtection": False,
    }
    assert ENGINE.diff(manifest, observed) == []
    (change,) = plan_for(aws, context, manifest).changes
    assert (change.action, change.reason) == (Action.NOOP, None)


def test_apply_immediately_is_not_compared_and_defaults_to_false(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders", owner="dev")
    manifest = instance_manifest("orders", multiAz=False)

    assert ENGINE.desired(manifest) == {"multiAz": False, "applyImmediately": False}
    assert plan_for(aws, context, manifest).in_sync
    assert plan_for(aws, context, instance_manifest("orders", applyImmediately=True)).in_sync


@pytest.mark.parametrize(
    ("field", "value", "actual"),
    [
        ("instanceClass", "db.m5d.24xlarge", "db.r6g.large"),
        ("multiAz", False, True),
        ("backupRetentionDays", 0, 14),
        ("deletionProtection", False, True),
    ],
)
def test_each_field_drift_is_one_diff(
    aws: Clients, context: Context, field: str, value: Any, actual: Any
) -> None:
    make_instance(aws, "orders", klass="db.r6g.large", multi_az=True, retention=14, protection=True)
    manifest = instance_manifest("orders", **{**FULL_SPEC, field: value})

    observed = ENGINE.observe(aws, [manifest], context)["orders"]

    assert ENGINE.diff(manifest, observed) == [Diff(field=field, desired=value, actual=actual)]


def test_identifiers_match_case_insensitively(aws: Clients, context: Context) -> None:
    make_instance(aws, "Orders-DB", owner="dev")
    manifest = instance_manifest("Orders-DB", instanceClass="db.t4g.micro")

    assert list(ENGINE.observe(aws, [manifest], context)) == ["Orders-DB"]
    assert plan_for(aws, context, manifest).in_sync


def test_a_missing_instance_is_blocked_never_created(aws: Clients, context: Context) -> None:
    make_instance(aws, "present")
    manifests = [
        instance_manifest("present", multiAz=False),
        instance_manifest("gone", multiAz=False),
    ]

    assert list(ENGINE.observe(aws, manifests, context)) == ["present"]
    change = plan_for(aws, context, *manifests).changes[1]
    assert (change.name, change.action) == ("gone", Action.BLOCKED)
    assert "never creates DB instances" in (change.reason or "")


def test_observe_reads_101_instances_in_two_filtered_calls(aws: Clients, context: Context) -> None:
    names = [f"db-{i:03}" for i in range(101)]
    for name in names:
        make_instance(aws, name)
    manifests = [instance_manifest(name, multiAz=False) for name in names]
    describes = sent(aws, "DescribeDBInstances")

    found = ENGINE.observe(aws, manifests, context)

    assert sorted(found) == names
    assert len(describes) == 2
    for call in describes:
        (only,) = call["Filters"]
        assert only["Name"] == "db-instance-id"
        assert len(only["Values"]) <= 100


def test_an_aurora_instance_is_blocked_with_the_reason(aws: Clients, context: Context) -> None:
    aws.rds.create_db_cluster(
        DBClusterIdentifier="shop",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="password-1234",
    )
    aws.rds.create_db_instance(
        DBInstanceIdentifier="shop-1",
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
        DBClusterIdentifier="shop",
    )
    manifest = instance_manifest("shop-1", deletionProtection=True)
    modifies = sent(aws, "ModifyDBInstance")

    (change,) = plan_for(aws, context, manifest).changes

    assert change.action is Action.BLOCKED
    assert "Aurora" in (change.reason or "")
    assert "AuroraServerlessCluster" in (change.reason or "")
    forced = change.model_copy(update={"action": Action.UPDATE, "desired": {"multiAz": True}})
    with pytest.raises(PermanentError, match="Aurora"):
        ENGINE.apply(aws, forced, context)
    assert modifies == []


# --- scheduled changes (applyImmediately false) -------------------------------------------------


def test_a_scheduled_change_goes_to_pending_and_the_plan_says_so(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders", owner="dev")
    manifest = instance_manifest("orders", instanceClass="db.r6g.large", multiAz=True)
    modifies = sent(aws, "ModifyDBInstance")

    (change,) = plan_for(aws, context, manifest).writes
    assert "scheduled for the next maintenance window" in (change.reason or "")
    assert "instanceClass, multiAz" in (change.reason or "")
    apply_each(ENGINE, aws, context, plan_for(aws, context, manifest))

    assert modifies == [
        {
            "DBInstanceIdentifier": "orders",
            "DBInstanceClass": "db.r6g.large",
            "MultiAZ": True,
            "ApplyImmediately": False,
        }
    ]
    assert settings(aws, "orders") == (
        "db.t4g.micro",
        False,
        7,
        False,
        {"DBInstanceClass": "db.r6g.large", "MultiAZ": True},
    )


def test_a_pending_modification_that_matches_is_in_sync_and_says_it_is_pending(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders", owner="dev")
    aws.rds.modify_db_instance(DBInstanceIdentifier="orders", DBInstanceClass="db.r6g.large")
    manifest = instance_manifest("orders", instanceClass="db.r6g.large")

    (change,) = plan_for(aws, context, manifest).changes

    assert change.action is Action.NOOP
    assert "pending modification" in (change.reason or "")
    assert "instanceClass db.r6g.large" in (change.reason or "")
    maintenance_window("orders")
    (after,) = plan_for(aws, context, manifest).changes
    assert (after.action, after.reason) == (Action.NOOP, None)


def test_a_pending_modification_that_differs_is_drift_and_apply_sends_the_manifest(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders", owner="dev")
    aws.rds.modify_db_instance(DBInstanceIdentifier="orders", DBInstanceClass="db.r6g.xlarge")
    manifest = instance_manifest("orders", instanceClass="db.t4g.micro")
    modifies = sent(aws, "ModifyDBInstance")

    (change,) = plan_for(aws, context, manifest).writes
    assert change.diffs == (
        Diff(field="instanceClass", desired="db.t4g.micro", actual="db.r6g.xlarge"),
    )
    apply_each(ENGINE, aws, context, plan_for(aws, context, manifest))

    assert [call["DBInstanceClass"] for call in modifies] == ["db.t4g.micro"]
    assert plan_for(aws, context, manifest).in_sync
    maintenance_window("orders")
    assert aws_instance(aws, "orders")["DBInstanceClass"] == "db.t4g.micro"


def test_a_scheduled_change_does_not_wait(aws: Clients, context: Context, calls: Any) -> None:
    make_instance(aws, "orders", owner="dev")
    slept: list[float] = []
    engine = replace(ENGINE, sleep=slept.append)
    manifest = instance_manifest("orders", instanceClass="db.r6g.large")
    (change,) = plan_for(aws, context, manifest).writes
    calls.clear()

    engine.apply(aws, change, context)

    assert calls.calls == [("rds", "DescribeDBInstances"), ("rds", "ModifyDBInstance")]
    assert slept == []


def test_deletion_protection_is_applied_at_once_and_the_plan_says_so(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders", owner="dev")
    manifest = instance_manifest("orders", deletionProtection=True, instanceClass="db.m5.large")

    (change,) = plan_for(aws, context, manifest).writes
    assert "deletionProtection applied at once" in (change.reason or "")
    apply_each(ENGINE, aws, context, plan_for(aws, context, manifest))

    assert settings(aws, "orders") == (
        "db.t4g.micro",
        False,
        7,
        True,
        {"DBInstanceClass": "db.m5.large"},
    )
    assert plan_for(aws, context, manifest).in_sync


@pytest.mark.parametrize(
    ("start", "wanted", "pending"),
    [(7, 14, {}), (7, 0, {"BackupRetentionPeriod": 0}), (0, 3, {"BackupRetentionPeriod": 3})],
)
def test_backup_retention_waits_for_the_window_only_when_turning_backups_on_or_off(
    aws: Clients, context: Context, start: int, wanted: int, pending: dict[str, int]
) -> None:
    make_instance(aws, "orders", retention=start, owner="dev")
    manifest = instance_manifest("orders", backupRetentionDays=wanted)

    (change,) = plan_for(aws, context, manifest).writes
    scheduled = "scheduled for the next maintenance window" in (change.reason or "")
    apply_each(ENGINE, aws, context, plan_for(aws, context, manifest))

    assert scheduled is bool(pending)
    assert settings(aws, "orders")[2:] == (wanted if not pending else start, False, pending)
    assert plan_for(aws, context, manifest).in_sync


# --- immediate changes (applyImmediately true) --------------------------------------------------


def test_an_immediate_change_waits_while_the_instance_is_modifying(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders", owner="dev")
    slept: list[float] = []
    engine = replace(ENGINE, sleep=slept.append)
    manifest = instance_manifest("orders", instanceClass="db.r6g.large", applyImmediately=True)
    modifies = sent(aws, "ModifyDBInstance")
    (change,) = plan_for(aws, context, manifest).writes

    with behaviour(rds_instance_modify_reads=3):
        engine.apply(aws, change, context)

    assert [call["ApplyImmediately"] for call in modifies] == [True]
    assert len(slept) == 3  # three reads saw `modifying`, the fourth `available`
    assert settings(aws, "orders") == ("db.r6g.large", False, 7, False, {})
    assert plan_for(aws, context, manifest).in_sync


def test_immediately_a_matching_pending_value_is_still_drift_until_applied(
    aws: Clients, context: Context
) -> None:
    """With applyImmediately the manifest wants the value now: one waiting for the window is
    drift, and applying it applies it at once."""
    make_instance(aws, "orders", owner="dev")
    aws.rds.modify_db_instance(DBInstanceIdentifier="orders", DBInstanceClass="db.r6g.large")
    manifest = instance_manifest("orders", instanceClass="db.r6g.large", applyImmediately=True)

    (change,) = plan_for(aws, context, manifest).writes
    assert change.diffs == (
        Diff(field="instanceClass", desired="db.r6g.large", actual="db.t4g.micro"),
    )
    apply_each(ENGINE, aws, context, plan_for(aws, context, manifest))

    assert settings(aws, "orders") == ("db.r6g.large", False, 7, False, {})
    assert plan_for(aws, context, manifest).in_sync


def test_immediately_says_that_other_pending_modifications_go_too(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders", owner="dev")
    aws.rds.modify_db_instance(DBInstanceIdentifier="orders", MultiAZ=True)
    manifest = instance_manifest("orders", instanceClass="db.r6g.large", applyImmediately=True)

    (change,) = plan_for(aws, context, manifest).writes

    assert "also applies the modifications already pending" in (change.reason or "")
    assert "MultiAZ" in (change.reason or "")


def test_a_write_waits_for_an_instance_someone_else_is_modifying(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders", owner="dev")
    manifest = instance_manifest("orders", deletionProtection=True, applyImmediately=True)
    (change,) = plan_for(aws, context, manifest).writes
    slept: list[float] = []
    engine = replace(ENGINE, sleep=slept.append)

    with behaviour(rds_instance_modify_reads=2):
        aws.rds.modify_db_instance(
            DBInstanceIdentifier="orders", MultiAZ=True, ApplyImmediately=True
        )
        engine.apply(aws, change, context)

    assert slept  # it waited instead of failing with InvalidDBInstanceState
    assert settings(aws, "orders") == ("db.t4g.micro", True, 7, True, {})


# --- ownership and idempotence ------------------------------------------------------------------


def test_apply_converges_and_adds_the_owner_tag(aws: Clients, context: Context) -> None:
    make_instance(aws, "orders")
    manifest = instance_manifest("orders", **FULL_SPEC, applyImmediately=True)
    plan = plan_for(aws, context, manifest)
    (change,) = plan.writes
    assert {diff.field for diff in change.diffs} == {*FULL_SPEC, f"tags.{OWNER_TAG}"}

    apply_each(ENGINE, aws, context, plan)

    assert plan_for(aws, context, manifest).in_sync
    tags = aws_instance(aws, "orders")["TagList"]
    assert {"Key": OWNER_TAG, "Value": "dev"} in tags
    assert {"Key": "team", "Value": "data"} in tags


def test_a_tag_only_change_adds_the_tag_without_modifying(aws: Clients, context: Context) -> None:
    make_instance(aws, "orders")
    manifest = instance_manifest("orders", instanceClass="db.t4g.micro")
    modifies, tags = sent(aws, "ModifyDBInstance"), sent(aws, "AddTagsToResource")

    (change,) = plan_for(aws, context, manifest).writes
    assert change.diffs == (Diff(field=f"tags.{OWNER_TAG}", desired="dev", actual=None),)
    ENGINE.apply(aws, change, context)

    assert modifies == []
    assert [call["ResourceName"] for call in tags] == [aws_instance(aws, "orders")["DBInstanceArn"]]


def test_applying_a_change_twice_writes_once(aws: Clients, context: Context) -> None:
    make_instance(aws, "orders")
    manifest = instance_manifest("orders", instanceClass="db.r6g.large", deletionProtection=True)
    (change,) = plan_for(aws, context, manifest).writes
    modifies, tags = sent(aws, "ModifyDBInstance"), sent(aws, "AddTagsToResource")

    ENGINE.apply(aws, change, context)
    ENGINE.apply(aws, change, context)  # a retry after a lost response

    assert (len(modifies), len(tags)) == (1, 1)


def test_an_instance_owned_by_another_environment_is_blocked(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders", owner="prod")

    (change,) = plan_for(aws, context, instance_manifest("orders", multiAz=True)).changes

    assert change.action is Action.BLOCKED
    assert "prod" in (change.reason or "")


def test_apply_refuses_an_instance_that_became_owned_elsewhere(
    aws: Clients, context: Context
) -> None:
    make_instance(aws, "orders")
    (change,) = plan_for(aws, context, instance_manifest("orders", multiAz=True)).writes
    arn = aws_instance(aws, "orders")["DBInstanceArn"]
    aws.rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": OWNER_TAG, "Value": "prod"}])

    with pytest.raises(PermanentError, match="owned by environment 'prod'"):
        ENGINE.apply(aws, change, context)
    assert settings(aws, "orders")[4] == {}


def test_observe_follows_the_pages_of_a_batch(
    aws: Clients, context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS answers at most `MaxRecords` instances a page, with a `Marker` for the rest."""
    from reconciler.kinds.database_instance import engine

    monkeypatch.setattr(engine, "BATCH", 20)  # AWS's smallest page; batches of 20 names too
    names = [f"db-{i:02}" for i in range(30)]
    for name in names:
        make_instance(aws, name)
    describes = sent(aws, "DescribeDBInstances")

    rds: Any = aws.rds
    found = [i["DBInstanceIdentifier"] for i in engine._describe(rds, names)]

    assert sorted(found) == names
    assert [call.get("MaxRecords") for call in describes] == [20, 20]
    assert "Marker" in describes[1]


def test_a_modify_refused_because_the_instance_became_busy_is_sent_again(
    aws: Clients, context: Context
) -> None:
    """Read `available`, then someone else's immediate change starts: AWS refuses the modify
    with InvalidDBInstanceState, and it is sent again once the instance is available."""
    make_instance(aws, "orders", owner="dev")
    slept: list[float] = []
    engine = replace(ENGINE, sleep=slept.append)
    stale = engine.read_one(aws, "orders", context)
    assert stale is not None
    desired = engine.desired(instance_manifest("orders", deletionProtection=True))
    modifies = sent(aws, "ModifyDBInstance")

    with behaviour(rds_instance_modify_reads=2):
        aws.rds.modify_db_instance(
            DBInstanceIdentifier="orders", MultiAZ=True, ApplyImmediately=True
        )
        assert engine.update(aws, stale, desired, context) is True  # protection: applied now

    assert len(modifies) == 4  # someone's, then ours refused twice and accepted
    assert len(slept) == 2
    assert settings(aws, "orders") == ("db.t4g.micro", True, 7, True, {})


def test_an_instance_that_fails_while_modifying_fails_the_change_with_its_status(
    aws: Clients, context: Context
) -> None:
    from moto.rds.models import rds_backends

    make_instance(aws, "orders", owner="dev")

    def breaks(_: float) -> None:  # while apply waits, AWS gives up on the instance
        rds_backends[context.account][context.region].databases[
            "orders"
        ].status = "incompatible-parameters"

    engine = replace(ENGINE, sleep=breaks)
    manifest = instance_manifest("orders", instanceClass="db.r6g.large", applyImmediately=True)
    (change,) = plan_for(aws, context, manifest).writes

    with (
        behaviour(rds_instance_modify_reads=3),
        pytest.raises(PermanentError, match="incompatible-parameters"),
    ):
        engine.apply(aws, change, context)
