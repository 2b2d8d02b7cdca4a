"""Aurora Serverless v2 clusters as the emulator modifies them, driven by boto3.

Sources: the botocore model ``rds/2014-10-31`` (``ServerlessV2ScalingConfiguration`` members,
``InvalidDBClusterStateFault``); the Aurora user guide, "Aurora Serverless v2 capacity" and
"Scaling to Zero ACUs" (versions with 0 and 256 ACUs); AWS's texts as quoted in
aws-controllers-k8s/community#1107 (status modifying), crossplane-contrib/provider-upjet-aws#1165
(both bounds) and hashicorp/terraform-provider-aws#40473 (maximum at least 1.0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour
from reconciler.emulator.rds import capacity_range

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

ID = "db"


@pytest.fixture
def rds(emulated: None) -> RDSClient:
    return boto3.client("rds", region_name="us-east-1")


def _create(rds: RDSClient, version: str | None = "16.6", engine: str = "aurora-postgresql",
            **scaling: Any) -> None:  # fmt: skip
    args: dict[str, Any] = {"EngineVersion": version} if version else {}
    if scaling:
        args["ServerlessV2ScalingConfiguration"] = scaling
    rds.create_db_cluster(
        DBClusterIdentifier=ID,
        Engine=engine,
        MasterUsername="admin",
        MasterUserPassword="password-1234",
        **args,
    )


def _modify(rds: RDSClient, **scaling: Any) -> Any:
    return rds.modify_db_cluster(
        DBClusterIdentifier=ID, ApplyImmediately=True, ServerlessV2ScalingConfiguration=scaling
    )


def _describe(rds: RDSClient) -> Any:
    return rds.describe_db_clusters(DBClusterIdentifier=ID)["DBClusters"][0]


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err: Any = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


# --- modifying ----------------------------------------------------------------------------------


def test_a_modified_cluster_is_modifying_for_one_describe(rds: RDSClient) -> None:
    _create(rds, MinCapacity=0.5, MaxCapacity=4)
    _describe(rds)  # moto's one `creating`
    assert _describe(rds)["Status"] == "available"
    _modify(rds, MinCapacity=1, MaxCapacity=8)
    assert _describe(rds)["Status"] == "modifying"
    described = _describe(rds)
    assert described["Status"] == "available"
    assert described["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 1.0, "MaxCapacity": 8.0}


def test_a_second_modify_meanwhile_is_refused(rds: RDSClient) -> None:
    _create(rds, MinCapacity=0.5, MaxCapacity=4)
    rds.modify_db_cluster(DBClusterIdentifier=ID, ApplyImmediately=True, BackupRetentionPeriod=3)
    with pytest.raises(ClientError) as exc:
        rds.modify_db_cluster(
            DBClusterIdentifier=ID, ApplyImmediately=True, DeletionProtection=True
        )
    assert _error(exc) == (
        "InvalidDBClusterStateFault",
        400,
        "DB cluster is not available for modification with status modifying",
    )
    # The refusal was a look: the first modification is done, the retry goes through.
    rds.modify_db_cluster(DBClusterIdentifier=ID, ApplyImmediately=True, DeletionProtection=True)
    assert _describe(rds)["Status"] == "modifying"


def test_filters_and_waiters_see_the_status(rds: RDSClient) -> None:
    _create(rds, MinCapacity=0.5, MaxCapacity=4)
    _describe(rds)
    with behaviour(rds_modify_reads=2):
        _modify(rds, MaxCapacity=16)
        by_filter = rds.describe_db_clusters(Filters=[{"Name": "db-cluster-id", "Values": [ID]}])
        assert by_filter["DBClusters"][0]["Status"] == "modifying"
        assert _describe(rds)["Status"] == "modifying"
        rds.get_waiter("db_cluster_available").wait(
            DBClusterIdentifier=ID, WaiterConfig={"Delay": 0, "MaxAttempts": 2}
        )


def test_modifying_can_be_switched_off(rds: RDSClient) -> None:
    _create(rds, MinCapacity=0.5, MaxCapacity=4)
    _describe(rds)
    with behaviour(rds_modify_reads=0):
        _modify(rds, MaxCapacity=16)
        _modify(rds, MaxCapacity=32)
        assert _describe(rds)["Status"] == "available"


def test_modify_of_a_missing_cluster_is_not_found(rds: RDSClient) -> None:
    with pytest.raises(ClientError) as exc:
        rds.modify_db_cluster(DBClusterIdentifier="nope", BackupRetentionPeriod=2)
    assert _error(exc)[:2] == ("DBClusterNotFoundFault", 404)


# --- capacity -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "version", "expected"),
    [
        ("aurora-postgresql", "13.12", (0.5, 128.0)),
        ("aurora-postgresql", "13.13", (0.5, 256.0)),
        ("aurora-postgresql", "13.15", (0.0, 256.0)),
        ("aurora-postgresql", "14.9", (0.5, 128.0)),
        ("aurora-postgresql", "14.12", (0.0, 256.0)),
        ("aurora-postgresql", "15.4", (0.5, 128.0)),
        ("aurora-postgresql", "15.6", (0.5, 256.0)),
        ("aurora-postgresql", "15.7", (0.0, 256.0)),
        ("aurora-postgresql", "16.2", (0.5, 256.0)),
        ("aurora-postgresql", "16.3", (0.0, 256.0)),
        ("aurora-postgresql", "17.4", (0.0, 256.0)),
        ("aurora-postgresql", "12.7", (0.5, 128.0)),
        ("aurora-mysql", "8.0.mysql_aurora.3.05.2", (0.5, 128.0)),
        ("aurora-mysql", "8.0.mysql_aurora.3.06.0", (0.5, 256.0)),
        ("aurora-mysql", "8.0.mysql_aurora.3.08.0", (0.0, 256.0)),
        ("aurora-mysql", "5.7.mysql_aurora.2.11.2", (0.5, 128.0)),
    ],
)
def test_capacity_range_by_engine_version(
    engine: str, version: str, expected: tuple[float, float]
) -> None:
    assert capacity_range(engine, version) == expected


def test_zero_and_256_on_a_version_that_has_them(rds: RDSClient) -> None:
    _create(rds, "16.6", MinCapacity=0, MaxCapacity=256, SecondsUntilAutoPause=600)
    assert _describe(rds)["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0


def test_zero_is_refused_where_auto_pause_does_not_exist(rds: RDSClient) -> None:
    with pytest.raises(ClientError) as exc:
        _create(rds, "15.4", MinCapacity=0, MaxCapacity=4)
    code, status, message = _error(exc)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message.startswith("Serverless v2 minimum capacity 0.0 isn't valid.")


def test_over_128_is_refused_on_older_versions(rds: RDSClient) -> None:
    _create(rds, "15.4", MinCapacity=0.5, MaxCapacity=128)
    with pytest.raises(ClientError) as exc:
        _modify(rds, MinCapacity=0.5, MaxCapacity=128.5)
    assert _error(exc)[2].startswith("Serverless v2 maximum capacity 128.5 isn't valid.")


@pytest.mark.parametrize(
    ("scaling", "start"),
    [
        ({"MinCapacity": 0.75, "MaxCapacity": 4}, "Serverless v2 minimum capacity 0.75 isn't"),
        ({"MinCapacity": 1, "MaxCapacity": 4.2}, "Serverless v2 maximum capacity 4.2 isn't"),
        ({"MinCapacity": 0, "MaxCapacity": 0.5}, "Serverless v2 maximum capacity 0.5 isn't valid."),
        ({"MinCapacity": 8, "MaxCapacity": 4}, "Serverless v2 minimum capacity 8.0 isn't valid."),
        ({"MinCapacity": 0, "MaxCapacity": 4, "SecondsUntilAutoPause": 60}, "SecondsUntil"),
    ],
)
def test_basic_ranges(rds: RDSClient, scaling: dict[str, Any], start: str) -> None:
    with pytest.raises(ClientError) as exc:
        _create(rds, "16.6", **scaling)
    code, _, message = _error(exc)
    assert code == "InvalidParameterValue"
    assert message.startswith(start)


def test_maximum_under_one_has_aws_wording(rds: RDSClient) -> None:
    with pytest.raises(ClientError) as exc:
        _create(rds, "16.6", MinCapacity=0, MaxCapacity=0)
    assert _error(exc)[2] == (
        "Serverless v2 maximum capacity 0.0 isn't valid. The maximum capacity must be at least 1.0."
    )


def test_both_bounds_to_start_then_one_keeps_the_other(rds: RDSClient) -> None:
    _create(rds, "16.6")
    with pytest.raises(ClientError) as exc:
        _modify(rds, MaxCapacity=8)
    assert _error(exc)[2] == (
        "Both MinCapacity and MaxCapacity must be specified when you initialize Serverless v2 "
        "scaling configuration."
    )
    _modify(rds, MinCapacity=2, MaxCapacity=8)
    _describe(rds)
    _modify(rds, MaxCapacity=16)
    _describe(rds)
    assert _describe(rds)["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 2.0,
        "MaxCapacity": 16.0,
    }


def test_default_engine_version_is_one_aws_offers(rds: RDSClient) -> None:
    _create(rds, None, MinCapacity=0, MaxCapacity=4)
    assert _describe(rds)["EngineVersion"] == "16.6"
    with behaviour(rds_capacity_rules=False):
        rds.create_db_cluster(
            DBClusterIdentifier="old",
            Engine="aurora-postgresql",
            MasterUsername="admin",
            MasterUserPassword="password-1234",
            ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 0.5},
        )
        old = rds.describe_db_clusters(DBClusterIdentifier="old")["DBClusters"][0]
        assert old["EngineVersion"] == "12.7"
