"""The registry of manifest kinds: each `kind:` maps to the description its package gives.

Adding a kind is adding its package beside these (`__init__.py` with its `Kind`, `model.py`,
`engine.py`) and one entry in `KINDS`; the loader, the schemas, the command line, the pipeline,
the pacing of AWS calls and the permissions the templates must grant all follow from the
description (`docs/adding-a-kind.md`).

Engines are imported on first use (`engine`, `engines`), never here: `reconciler validate` and
the planner load the models alone, and no AWS SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from reconciler.kinds import (
    aurora_cluster,
    budget,
    database_instance,
    dynamodb_table,
    ecs_service,
    environment,
    http_api_stage,
    lambda_function,
    log_group,
    metric_alarm,
    ssm_parameter,
)
from reconciler.kinds.description import ACCOUNT_CHECK, STS, Issue, Kind, Service

if TYPE_CHECKING:
    from reconciler.kinds.base import KindEngine

__all__ = ["KINDS", "Issue", "Kind", "engine", "engines", "iam_actions", "managed", "services"]

#: Every kind, in the order `validate` and the schemas list them.
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        environment.KIND,
        lambda_function.KIND,
        aurora_cluster.KIND,
        metric_alarm.KIND,
        budget.KIND,
        log_group.KIND,
        dynamodb_table.KIND,
        http_api_stage.KIND,
        ssm_parameter.KIND,
        ecs_service.KIND,
        database_instance.KIND,
    )
}


def managed() -> list[Kind]:
    """The kinds the reconciler observes and changes in AWS, in the order apply creates and
    updates them (by `phase`; deletes go the other way)."""
    found = [kind for kind in KINDS.values() if kind.managed]
    return sorted(found, key=lambda kind: kind.phase)


def engine(name: str) -> KindEngine:
    """The engine of kind `name`, its module imported now if it was not yet."""
    module = KINDS[name].engine
    if module is None:
        raise LookupError(f"{name} is not held in AWS: it has no engine")
    found: KindEngine = importlib.import_module(module).ENGINE
    return found


def engines() -> dict[str, KindEngine]:
    """Kind name → engine, for every managed kind, in apply order (`managed`)."""
    return {kind.name: engine(kind.name) for kind in managed()}


def services() -> tuple[Service, ...]:
    """Every AWS service a run calls: the kinds' (in apply order) and STS (the account check,
    the assumed role). A service two kinds share appears once, and must be described alike."""
    found: dict[str, Service] = {}
    for service in (*(s for kind in managed() for s in kind.services), STS):
        known = found.setdefault(service.name, service)
        if known != service:
            raise ValueError(f"two kinds describe the service {service.name!r} differently")
    return tuple(found.values())


def iam_actions() -> tuple[frozenset[str], frozenset[str]]:
    """The IAM actions a run needs in the account it reconciles: (to observe, to apply as well).

    The observe set is what planning calls (the template's EngineObservePolicy, the target role's
    engine-observe); the apply set is what only applying calls (EngineApplyPolicy, engine-apply).
    Assuming the target role (`sts:AssumeRole`) is the deployment's own, not the account's.
    """
    observe = frozenset({ACCOUNT_CHECK}).union(*(kind.observe for kind in managed()))
    apply = frozenset().union(*(kind.apply for kind in managed()))
    return observe, apply - observe
