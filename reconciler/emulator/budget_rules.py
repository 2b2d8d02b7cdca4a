"""AWS's rules on a whole budget, on top of :mod:`reconciler.emulator.budgets`.

Switch ``Behaviour.budgets_rules``; sources are the botocore model ``budgets/2016-10-20``:

- ``CreateBudget``'s ``NotificationsWithSubscribers`` obey the per-notification limits (one SNS,
  ten e-mail subscribers: "A notification can have one SNS subscriber and up to 10 email
  subscribers") -> ``CreationLimitExceededException`` "one notification can only have 1
  subscribers with type of SNS" (AWS's text, aprin-labs/archimedes#1712), the notification limit
  and duplicates, as ``CreateNotification`` does; moto created them unchecked.
- ``RI_UTILIZATION``, ``RI_COVERAGE``, ``SAVINGS_PLANS_UTILIZATION`` and
  ``SAVINGS_PLANS_COVERAGE`` budgets: ``BudgetLimit`` "default[s] to 100. This is the only valid
  value" -> a limit other than 100 ``PERCENTAGE`` is an ``InvalidParameterException``, and a
  budget without one gets it; ``PlannedBudgetLimits`` "is available for cost or usage budget[s]"
  only.
- ``CostFilters`` (deprecated since 2025-04-18: "Please consider using the new
  'FilterExpression' field") and ``FilterExpression`` in one budget ->
  ``InvalidParameterException``.
- ``DescribeBudget`` and ``DescribeBudgets`` return ``FilterExpression`` only with
  ``ShowFilterExpression=True`` ("Specifies whether the response includes the filter expression").

``UpdateBudget`` already replaces the whole budget (:mod:`reconciler.emulator.budgets`): a
``FilterExpression``, ``CostFilters`` or ``AutoAdjustData`` it is not sent is gone afterwards, and
one it is sent is kept and returned. The messages of the ``InvalidParameterException`` above are
the emulator's wording, in the style of the Budgets API's other messages.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from moto.budgets.responses import BudgetsResponse

from reconciler.emulator.budgets import (
    MAX_NOTIFICATIONS,
    BudgetsError,
    _check_subscribers,
    _invalid,
    _notification_key,
)
from reconciler.emulator.settings import current

_MARKER: Final = "_reconciler_emulator_budget_rules"
#: Budget types whose only limit is 100 PERCENTAGE.
PERCENT_ONLY: Final = frozenset(
    {"RI_UTILIZATION", "RI_COVERAGE", "SAVINGS_PLANS_UTILIZATION", "SAVINGS_PLANS_COVERAGE"}
)


def _hundred_percent(limit: Any) -> bool:
    try:
        return bool(
            isinstance(limit, dict)
            and limit.get("Unit") == "PERCENTAGE"
            and Decimal(str(limit.get("Amount"))) == 100
        )
    except InvalidOperation:
        return False


def check_budget(budget: dict[str, Any], action: str) -> dict[str, Any]:
    """The budget AWS would store for `budget` (a limit filled in), or the error it answers."""
    if "CostFilters" in budget and "FilterExpression" in budget:
        raise _invalid(
            f"Unable to {action} budget - CostFilters and FilterExpression cannot be used "
            "together; use FilterExpression."
        )
    kind = budget.get("BudgetType")
    if kind not in PERCENT_ONLY:
        return budget
    if "PlannedBudgetLimits" in budget:
        raise _invalid(
            f"Unable to {action} budget - PlannedBudgetLimits is available only for COST and "
            "USAGE budgets."
        )
    if "BudgetLimit" not in budget:
        return {**budget, "BudgetLimit": {"Amount": "100.0", "Unit": "PERCENTAGE"}}
    if not _hundred_percent(budget["BudgetLimit"]):
        raise _invalid(
            f"Unable to {action} budget - the budget limit of a {kind} budget must be 100 "
            "PERCENTAGE."
        )
    return budget


def check_notifications(entries: list[Any]) -> None:
    """``NotificationsWithSubscribers`` as ``CreateNotification`` would take them one by one."""
    if len(entries) > MAX_NOTIFICATIONS:
        raise BudgetsError(
            "CreationLimitExceededException",
            f"A budget can have at most {MAX_NOTIFICATIONS} notifications.",
        )
    keys = [_notification_key(entry.get("Notification") or {}) for entry in entries]
    if len(set(keys)) != len(keys):
        raise BudgetsError(
            "DuplicateRecordException",
            "Unable to create notification - the notification already exists.",
        )
    for entry in entries:
        _check_subscribers(list(entry.get("Subscribers") or []))


def _rewrite(response: BudgetsResponse, key: str, value: Any) -> None:
    """Replace one request parameter before moto reads it (Budgets params are read from the
    JSON body on every ``_get_param``)."""
    raw = response.body
    body = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else (raw or "{}"))
    body[key] = value
    response.body = json.dumps(body)


def _hide_filters(budget: dict[str, Any]) -> None:
    budget.pop("FilterExpression", None)


def install() -> None:
    """Wrap Create/UpdateBudget and DescribeBudget(s) with the rules above. Idempotent; after
    :func:`reconciler.emulator.budgets.install`."""
    if getattr(BudgetsResponse, _MARKER, False):
        return
    original_create = BudgetsResponse.create_budget
    original_update = getattr(BudgetsResponse, "update_budget")  # noqa: B009 - bound by budgets.install()
    original_describe = BudgetsResponse.describe_budget
    original_describe_all = BudgetsResponse.describe_budgets

    def create_budget(self: BudgetsResponse) -> str:
        if current().budgets_rules:
            budget = check_budget(dict(self._get_param("Budget") or {}), "create")
            check_notifications(list(self._get_param("NotificationsWithSubscribers") or []))
            _rewrite(self, "Budget", budget)
        result: str = original_create(self)
        return result

    def update_budget(self: BudgetsResponse) -> str:
        if current().budgets_rules:
            new = check_budget(dict(self._get_param("NewBudget") or {}), "update")
            _rewrite(self, "NewBudget", new)
        result: str = original_update(self)
        return result

    def describe_budget(self: BudgetsResponse) -> str:
        answer = json.loads(original_describe(self))
        if current().budgets_rules and not self._get_param("ShowFilterExpression"):
            _hide_filters(answer["Budget"])
        return json.dumps(answer)

    def describe_budgets(self: BudgetsResponse) -> str:
        answer = json.loads(original_describe_all(self))
        if current().budgets_rules and not self._get_param("ShowFilterExpression"):
            for budget in answer.get("Budgets") or []:
                _hide_filters(budget)
        return json.dumps(answer)

    BudgetsResponse.create_budget = create_budget  # type: ignore[method-assign]
    BudgetsResponse.update_budget = update_budget  # type: ignore[attr-defined]
    BudgetsResponse.describe_budget = describe_budget  # type: ignore[method-assign]
    BudgetsResponse.describe_budgets = describe_budgets  # type: ignore[method-assign]
    setattr(BudgetsResponse, _MARKER, True)
