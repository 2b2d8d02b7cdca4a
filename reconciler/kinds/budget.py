"""`Budget`: an AWS Budgets cost budget and its notifications, managed whole.

Notifications and their subscribers are sets: order in the manifest does not matter. Created when
missing; deleted by prune when it carries this environment's tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StringConstraints

from reconciler.context import Context
from reconciler.errors import PermanentError, TemporaryError
from reconciler.kinds.base import Pruned, Reading
from reconciler.kinds.compare import compare
from reconciler.model import PATTERN_HINTS, Manifest, Metadata, Strict
from reconciler.plan import OWNER_TAG, Action, Change, Diff, Observed

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_budgets.type_defs import (
        BudgetTypeDef,
        NotificationTypeDef,
        SpendTypeDef,
        SubscriberTypeDef,
    )

    from reconciler.aws import Clients

BUDGET_NAME = r"^[^:\\]{1,100}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SNS_TOPIC = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"
PATTERN_HINTS[BUDGET_NAME] = "a budget name (up to 100 characters, no ':' or '\\')"
PATTERN_HINTS[EMAIL] = "an e-mail address"


class Limit(Strict):
    """The budgeted amount."""

    amount: float = Field(gt=0, description="The limit, a number greater than 0.")
    unit: Literal["USD"] = "USD"


class Subscriber(Strict):
    """Who is told: an e-mail address or an SNS topic ARN."""

    type: Literal["EMAIL", "SNS"]
    address: Annotated[str, StringConstraints(min_length=1, max_length=2147)]


class Notification(Strict):
    """When to tell: actual or forecasted spend crossing a threshold."""

    notification_type: Literal["ACTUAL", "FORECASTED"]
    comparison_operator: Literal["GREATER_THAN", "LESS_THAN", "EQUAL_TO"]
    threshold: float = Field(ge=0, le=1_000_000_000)
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
    """Rules across fields: subscriber addresses fit their type; no notification twice."""
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
        if note.threshold_type == "PERCENTAGE" and note.threshold > 1000:
            yield (
                ("spec", "notifications", index, "threshold"),
                f"{Decimal(str(note.threshold)).normalize():f} is more than 1000 percent",
            )
        emails = 0
        for position, subscriber in enumerate(note.subscribers):
            path = ("spec", "notifications", index, "subscribers", position, "address")
            if subscriber.type == "EMAIL":
                emails += 1
                if not re.match(EMAIL, subscriber.address):
                    yield path, f"'{subscriber.address}' is not an e-mail address"
            elif not re.match(SNS_TOPIC, subscriber.address):
                yield path, f"'{subscriber.address}' is not an SNS topic ARN"
        if emails > 10:
            yield (
                ("spec", "notifications", index, "subscribers"),
                f"{emails} e-mail subscribers; AWS allows at most 10 per notification",
            )


# --- the engine ------------------------------------------------------------------------------
#
# Diff field paths, as a person reads them in a plan:
#   `limit.amount`, `limit.unit`, `timeUnit`, `budgetType`      the budget itself;
#   `notifications[i].threshold` (any of notificationType, comparisonOperator, threshold,
#     thresholdType)                                             declared notification i (its
#                                                                position in the manifest) is in
#                                                                AWS with that field changed;
#   `notifications[i].subscribers`                               its subscriber set differs;
#   `notifications[i]`                                           it is not in AWS: it is added;
#   `notifications`                                              AWS has notifications the
#                                                                manifest does not declare (they
#                                                                are deleted); desired and actual
#                                                                are then the whole sets.
# A declared notification is "in AWS" when AWS has one with the same identity (type, operator,
# threshold, threshold type; how AWS itself names a notification), or, failing that, an
# undeclared one sharing at least two of those four fields: an edit in place.

#: DescribeBudgets and DescribeBudgetNotificationsForAccount page size (the AWS maximum).
PAGE_SIZE = 1000
#: DescribeNotificationsForBudget and DescribeSubscribersForNotification page size (AWS maximum).
SMALL_PAGE_SIZE = 100
_IDENTITY = ("notificationType", "comparisonOperator", "threshold", "thresholdType")
_THROTTLED = {"ThrottlingException", "TooManyRequestsException", "InternalErrorException"}

Note = dict[str, Any]
Sub = tuple[str, str]


def _number(value: Any) -> int | float:
    """`"50"`, `50` and `"50.0"` as one JSON number: an int when whole, else a float."""
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _amount(value: Any) -> str:
    """A number as the decimal string Budgets expects (`50`, `12.5`, never `5E+1`)."""
    return format(Decimal(str(value)).normalize(), "f")


def _subscribers(items: Iterable[Sub]) -> list[dict[str, str]]:
    """A subscriber set in canonical order (type, then address), duplicates dropped."""
    return [{"type": kind, "address": address} for kind, address in sorted(set(items))]


def _note(
    kind: str, operator: str, threshold: Any, threshold_type: str, subs: Iterable[Sub]
) -> Note:
    return {
        "notificationType": kind,
        "comparisonOperator": operator,
        "threshold": _number(threshold),
        "thresholdType": threshold_type,
        "subscribers": _subscribers(subs),
    }


def _identity(note: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(Decimal(str(note[key])) if key == "threshold" else note[key] for key in _IDENTITY)


def _sorted(notes: Iterable[Note]) -> list[Note]:
    """Notifications in canonical order, so manifest order never shows as drift."""
    return sorted(
        notes, key=lambda n: (*_identity(n), [tuple(s.values()) for s in n["subscribers"]])
    )


def _sub_set(note: Mapping[str, Any]) -> set[Sub]:
    return {(s["type"], s["address"]) for s in note["subscribers"]}


@dataclass(frozen=True)
class _Match:
    """Declared notifications paired with AWS's: (declared index, AWS index) pairs and the rest."""

    pairs: list[tuple[int, int]]
    added: list[int]
    removed: list[int]


def _match(desired: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]]) -> _Match:
    """Pair by identity first, then edits in place (two or more identity fields shared)."""
    by_identity = {_identity(note): j for j, note in enumerate(actual)}
    pairs: list[tuple[int, int]] = []
    free_d: list[int] = []
    free_a = set(range(len(actual)))
    for i, note in enumerate(desired):
        j = by_identity.get(_identity(note))
        if j is not None and j in free_a:
            pairs.append((i, j))
            free_a.discard(j)
        else:
            free_d.append(i)
    candidates = []
    for i in free_d:
        for j in sorted(free_a):
            shared = sum(
                a == b for a, b in zip(_identity(desired[i]), _identity(actual[j]), strict=True)
            )
            if shared >= 2:
                likeness = 2 * shared + (_sub_set(desired[i]) == _sub_set(actual[j]))
                candidates.append((-likeness, i, j))
    taken: set[int] = set()
    for _, i, j in sorted(candidates):
        if i not in taken and j in free_a:
            pairs.append((i, j))
            taken.add(i)
            free_a.discard(j)
    return _Match(
        pairs=sorted(pairs),
        added=[i for i in free_d if i not in taken],
        removed=sorted(free_a),
    )


@dataclass(frozen=True)
class _SubscriberEdits:
    """The fewest subscriber calls from one set to another: same-type swaps become updates."""

    update: list[tuple[Sub, Sub]]
    create: list[Sub]
    delete: list[Sub]

    @property
    def calls(self) -> int:
        return len(self.update) + len(self.create) + len(self.delete)


def _subscriber_edits(want: set[Sub], have: set[Sub]) -> _SubscriberEdits:
    update: list[tuple[Sub, Sub]] = []
    create: list[Sub] = []
    delete: list[Sub] = []
    for kind in sorted({k for k, _ in want ^ have}):
        adds = sorted(s for s in want - have if s[0] == kind)
        drops = sorted(s for s in have - want if s[0] == kind)
        pairs = min(len(adds), len(drops))
        update += zip(drops[:pairs], adds[:pairs], strict=True)
        create += adds[pairs:]
        delete += drops[pairs:]
    return _SubscriberEdits(update, create, delete)


# --- translation to and from AWS shapes --------------------------------------------------------


def _arn(context: Context, name: str) -> str:
    return f"arn:{context.partition}:budgets::{context.account}:budget/{name}"


def _aws_notification(note: Mapping[str, Any]) -> NotificationTypeDef:
    return {
        "NotificationType": note["notificationType"],
        "ComparisonOperator": note["comparisonOperator"],
        "Threshold": float(note["threshold"]),
        "ThresholdType": note["thresholdType"],
    }


def _aws_subscriber(sub: Sub) -> SubscriberTypeDef:
    return {"SubscriptionType": sub[0], "Address": sub[1]}  # type: ignore[typeddict-item]


def _aws_limit(want: Mapping[str, Any]) -> SpendTypeDef:
    return {"Amount": _amount(want["limit"]["amount"]), "Unit": want["limit"]["unit"]}


def _from_aws(notification: Mapping[str, Any], subscribers: Iterable[Mapping[str, Any]]) -> Note:
    return _note(
        notification["NotificationType"],
        notification["ComparisonOperator"],
        notification["Threshold"],
        notification.get("ThresholdType") or "PERCENTAGE",
        ((s["SubscriptionType"], s["Address"]) for s in subscribers),
    )


def _core(budget: Mapping[str, Any]) -> dict[str, Any]:
    """The budget's own managed fields in manifest spelling (`limit` None for planned limits)."""
    limit = budget.get("BudgetLimit")
    return {
        "limit": ({"amount": _number(limit["Amount"]), "unit": limit["Unit"]} if limit else None),
        "timeUnit": budget.get("TimeUnit"),
        "budgetType": budget.get("BudgetType"),
    }


def _spec(manifest: Manifest) -> BudgetSpec:
    if not isinstance(manifest, Budget):
        raise TypeError(f"{manifest.ref} is not a Budget")
    return manifest.spec


def _declared_notes(spec: BudgetSpec) -> list[Note]:
    """The manifest's notifications in manifest order (diff paths index into this)."""
    return [
        _note(
            n.notification_type,
            n.comparison_operator,
            n.threshold,
            n.threshold_type,
            ((s.type, s.address) for s in n.subscribers),
        )
        for n in spec.notifications
    ]


@contextmanager
def _retryable(ref: str) -> Iterator[None]:
    """Throttling and AWS-side errors become `TemporaryError`; other ClientErrors propagate."""
    # Imported here: loading and planning must not import botocore (a unit test holds this).
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _THROTTLED:
            raise TemporaryError(f"{ref}: AWS Budgets answered {code}; retry later") from exc
        raise


# --- reading AWS ---------------------------------------------------------------------------------


def _all_budgets(client: BudgetsClient, context: Context) -> list[Mapping[str, Any]]:
    """Every budget of the account: one DescribeBudgets call per 1000 budgets."""
    pages = client.get_paginator("describe_budgets").paginate(
        AccountId=context.account, PaginationConfig={"PageSize": PAGE_SIZE}
    )
    return [budget for page in pages for budget in page.get("Budgets", [])]


def _tags(client: BudgetsClient, context: Context, name: str) -> dict[str, str]:
    tags = client.list_tags_for_resource(ResourceARN=_arn(context, name))
    return {tag["Key"]: tag["Value"] for tag in tags.get("ResourceTags", [])}


def _subscribers_of(
    client: BudgetsClient, context: Context, name: str, notification: Mapping[str, Any]
) -> Note:
    key = _aws_notification(_from_aws(notification, []))
    pages = client.get_paginator("describe_subscribers_for_notification").paginate(
        AccountId=context.account,
        BudgetName=name,
        Notification=key,
        PaginationConfig={"PageSize": SMALL_PAGE_SIZE},
    )
    return _from_aws(notification, (s for page in pages for s in page.get("Subscribers", [])))


def _account_notifications(
    client: BudgetsClient, context: Context, names: set[str]
) -> dict[str, list[Mapping[str, Any]]]:
    """The notifications of the named budgets: one call per 1000 budgets in the account."""
    pages = client.get_paginator("describe_budget_notifications_for_account").paginate(
        AccountId=context.account, PaginationConfig={"PageSize": PAGE_SIZE}
    )
    found: dict[str, list[Mapping[str, Any]]] = {}
    for page in pages:
        for entry in page.get("BudgetNotificationsForAccount", []):
            name = entry.get("BudgetName", "")
            if name in names:
                found.setdefault(name, []).extend(entry.get("Notifications", []))
    return found


def _read_one(
    client: BudgetsClient, context: Context, name: str
) -> tuple[Mapping[str, Any], list[Note], dict[str, str]] | None:
    """One budget as it is now (budget, notifications, tags), or None when it does not exist."""
    try:
        budget = client.describe_budget(AccountId=context.account, BudgetName=name)["Budget"]
    except client.exceptions.NotFoundException:
        return None
    pages = client.get_paginator("describe_notifications_for_budget").paginate(
        AccountId=context.account, BudgetName=name, PaginationConfig={"PageSize": SMALL_PAGE_SIZE}
    )
    notes = [
        _subscribers_of(client, context, name, n)
        for page in pages
        for n in page.get("Notifications", [])
    ]
    return budget, notes, _tags(client, context, name)


# --- the engine --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetEngine(Pruned):
    """Budgets, managed whole: limit, time unit, type, and notifications with subscribers as sets.

    `observe` reads N declared budgets (k notifications each, ≤ 1000 budgets in the account) in
    2 + N·(k + 1) calls: DescribeBudgets and DescribeBudgetNotificationsForAccount at once, then
    per budget ListTagsForResource and per notification DescribeSubscribersForNotification (AWS
    has no batch read for subscribers or budget tags), from `workers` threads as soon as the
    listing each needs has answered. With prune, the tags of the account's other budgets are read
    in the same pass to find the owned ones.

    `apply` re-reads the one budget before it writes and makes only the calls that close the gap:
    UpdateBudget only when limit, time unit or type differ (keeping the cost filters, cost types
    and time period it does not manage, except that a new time unit or type lets AWS pick its
    default period or cost types); per notification the cheapest of UpdateNotification plus
    subscriber calls or DeleteNotification plus CreateNotification; TagResource only when the
    ownership tag is missing. Applied twice, the second apply writes nothing.
    """

    kind = "Budget"
    noun = "budgets"
    creatable = True
    prunable = True

    #: Calls in flight at once; the pacer, not this, holds them to the Budgets quota.
    workers: int = 16

    def read(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """The declared budgets that exist and, with `owned`, those tagged for the environment
        (declared or not), each budget's tags read once for both."""
        client = aws.budgets
        names = {manifest.name for manifest in manifests}
        if not names and not owned:
            return {}, {}
        with _retryable("Budget"), ThreadPoolExecutor(max_workers=self.workers) as pool:
            listing = pool.submit(_all_budgets, client, context)
            noting = pool.submit(_account_notifications, client, context, names) if names else None
            budgets = {budget["BudgetName"]: budget for budget in listing.result()}
            declared = sorted(names & budgets.keys())
            tags = {
                name: pool.submit(_tags, client, context, name)
                for name in (sorted(budgets) if owned else declared)
            }
            notifications = noting.result() if noting is not None and declared else {}
            notes = {
                name: [
                    pool.submit(_subscribers_of, client, context, name, notification)
                    for notification in notifications.get(name, [])
                ]
                for name in declared
            }
            found = {
                name: Observed(
                    name,
                    {
                        **_core(budgets[name]),
                        "notifications": _sorted([note.result() for note in notes[name]]),
                    },
                    tags[name].result(),
                )
                for name in declared
            }
            mine = {
                name: Observed(name, _core(budgets[name]), tagged.result())
                for name, tagged in tags.items()
                if owned and tagged.result().get(OWNER_TAG) == context.environment
            }
        return found, mine

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """The whole budget with defaults filled in; notifications and subscribers sorted."""
        spec = _spec(manifest)
        return {
            "limit": {"amount": _number(spec.limit.amount), "unit": spec.limit.unit},
            "timeUnit": spec.time_unit,
            "budgetType": spec.budget_type,
            "notifications": _sorted(_declared_notes(spec)),
        }

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        """Diffs by the field paths described at the top of this section."""
        want = self.desired(manifest)
        have = observed.fields
        diffs = compare(want["limit"], have.get("limit") or {}, prefix="limit.")
        diffs += compare({key: want[key] for key in ("timeUnit", "budgetType")}, have)
        declared = _declared_notes(_spec(manifest))
        actual: list[Note] = list(have.get("notifications", []))
        match = _match(declared, actual)
        by_index: list[tuple[int, list[Diff]]] = []
        for i, j in match.pairs:
            prefix = f"notifications[{i}]."
            found = compare({key: declared[i][key] for key in _IDENTITY}, actual[j], prefix)
            if _sub_set(declared[i]) != _sub_set(actual[j]):
                found.append(
                    Diff(
                        field=f"{prefix}subscribers",
                        desired=declared[i]["subscribers"],
                        actual=actual[j]["subscribers"],
                    )
                )
            by_index.append((i, found))
        for i in match.added:
            by_index.append(
                (i, [Diff(field=f"notifications[{i}]", desired=declared[i], actual=None)])
            )
        for _, found in sorted(by_index, key=lambda item: item[0]):
            diffs += found
        if match.removed:
            diffs.append(
                Diff(field="notifications", desired=want["notifications"], actual=_sorted(actual))
            )
        return diffs

    def apply(self, aws: Clients, change: Change, context: Context) -> None:
        """Create, update (re-reading the budget first) or delete one budget."""
        with _retryable(change.ref):
            if change.action is Action.DELETE:
                _delete(aws.budgets, change.name, context)
                return
            if change.desired is None or change.action not in (Action.CREATE, Action.UPDATE):
                raise PermanentError(f"{change.ref}: nothing to apply for a {change.action} change")
            if change.action is Action.CREATE:
                _create(aws.budgets, change.name, change.desired, context)
            else:
                _update(aws.budgets, change.name, change.desired, context)


# --- writing AWS ---------------------------------------------------------------------------------


def _create(client: BudgetsClient, name: str, want: Mapping[str, Any], context: Context) -> None:
    """CreateBudget. When the budget exists already (a create re-sent after its answer was lost,
    or one made since the plan), carry on as an update: `_update` refuses a budget another
    environment owns."""
    try:
        _create_call(client, name, want, context)
    except client.exceptions.DuplicateRecordException:
        _update(client, name, want, context)


def _create_call(
    client: BudgetsClient, name: str, want: Mapping[str, Any], context: Context
) -> None:
    client.create_budget(
        AccountId=context.account,
        Budget={
            "BudgetName": name,
            "BudgetLimit": _aws_limit(want),
            "TimeUnit": want["timeUnit"],
            "BudgetType": want["budgetType"],
        },
        NotificationsWithSubscribers=[
            {
                "Notification": _aws_notification(note),
                "Subscribers": [_aws_subscriber(s) for s in sorted(_sub_set(note))],
            }
            for note in want["notifications"]
        ],
        ResourceTags=[{"Key": OWNER_TAG, "Value": context.environment}],
    )


def _delete(client: BudgetsClient, name: str, context: Context) -> None:
    """DeleteBudget; a budget already gone is the wanted outcome, not a failure."""
    try:
        client.delete_budget(AccountId=context.account, BudgetName=name)
    except client.exceptions.NotFoundException:
        return


def _update(client: BudgetsClient, name: str, want: Mapping[str, Any], context: Context) -> None:
    current = _read_one(client, context, name)
    if current is None:
        raise PermanentError(f"Budget/{name} no longer exists; plan again to create it")
    budget, notes, tags = current
    owner = tags.get(OWNER_TAG)
    if owner is not None and owner != context.environment:
        raise PermanentError(
            f"Budget/{name} is now owned by environment '{owner}' ({OWNER_TAG}); not changed"
        )
    core = {key: want[key] for key in ("limit", "timeUnit", "budgetType")}
    if compare(core, _core(budget)):
        client.update_budget(AccountId=context.account, NewBudget=_new_budget(name, want, budget))
    _reconcile_notifications(client, context, name, want["notifications"], notes)
    if owner is None:
        client.tag_resource(
            ResourceARN=_arn(context, name),
            ResourceTags=[{"Key": OWNER_TAG, "Value": context.environment}],
        )


def _new_budget(name: str, want: Mapping[str, Any], current: Mapping[str, Any]) -> BudgetTypeDef:
    """The managed fields from the manifest; the unmanaged ones AWS has are kept."""
    new: BudgetTypeDef = {
        "BudgetName": name,
        "BudgetLimit": _aws_limit(want),
        "TimeUnit": want["timeUnit"],
        "BudgetType": want["budgetType"],
    }
    if "CostFilters" in current:
        new["CostFilters"] = current["CostFilters"]
    if "FilterExpression" in current:
        new["FilterExpression"] = current["FilterExpression"]
    if "Metrics" in current:
        new["Metrics"] = current["Metrics"]
    if "BillingViewArn" in current:
        new["BillingViewArn"] = current["BillingViewArn"]
    if "CostTypes" in current and current.get("BudgetType") == want["budgetType"]:
        new["CostTypes"] = current["CostTypes"]
    if "TimePeriod" in current and current.get("TimeUnit") == want["timeUnit"]:
        new["TimePeriod"] = current["TimePeriod"]
    return new


def _reconcile_notifications(
    client: BudgetsClient,
    context: Context,
    name: str,
    desired: Sequence[Note],
    actual: Sequence[Note],
) -> None:
    """Deletes first (room under the 10-notification quota), then edits, then additions."""
    where = {"AccountId": context.account, "BudgetName": name}
    match = _match(desired, actual)
    replaced: list[int] = []
    for i, j in match.pairs:
        want, have = desired[i], actual[j]
        edits = _subscriber_edits(_sub_set(want), _sub_set(have))
        if _identity(want) == _identity(have):
            _edit_subscribers(client, where, want, edits)
        elif 1 + edits.calls <= 2:
            client.update_notification(
                **where,
                OldNotification=_aws_notification(have),
                NewNotification=_aws_notification(want),
            )
            _edit_subscribers(client, where, want, edits)
        else:
            replaced.append(i)
            client.delete_notification(**where, Notification=_aws_notification(have))
    for j in match.removed:
        client.delete_notification(**where, Notification=_aws_notification(actual[j]))
    for i in [*replaced, *match.added]:
        client.create_notification(
            **where,
            Notification=_aws_notification(desired[i]),
            Subscribers=[_aws_subscriber(s) for s in sorted(_sub_set(desired[i]))],
        )


def _edit_subscribers(
    client: BudgetsClient, where: Mapping[str, str], note: Note, edits: _SubscriberEdits
) -> None:
    """Updates, then creates, then deletes: the set never empties (that would delete the note)."""
    notification = _aws_notification(note)
    for old, new in edits.update:
        client.update_subscriber(
            **where,
            Notification=notification,
            OldSubscriber=_aws_subscriber(old),
            NewSubscriber=_aws_subscriber(new),
        )
    for sub in edits.create:
        client.create_subscriber(
            **where, Notification=notification, Subscriber=_aws_subscriber(sub)
        )
    for sub in edits.delete:
        client.delete_subscriber(
            **where, Notification=notification, Subscriber=_aws_subscriber(sub)
        )


ENGINE = BudgetEngine()
