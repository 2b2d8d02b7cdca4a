"""DynamoDB tables as the emulator updates them, driven by boto3.

Sources: the botocore model ``dynamodb/2012-08-10`` (``UpdateTable`` and ``UpdateTimeToLive``
documentation, ``TimeToLiveStatus``, ``BillingModeSummary``); the DynamoDB developer guide,
"Considerations when switching capacity modes" (four switches to on-demand in a rolling 24
hours, back to provisioned at any time); AWS's texts as quoted in aws-amplify/amplify-cli#1054.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour, dynamodb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "orders"


@pytest.fixture
def ddb(emulated: None) -> DynamoDBClient:
    client: DynamoDBClient = boto3.client("dynamodb", region_name="us-east-1")
    return client


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The emulator's clock, moved by the test (`now[0] += 3600`)."""
    moment = [1_800_000_000.0]
    monkeypatch.setattr(dynamodb, "clock", lambda: moment[0])
    return moment


def _create(ddb: DynamoDBClient, **params: Any) -> None:
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        **({"BillingMode": "PAY_PER_REQUEST"} | params),
    )


def _table(ddb: DynamoDBClient) -> Any:
    return ddb.describe_table(TableName=TABLE)["Table"]


def _ttl(ddb: DynamoDBClient) -> Any:
    return ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]


def _set_ttl(ddb: DynamoDBClient, attribute: str, enabled: bool) -> Any:
    return ddb.update_time_to_live(
        TableName=TABLE,
        TimeToLiveSpecification={"AttributeName": attribute, "Enabled": enabled},
    )


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err: Any = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


# --- UPDATING -----------------------------------------------------------------------------------


def test_an_updated_table_is_updating_for_one_describe(ddb: DynamoDBClient) -> None:
    _create(ddb)
    answer = ddb.update_table(TableName=TABLE, DeletionProtectionEnabled=True)
    assert answer["TableDescription"]["TableStatus"] == "UPDATING"
    assert _table(ddb)["TableStatus"] == "UPDATING"
    table = _table(ddb)
    assert table["TableStatus"] == "ACTIVE"
    assert table["DeletionProtectionEnabled"] is True


def test_a_second_update_meanwhile_is_refused(ddb: DynamoDBClient) -> None:
    _create(ddb)
    ddb.update_table(TableName=TABLE, DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as exc:
        ddb.update_table(TableName=TABLE, DeletionProtectionEnabled=False)
    assert _error(exc)[:2] == ("ResourceInUseException", 400)
    ddb.update_table(TableName=TABLE, DeletionProtectionEnabled=False)  # the refusal was a look


# --- billing mode -------------------------------------------------------------------------------


def test_an_on_demand_table_reports_zero_capacities_and_when_it_switched(
    ddb: DynamoDBClient, now: list[float]
) -> None:
    _create(ddb, BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})  # fmt: skip
    ddb.update_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST")
    _table(ddb)
    table = _table(ddb)
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"].timestamp() == now[0]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 0


def test_switching_to_provisioned_needs_capacities_and_on_demand_refuses_them(
    ddb: DynamoDBClient,
) -> None:
    _create(ddb)
    with pytest.raises(ClientError) as exc:
        ddb.update_table(TableName=TABLE, BillingMode="PROVISIONED")
    assert _error(exc)[0] == "ValidationException"
    assert "ProvisionedThroughput must be specified" in _error(exc)[2]
    with pytest.raises(ClientError) as exc:
        ddb.update_table(
            TableName=TABLE,
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        )
    assert "Neither ReadCapacityUnits nor WriteCapacityUnits" in _error(exc)[2]
    ddb.update_table(
        TableName=TABLE,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
    )
    _table(ddb)
    table = _table(ddb)
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 7


def test_four_switches_to_on_demand_in_24_hours_then_limit_exceeded(
    ddb: DynamoDBClient, now: list[float]
) -> None:
    _create(ddb, BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})  # fmt: skip
    throughput = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}

    def round_trip() -> None:
        ddb.update_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST")
        _table(ddb)
        ddb.update_table(
            TableName=TABLE, BillingMode="PROVISIONED", ProvisionedThroughput=throughput
        )  # back to provisioned: never limited
        _table(ddb)
        now[0] += 3600

    for _ in range(4):
        round_trip()
    with pytest.raises(ClientError) as exc:
        ddb.update_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST")
    code, status, message = _error(exc)
    assert (code, status) == ("LimitExceededException", 400)
    assert "limited to 4 times in 1 day(s)" in message
    now[0] += 21 * 3600  # the first switch leaves the 24-hour window
    ddb.update_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST")


# --- time to live -------------------------------------------------------------------------------


def test_ttl_is_enabling_for_one_describe_then_enabled(ddb: DynamoDBClient) -> None:
    _create(ddb)
    _set_ttl(ddb, "expiresAt", True)
    assert _ttl(ddb) == {"TimeToLiveStatus": "ENABLING", "AttributeName": "expiresAt"}
    assert _ttl(ddb) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_a_second_ttl_change_within_the_hour_is_refused(
    ddb: DynamoDBClient, now: list[float]
) -> None:
    _create(ddb)
    _set_ttl(ddb, "expiresAt", True)
    _ttl(ddb), _ttl(ddb)
    now[0] += 3599
    with pytest.raises(ClientError) as exc:
        _set_ttl(ddb, "expiresAt", False)
    assert _error(exc) == (
        "ValidationException",
        400,
        "Time to live has been modified multiple times within a fixed interval",
    )
    now[0] += 1
    _set_ttl(ddb, "expiresAt", False)
    assert _ttl(ddb)["TimeToLiveStatus"] == "DISABLING"
    assert _ttl(ddb) == {"TimeToLiveStatus": "DISABLED"}


def test_ttl_is_enabled_on_one_attribute_at_a_time(ddb: DynamoDBClient, now: list[float]) -> None:
    _create(ddb)
    _set_ttl(ddb, "expiresAt", True)
    now[0] += 3600
    with pytest.raises(ClientError) as exc:
        _set_ttl(ddb, "ttl", True)
    assert _error(exc)[0] == "ValidationException"
    assert (
        "active on a different AttributeName: current AttributeName is expiresAt"
        in (_error(exc)[2])
    )
    with pytest.raises(ClientError) as exc:
        _set_ttl(ddb, "expiresAt", True)
    assert _error(exc)[2] == "TimeToLive is already enabled"


def test_ttl_changes_made_with_the_rule_off_are_not_counted(ddb: DynamoDBClient) -> None:
    _create(ddb)
    with behaviour(dynamodb_ttl_rules=False):
        _set_ttl(ddb, "expiresAt", True)
    _set_ttl(ddb, "expiresAt", False)  # counted from here


def test_ttl_of_a_missing_table_is_resource_not_found(ddb: DynamoDBClient) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.describe_time_to_live(TableName="nope")
    assert _error(exc)[:2] == ("ResourceNotFoundException", 400)


# --- tags ---------------------------------------------------------------------------------------


def test_tag_resource_replaces_the_value_of_an_existing_key(ddb: DynamoDBClient) -> None:
    _create(ddb, Tags=[{"Key": "team", "Value": "a"}])
    arn = _table(ddb)["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"}])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "b"}]
