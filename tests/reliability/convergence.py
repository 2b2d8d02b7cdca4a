"""What the reliability tests hold every faulty run to: it converges, nothing is applied twice,
and no resource is ever left in a state that is neither its original one nor the planned one."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from reconciler.aws import Clients
from reconciler.demo.stack import REGION, create_drifted_stack
from reconciler.emulator import emulated_aws
from reconciler.errors import ReconcilerError
from reconciler.kinds import engines as all_engines
from reconciler.kinds.base import KindEngine
from reconciler.loader import EnvironmentManifests
from reconciler.outcome import Outcome, Status
from reconciler.pacing import Pacer
from reconciler.pipeline import reconcile
from reconciler.plan import Action, Plan

Engines = Mapping[str, KindEngine]
#: What a run that could not finish raises: the CLI prints it, the state machine catches it.
RUN_ERRORS = (ClientError, BotoCoreError, ReconcilerError)


@cache
def _session() -> boto3.Session:
    """One session for every case: botocore loads each service model once, not once a case."""
    import moto  # noqa: F401  - first, so the session's clients get moto's transport

    return boto3.Session(region_name=REGION)


@contextmanager
def drifted_demo() -> Iterator[Clients]:
    """A fresh emulated account holding the demo stack, drifted; the engine's clients on it.

    The clients are paced to AWS's quotas as in production, but the pacer's waits are not slept
    (tests make bursts of runs that AWS would spread over minutes).
    """
    with emulated_aws():
        create_drifted_stack(_session())
        yield Clients(REGION, session=_session(), pacing=Pacer(sleep=_not_slept))


def _not_slept(seconds: float) -> None:
    return None


def quick_engines(sleep: Callable[[float], None]) -> dict[str, KindEngine]:
    """The engines, with the Lambda engine's waits and backoffs going to `sleep`."""
    engines = all_engines()
    engines["LambdaFunction"] = dataclasses.replace(engines["LambdaFunction"], sleep=sleep)  # type: ignore[type-var]
    return engines


@dataclass
class Runs:
    """Apply runs of one environment, one after the other, until one converges."""

    aws: Clients
    manifests: EnvironmentManifests
    engines: Engines
    outcomes: list[Outcome | Exception] = dataclasses.field(default_factory=list)

    def apply(self) -> Outcome | Exception:
        """One `reconciler apply`; a run that could not finish answers its error."""
        try:
            outcome: Outcome | Exception = reconcile(
                self.aws, self.manifests, apply_changes=True, engines=self.engines
            )
        except RUN_ERRORS as exc:
            outcome = exc
        self.outcomes.append(outcome)
        return outcome

    def until_converged(self, limit: int) -> int:
        """Apply until a run ends `corrected` or `in-sync`; how many runs that took."""
        for number in range(1, limit + 1):
            if converged(self.apply()):
                return number
        raise AssertionError(f"not converged after {limit} runs: {self.describe()}")

    def plan(self) -> Plan:
        return reconcile(self.aws, self.manifests, apply_changes=False, engines=self.engines).plan

    def describe(self) -> str:
        return "; ".join(_describe(outcome) for outcome in self.outcomes)


def converged(outcome: Outcome | Exception) -> bool:
    return isinstance(outcome, Outcome) and outcome.status in (Status.CORRECTED, Status.IN_SYNC)


def _describe(outcome: Outcome | Exception) -> str:
    if isinstance(outcome, Exception):
        return f"stopped: {type(outcome).__name__}: {' '.join(str(outcome).split())[:200]}"
    failed = [f"{r.change.ref}: {r.error}" for r in outcome.results if not r.succeeded]
    return f"{outcome.status.value}" + (f" (failed: {failed})" if failed else "")


def applied_twice(landed: Counter[tuple[str, str]], clean: Counter[tuple[str, str]]) -> list[str]:
    """Every (resource, operation) AWS accepted more often than a clean apply needs it."""
    return [
        f"{operation} {resource} landed {count} times, a clean apply needs {clean[key]}"
        for key, count in sorted(landed.items())
        for resource, operation in [key]
        if count > clean[key]
    ]


def strays(original: Plan, now: Plan) -> list[str]:
    """Resources or fields that are now neither as they were nor as planned.

    Every change still pending must have been pending before with the same action, and each of
    its fields must still differ exactly as it did: with the same actual value (untouched) and
    the same desired one. A field that was done drops out of the diffs; nothing else may.
    """
    before = {change.ref: change for change in original.changes}
    problems: list[str] = []
    for change in now.changes:
        if change.action is Action.NOOP:
            continue
        was = before.get(change.ref)
        if was is None or was.action is not change.action:
            problems.append(
                f"{change.ref} is now '{change.action.value}', "
                f"was '{was.action.value if was else 'absent'}'"
            )
            continue
        old = {diff.field: diff for diff in was.diffs}
        for diff in change.diffs:
            first = old.get(diff.field)
            if first is None or (first.actual, first.desired) != (diff.actual, diff.desired):
                problems.append(
                    f"{change.ref}.{diff.field} is {diff.actual!r}: neither the original "
                    f"{None if first is None else first.actual!r} nor the planned {diff.desired!r}"
                )
    return problems
