"""Budgets updates, subscribers and tags as emulated by reconciler.emulator, driven by boto3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import emulated_aws

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient

ACCOUNT = "123456789012"
NAME = "knobs"
ARN = f"arn:aws:budgets::{ACCOUNT}:budget/{NAME}"
EMAIL: Any = {"SubscriptionType": "EMAIL", "Address": "ops@example.com"}
SNS: Any = {
    "SubscriptionType": "SNS",
    "Address": "arn:aws:sns:us-east-1:123456789012:budget-alerts",
}
AT_80: Any = {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 80}
AT_100: Any = {**AT_80, "Threshold": 100.0, "ThresholdType": "PERCENTAGE"}


@pytest.fixture
def budgets(monkeypatch: pytest.MonkeyPatch) -> Iterator[BudgetsClient]:
    """A client on a fresh emulated account holding budget NAME with one notification AT_80."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with emulated_aws():
        client = boto3.client("budgets", region_name="us-east-1")
        client.create_budget(
            AccountId=ACCOUNT,
            Budget=_budget("10"),
            NotificationsWithSubscribers=[{"Notification": AT_80, "Subscribers": [EMAIL]}],
            ResourceTags=[{"Key": "team", "Value": "ops"}],
        )
        yield client


def _budget(amount: str, name: str = NAME) -> Any:
    return {
        "BudgetName": name,
        "BudgetLimit": {"Amount": amount, "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
    }


def _with(base: Any, **changes: Any) -> Any:
    return {**base, **changes}


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    err: Any = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def _subscribers(budgets: BudgetsClient, notification: Any = AT_80) -> list[Any]:
    return list(
        budgets.describe_subscribers_for_notification(
            AccountId=ACCOUNT, BudgetName=NAME, Notification=notification
        )["Subscribers"]
    )


# --- UpdateBudget ------------------------------------------------------------------------------


def test_update_budget_replaces_limit_and_time_unit(budgets: BudgetsClient) -> None:
    before = budgets.describe_budget(AccountId=ACCOUNT, BudgetName=NAME)["Budget"]
    new: Any = {**_budget("25.5"), "TimeUnit": "QUARTERLY"}
    assert (
        budgets.update_budget(AccountId=ACCOUNT, NewBudget=new)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 200
    )
    after = budgets.describe_budget(AccountId=ACCOUNT, BudgetName=NAME)["Budget"]
    assert after["BudgetLimit"] == {"Amount": "25.5", "Unit": "USD"}
    assert after["TimeUnit"] == "QUARTERLY"
    assert after["TimePeriod"] == before["TimePeriod"]
    assert after["CalculatedSpend"]["ActualSpend"]["Amount"] == "0"
    assert after["LastUpdatedTime"] >= before["LastUpdatedTime"]
    # Notifications and tags survive an update.
    assert _subscribers(budgets) == [EMAIL]
    assert budgets.list_tags_for_resource(ResourceARN=ARN)["ResourceTags"] == [
        {"Key": "team", "Value": "ops"}
    ]


def test_update_budget_accepts_planned_limits(budgets: BudgetsClient) -> None:
    new: Any = {k: v for k, v in _budget("1").items() if k != "BudgetLimit"}
    new["PlannedBudgetLimits"] = {"1735689600": {"Amount": "3", "Unit": "USD"}}
    budgets.update_budget(AccountId=ACCOUNT, NewBudget=new)
    after = budgets.describe_budget(AccountId=ACCOUNT, BudgetName=NAME)["Budget"]
    assert "BudgetLimit" not in after
    assert after["PlannedBudgetLimits"]["1735689600"]["Amount"] == "3"


def test_update_missing_budget_is_not_found(budgets: BudgetsClient) -> None:
    with pytest.raises(ClientError) as exc:
        budgets.update_budget(AccountId=ACCOUNT, NewBudget=_budget("1", name="other"))
    assert _code(exc) == ("NotFoundException", 400)


def test_update_budget_with_both_limits_is_invalid(budgets: BudgetsClient) -> None:
    new: Any = {
        **_budget("1"),
        "PlannedBudgetLimits": {"1735689600": {"Amount": "3", "Unit": "USD"}},
    }
    with pytest.raises(ClientError) as exc:
        budgets.update_budget(AccountId=ACCOUNT, NewBudget=new)
    assert _code(exc) == ("InvalidParameterException", 400)
    without: Any = {k: v for k, v in _budget("1").items() if k != "BudgetLimit"}
    with pytest.raises(budgets.exceptions.InvalidParameterException):
        budgets.update_budget(AccountId=ACCOUNT, NewBudget=without)


# --- notifications -----------------------------------------------------------------------------


def test_update_notification_keeps_subscribers(budgets: BudgetsClient) -> None:
    budgets.update_notification(
        AccountId=ACCOUNT, BudgetName=NAME, OldNotification=AT_80, NewNotification=AT_100
    )
    notes = budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=NAME)
    assert [n["Threshold"] for n in notes["Notifications"]] == [100.0]
    assert _subscribers(budgets, AT_100) == [EMAIL]


def test_update_notification_errors(budgets: BudgetsClient) -> None:
    with pytest.raises(ClientError) as exc:
        budgets.update_notification(
            AccountId=ACCOUNT, BudgetName=NAME, OldNotification=AT_100, NewNotification=AT_80
        )
    assert _code(exc) == ("NotFoundException", 400)
    with pytest.raises(budgets.exceptions.NotFoundException):
        budgets.update_notification(
            AccountId=ACCOUNT, BudgetName="other", OldNotification=AT_80, NewNotification=AT_100
        )
    budgets.create_notification(
        AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_100, Subscribers=[EMAIL]
    )
    with pytest.raises(ClientError) as exc:
        budgets.update_notification(
            AccountId=ACCOUNT, BudgetName=NAME, OldNotification=AT_80, NewNotification=AT_100
        )
    assert _code(exc) == ("DuplicateRecordException", 400)


def test_create_notification_rejects_duplicates_and_limits(budgets: BudgetsClient) -> None:
    explicit: Any = {**AT_80, "ThresholdType": "PERCENTAGE"}  # same notification as AT_80
    with pytest.raises(budgets.exceptions.DuplicateRecordException):
        budgets.create_notification(
            AccountId=ACCOUNT, BudgetName=NAME, Notification=explicit, Subscribers=[EMAIL]
        )
    for threshold in range(1, 10):
        budgets.create_notification(
            AccountId=ACCOUNT,
            BudgetName=NAME,
            Notification=_with(AT_80, Threshold=threshold),
            Subscribers=[EMAIL],
        )
    with pytest.raises(ClientError) as exc:
        budgets.create_notification(
            AccountId=ACCOUNT,
            BudgetName=NAME,
            Notification=_with(AT_80, Threshold=99),
            Subscribers=[EMAIL],
        )
    assert _code(exc) == ("CreationLimitExceededException", 400)


def test_delete_notification_matches_by_identity_and_reports_missing(
    budgets: BudgetsClient,
) -> None:
    with pytest.raises(budgets.exceptions.NotFoundException):
        budgets.delete_notification(AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_100)
    budgets.delete_notification(
        AccountId=ACCOUNT,
        BudgetName=NAME,
        Notification=_with(AT_80, Threshold=80.0, ThresholdType="PERCENTAGE"),
    )
    notes = budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=NAME)
    assert notes["Notifications"] == []
    with pytest.raises(budgets.exceptions.NotFoundException):
        budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="other")


def test_describe_budget_notifications_for_account(budgets: BudgetsClient) -> None:
    budgets.create_budget(AccountId=ACCOUNT, Budget=_budget("1", name="quiet"))
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget("2", name="loud"),
        NotificationsWithSubscribers=[{"Notification": AT_100, "Subscribers": [SNS]}],
    )
    listed = budgets.describe_budget_notifications_for_account(AccountId=ACCOUNT)
    entries = {e["BudgetName"]: e["Notifications"] for e in listed["BudgetNotificationsForAccount"]}
    assert set(entries) == {NAME, "loud"}
    assert entries["loud"][0]["Threshold"] == 100.0
    assert "NextToken" not in listed

    first = budgets.describe_budget_notifications_for_account(AccountId=ACCOUNT, MaxResults=1)
    assert len(first["BudgetNotificationsForAccount"]) == 1
    second = budgets.describe_budget_notifications_for_account(
        AccountId=ACCOUNT, MaxResults=1, NextToken=first["NextToken"]
    )
    assert "NextToken" not in second
    with pytest.raises(ClientError) as exc:
        budgets.describe_budget_notifications_for_account(AccountId=ACCOUNT, NextToken="junk")
    assert _code(exc) == ("InvalidNextTokenException", 400)


# --- subscribers -------------------------------------------------------------------------------


def test_create_and_describe_subscribers_with_pagination(budgets: BudgetsClient) -> None:
    budgets.create_subscriber(
        AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, Subscriber=SNS
    )
    assert _subscribers(budgets) == [EMAIL, SNS]
    page = budgets.describe_subscribers_for_notification(
        AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, MaxResults=1
    )
    assert page["Subscribers"] == [EMAIL]
    rest = budgets.describe_subscribers_for_notification(
        AccountId=ACCOUNT,
        BudgetName=NAME,
        Notification=AT_80,
        MaxResults=1,
        NextToken=page["NextToken"],
    )
    assert rest["Subscribers"] == [SNS]
    assert "NextToken" not in rest


def test_create_subscriber_errors(budgets: BudgetsClient) -> None:
    with pytest.raises(ClientError) as exc:
        budgets.create_subscriber(
            AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, Subscriber=EMAIL
        )
    assert _code(exc) == ("DuplicateRecordException", 400)
    with pytest.raises(budgets.exceptions.NotFoundException):
        budgets.create_subscriber(
            AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_100, Subscriber=SNS
        )
    with pytest.raises(budgets.exceptions.NotFoundException):
        budgets.create_subscriber(
            AccountId=ACCOUNT, BudgetName="other", Notification=AT_80, Subscriber=SNS
        )
    for bad in (_with(SNS, Address="not-an-arn"), _with(EMAIL, Address="x")):
        with pytest.raises(ClientError) as exc:
            budgets.create_subscriber(
                AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, Subscriber=bad
            )
        assert _code(exc) == ("InvalidParameterException", 400)


def test_subscriber_limits(budgets: BudgetsClient) -> None:
    for i in range(9):  # EMAIL is the first of ten e-mail subscribers
        budgets.create_subscriber(
            AccountId=ACCOUNT,
            BudgetName=NAME,
            Notification=AT_80,
            Subscriber={"SubscriptionType": "EMAIL", "Address": f"ops{i}@example.com"},
        )
    with pytest.raises(ClientError) as exc:
        budgets.create_subscriber(
            AccountId=ACCOUNT,
            BudgetName=NAME,
            Notification=AT_80,
            Subscriber={"SubscriptionType": "EMAIL", "Address": "one-too-many@example.com"},
        )
    assert _code(exc) == ("CreationLimitExceededException", 400)
    budgets.create_subscriber(
        AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, Subscriber=SNS
    )
    other_topic: Any = {**SNS, "Address": SNS["Address"] + "-2"}
    with pytest.raises(budgets.exceptions.CreationLimitExceededException):
        budgets.create_subscriber(
            AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, Subscriber=other_topic
        )


def test_update_subscriber(budgets: BudgetsClient) -> None:
    new: Any = {**EMAIL, "Address": "oncall@example.com"}
    budgets.update_subscriber(
        AccountId=ACCOUNT,
        BudgetName=NAME,
        Notification=AT_80,
        OldSubscriber=EMAIL,
        NewSubscriber=new,
    )
    assert _subscribers(budgets) == [new]
    with pytest.raises(ClientError) as exc:
        budgets.update_subscriber(
            AccountId=ACCOUNT,
            BudgetName=NAME,
            Notification=AT_80,
            OldSubscriber=EMAIL,
            NewSubscriber=new,
        )
    assert _code(exc) == ("NotFoundException", 400)
    budgets.create_subscriber(
        AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, Subscriber=EMAIL
    )
    with pytest.raises(budgets.exceptions.DuplicateRecordException):
        budgets.update_subscriber(
            AccountId=ACCOUNT,
            BudgetName=NAME,
            Notification=AT_80,
            OldSubscriber=EMAIL,
            NewSubscriber=new,
        )


def test_delete_subscriber_and_last_one_takes_the_notification(budgets: BudgetsClient) -> None:
    budgets.create_subscriber(
        AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, Subscriber=SNS
    )
    budgets.delete_subscriber(
        AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, Subscriber=EMAIL
    )
    assert _subscribers(budgets) == [SNS]
    with pytest.raises(ClientError) as exc:
        budgets.delete_subscriber(
            AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, Subscriber=EMAIL
        )
    assert _code(exc) == ("NotFoundException", 400)
    budgets.delete_subscriber(
        AccountId=ACCOUNT, BudgetName=NAME, Notification=AT_80, Subscriber=SNS
    )
    notes = budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=NAME)
    assert notes["Notifications"] == []
    with pytest.raises(budgets.exceptions.NotFoundException):
        _subscribers(budgets)


# --- tags --------------------------------------------------------------------------------------


def test_tags_round_trip(budgets: BudgetsClient) -> None:
    budgets.tag_resource(
        ResourceARN=ARN,
        ResourceTags=[{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": "dev"}],
    )
    tags = budgets.list_tags_for_resource(ResourceARN=ARN)["ResourceTags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "platform", "env": "dev"}
    budgets.untag_resource(ResourceARN=ARN, ResourceTagKeys=["team", "absent"])
    assert budgets.list_tags_for_resource(ResourceARN=ARN)["ResourceTags"] == [
        {"Key": "env", "Value": "dev"}
    ]


def test_tags_die_with_the_budget(budgets: BudgetsClient) -> None:
    budgets.delete_budget(AccountId=ACCOUNT, BudgetName=NAME)
    budgets.create_budget(AccountId=ACCOUNT, Budget=_budget("10"))
    assert budgets.list_tags_for_resource(ResourceARN=ARN)["ResourceTags"] == []


def test_tag_errors(budgets: BudgetsClient) -> None:
    missing = f"arn:aws:budgets::{ACCOUNT}:budget/other"
    for call in (
        lambda: budgets.list_tags_for_resource(ResourceARN=missing),
        lambda: budgets.tag_resource(ResourceARN=missing, ResourceTags=[]),
        lambda: budgets.untag_resource(ResourceARN=missing, ResourceTagKeys=["team"]),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == ("NotFoundException", 400)
    with pytest.raises(budgets.exceptions.InvalidParameterException):
        budgets.list_tags_for_resource(ResourceARN="arn:aws:s3:::bucket")
    with pytest.raises(budgets.exceptions.InvalidParameterException):
        budgets.tag_resource(ResourceARN=ARN, ResourceTags=[{"Key": "aws:owner", "Value": "x"}])
    many: Any = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    with pytest.raises(ClientError) as exc:
        budgets.tag_resource(ResourceARN=ARN, ResourceTags=many)  # 50 new + "team" = 51
    assert _code(exc) == ("ServiceQuotaExceededException", 400)


def test_create_budget_with_too_many_tags_creates_nothing(budgets: BudgetsClient) -> None:
    many: Any = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(budgets.exceptions.ServiceQuotaExceededException):
        budgets.create_budget(
            AccountId=ACCOUNT, Budget=_budget("1", name="tagged"), ResourceTags=many
        )
    with pytest.raises(budgets.exceptions.NotFoundException):
        budgets.describe_budget(AccountId=ACCOUNT, BudgetName="tagged")
