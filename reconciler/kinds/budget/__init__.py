"""`Budget`: an AWS Budgets cost budget and its notifications, managed whole; created when
missing, deleted by prune when it carries this environment's tag. The manifest is in `model.py`,
the engine in `engine.py` (loaded only when a run talks to AWS), the set logic of notifications
and subscribers in `notifications.py`."""

from __future__ import annotations

from reconciler.kinds.budget.model import Budget, check
from reconciler.kinds.description import Kind, Service, quota

BUDGETS = Service(
    "budgets",
    "budgets",
    (quota("budgets", "", 5, 5, "assumed: AWS publishes no figure"),),
    (400, "ThrottlingException"),
)

KIND = Kind(
    name="Budget",
    model=Budget,
    check=check,
    noun="budgets",
    engine="reconciler.kinds.budget.engine",
    services=(BUDGETS,),
    creatable=True,
    prunable=True,
    phase=4,
    # Budgets has one permission for every read and one for every write of budgets,
    # notifications and subscribers.
    observe=frozenset({"budgets:ViewBudget", "budgets:ListTagsForResource"}),
    apply=frozenset({"budgets:ModifyBudget", "budgets:TagResource"}),
    writes=frozenset(
        {
            "CreateBudget",
            "UpdateBudget",
            "DeleteBudget",
            "CreateNotification",
            "UpdateNotification",
            "DeleteNotification",
            "CreateSubscriber",
            "UpdateSubscriber",
            "DeleteSubscriber",
            "TagResource",
            "UntagResource",
        }
    ),
    identifiers=("BudgetName",),
)
