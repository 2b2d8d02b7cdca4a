"""The `Budget` engine: AWS Budgets read in few calls, and written with the fewest calls that close
the gap (notifications and subscribers as sets, `notifications.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds.base import Current, Engine, Reading
from reconciler.kinds.budget import KIND
from reconciler.kinds.budget import notifications as sets
from reconciler.kinds.budget.model import FIXED_AT_100, Budget, BudgetSpec
from reconciler.kinds.budget.notifications import Note
from reconciler.kinds.compare import compare
from reconciler.ownership import owner
from reconciler.plan import Diff, Observed

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_budgets.type_defs import BudgetTypeDef

    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.model import Manifest

#: DescribeBudgets and DescribeBudgetNotificationsForAccount page size (the AWS maximum).
PAGE_SIZE = 1000
#: DescribeNotificationsForBudget and DescribeSubscribersForNotification page size (AWS maximum).
SMALL_PAGE_SIZE = 100

#: What `read_one` reads of a budget: the budget itself and its notifications with subscribers.
State = tuple[Mapping[str, Any], list[Note]]


@dataclass(frozen=True)
class BudgetEngine(Engine[State]):
    """Budgets, managed whole: limit, time unit, type, and notifications with subscribers as sets.

    `fetch` reads N declared budgets (k notifications each, ≤ 1000 budgets in the account) in
    2 + N·(k + 1) calls: DescribeBudgets and DescribeBudgetNotificationsForAccount at once, then
    per budget ListTagsForResource and per notification DescribeSubscribersForNotification (AWS
    has no batch read for subscribers or budget tags), from `workers` threads as soon as the
    listing each needs has answered. Budgets are read with `ShowFilterExpression` (AWS leaves a
    budget's `FilterExpression` out otherwise); one with planned limits is refused
    (`Observed.refusal`): a manifest cannot express them. With prune, the tags of the account's
    other budgets are read in the same pass to find the owned ones.

    A write makes only the calls that close the gap with the budget read just before it:
    UpdateBudget only when limit, time unit or type differ (sending back everything it does not
    manage, since UpdateBudget replaces the whole budget: `_new_budget`); per notification the
    cheapest of UpdateNotification plus subscriber calls or DeleteNotification plus
    CreateNotification. Applied twice, the second
    apply writes nothing.
    """

    description = KIND
    workers: int = 16

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """The declared budgets that exist and, with `owned`, those tagged for the environment
        (declared or not), each budget's tags read once for both."""
        client: BudgetsClient = self.client(aws)
        names = {manifest.name for manifest in manifests}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
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
                        **sets.core(budgets[name]),
                        "notifications": sets.canonical([note.result() for note in notes[name]]),
                    },
                    tags[name].result(),
                    _refusal(budgets[name]),
                )
                for name in declared
            }
            mine = {
                name: Observed(
                    name, sets.core(budgets[name]), tagged.result(), _refusal(budgets[name])
                )
                for name, tagged in tags.items()
                if owned and owner(tagged.result()) == context.environment
            }
        return found, mine

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """The whole budget with defaults filled in; notifications and subscribers sorted. A
        utilisation or coverage budget's limit is AWS's only one, 100 PERCENTAGE (the manifest
        can say only 100, and its unit USD, which AWS refuses for these)."""
        spec = _spec(manifest)
        unit = "PERCENTAGE" if spec.budget_type in FIXED_AT_100 else spec.limit.unit
        return {
            "limit": {"amount": sets.number(spec.limit.amount), "unit": unit},
            "timeUnit": spec.time_unit,
            "budgetType": spec.budget_type,
            "notifications": sets.canonical(_declared_notes(spec)),
        }

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        """Diffs by the field paths `notifications.py` describes."""
        want = self.desired(manifest)
        have = observed.fields
        found = compare(want["limit"], have.get("limit") or {}, prefix="limit.")
        found += compare({key: want[key] for key in ("timeUnit", "budgetType")}, have)
        declared = _declared_notes(_spec(manifest))
        actual: list[Note] = list(have.get("notifications", []))
        return found + sets.diffs(declared, actual, want["notifications"])

    # --- the primitives of a write --------------------------------------------------------------

    def read_one(self, aws: Clients, name: str, context: Context) -> Current[State] | None:
        """The budget, its notifications with their subscribers, and its tags."""
        client: BudgetsClient = self.client(aws)
        found = self.call(
            client.describe_budget,
            missing_ok=True,
            AccountId=context.account,
            BudgetName=name,
            ShowFilterExpression=True,  # AWS leaves FilterExpression out unless asked
        )
        if found is None:
            return None
        pages = client.get_paginator("describe_notifications_for_budget").paginate(
            AccountId=context.account,
            BudgetName=name,
            PaginationConfig={"PageSize": SMALL_PAGE_SIZE},
        )
        notes = [
            _subscribers_of(client, context, name, n)
            for page in pages
            for n in page.get("Notifications", [])
        ]
        budget = found["Budget"]
        return Current(name, _tags(client, context, name), (budget, notes), _refusal(budget))

    def create(
        self,
        aws: Clients,
        name: str,
        desired: dict[str, Any],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        """CreateBudget with its notifications, subscribers and tags, in one call."""
        client: BudgetsClient = self.client(aws)
        self.call(
            client.create_budget,
            AccountId=context.account,
            Budget={
                "BudgetName": name,
                "BudgetLimit": sets.aws_limit(desired),
                "TimeUnit": desired["timeUnit"],
                "BudgetType": desired["budgetType"],
            },
            NotificationsWithSubscribers=[
                {
                    "Notification": sets.aws_notification(note),
                    "Subscribers": [
                        sets.aws_subscriber(s) for s in sorted(sets.subscriber_set(note))
                    ],
                }
                for note in desired["notifications"]
            ],
            ResourceTags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )

    def update(
        self, aws: Clients, current: Current[State], desired: dict[str, Any], context: Context
    ) -> bool:
        """UpdateBudget when the budget itself differs; then the notifications' edits."""
        client: BudgetsClient = self.client(aws)
        budget, notes = current.state
        wrote = False
        core = {key: desired[key] for key in ("limit", "timeUnit", "budgetType")}
        if compare(core, sets.core(budget)):
            self.call(
                client.update_budget,
                AccountId=context.account,
                NewBudget=_new_budget(current.name, desired, budget),
            )
            wrote = True
        where = {"AccountId": context.account, "BudgetName": current.name}
        return self._notifications(client, where, desired["notifications"], notes) or wrote

    def tag(
        self, aws: Clients, current: Current[State], context: Context, tags: Mapping[str, str]
    ) -> None:
        client: BudgetsClient = self.client(aws)
        self.call(
            client.tag_resource,
            ResourceARN=_arn(context, current.name),
            ResourceTags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )

    def delete(self, aws: Clients, current: Current[State], context: Context) -> None:
        client: BudgetsClient = self.client(aws)
        self.call(client.delete_budget, AccountId=context.account, BudgetName=current.name)

    def _notifications(
        self,
        client: BudgetsClient,
        where: dict[str, Any],
        desired: Sequence[Note],
        actual: Sequence[Note],
    ) -> bool:
        """Deletes first (room under the 10-notification quota), then edits, then additions;
        whether anything was written."""
        match = sets.match(desired, actual)
        replaced: list[int] = []
        wrote = False
        for i, j in match.pairs:
            want, have = desired[i], actual[j]
            edits = sets.subscriber_edits(sets.subscriber_set(want), sets.subscriber_set(have))
            if sets.identity(want) == sets.identity(have):
                wrote = self._subscribers(client, where, want, edits) or wrote
            elif 1 + edits.calls <= 2:
                self.call(
                    client.update_notification,
                    **where,
                    OldNotification=sets.aws_notification(have),
                    NewNotification=sets.aws_notification(want),
                )
                self._subscribers(client, where, want, edits)
                wrote = True
            else:
                replaced.append(i)
                self.call(
                    client.delete_notification, **where, Notification=sets.aws_notification(have)
                )
        for j in match.removed:
            self.call(
                client.delete_notification, **where, Notification=sets.aws_notification(actual[j])
            )
        for i in [*replaced, *match.added]:
            self.call(
                client.create_notification,
                **where,
                Notification=sets.aws_notification(desired[i]),
                Subscribers=[
                    sets.aws_subscriber(s) for s in sorted(sets.subscriber_set(desired[i]))
                ],
            )
        return wrote or bool(replaced or match.removed or match.added)

    def _subscribers(
        self,
        client: BudgetsClient,
        where: dict[str, Any],
        note: Note,
        edits: sets.SubscriberEdits,
    ) -> bool:
        """Updates, then creates, then deletes: the set never empties (that would delete the
        notification); whether anything was written."""
        notification = sets.aws_notification(note)
        for old, new in edits.update:
            self.call(
                client.update_subscriber,
                **where,
                Notification=notification,
                OldSubscriber=sets.aws_subscriber(old),
                NewSubscriber=sets.aws_subscriber(new),
            )
        for sub in edits.create:
            self.call(
                client.create_subscriber,
                **where,
                Notification=notification,
                Subscriber=sets.aws_subscriber(sub),
            )
        for sub in edits.delete:
            self.call(
                client.delete_subscriber,
                **where,
                Notification=notification,
                Subscriber=sets.aws_subscriber(sub),
            )
        return edits.calls > 0


ENGINE = BudgetEngine()


def _spec(manifest: Manifest) -> BudgetSpec:
    if not isinstance(manifest, Budget):
        raise TypeError(f"{manifest.ref} is not a Budget")
    return manifest.spec


def _declared_notes(spec: BudgetSpec) -> list[Note]:
    """The manifest's notifications in manifest order (diff paths index into this)."""
    return [
        sets.notification(
            n.notification_type,
            n.comparison_operator,
            n.threshold,
            n.threshold_type,
            ((s.type, s.address) for s in n.subscribers),
        )
        for n in spec.notifications
    ]


def _arn(context: Context, name: str) -> str:
    return context.arn("budgets", f"budget/{name}", regional=False)


def _refusal(budget: Mapping[str, Any]) -> str | None:
    """Why the budget must be left alone: planned limits (one per period), which a manifest's one
    limit cannot express; `UpdateBudget` takes `BudgetLimit` or `PlannedBudgetLimits`, never both,
    so an update would either drop them or never apply the declared limit."""
    if budget.get("PlannedBudgetLimits"):
        return (
            "has planned limits (one per period); a Budget manifest declares one limit and "
            "cannot express them, so it is never overwritten"
        )
    return None


def _new_budget(name: str, want: Mapping[str, Any], current: Mapping[str, Any]) -> BudgetTypeDef:
    """The managed fields from the manifest; the unmanaged ones AWS has (read with
    `ShowFilterExpression`) are sent back, since `UpdateBudget` replaces the whole budget.

    AWS takes one family of filters and metrics: `FilterExpression` and `Metrics`, or the older
    `CostFilters` and `CostTypes`, "not both or a different combination" (UpdateBudget's
    documentation); a budget that has either of the first two keeps those. `CostTypes` and
    `TimePeriod` are kept only while the budget type and time unit stay (a new one lets AWS pick
    its defaults). Planned limits never get here (`_refusal`).
    """
    new: BudgetTypeDef = {
        "BudgetName": name,
        "BudgetLimit": sets.aws_limit(want),
        "TimeUnit": want["timeUnit"],
        "BudgetType": want["budgetType"],
    }
    if "FilterExpression" in current or "Metrics" in current:
        if "FilterExpression" in current:
            new["FilterExpression"] = current["FilterExpression"]
        if "Metrics" in current:
            new["Metrics"] = current["Metrics"]
    else:
        if "CostFilters" in current:
            new["CostFilters"] = current["CostFilters"]
        if "CostTypes" in current and current.get("BudgetType") == want["budgetType"]:
            new["CostTypes"] = current["CostTypes"]
    if "AutoAdjustData" in current:
        new["AutoAdjustData"] = current["AutoAdjustData"]
    if "BillingViewArn" in current:
        new["BillingViewArn"] = current["BillingViewArn"]
    if "TimePeriod" in current and current.get("TimeUnit") == want["timeUnit"]:
        new["TimePeriod"] = current["TimePeriod"]
    return new


# --- reading AWS ---------------------------------------------------------------------------------


def _all_budgets(client: BudgetsClient, context: Context) -> list[Mapping[str, Any]]:
    """Every budget of the account: one DescribeBudgets call per 1000 budgets."""
    pages = client.get_paginator("describe_budgets").paginate(
        AccountId=context.account,
        ShowFilterExpression=True,  # AWS leaves FilterExpression out unless asked
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    return [budget for page in pages for budget in page.get("Budgets", [])]


def _tags(client: BudgetsClient, context: Context, name: str) -> dict[str, str]:
    tags = client.list_tags_for_resource(ResourceARN=_arn(context, name))
    return {tag["Key"]: tag["Value"] for tag in tags.get("ResourceTags", [])}


def _subscribers_of(
    client: BudgetsClient, context: Context, name: str, notification: Mapping[str, Any]
) -> Note:
    key = sets.aws_notification(sets.from_aws(notification, []))
    pages = client.get_paginator("describe_subscribers_for_notification").paginate(
        AccountId=context.account,
        BudgetName=name,
        Notification=key,
        PaginationConfig={"PageSize": SMALL_PAGE_SIZE},
    )
    return sets.from_aws(notification, (s for page in pages for s in page.get("Subscribers", [])))


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
