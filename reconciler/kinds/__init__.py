"""The registry of manifest kinds: each `kind:` maps to the module that knows it.

Adding a kind is adding one module beside these (its model and rules) and one line here; the
schemas, the loader and the command line pick it up from this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds import aurora_cluster, budget, environment, lambda_function, metric_alarm
from reconciler.model import Manifest

if TYPE_CHECKING:
    from reconciler.kinds.base import KindEngine

#: A problem found by a kind's cross-field rules: the field path and what is wrong.
Issue = tuple[tuple[str | int, ...], str]


@dataclass(frozen=True)
class Kind:
    """What the loader needs of a kind: its model and the rules a schema cannot express."""

    name: str
    model: type[Manifest]
    check: Callable[[Any], Iterable[Issue]]


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("Environment", environment.Environment, environment.check),
        Kind("LambdaFunction", lambda_function.LambdaFunction, lambda_function.check),
        Kind(
            "AuroraServerlessCluster",
            aurora_cluster.AuroraServerlessCluster,
            aurora_cluster.check,
        ),
        Kind("MetricAlarm", metric_alarm.MetricAlarm, metric_alarm.check),
        Kind("Budget", budget.Budget, budget.check),
    )
}


def engines() -> dict[str, KindEngine]:
    """Kind name → engine, for every kind the reconciler manages in AWS (all but Environment).

    Apply runs kinds in this order: clusters, then functions, then the alarms that watch them,
    then budgets.
    """
    return {
        engine.kind: engine
        for engine in (
            aurora_cluster.ENGINE,
            lambda_function.ENGINE,
            metric_alarm.ENGINE,
            budget.ENGINE,
        )
    }
