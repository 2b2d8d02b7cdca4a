"""The Budget engine against the emulated Budgets API: observe, diff, plan, apply, prune."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber

from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.emulator import behaviour
from reconciler.errors import PermanentError, TemporaryError
from reconciler.kinds.budget.engine import ENGINE, BudgetEngine
from reconciler.kinds.budget.model import Budget
from reconciler.plan import OWNER_TAG, Action, Change, Diff, Plan
from tests.builders import apply_each, document, plan_with

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient

ACCOUNT = "123456789012"
TOPIC = "arn:aws:sns:us-east-1:123456789012:budget-alerts"
OTHER_TOPIC = "arn:aws:sns:us-east-1:123456789012:finance"

#: The manifest spec every test starts from: two notifications, three subscribers.
SPEC: dict[str, Any] = {
    "limit": {"amount": 50, "unit": "USD"},
    "timeUnit": "MONTHLY",
    "notifications": [
        {
            "notificationType": "ACTUAL",
            "comparisonOperator": "GREATER_THAN",
            "threshold": 80,
            "subscribers": [
                {"type": "EMAIL", "address": "ops@example.com"},
                {"type": "EMAIL", "address": "dev@example.com"},
            ],
        },
        {
            "notificationType": "FORECASTED",
            "comparisonOperator": "GREATER_THAN",
            "threshold": 100,
            "thresholdType": "PERCENTAGE",
            "subscribers": [{"type": "SNS", "address": TOPIC}],
        },
    ],
}


def manifest(name: str = "team", **spec: Any) -> Budget:
    return document(Budget, name, {**SPEC, **spec})


def note(kind: str, threshold: float, *subs: tuple[str, str], **extra: Any) -> dict[str, Any]:
    """One notification in AWS's request shape."""
    return {
        "Notification": {
            "NotificationType": kind,
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": threshold,
            **extra,
        },
        "Subscribers": [{"SubscriptionType": t, "Address": a} for t, a in subs],
    }


#: SPEC as AWS would hold it, written differently: reordered, amounts as "50.0" and 80.0, the
#: default threshold type left out.
IN_SYNC = [
    note("FORECASTED", 100.0, ("SNS", TOPIC), ThresholdType="PERCENTAGE"),
    note("ACTUAL", 80.0, ("EMAIL", "dev@example.com"), ("EMAIL", "ops@example.com")),
]


def seed(
    client: BudgetsClient,
    name: str = "team",
    *,
    amount: str = "50.0",
    time_unit: str = "MONTHLY",
    budget_type: str = "COST",
    notifications: list[dict[str, Any]] | None = None,
    owner: str | None = "dev",
) -> None:
    """A budget made outside the reconciler (by default: in sync with SPEC, owned by dev)."""
    budget: Any = {
        "BudgetName": name,
        "BudgetLimit": {"Amount": amount, "Unit": "USD"},
        "TimeUnit": time_unit,
        "BudgetType": budget_type,
        "CostTypes": {"IncludeTax": False, "IncludeCredit": False},
    }
    wanted: Any = IN_SYNC if notifications is None else notifications
    client.create_budget(
        AccountId=ACCOUNT,
        Budget=budget,
        NotificationsWithSubscribers=wanted,
        ResourceTags=[] if owner is None else [{"Key": OWNER_TAG, "Value": owner}],
    )


class Calls:
    """Every Budgets operation the client sends, counted with botocore's before-call hook."""

    def __init__(self, client: BudgetsClient) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-call.budgets.*", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)

    @property
    def writes(self) -> list[str]:
        return [n for n in self.names if not n.startswith(("Describe", "List"))]


def plan(aws: Clients, context: Context, *budgets: Budget, prune: bool = False) -> Plan:
    return plan_with(ENGINE, aws, context, *budgets, prune=prune)


def apply_all(aws: Clients, context: Context, the_plan: Plan) -> None:
    """Apply every write, from the plan's JSON as Step Functions carries it between states."""
    apply_each(ENGINE, aws, context, the_plan)


def diffs(aws: Clients, context: Context, budget: Budget) -> list[Diff]:
    observed = ENGINE.observe(aws, [budget], context)
    return ENGINE.diff(budget, observed[budget.name])


# --- in sync ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aws_amount", "manifest_amount"),
    [("50", 50), ("50.0", 50), ("50", 50.0), ("50.000", 50.0), ("12.5", 12.5)],
)
def test_in_sync_budget_has_no_diff_however_amounts_and_order_are_written(
    aws: Clients, context: Context, aws_amount: str, manifest_amount: float
) -> None:
    seed(aws.budgets, amount=aws_amount)
    budget = manifest(limit={"amount": manifest_amount, "unit": "USD"})
    # Subscribers and notifications listed in the opposite order to AWS's.
    reordered = [{**n, "subscribers": n["subscribers"][::-1]} for n in SPEC["notifications"][::-1]]
    for declared in (
        budget,
        manifest(limit=budget.spec.limit.model_dump(), notifications=reordered),
    ):
        assert diffs(aws, context, declared) == []
    assert plan(aws, context, budget).in_sync


def test_observed_fields_are_normalised_to_the_manifest_spelling(
    aws: Clients, context: Context
) -> None:
    seed(aws.budgets)
    observed = ENGINE.observe(aws, [manifest()], context)["team"]
    assert observed.fields == ENGINE.desired(manifest())
    assert observed.fields["limit"] == {"amount": 50, "unit": "USD"}
    assert observed.tags == {OWNER_TAG: "dev"}


def test_observe_leaves_out_missing_and_undeclared_budgets(aws: Clients, context: Context) -> None:
    seed(aws.budgets, "team")
    seed(aws.budgets, "undeclared")
    assert set(ENGINE.observe(aws, [manifest("team"), manifest("missing")], context)) == {"team"}


# --- drift, field by field -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seeded", "expected"),
    [
        ({"amount": "40"}, Diff(field="limit.amount", desired=50, actual=40)),
        ({"time_unit": "QUARTERLY"}, Diff(field="timeUnit", desired="MONTHLY", actual="QUARTERLY")),
        ({"budget_type": "USAGE"}, Diff(field="budgetType", desired="COST", actual="USAGE")),
    ],
)
def test_budget_drift_is_one_diff_per_field(
    aws: Clients, context: Context, seeded: dict[str, Any], expected: Diff
) -> None:
    seed(aws.budgets, **seeded)
    assert diffs(aws, context, manifest()) == [expected]


@pytest.mark.parametrize("position", [0, 1])
def test_threshold_drift_names_the_notification_by_its_manifest_position(
    aws: Clients, context: Context, position: int
) -> None:
    actual_80 = IN_SYNC[1]
    seed(
        aws.budgets,
        notifications=[
            IN_SYNC[0],
            {**actual_80, "Notification": {**actual_80["Notification"], "Threshold": 70.0}},
        ],
    )
    declared = SPEC["notifications"] if position == 0 else SPEC["notifications"][::-1]
    assert diffs(aws, context, manifest(notifications=declared)) == [
        Diff(field=f"notifications[{position}].threshold", desired=80, actual=70)
    ]


def test_subscriber_drift_shows_both_sets(aws: Clients, context: Context) -> None:
    seed(aws.budgets, notifications=[IN_SYNC[0], note("ACTUAL", 80, ("EMAIL", "ops@example.com"))])
    assert diffs(aws, context, manifest()) == [
        Diff(
            field="notifications[0].subscribers",
            desired=[
                {"type": "EMAIL", "address": "dev@example.com"},
                {"type": "EMAIL", "address": "ops@example.com"},
            ],
            actual=[{"type": "EMAIL", "address": "ops@example.com"}],
        )
    ]


def test_missing_and_extra_notifications_show_as_set_changes(
    aws: Clients, context: Context
) -> None:
    extra = note("ACTUAL", 120, ("EMAIL", "cfo@example.com"), ThresholdType="ABSOLUTE_VALUE")
    seed(aws.budgets, notifications=[IN_SYNC[1], extra])
    found = diffs(aws, context, manifest(notifications=SPEC["notifications"][:1]))
    assert [d.field for d in found] == ["notifications"]
    assert (
        found[0].desired
        == ENGINE.desired(manifest(notifications=SPEC["notifications"][:1]))["notifications"]
    )
    assert [n["threshold"] for n in found[0].actual] == [80, 120]

    missing = diffs(
        aws,
        context,
        manifest(
            notifications=[*SPEC["notifications"], {**SPEC["notifications"][1], "threshold": 150}]
        ),
    )
    assert [d.field for d in missing] == ["notifications[1]", "notifications[2]", "notifications"]
    assert missing[0].actual is None
    assert missing[0].desired["notificationType"] == "FORECASTED"


# --- create, update, converge ------------------------------------------------------------------


def test_create_makes_the_whole_budget_tagged_for_the_environment(
    aws: Clients, context: Context
) -> None:
    the_plan = plan(aws, context, manifest())
    assert [c.action for c in the_plan.changes] == [Action.CREATE]
    calls = Calls(aws.budgets)
    apply_all(aws, context, the_plan)
    assert calls.writes == ["CreateBudget"]
    observed = ENGINE.observe(aws, [manifest()], context)["team"]
    assert observed.fields == ENGINE.desired(manifest())
    assert observed.tags == {OWNER_TAG: "dev"}
    assert plan(aws, context, manifest()).in_sync


def test_apply_converges_from_every_kind_of_drift_at_once(aws: Clients, context: Context) -> None:
    seed(
        aws.budgets,
        amount="10",
        time_unit="ANNUALLY",
        owner=None,
        notifications=[
            note("ACTUAL", 70, ("EMAIL", "ops@example.com")),  # threshold and a subscriber
            note("ACTUAL", 5, ("EMAIL", "x@example.com"), ThresholdType="ABSOLUTE_VALUE"),
        ],
    )
    first = plan(aws, context, manifest())
    assert [c.action for c in first.changes] == [Action.UPDATE]
    apply_all(aws, context, first)
    assert plan(aws, context, manifest()).in_sync
    budget = aws.budgets.describe_budget(AccountId=ACCOUNT, BudgetName="team")["Budget"]
    assert budget["CostTypes"]["IncludeTax"] is False  # unmanaged settings are kept


def test_a_second_apply_writes_nothing(aws: Clients, context: Context) -> None:
    seed(aws.budgets, amount="10", notifications=IN_SYNC[:1], owner=None)
    change = plan(aws, context, manifest()).changes[0]
    ENGINE.apply(aws, change, context)
    calls = Calls(aws.budgets)
    ENGINE.apply(aws, change, context)  # the same change again: AWS already matches it
    assert "DescribeBudget" in calls.names
    assert calls.writes == []
    assert plan(aws, context, manifest()).in_sync


@pytest.mark.parametrize(
    ("notifications", "owner", "amount", "writes"),
    [
        (IN_SYNC, "dev", "20", ["UpdateBudget"]),
        (IN_SYNC, None, "50", ["TagResource"]),
        (
            [
                IN_SYNC[0],
                note("ACTUAL", 70, ("EMAIL", "dev@example.com"), ("EMAIL", "ops@example.com")),
            ],
            "dev",
            "50",
            ["UpdateNotification"],
        ),
        (
            [IN_SYNC[0], note("ACTUAL", 80, ("EMAIL", "ops@example.com"))],
            "dev",
            "50",
            ["CreateSubscriber"],
        ),
        (
            [
                note("FORECASTED", 100, ("SNS", OTHER_TOPIC)),
                IN_SYNC[1],
            ],
            "dev",
            "50",
            ["UpdateSubscriber"],
        ),
        (
            [*IN_SYNC, note("ACTUAL", 200, ("EMAIL", "ops@example.com"))],
            "dev",
            "50",
            ["DeleteNotification"],
        ),
        (IN_SYNC[:1], "dev", "50", ["CreateNotification"]),
        (
            # threshold changed and both subscribers replaced: cheaper to replace the notification
            [
                IN_SYNC[0],
                note("ACTUAL", 70, ("EMAIL", "a@example.com"), ("EMAIL", "b@example.com")),
            ],
            "dev",
            "50",
            ["DeleteNotification", "CreateNotification"],
        ),
    ],
    ids=[
        "limit",
        "tag",
        "threshold",
        "subscriber-added",
        "sns-swapped",
        "notification-extra",
        "notification-missing",
        "notification-replaced",
    ],
)
def test_apply_makes_only_the_calls_the_drift_needs(
    aws: Clients,
    context: Context,
    notifications: list[dict[str, Any]],
    owner: str | None,
    amount: str,
    writes: list[str],
) -> None:
    seed(aws.budgets, amount=amount, notifications=notifications, owner=owner)
    calls = Calls(aws.budgets)
    apply_all(aws, context, plan(aws, context, manifest()))
    assert calls.writes == writes
    assert plan(aws, context, manifest()).in_sync


def test_missing_ownership_tag_is_planned_and_added(aws: Clients, context: Context) -> None:
    seed(aws.budgets, owner=None)
    (change,) = plan(aws, context, manifest()).changes
    assert change.diffs == (Diff(field=f"tags.{OWNER_TAG}", desired="dev", actual=None),)
    ENGINE.apply(aws, change, context)
    assert ENGINE.observe(aws, [manifest()], context)["team"].tags == {OWNER_TAG: "dev"}


# --- ownership, prune --------------------------------------------------------------------------


def test_conflict_is_visible_and_blocked(aws: Clients, context: Context) -> None:
    seed(aws.budgets, amount="10", owner="staging")
    assert ENGINE.observe(aws, [manifest()], context)["team"].tags == {OWNER_TAG: "staging"}
    (change,) = plan(aws, context, manifest()).changes
    assert change.action is Action.BLOCKED
    assert "staging" in (change.reason or "")


def test_apply_refuses_a_budget_that_changed_owner_since_the_plan(
    aws: Clients, context: Context
) -> None:
    seed(aws.budgets, amount="10")
    (change,) = plan(aws, context, manifest()).changes
    arn = f"arn:aws:budgets::{ACCOUNT}:budget/team"
    aws.budgets.tag_resource(ResourceARN=arn, ResourceTags=[{"Key": OWNER_TAG, "Value": "prod"}])
    calls = Calls(aws.budgets)
    with pytest.raises(PermanentError, match="prod"):
        ENGINE.apply(aws, change, context)
    assert calls.writes == []


def test_owned_returns_only_this_environments_budgets(aws: Clients, context: Context) -> None:
    seed(aws.budgets, "mine")
    seed(aws.budgets, "theirs", owner="staging")
    seed(aws.budgets, "nobodys", owner=None)
    owned = ENGINE.owned(aws, context)
    assert set(owned) == {"mine"}
    assert owned["mine"].tags == {OWNER_TAG: "dev"}


def test_prune_deletes_an_owned_budget_that_left_the_manifests(
    aws: Clients, context: Context
) -> None:
    seed(aws.budgets, "team")
    seed(aws.budgets, "old")
    seed(aws.budgets, "theirs", owner="staging")
    the_plan = plan(aws, context, manifest("team"), prune=True)
    assert [(c.name, c.action) for c in the_plan.changes] == [
        ("team", Action.NOOP),
        ("old", Action.DELETE),
    ]
    apply_all(aws, context, the_plan)
    names = {b["BudgetName"] for b in aws.budgets.describe_budgets(AccountId=ACCOUNT)["Budgets"]}
    assert names == {"team", "theirs"}
    # Deleting again (a retried step) is not a failure: the budget is gone either way.
    ENGINE.apply(aws, Change(kind="Budget", name="old", action=Action.DELETE), context)


# --- calls and errors --------------------------------------------------------------------------


def test_observe_reads_n_budgets_in_two_plus_n_times_k_plus_one_calls(
    aws: Clients, context: Context
) -> None:
    names = [f"team-{i}" for i in range(3)]
    for name in [*names, "undeclared"]:
        seed(aws.budgets, name)
    calls = Calls(aws.budgets)
    observed = ENGINE.observe(aws, [manifest(n) for n in names], context)
    assert set(observed) == set(names)
    assert calls.names.count("DescribeBudgets") == 1
    assert calls.names.count("DescribeBudgetNotificationsForAccount") == 1
    assert calls.names.count("DescribeSubscribersForNotification") == 3 * 2
    assert calls.names.count("ListTagsForResource") == 3
    assert len(calls.names) == 2 + 3 * (2 + 1)


def test_budgets_are_read_page_by_page(aws: Clients, context: Context) -> None:
    """moto ignores DescribeBudgets paging, so a stub plays AWS's two pages."""
    client = aws.budgets
    arn = "arn:aws:budgets::123456789012:budget/"

    def budget(name: str) -> dict[str, Any]:
        return {
            "BudgetName": name,
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "BudgetLimit": {"Amount": "1", "Unit": "USD"},
        }

    with Stubber(client) as stub:
        stub.add_response(
            "describe_budgets",
            {"Budgets": [budget("a")], "NextToken": "p2"},
            {"AccountId": ACCOUNT, "MaxResults": 1000, "ShowFilterExpression": True},
        )
        stub.add_response(
            "describe_budgets",
            {"Budgets": [budget("b")]},
            {
                "AccountId": ACCOUNT,
                "MaxResults": 1000,
                "NextToken": "p2",
                "ShowFilterExpression": True,
            },
        )
        for name, env in (("a", "dev"), ("b", "staging")):
            stub.add_response(
                "list_tags_for_resource",
                {"ResourceTags": [{"Key": OWNER_TAG, "Value": env}]},
                {"ResourceARN": arn + name},
            )
        # One worker: the stub answers in order, and the engine otherwise reads tags in parallel.
        assert set(BudgetEngine(workers=1).owned(aws, context)) == {"a"}
        stub.assert_no_pending_responses()


def test_throttling_is_a_temporary_error(aws: Clients, context: Context) -> None:
    with Stubber(aws.budgets) as stub:
        # A delete first reads the budget's owner again: that is the call AWS throttles here.
        stub.add_client_error("describe_budget", "ThrottlingException", "Rate exceeded")
        with pytest.raises(TemporaryError, match="ThrottlingException"):
            ENGINE.apply(aws, Change(kind="Budget", name="x", action=Action.DELETE), context)


def test_a_prune_read_reads_each_budgets_tags_once(aws: Clients, context: Context) -> None:
    for name in ("team-0", "team-1", "stale"):
        seed(aws.budgets, name)
    seed(aws.budgets, "theirs", owner="staging")
    calls = Calls(aws.budgets)

    found, owned = ENGINE.read(aws, [manifest("team-0"), manifest("team-1")], context, owned=True)

    assert sorted(found) == ["team-0", "team-1"]
    assert sorted(owned) == ["stale", "team-0", "team-1"]
    assert all(observed.tags == {OWNER_TAG: "dev"} for observed in found.values())
    assert sorted(calls.names) == sorted(
        ["DescribeBudgets", "DescribeBudgetNotificationsForAccount"]
        + ["ListTagsForResource"] * 4
        + ["DescribeSubscribersForNotification"] * 2 * 2
    )


# --- what UpdateBudget must send back (it replaces the whole budget) -----------------------------

FILTER = {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Elastic Compute Cloud - Compute"]}}
AUTO_ADJUST = {"AutoAdjustType": "HISTORICAL", "HistoricalOptions": {"BudgetAdjustmentPeriod": 3}}


def seed_whole(client: BudgetsClient, name: str = "team", **extra: Any) -> None:
    """A budget with settings no manifest field holds, its limit drifted (40, SPEC says 50)."""
    budget: Any = {
        "BudgetName": name,
        "BudgetLimit": {"Amount": "40", "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
        **extra,
    }
    client.create_budget(
        AccountId=ACCOUNT,
        Budget=budget,
        NotificationsWithSubscribers=IN_SYNC,  # type: ignore[arg-type]
        ResourceTags=[{"Key": OWNER_TAG, "Value": "dev"}],
    )


def aws_budget(client: BudgetsClient, name: str = "team") -> dict[str, Any]:
    found = client.describe_budget(AccountId=ACCOUNT, BudgetName=name, ShowFilterExpression=True)
    return dict(found["Budget"])


def test_a_limit_update_keeps_the_filter_expression_and_auto_adjustment(
    aws: Clients, context: Context
) -> None:
    """AWS returns FilterExpression only when asked (ShowFilterExpression), and UpdateBudget drops
    whatever it is not sent."""
    with behaviour(budgets_rules=True):
        seed_whole(aws.budgets, FilterExpression=FILTER, AutoAdjustData=AUTO_ADJUST)
        (change,) = plan(aws, context, manifest()).changes
        assert [diff.field for diff in change.diffs] == ["limit.amount"]
        calls = Calls(aws.budgets)

        apply_all(aws, context, plan(aws, context, manifest()))

        assert calls.writes == ["UpdateBudget"]
        budget = aws_budget(aws.budgets)
        assert budget["BudgetLimit"]["Amount"] in ("50", "50.0")
        assert budget["FilterExpression"] == FILTER
        assert budget["AutoAdjustData"]["HistoricalOptions"] == AUTO_ADJUST["HistoricalOptions"]
        assert "CostFilters" not in budget  # AWS refuses the two together
        assert plan(aws, context, manifest()).in_sync


def test_a_limit_update_keeps_the_cost_filters_and_cost_types_of_an_older_budget(
    aws: Clients, context: Context
) -> None:
    cost_types = {"IncludeTax": False, "IncludeCredit": False}
    with behaviour(budgets_rules=True):
        seed_whole(
            aws.budgets,
            CostFilters={"Service": ["Amazon Elastic Compute Cloud - Compute"]},
            CostTypes=cost_types,
        )

        apply_all(aws, context, plan(aws, context, manifest()))

        budget = aws_budget(aws.budgets)
        assert budget["CostFilters"] == {"Service": ["Amazon Elastic Compute Cloud - Compute"]}
        assert {key: budget["CostTypes"][key] for key in cost_types} == cost_types
        assert "FilterExpression" not in budget
        assert plan(aws, context, manifest()).in_sync


def test_a_budget_with_planned_limits_is_blocked_and_never_overwritten(
    aws: Clients, context: Context
) -> None:
    """A manifest declares one limit; UpdateBudget takes BudgetLimit or PlannedBudgetLimits, never
    both, so any update would either drop the planned limits or never apply the declared one."""
    month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    planned = {str(int(month.timestamp())): {"Amount": "40", "Unit": "USD"}}
    budget: Any = {
        "BudgetName": "team",
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
        "PlannedBudgetLimits": planned,
    }
    aws.budgets.create_budget(
        AccountId=ACCOUNT,
        Budget=budget,
        ResourceTags=[{"Key": OWNER_TAG, "Value": "dev"}],
    )
    before = aws_budget(aws.budgets)

    the_plan = plan(aws, context, manifest())
    (change,) = the_plan.changes
    assert change.action is Action.BLOCKED
    assert change.reason is not None
    assert change.reason.startswith("has planned limits")
    apply_all(aws, context, the_plan)
    stale = Change(
        kind="Budget",
        name="team",
        action=Action.UPDATE,
        diffs=(Diff(field="limit.amount", desired=50, actual=None),),
        desired=ENGINE.desired(manifest()),
    )
    with pytest.raises(PermanentError, match="has planned limits"):
        ENGINE.apply(aws, stale, context)
    assert aws_budget(aws.budgets) == before


@pytest.mark.parametrize("budget_type", ["RI_UTILIZATION", "SAVINGS_PLANS_COVERAGE"])
def test_a_utilisation_or_coverage_budget_is_created_with_the_limit_aws_fixes(
    aws: Clients, context: Context, budget_type: str
) -> None:
    """AWS fixes these budgets' limit at 100 PERCENTAGE; a limit in USD is refused."""
    declared = manifest(limit={"amount": 100}, budgetType=budget_type, notifications=[])
    with behaviour(budgets_rules=True):
        apply_all(aws, context, plan(aws, context, declared))

        limit = aws_budget(aws.budgets)["BudgetLimit"]
        assert (float(limit["Amount"]), limit["Unit"]) == (100.0, "PERCENTAGE")
        assert plan(aws, context, declared).in_sync
