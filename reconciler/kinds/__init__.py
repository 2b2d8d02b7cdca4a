"""The registry of manifest kinds: each `kind:` maps to the module that knows it.

Adding a kind is adding one module beside these (its model and rules) and one line here; the
schemas, the loader and the command line pick it up from this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.kinds import aurora_cluster, budget, environment, lambda_function, metric_alarm
from reconciler.model import Manifest

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
