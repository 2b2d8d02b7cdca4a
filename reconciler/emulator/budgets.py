"""Budgets operations moto 5.2 lacks, and budget tags.

Adds ``UpdateBudget``, ``UpdateNotification``, ``CreateSubscriber``, ``DeleteSubscriber``,
``UpdateSubscriber``, ``DescribeSubscribersForNotification``,
``DescribeBudgetNotificationsForAccount``, ``TagResource``, ``UntagResource`` and
``ListTagsForResource`` (budget ARN ``arn:aws:budgets::<account>:budget/<name>``), and keeps the
``ResourceTags`` given to ``CreateBudget``. Budgets speaks the JSON protocol, so each operation is
a method on moto's ``BudgetsResponse``; the state stays on moto's ``Budget`` objects.

AWS rules kept: a notification is identified by type, comparison operator, threshold and threshold
type (``PERCENTAGE`` when omitted); at most 10 notifications per budget and, per notification, one
SNS and ten e-mail subscribers (``CreationLimitExceededException``); a duplicate notification or
subscriber is a ``DuplicateRecordException`` (the subscriber limits answer AWS's text "one
notification can only have 1 subscribers with type of SNS", aprin-labs/archimedes#1712); anything
missing is a ``NotFoundException``;
deleting a notification's last subscriber deletes the notification; ``UpdateBudget`` takes either
``BudgetLimit`` or ``PlannedBudgetLimits`` and resets the calculated spend; at most 50 tags per
budget (``ServiceQuotaExceededException``), ``aws:`` keys are reserved. moto's own
``CreateNotification``, ``DeleteNotification`` and ``DescribeNotificationsForBudget`` are
tightened to the same rules (moto accepts duplicates and answers a missing budget with a 500).
Pagination tokens are opaque offsets. More of AWS's rules, behind ``Behaviour.budgets_rules``, are
in :mod:`reconciler.emulator.budget_rules`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from copy import deepcopy
from typing import Any, Final

from moto.budgets.exceptions import BudgetMissingLimit
from moto.budgets.models import Budget, BudgetsBackend, Notification
from moto.budgets.responses import BudgetsResponse
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time

_MARKER: Final = "_reconciler_emulator_budgets"
_TAGS_ATTR: Final = "_reconciler_tags"
MAX_NOTIFICATIONS: Final = 10
MAX_EMAIL_SUBSCRIBERS: Final = 10
MAX_SNS_SUBSCRIBERS: Final = 1
MAX_TAGS: Final = 50
_ARN = re.compile(r"^arn:aws[a-z-]*:budgets::(\d{12}):budget/([^/]+)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")


class BudgetsError(JsonRESTError):
    """A Budgets error: HTTP 400 with ``__type`` set to the AWS error code."""

    code = 400


def _not_found(message: str) -> BudgetsError:
    return BudgetsError("NotFoundException", message)


def _invalid(message: str) -> BudgetsError:
    return BudgetsError("InvalidParameterException", message)


def _notification_key(notification: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        notification.get("NotificationType"),
        notification.get("ComparisonOperator"),
        float(notification.get("Threshold", 0)),
        notification.get("ThresholdType") or "PERCENTAGE",
    )


def _subscriber_key(subscriber: Mapping[str, Any]) -> tuple[Any, Any]:
    return subscriber.get("SubscriptionType"), subscriber.get("Address")


def _budget(backend: BudgetsBackend, account_id: str, name: str, action: str) -> Budget:
    budget = backend.budgets[account_id].get(name)
    if budget is None:
        raise _not_found(f"Unable to {action} - the budget {name} doesn't exist.")
    return budget


def _notification(budget: Budget, notification: Mapping[str, Any]) -> Notification | None:
    key = _notification_key(notification)
    return next((n for n in budget.notifications if _notification_key(n.details) == key), None)


def _require_notification(
    budget: Budget, notification: Mapping[str, Any], action: str
) -> Notification:
    found = _notification(budget, notification)
    if found is None:
        raise _not_found(f"Unable to {action} - the notification doesn't exist.")
    return found


def _subscribers(notification: Notification) -> list[dict[str, Any]]:
    """moto annotates ``Notification.subscribers`` as a dict but stores the request's list."""
    subscribers: list[dict[str, Any]] = vars(notification)["subscribers"]
    return subscribers


def _check_subscribers(subscribers: list[dict[str, Any]]) -> None:
    """Address formats, duplicates and the per-notification limits."""
    for sub in subscribers:
        kind, address = _subscriber_key(sub)
        pattern = {"EMAIL": _EMAIL, "SNS": _SNS_ARN}.get(str(kind))
        if pattern is None or not isinstance(address, str) or not pattern.match(address):
            raise _invalid(f"Invalid subscriber: {kind} {address}")
    if len({_subscriber_key(s) for s in subscribers}) != len(subscribers):
        raise BudgetsError("DuplicateRecordException", "Duplicate subscriber in the request.")
    kinds = [s.get("SubscriptionType") for s in subscribers]
    for kind, most in (("SNS", MAX_SNS_SUBSCRIBERS), ("EMAIL", MAX_EMAIL_SUBSCRIBERS)):
        if kinds.count(kind) > most:
            # AWS's wording, quoted in aprin-labs/archimedes#1712.
            raise BudgetsError(
                "CreationLimitExceededException",
                f"one notification can only have {most} subscribers with type of {kind}",
            )


def _page(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        if not token.isdigit() or int(token) > len(items):
            raise BudgetsError("InvalidNextTokenException", "The next token is invalid.")
        start = int(token)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def _tags(budget: Budget) -> dict[str, str]:
    """The budget's tags, kept in the moto object's ``__dict__`` so they die with it."""
    tags: dict[str, str] = vars(budget).setdefault(_TAGS_ATTR, {})
    return tags


def _check_tags(existing: Mapping[str, str], new: list[dict[str, Any]]) -> dict[str, str]:
    merged = dict(existing)
    for tag in new:
        key, value = tag.get("Key"), tag.get("Value")
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise _invalid(f"Invalid tag key: {key}")
        if not isinstance(value, str) or len(value) > 256:
            raise _invalid(f"Invalid tag value for key {key}")
        merged[key] = value
    if len(merged) > MAX_TAGS:
        raise BudgetsError(
            "ServiceQuotaExceededException", f"A budget can have at most {MAX_TAGS} tags."
        )
    return merged


def _budget_by_arn(backend: BudgetsBackend, arn: str) -> Budget:
    match = _ARN.match(arn or "")
    if match is None:
        raise _invalid(f"Invalid budget ARN: {arn}")
    return _budget(backend, match.group(1), match.group(2), "find resource")


# --- operations on moto's BudgetsResponse (bound by install()) ---------------------------------


def _update_budget(self: BudgetsResponse) -> str:
    new: dict[str, Any] = deepcopy(self._get_param("NewBudget") or {})
    budget = _budget(
        self.backend, self._get_param("AccountId"), new.get("BudgetName", ""), "update budget"
    )
    if "BudgetLimit" in new and "PlannedBudgetLimits" in new:
        raise _invalid(
            "Unable to update budget - provide BudgetLimit or PlannedBudgetLimits, not both."
        )
    if not {"BudgetLimit", "PlannedBudgetLimits", "AutoAdjustData"} & new.keys():
        raise BudgetMissingLimit()
    new.pop("CalculatedSpend", None)  # AWS resets the spend until it has new usage data
    new.setdefault("TimePeriod", budget.budget.get("TimePeriod"))
    new["LastUpdatedTime"] = unix_time()
    budget.budget = new
    return "{}"


def _update_notification(self: BudgetsResponse) -> str:
    budget = _budget(
        self.backend,
        self._get_param("AccountId"),
        self._get_param("BudgetName"),
        "update notification",
    )
    old, new = self._get_param("OldNotification"), self._get_param("NewNotification")
    found = _require_notification(budget, old, "update notification")
    if _notification_key(old) != _notification_key(new) and _notification(budget, new) is not None:
        raise BudgetsError(
            "DuplicateRecordException",
            "Unable to update notification - the new notification already exists.",
        )
    found.details = deepcopy(new)
    return "{}"


def _subscriber_context(self: BudgetsResponse, action: str) -> Notification:
    budget = _budget(
        self.backend, self._get_param("AccountId"), self._get_param("BudgetName"), action
    )
    return _require_notification(budget, self._get_param("Notification"), action)


def _create_subscriber(self: BudgetsResponse) -> str:
    notification = _subscriber_context(self, "create subscriber")
    subscriber = self._get_param("Subscriber")
    if _subscriber_key(subscriber) in {_subscriber_key(s) for s in _subscribers(notification)}:
        raise BudgetsError(
            "DuplicateRecordException",
            "Unable to create subscriber - the subscriber already exists.",
        )
    _check_subscribers([*_subscribers(notification), subscriber])
    _subscribers(notification).append(dict(subscriber))
    return "{}"


def _delete_subscriber(self: BudgetsResponse) -> str:
    budget = _budget(
        self.backend,
        self._get_param("AccountId"),
        self._get_param("BudgetName"),
        "delete subscriber",
    )
    notification = _require_notification(
        budget, self._get_param("Notification"), "delete subscriber"
    )
    key = _subscriber_key(self._get_param("Subscriber"))
    remaining = [s for s in _subscribers(notification) if _subscriber_key(s) != key]
    if len(remaining) == len(_subscribers(notification)):
        raise _not_found("Unable to delete subscriber - the subscriber doesn't exist.")
    _subscribers(notification)[:] = remaining
    if not remaining:  # AWS deletes a notification together with its last subscriber
        budget.notifications.remove(notification)
    return "{}"


def _update_subscriber(self: BudgetsResponse) -> str:
    notification = _subscriber_context(self, "update subscriber")
    old, new = self._get_param("OldSubscriber"), self._get_param("NewSubscriber")
    keys = [_subscriber_key(s) for s in _subscribers(notification)]
    if _subscriber_key(old) not in keys:
        raise _not_found("Unable to update subscriber - the subscriber doesn't exist.")
    if _subscriber_key(new) != _subscriber_key(old) and _subscriber_key(new) in keys:
        raise BudgetsError(
            "DuplicateRecordException",
            "Unable to update subscriber - the new subscriber already exists.",
        )
    updated = [
        dict(new) if k == _subscriber_key(old) else s
        for k, s in zip(keys, _subscribers(notification), strict=True)
    ]
    _check_subscribers(updated)
    _subscribers(notification)[:] = updated
    return "{}"


def _describe_subscribers_for_notification(self: BudgetsResponse) -> dict[str, Any]:
    notification = _subscriber_context(self, "describe subscribers")
    page, token = _page(
        list(_subscribers(notification)),
        self._get_param("NextToken"),
        int(self._get_param("MaxResults") or 100),
    )
    return {"Subscribers": page, **({"NextToken": token} if token else {})}


def _describe_budget_notifications_for_account(self: BudgetsResponse) -> dict[str, Any]:
    budgets = self.backend.budgets[self._get_param("AccountId")]
    entries = [
        {"BudgetName": name, "Notifications": [deepcopy(n.details) for n in budget.notifications]}
        for name, budget in budgets.items()
        if budget.notifications
    ]
    page, token = _page(
        entries, self._get_param("NextToken"), int(self._get_param("MaxResults") or 1000)
    )
    return {"BudgetNotificationsForAccount": page, **({"NextToken": token} if token else {})}


def _tag_resource(self: BudgetsResponse) -> str:
    budget = _budget_by_arn(self.backend, self._get_param("ResourceARN"))
    merged = _check_tags(_tags(budget), self._get_param("ResourceTags") or [])
    _tags(budget).update(merged)
    return "{}"


def _untag_resource(self: BudgetsResponse) -> str:
    budget = _budget_by_arn(self.backend, self._get_param("ResourceARN"))
    for key in self._get_param("ResourceTagKeys") or []:
        _tags(budget).pop(key, None)
    return "{}"


def _list_tags_for_resource(self: BudgetsResponse) -> dict[str, Any]:
    budget = _budget_by_arn(self.backend, self._get_param("ResourceARN"))
    return {"ResourceTags": [{"Key": k, "Value": v} for k, v in _tags(budget).items()]}


def install() -> None:
    """Bind the operations onto moto's BudgetsResponse and tighten its own. Idempotent."""
    if getattr(BudgetsResponse, _MARKER, False):
        return

    def as_json(handler: Any) -> Any:
        def method(self: BudgetsResponse) -> str:
            result = handler(self)
            return result if isinstance(result, str) else json.dumps(result)

        method.__name__ = handler.__name__.lstrip("_")
        return method

    for handler in (
        _update_budget,
        _update_notification,
        _create_subscriber,
        _delete_subscriber,
        _update_subscriber,
        _describe_subscribers_for_notification,
        _describe_budget_notifications_for_account,
        _tag_resource,
        _untag_resource,
        _list_tags_for_resource,
    ):
        # moto dispatches an operation to the response method named after it in snake case.
        setattr(BudgetsResponse, handler.__name__.lstrip("_"), as_json(handler))

    original_create_budget = BudgetsResponse.create_budget
    original_create_notification = BudgetsBackend.create_notification

    def create_budget(self: BudgetsResponse) -> str:
        """moto's CreateBudget, keeping ``ResourceTags`` (checked before anything is created)."""
        tags = _check_tags({}, self._get_param("ResourceTags") or [])
        result: str = original_create_budget(self)
        budget = self._get_param("Budget") or {}
        _tags(self.backend.budgets[self._get_param("AccountId")][budget["BudgetName"]]).update(tags)
        return result

    def create_notification(
        self: BudgetsBackend,
        account_id: str,
        budget_name: str,
        notification: dict[str, Any],
        subscribers: list[dict[str, Any]],
    ) -> None:
        budget = _budget(self, account_id, budget_name, "create notification")
        if _notification(budget, notification) is not None:
            raise BudgetsError(
                "DuplicateRecordException",
                "Unable to create notification - the notification already exists.",
            )
        if len(budget.notifications) >= MAX_NOTIFICATIONS:
            raise BudgetsError(
                "CreationLimitExceededException",
                f"A budget can have at most {MAX_NOTIFICATIONS} notifications.",
            )
        _check_subscribers(list(subscribers or []))
        original_create_notification(self, account_id, budget_name, notification, subscribers)  # type: ignore[arg-type]

    def delete_notification(
        self: BudgetsBackend, account_id: str, budget_name: str, notification: dict[str, Any]
    ) -> None:
        budget = _budget(self, account_id, budget_name, "delete notification")
        budget.notifications.remove(
            _require_notification(budget, notification, "delete notification")
        )

    def describe_notifications_for_budget(
        self: BudgetsBackend, account_id: str, budget_name: str
    ) -> list[dict[str, Any]]:
        budget = _budget(self, account_id, budget_name, "describe notifications")
        return [n.details for n in budget.notifications]

    BudgetsResponse.create_budget = create_budget  # type: ignore[method-assign]
    BudgetsBackend.create_notification = create_notification  # type: ignore[method-assign,assignment]
    BudgetsBackend.delete_notification = delete_notification  # type: ignore[method-assign]
    BudgetsBackend.describe_notifications_for_budget = describe_notifications_for_budget  # type: ignore[method-assign]
    setattr(BudgetsResponse, _MARKER, True)
