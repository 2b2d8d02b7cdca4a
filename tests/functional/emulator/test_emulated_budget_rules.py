"""AWS's rules on whole budgets, as the emulator keeps them, driven by boto3.

Sources: the botocore model ``budgets/2016-10-20`` (``Budget.BudgetLimit``: RI and Savings Plans
budgets "default to 100. This is the only valid value"; ``Budget.CostFilters`` deprecated for
``FilterExpression``; ``DescribeBudget(s).ShowFilterExpression``; ``NotificationWithSubscribers``:
"one SNS subscriber and up to 10 email subscribers"); AWS's subscriber-limit text as quoted in
aprin-labs/archimedes#1712.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient

ACCOUNT = "123456789012"
NOTIFICATION: Any = {
    "NotificationType": "ACTUAL",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": 80,
}
FILTERS: Any = {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Relational Database Service"]}}
AUTO: Any = {"AutoAdjustType": "HISTORICAL", "HistoricalOptions": {"BudgetAdjustmentPeriod": 3}}


@pytest.fixture
def budgets(emulated: None) -> BudgetsClient:
    return boto3.client("budgets", region_name="us-east-1")


def _budget(name: str = "cost", **extra: Any) -> Any:
    return {
        "BudgetName": name,
        "BudgetLimit": {"Amount": "100", "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
        **extra,
    }


def _email(i: int) -> Any:
    return {"SubscriptionType": "EMAIL", "Address": f"ops{i}@example.com"}


def _sns(i: int) -> Any:
    return {"SubscriptionType": "SNS", "Address": f"arn:aws:sns:us-east-1:{ACCOUNT}:topic{i}"}


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err: Any = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def _describe(budgets: BudgetsClient, name: str = "cost", show: bool = False) -> Any:
    return budgets.describe_budget(AccountId=ACCOUNT, BudgetName=name, ShowFilterExpression=show)[
        "Budget"
    ]


# --- subscribers --------------------------------------------------------------------------------


def test_create_budget_takes_ten_emails_and_one_sns(budgets: BudgetsClient) -> None:
    subscribers = [*map(_email, range(10)), _sns(0)]
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget(),
        NotificationsWithSubscribers=[{"Notification": NOTIFICATION, "Subscribers": subscribers}],
    )


@pytest.mark.parametrize(
    ("subscribers", "message"),
    [
        ([_sns(0), _sns(1)], "one notification can only have 1 subscribers with type of SNS"),
        (
            [*map(_email, range(11))],
            "one notification can only have 10 subscribers with type of EMAIL",
        ),
    ],
)
def test_create_budget_refuses_more_subscribers(
    budgets: BudgetsClient, subscribers: list[Any], message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        budgets.create_budget(
            AccountId=ACCOUNT,
            Budget=_budget(),
            NotificationsWithSubscribers=[
                {"Notification": NOTIFICATION, "Subscribers": subscribers}
            ],
        )
    assert _error(exc) == ("CreationLimitExceededException", 400, message)
    with pytest.raises(budgets.exceptions.NotFoundException):  # nothing was created
        _describe(budgets)


def test_create_notification_uses_the_same_words(budgets: BudgetsClient) -> None:
    budgets.create_budget(AccountId=ACCOUNT, Budget=_budget())
    with pytest.raises(ClientError) as exc:
        budgets.create_notification(
            AccountId=ACCOUNT,
            BudgetName="cost",
            Notification=NOTIFICATION,
            Subscribers=[_sns(0), _sns(1)],
        )
    assert _error(exc)[2] == "one notification can only have 1 subscribers with type of SNS"


# --- RI and Savings Plans budgets ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["RI_UTILIZATION", "RI_COVERAGE", "SAVINGS_PLANS_UTILIZATION", "SAVINGS_PLANS_COVERAGE"]
)
def test_utilization_and_coverage_budgets_take_only_100_percent(
    budgets: BudgetsClient, kind: str
) -> None:
    for limit in ({"Amount": "80", "Unit": "PERCENTAGE"}, {"Amount": "100", "Unit": "USD"}):
        with pytest.raises(ClientError) as exc:
            budgets.create_budget(
                AccountId=ACCOUNT, Budget=_budget("ri", BudgetType=kind, BudgetLimit=limit)
            )
        assert _error(exc)[:2] == ("InvalidParameterException", 400)
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget(
            "ri", BudgetType=kind, BudgetLimit={"Amount": "100.0", "Unit": "PERCENTAGE"}
        ),
    )
    with pytest.raises(budgets.exceptions.InvalidParameterException):
        budgets.update_budget(
            AccountId=ACCOUNT,
            NewBudget=_budget(
                "ri", BudgetType=kind, BudgetLimit={"Amount": "90", "Unit": "PERCENTAGE"}
            ),
        )


def test_a_utilization_budget_without_limit_gets_100_percent(budgets: BudgetsClient) -> None:
    budget = _budget("ri", BudgetType="RI_UTILIZATION")
    del budget["BudgetLimit"]
    budgets.create_budget(AccountId=ACCOUNT, Budget=budget)
    limit = _describe(budgets, "ri")["BudgetLimit"]
    assert (float(limit["Amount"]), limit["Unit"]) == (100.0, "PERCENTAGE")
    budgets.update_budget(AccountId=ACCOUNT, NewBudget=budget)  # no limit: still 100 %


def test_cost_budgets_take_any_limit(budgets: BudgetsClient) -> None:
    budgets.create_budget(
        AccountId=ACCOUNT, Budget=_budget(BudgetLimit={"Amount": "80", "Unit": "PERCENTAGE"})
    )


# --- FilterExpression, CostFilters, AutoAdjustData ----------------------------------------------


def test_filter_expression_is_shown_only_when_asked(budgets: BudgetsClient) -> None:
    budgets.create_budget(AccountId=ACCOUNT, Budget=_budget(FilterExpression=FILTERS))
    assert "FilterExpression" not in _describe(budgets)
    assert _describe(budgets, show=True)["FilterExpression"] == FILTERS
    listed = budgets.describe_budgets(AccountId=ACCOUNT)["Budgets"]
    assert "FilterExpression" not in listed[0]
    shown = budgets.describe_budgets(AccountId=ACCOUNT, ShowFilterExpression=True)["Budgets"]
    assert shown[0]["FilterExpression"] == FILTERS


def test_update_replaces_the_whole_budget(budgets: BudgetsClient) -> None:
    budgets.create_budget(
        AccountId=ACCOUNT, Budget=_budget(FilterExpression=FILTERS, AutoAdjustData=AUTO)
    )
    assert _describe(budgets)["AutoAdjustData"] == AUTO
    budgets.update_budget(AccountId=ACCOUNT, NewBudget=_budget(AutoAdjustData=AUTO))
    after = _describe(budgets, show=True)
    assert "FilterExpression" not in after
    assert after["AutoAdjustData"] == AUTO
    budgets.update_budget(AccountId=ACCOUNT, NewBudget=_budget())
    assert "AutoAdjustData" not in _describe(budgets, show=True)


def test_cost_filters_and_filter_expression_do_not_mix(budgets: BudgetsClient) -> None:
    mixed = _budget(FilterExpression=FILTERS, CostFilters={"Service": ["Amazon EC2"]})
    with pytest.raises(ClientError) as exc:
        budgets.create_budget(AccountId=ACCOUNT, Budget=mixed)
    assert _error(exc)[:2] == ("InvalidParameterException", 400)
    budgets.create_budget(AccountId=ACCOUNT, Budget=_budget(CostFilters={"Service": ["EC2"]}))
    with pytest.raises(budgets.exceptions.InvalidParameterException):
        budgets.update_budget(AccountId=ACCOUNT, NewBudget=mixed)


def test_rules_can_be_switched_off(budgets: BudgetsClient) -> None:
    with behaviour(budgets_rules=False):
        budgets.create_budget(
            AccountId=ACCOUNT,
            Budget=_budget(FilterExpression=FILTERS, CostFilters={"Service": ["EC2"]}),
        )
        assert _describe(budgets)["FilterExpression"] == FILTERS
