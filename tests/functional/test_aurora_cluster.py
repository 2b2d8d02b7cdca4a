"""The AuroraServerlessCluster engine against moto: observe in batches, diff, apply, ownership."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.errors import PermanentError
from reconciler.kinds.aurora_cluster.engine import ENGINE
from reconciler.kinds.aurora_cluster.model import AuroraServerlessCluster
from reconciler.plan import OWNER_TAG, Action, Diff, Plan
from tests.builders import document_of, plan_with

cluster_manifest = document_of(AuroraServerlessCluster)


def make_cluster(
    aws: Clients,
    name: str,
    *,
    scaling: dict[str, Any] | None = None,
    retention: int = 1,
    protection: bool = False,
    owner: str | None = None,
) -> None:
    params: dict[str, Any] = {
        "DBClusterIdentifier": name,
        "Engine": "aurora-postgresql",
        "MasterUsername": "admin",
        "MasterUserPassword": "password123",
        "BackupRetentionPeriod": retention,
        "DeletionProtection": protection,
        "Tags": [{"Key": "team", "Value": "data"}],
    }
    if scaling is not None:
        params["ServerlessV2ScalingConfiguration"] = scaling
    if owner is not None:
        params["Tags"].append({"Key": OWNER_TAG, "Value": owner})
    aws.rds.create_db_cluster(**params)


def aws_cluster(aws: Clients, name: str) -> dict[str, Any]:
    cluster: dict[str, Any] = dict(
        aws.rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    )
    return cluster


def plan_for(aws: Clients, context: Context, *manifests: AuroraServerlessCluster) -> Plan:
    return plan_with(ENGINE, aws, context, *manifests)


def calls(aws: Clients, operation: str) -> list[dict[str, Any]]:
    """The parameters of every later `operation` call made through `aws.rds`."""
    seen: list[dict[str, Any]] = []
    aws.rds.meta.events.register(
        f"provide-client-params.rds.{operation}",
        lambda params, **_: seen.append(dict(params)),
    )
    return seen


FULL_SPEC = {
    "minCapacity": 0,
    "maxCapacity": 4,
    "secondsUntilAutoPause": 600,
    "backupRetentionDays": 7,
    "deletionProtection": True,
}
FULL_SCALING = {"MinCapacity": 0.0, "MaxCapacity": 4.0, "SecondsUntilAutoPause": 600}


def test_in_sync_cluster_shows_no_diff_for_any_field(aws: Clients, context: Context) -> None:
    make_cluster(aws, "orders", scaling=FULL_SCALING, retention=7, protection=True, owner="dev")
    # Integers in the manifest, floats from AWS: 0 == 0.0 and 4 == 4.0.
    manifest = cluster_manifest("orders", **FULL_SPEC)

    observed = ENGINE.observe(aws, [manifest], context)["orders"]

    assert observed.fields == {
        "minCapacity": 0.0,
        "maxCapacity": 4.0,
        "secondsUntilAutoPause": 600,
        "backupRetentionDays": 7,
        "deletionProtection": True,
    }
    assert ENGINE.diff(manifest, observed) == []
    assert plan_for(aws, context, manifest).in_sync


def test_fields_the_manifest_leaves_out_are_not_compared(aws: Clients, context: Context) -> None:
    make_cluster(
        aws,
        "orders",
        scaling={"MinCapacity": 2, "MaxCapacity": 8},
        retention=30,
        protection=True,
        owner="dev",
    )
    manifest = cluster_manifest("orders", maxCapacity=8.0)

    assert ENGINE.desired(manifest) == {"maxCapacity": 8.0}
    assert plan_for(aws, context, manifest).in_sync


@pytest.mark.parametrize(
    ("field", "value", "actual"),
    [
        ("minCapacity", 0.5, 0.0),
        ("maxCapacity", 16, 4.0),
        ("secondsUntilAutoPause", 3600, 600),
        ("backupRetentionDays", 14, 7),
        ("deletionProtection", False, True),
    ],
)
def test_each_field_drift_is_detected(
    aws: Clients, context: Context, field: str, value: Any, actual: Any
) -> None:
    make_cluster(aws, "orders", scaling=FULL_SCALING, retention=7, protection=True, owner="dev")
    spec = {**FULL_SPEC, field: value}
    if field == "minCapacity":
        del spec["secondsUntilAutoPause"]  # auto-pause needs a minimum of 0
    manifest = cluster_manifest("orders", **spec)

    observed = ENGINE.observe(aws, [manifest], context)["orders"]

    assert ENGINE.diff(manifest, observed) == [Diff(field=field, desired=value, actual=actual)]


def test_identifiers_match_case_insensitively(aws: Clients, context: Context) -> None:
    make_cluster(aws, "Orders-DB", scaling={"MinCapacity": 1, "MaxCapacity": 4}, owner="dev")
    manifest = cluster_manifest("Orders-DB", minCapacity=1, maxCapacity=4)

    found = ENGINE.observe(aws, [manifest], context)

    assert list(found) == ["Orders-DB"]
    assert plan_for(aws, context, manifest).in_sync


def test_missing_cluster_is_absent_and_blocked(aws: Clients, context: Context) -> None:
    make_cluster(aws, "present", scaling={"MinCapacity": 1, "MaxCapacity": 4})
    manifests = [
        cluster_manifest("present", maxCapacity=4),
        cluster_manifest("gone", maxCapacity=4),
    ]

    assert list(ENGINE.observe(aws, manifests, context)) == ["present"]
    change = plan_for(aws, context, *manifests).changes[1]
    assert (change.name, change.action) == ("gone", Action.BLOCKED)


def test_observe_reads_101_clusters_in_two_calls(aws: Clients, context: Context) -> None:
    names = [f"db-{i:03}" for i in range(101)]
    for name in names:
        make_cluster(aws, name, scaling={"MinCapacity": 1, "MaxCapacity": 2})
    manifests = [cluster_manifest(name, maxCapacity=2) for name in names]
    describes = calls(aws, "DescribeDBClusters")

    found = ENGINE.observe(aws, manifests, context)

    assert sorted(found) == names
    assert len(describes) == 2
    assert all(len(call["Filters"][0]["Values"]) <= 100 for call in describes)


def test_apply_converges_and_adds_the_owner_tag(aws: Clients, context: Context) -> None:
    make_cluster(aws, "orders", scaling={"MinCapacity": 2, "MaxCapacity": 2}, retention=1)
    manifest = cluster_manifest("orders", **FULL_SPEC)
    plan = plan_for(aws, context, manifest)
    (change,) = plan.writes
    assert {diff.field for diff in change.diffs} == {*FULL_SPEC, f"tags.{OWNER_TAG}"}

    ENGINE.apply(aws, change, context)

    assert plan_for(aws, context, manifest).in_sync
    cluster = aws_cluster(aws, "orders")
    assert {"Key": OWNER_TAG, "Value": "dev"} in cluster["TagList"]
    assert {"Key": "team", "Value": "data"} in cluster["TagList"]  # other tags are kept


def test_apply_sends_only_what_differs_with_both_bounds(aws: Clients, context: Context) -> None:
    make_cluster(
        aws, "orders", scaling={"MinCapacity": 2, "MaxCapacity": 4}, retention=7, owner="dev"
    )
    manifest = cluster_manifest("orders", maxCapacity=16, backupRetentionDays=7)
    modifies = calls(aws, "ModifyDBCluster")

    (change,) = plan_for(aws, context, manifest).writes
    ENGINE.apply(aws, change, context)

    assert modifies == [
        {
            "DBClusterIdentifier": "orders",
            "ApplyImmediately": True,
            "ServerlessV2ScalingConfiguration": {"MinCapacity": 2.0, "MaxCapacity": 16.0},
        }
    ]
    assert aws_cluster(aws, "orders")["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 2.0,
        "MaxCapacity": 16.0,
    }


def test_apply_keeps_the_undeclared_auto_pause(aws: Clients, context: Context) -> None:
    make_cluster(aws, "orders", scaling={**FULL_SCALING, "SecondsUntilAutoPause": 900}, owner="dev")
    manifest = cluster_manifest("orders", maxCapacity=8)

    (change,) = plan_for(aws, context, manifest).writes
    ENGINE.apply(aws, change, context)

    assert aws_cluster(aws, "orders")["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0.0,
        "MaxCapacity": 8.0,
        "SecondsUntilAutoPause": 900,
    }


def test_tag_only_change_adds_the_tag_without_modifying(aws: Clients, context: Context) -> None:
    make_cluster(aws, "orders", scaling={"MinCapacity": 1, "MaxCapacity": 4})
    manifest = cluster_manifest("orders", minCapacity=1, maxCapacity=4)
    modifies = calls(aws, "ModifyDBCluster")

    (change,) = plan_for(aws, context, manifest).writes
    assert change.diffs == (Diff(field=f"tags.{OWNER_TAG}", desired="dev", actual=None),)
    ENGINE.apply(aws, change, context)

    assert modifies == []
    assert ENGINE.observe(aws, [manifest], context)["orders"].tags[OWNER_TAG] == "dev"


def test_applying_a_change_twice_writes_once(aws: Clients, context: Context) -> None:
    make_cluster(aws, "orders", scaling={"MinCapacity": 1, "MaxCapacity": 4})
    manifest = cluster_manifest("orders", maxCapacity=8, deletionProtection=True)
    (change,) = plan_for(aws, context, manifest).writes
    modifies, tags = calls(aws, "ModifyDBCluster"), calls(aws, "AddTagsToResource")

    ENGINE.apply(aws, change, context)
    ENGINE.apply(aws, change, context)  # a retry after a lost response

    assert (len(modifies), len(tags)) == (1, 1)


def test_cluster_owned_by_another_environment_is_a_visible_conflict(
    aws: Clients, context: Context
) -> None:
    make_cluster(aws, "orders", scaling={"MinCapacity": 1, "MaxCapacity": 4}, owner="prod")
    manifest = cluster_manifest("orders", maxCapacity=8)

    observed = ENGINE.observe(aws, [manifest], context)["orders"]
    (change,) = plan_for(aws, context, manifest).changes

    assert observed.tags[OWNER_TAG] == "prod"
    assert change.action is Action.BLOCKED
    assert "prod" in (change.reason or "")


def test_apply_refuses_a_cluster_that_became_owned_elsewhere(
    aws: Clients, context: Context
) -> None:
    make_cluster(aws, "orders", scaling={"MinCapacity": 1, "MaxCapacity": 4})
    manifest = cluster_manifest("orders", maxCapacity=8)
    (change,) = plan_for(aws, context, manifest).writes
    arn = aws_cluster(aws, "orders")["DBClusterArn"]
    aws.rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": OWNER_TAG, "Value": "prod"}])

    with pytest.raises(PermanentError, match="owned by environment 'prod'"):
        ENGINE.apply(aws, change, context)
    assert aws_cluster(aws, "orders")["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 4.0


def test_one_bound_on_a_cluster_without_scaling_is_a_permanent_error(
    aws: Clients, context: Context
) -> None:
    make_cluster(aws, "provisioned", owner="dev")
    manifest = cluster_manifest("provisioned", maxCapacity=8)
    (change,) = plan_for(aws, context, manifest).writes

    with pytest.raises(PermanentError, match="declare both minCapacity and maxCapacity"):
        ENGINE.apply(aws, change, context)


@pytest.mark.parametrize(
    ("spec", "needs"),
    [
        ({"minCapacity": 0, "maxCapacity": 4}, "minCapacity 0 (auto-pause) needs"),
        ({"minCapacity": 1, "maxCapacity": 200}, "maxCapacity above 128 needs"),
    ],
)
def test_a_capacity_the_engine_version_lacks_fails_with_a_sentence_that_says_so(
    aws: Clients, context: Context, spec: dict[str, float], needs: str
) -> None:
    """AWS offers auto-pause and 256 ACUs only on recent engine versions (the Aurora user guide)
    and answers a bare InvalidParameterValue otherwise: the failed change says what to do."""
    aws.rds.create_db_cluster(
        DBClusterIdentifier="legacy",
        Engine="aurora-postgresql",
        EngineVersion="14.6",
        MasterUsername="admin",
        MasterUserPassword="password123",
        ServerlessV2ScalingConfiguration={"MinCapacity": 1, "MaxCapacity": 4},
        Tags=[{"Key": OWNER_TAG, "Value": "dev"}],
    )
    (change,) = plan_for(aws, context, cluster_manifest("legacy", **spec)).writes

    with pytest.raises(PermanentError) as refused:
        ENGINE.apply(aws, change, context)

    assert needs in str(refused.value)
    assert "the cluster runs aurora-postgresql 14.6" in str(refused.value)
