"""What the tests build again and again, written once: documents of any kind, an environment's
manifests, and the plan one engine makes of them (observe, then `build_plan`), applied as Step
Functions carries it (through the plan's JSON).

A test for a new kind (`from tests.builders import …`) takes its manifest builder from
`document_of(ItsModel)` and plans with `plan_with(ENGINE, …)`, so only what is particular to the
kind (its AWS fixtures) is written in its own file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from reconciler.context import Context
from reconciler.kinds import KINDS
from reconciler.kinds.base import KindEngine
from reconciler.kinds.environment import Environment
from reconciler.loader import EnvironmentManifests
from reconciler.model import Manifest
from reconciler.plan import Plan
from reconciler.planner import Observation, build_plan

M = TypeVar("M", bound=Manifest)

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


def document(model: type[M], name: str, spec: Mapping[str, Any]) -> M:
    """A validated `reconciler/v1` document of `model`'s kind."""
    kind = next(kind.name for kind in KINDS.values() if kind.model is model)
    return model.model_validate(
        {"apiVersion": "reconciler/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}
    )


def document_of(model: type[M]) -> Callable[..., M]:
    """`build(name, **spec)` for documents of `model`'s kind."""

    def build(name: str, **spec: Any) -> M:
        return document(model, name, spec)

    return build


def environment(
    name: str = "dev", *, account: str = ACCOUNT, region: str = REGION, **spec: Any
) -> Environment:
    """An Environment document (`spec` adds prune, mode, freeze windows, …)."""
    return document(Environment, name, {"account": account, "region": region, **spec})


def environment_of(
    *resources: Manifest,
    name: str = "dev",
    account: str = ACCOUNT,
    region: str = REGION,
    **spec: Any,
) -> EnvironmentManifests:
    """The manifests of environment `name` holding `resources`."""
    env = environment(name, account=account, region=region, **spec)
    return EnvironmentManifests(name, f"manifests/{name}", env, tuple(resources))


def plan_with(
    engine: KindEngine, aws: Any, context: Context, *manifests: Manifest, prune: bool = False
) -> Plan:
    """The plan `engine` makes of `manifests` in `context`'s environment, with prune if asked."""
    env = environment_of(
        *manifests,
        name=context.environment,
        account=context.account,
        region=context.region,
        prune=prune,
    )
    found = engine.read(aws, manifests, context, owned=False)[0]
    owned = engine.read(aws, [], context, owned=True)[1] if prune else None
    observation = Observation(
        found={engine.kind: found}, owned={engine.kind: owned} if owned is not None else {}
    )
    return build_plan(env, observation, {engine.kind: engine})


def apply_each(engine: KindEngine, aws: Any, context: Context, plan: Plan) -> None:
    """Apply every write of `plan`, read back from its JSON as Step Functions carries it."""
    for change in Plan.from_json(json.loads(json.dumps(plan.to_json()))).writes:
        engine.apply(aws, change, context)
