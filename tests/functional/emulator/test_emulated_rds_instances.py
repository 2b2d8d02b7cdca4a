"""RDS DB instances as the emulator modifies them, driven by boto3.

Sources: the botocore model ``rds/2014-10-31`` (``ModifyDBInstance`` member documentation, the
``PendingModifiedValues`` shape, ``InvalidDBInstanceStateFault`` and its code); the RDS user guide,
"Using the schedule modifications setting"; AWS's text for a modify of a busy instance, quoted in
hashicorp/terraform-provider-aws#31594.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour
from reconciler.emulator.rds_instances import maintenance_window

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

ID = "orders"


@pytest.fixture
def rds(emulated: None) -> RDSClient:
    client: RDSClient = boto3.client("rds", region_name="us-east-1")
    client.create_db_instance(
        DBInstanceIdentifier=ID,
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="password-1234",
        BackupRetentionPeriod=7,
    )
    return client


def _describe(rds: RDSClient) -> Any:
    return rds.describe_db_instances(DBInstanceIdentifier=ID)["DBInstances"][0]


def _settings(instance: Any) -> tuple[Any, ...]:
    return (
        instance["DBInstanceClass"],
        instance["MultiAZ"],
        instance["BackupRetentionPeriod"],
        instance["DeletionProtection"],
    )


def test_a_deferred_class_and_multi_az_wait_in_pending_modified_values(rds: RDSClient) -> None:
    answer = rds.modify_db_instance(
        DBInstanceIdentifier=ID,
        DBInstanceClass="db.r6g.large",
        MultiAZ=True,
        ApplyImmediately=False,
    )["DBInstance"]

    for instance in (answer, _describe(rds)):
        assert instance["DBInstanceStatus"] == "available"  # nothing runs until the window
        assert _settings(instance) == ("db.t4g.micro", False, 7, False)
        assert instance["PendingModifiedValues"] == {
            "DBInstanceClass": "db.r6g.large",
            "MultiAZ": True,
        }


def test_apply_immediately_false_is_the_default(rds: RDSClient) -> None:
    rds.modify_db_instance(DBInstanceIdentifier=ID, DBInstanceClass="db.m5d.large")

    assert _describe(rds)["PendingModifiedValues"] == {"DBInstanceClass": "db.m5d.large"}
    assert _describe(rds)["DBInstanceClass"] == "db.t4g.micro"


def test_deletion_protection_is_applied_at_once_even_when_deferred(rds: RDSClient) -> None:
    """DeletionProtection is no member of PendingModifiedValues: AWS applies it at once."""
    rds.modify_db_instance(DBInstanceIdentifier=ID, DeletionProtection=True, ApplyImmediately=False)

    instance = _describe(rds)
    assert instance["DeletionProtection"] is True
    assert instance["PendingModifiedValues"] == {}


@pytest.mark.parametrize(
    ("start", "new", "deferred"),
    [(7, 14, False), (7, 0, True), (0, 3, True), (1, 35, False)],
)
def test_backup_retention_waits_only_when_it_turns_backups_on_or_off(
    rds: RDSClient, start: int, new: int, deferred: bool
) -> None:
    """ "If you change the parameter from one non-zero value to another non-zero value, the change
    is asynchronously applied as soon as possible"; turning backups on or off waits."""
    rds.modify_db_instance(
        DBInstanceIdentifier=ID, BackupRetentionPeriod=start, ApplyImmediately=True
    )
    _describe(rds)  # the immediate change completes

    rds.modify_db_instance(DBInstanceIdentifier=ID, BackupRetentionPeriod=new)

    instance = _describe(rds)
    if deferred:
        assert instance["BackupRetentionPeriod"] == start
        assert instance["PendingModifiedValues"] == {"BackupRetentionPeriod": new}
    else:
        assert instance["BackupRetentionPeriod"] == new
        assert instance["PendingModifiedValues"] == {}


def test_a_later_deferred_value_replaces_the_queued_one(rds: RDSClient) -> None:
    rds.modify_db_instance(DBInstanceIdentifier=ID, DBInstanceClass="db.r6g.large")
    rds.modify_db_instance(DBInstanceIdentifier=ID, DBInstanceClass="db.r6g.xlarge")

    assert _describe(rds)["PendingModifiedValues"] == {"DBInstanceClass": "db.r6g.xlarge"}


def test_the_maintenance_window_applies_what_was_queued(rds: RDSClient) -> None:
    rds.modify_db_instance(DBInstanceIdentifier=ID, DBInstanceClass="db.r6g.large", MultiAZ=True)

    maintenance_window(ID)

    instance = _describe(rds)
    assert _settings(instance) == ("db.r6g.large", True, 7, False)
    assert instance["PendingModifiedValues"] == {}


def test_apply_immediately_is_modifying_then_applies_the_queue_too(rds: RDSClient) -> None:
    """ "If you choose to apply changes immediately, your new changes and any changes in the
    pending modifications queue are applied." Meanwhile the instance is `modifying`."""
    rds.modify_db_instance(DBInstanceIdentifier=ID, MultiAZ=True)  # queued for the window
    with behaviour(rds_instance_modify_reads=2):
        rds.modify_db_instance(
            DBInstanceIdentifier=ID, DBInstanceClass="db.m5.large", ApplyImmediately=True
        )
        first, second, third = _describe(rds), _describe(rds), _describe(rds)

    assert [i["DBInstanceStatus"] for i in (first, second, third)] == [
        "modifying",
        "modifying",
        "available",
    ]
    assert first["PendingModifiedValues"] == {"DBInstanceClass": "db.m5.large", "MultiAZ": True}
    assert _settings(third) == ("db.m5.large", True, 7, False)
    assert third["PendingModifiedValues"] == {}


def test_a_modify_while_modifying_is_refused_as_aws_refuses_it(rds: RDSClient) -> None:
    with behaviour(rds_instance_modify_reads=3):
        rds.modify_db_instance(
            DBInstanceIdentifier=ID, DBInstanceClass="db.m5.large", ApplyImmediately=True
        )
        with pytest.raises(ClientError) as refused:
            rds.modify_db_instance(DBInstanceIdentifier=ID, DeletionProtection=True)

    err: Any = refused.value.response
    assert err["Error"]["Code"] == "InvalidDBInstanceState"
    assert err["Error"]["Message"] == "Database instance is not in available state."
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _describe(rds)["DeletionProtection"] is False


def test_a_modify_after_the_change_completed_is_accepted(rds: RDSClient) -> None:
    rds.modify_db_instance(
        DBInstanceIdentifier=ID, DBInstanceClass="db.m5.large", ApplyImmediately=True
    )
    assert _describe(rds)["DBInstanceStatus"] == "modifying"

    rds.modify_db_instance(DBInstanceIdentifier=ID, DeletionProtection=True, ApplyImmediately=True)

    assert _describe(rds)["DBInstanceClass"] == "db.m5.large"


def test_moto_behaviour_applies_everything_at_once(rds: RDSClient) -> None:
    with behaviour(rds_pending_modifications=False, rds_instance_modify_reads=0):
        rds.modify_db_instance(DBInstanceIdentifier=ID, DBInstanceClass="db.r6g.large")
        instance = _describe(rds)

    assert instance["DBInstanceClass"] == "db.r6g.large"
    assert instance["DBInstanceStatus"] == "available"


def test_a_missing_instance_is_db_instance_not_found(rds: RDSClient) -> None:
    with pytest.raises(ClientError) as missing:
        rds.modify_db_instance(DBInstanceIdentifier="gone", DBInstanceClass="db.m5.large")

    assert missing.value.response["Error"]["Code"] == "DBInstanceNotFound"
