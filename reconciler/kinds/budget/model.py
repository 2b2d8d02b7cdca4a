"""The `Budget` manifest: an AWS Budgets cost budget and its notifications, managed whole.

Notifications and their subscribers are sets: order in the manifest does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from reconciler.model import PATTERN_HINTS, Manifest, Metadata, Strict

BUDGET_NAME = r"^[^:\\]{1,100}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SNS_TOPIC = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"
PATTERN_HINTS[BUDGET_NAME] = "a budget name (up to 100 characters, no ':' or '\\')"
PATTERN_HINTS[EMAIL] = "an e-mail address"
#: Budget types whose limit AWS fixes at 100 (a percentage of utilisation or coverage).
FIXED_AT_100 = frozenset(
    {"RI_UTILIZATION", "RI_COVERAGE", "SAVINGS_PLANS_UTILIZATION", "SAVINGS_PLANS_COVERAGE"}
)


class Limit(Strict):
    """The budgeted amount."""

    amount: float = Field(gt=0, description="The limit, a number greater than 0.")
    unit: Literal["USD"] = "USD"


class Subscriber(Strict):
    """Who is told: an e-mail address or an SNS topic ARN."""

    type: Literal["EMAIL", "SNS"]
    address: Annotated[str, StringConstraints(min_length=1, max_length=2_147_483_647)]


class Notification(Strict):
    """When to tell: actual or forecasted spend crossing a threshold."""

    notification_type: Literal["ACTUAL", "FORECASTED"]
    comparison_operator: Literal["GREATER_THAN", "LESS_THAN", "EQUAL_TO"]
    threshold: float = Field(ge=0, le=15_000_000_000_000)
    threshold_type: Literal["PERCENTAGE", "ABSOLUTE_VALUE"] = "PERCENTAGE"
    subscribers: list[Subscriber] = Field(min_length=1, max_length=11)


class BudgetSpec(Strict):
    """`spec` of a Budget."""

    limit: Limit
    time_unit: Literal["DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY"]
    budget_type: Literal[
        "COST",
        "USAGE",
        "RI_UTILIZATION",
        "RI_COVERAGE",
        "SAVINGS_PLANS_UTILIZATION",
        "SAVINGS_PLANS_COVERAGE",
    ] = "COST"
    notifications: list[Notification] = Field(default_factory=list, max_length=10)


class BudgetMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=BUDGET_NAME)] = Field(
        description="The budget name."
    )


class Budget(Manifest):
    """An AWS budget with its notifications, created when missing and managed whole."""

    kind: Literal["Budget"]
    metadata: BudgetMetadata
    spec: BudgetSpec


def check(manifest: Budget) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Rules across fields: subscriber addresses fit their type, at most 10 e-mail and 1 SNS
    subscriber a notification, no notification twice; utilisation and coverage budgets have a
    limit of 100."""
    seen: dict[tuple[str, str, Decimal, str], int] = {}
    for index, note in enumerate(manifest.spec.notifications):
        key = (
            note.notification_type,
            note.comparison_operator,
            Decimal(str(note.threshold)),
            note.threshold_type,
        )
        if key in seen:
            yield (
                ("spec", "notifications", index),
                f"the same notification as notifications[{seen[key]}]",
            )
        seen.setdefault(key, index)
        emails = sns = 0
        for position, subscriber in enumerate(note.subscribers):
            path = ("spec", "notifications", index, "subscribers", position, "address")
            if subscriber.type == "EMAIL":
                emails += 1
                if not re.match(EMAIL, subscriber.address):
                    yield path, f"'{subscriber.address}' is not an e-mail address"
            else:
                sns += 1
                if not re.match(SNS_TOPIC, subscriber.address):
                    yield path, f"'{subscriber.address}' is not an SNS topic ARN"
        if emails > 10:
            yield (
                ("spec", "notifications", index, "subscribers"),
                f"{emails} e-mail subscribers; AWS allows at most 10 per notification",
            )
        if sns > 1:
            yield (
                ("spec", "notifications", index, "subscribers"),
                f"{sns} SNS subscribers; AWS allows at most 1 per notification",
            )
    spec = manifest.spec
    if spec.budget_type in FIXED_AT_100 and spec.limit.amount != 100:
        yield (
            ("spec", "limit", "amount"),
            f"{Decimal(str(spec.limit.amount)).normalize():f}: a {spec.budget_type} budget's "
            "limit is always 100 (percent)",
        )
