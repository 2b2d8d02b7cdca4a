"""5xx answers and timeouts on a share of calls. A 5xx or a connect timeout means the request
never landed; a read timeout means it landed and only the answer was lost, so botocore sends the
same request again. Runs converge, and the only writes that land twice are those resends of a
byte-identical request."""

from __future__ import annotations

from collections import defaultdict

import boto3
import pytest
from convergence import Engines, Runs, applied_twice, drifted_demo
from faults import DeleteAlarmsAsAws, Injector, ServerErrors, Timeouts
from world import CleanApply

from reconciler.demo.stack import ACCOUNT, REGION
from reconciler.loader import EnvironmentManifests
from reconciler.outcome import Outcome, Status


def only_resends(faults: Injector, clean: CleanApply) -> list[str]:
    """Writes that landed more often than a clean apply needs, other than resends of the very
    same request (botocore retrying a write whose answer was lost)."""
    bodies: dict[tuple[str, str], set[bytes]] = defaultdict(set)
    for resource, operation, body in faults.landed_bodies:
        bodies[(resource, operation)].add(body)
    return [
        f"{operation} {resource} landed {faults.landed[(resource, operation)]} times with "
        f"{len(bodies[(resource, operation)])} different requests"
        for resource, operation in faults.landed
        if len(bodies[(resource, operation)]) > clean.landed[(resource, operation)]
    ]


@pytest.mark.parametrize("seed", range(3))
def test_5xx_on_a_fifth_of_calls_converges(
    seed: int, clean: CleanApply, manifests: EnvironmentManifests, engines: Engines
) -> None:
    with drifted_demo() as aws:
        faults = Injector.on(aws, seed=seed)
        errors = ServerErrors(rate=0.2)
        faults.add(errors)
        runs = Runs(aws, manifests, engines)
        needed = runs.until_converged(limit=2)
        assert sum(errors.hits.values()) > 5
        faults.heal()
        assert runs.plan().in_sync
        assert applied_twice(faults.landed, clean.landed) == []
        print(f"5xx seed {seed}: {needed} run(s): {runs.describe()}; {dict(errors.hits)}")


@pytest.mark.parametrize("seed", range(3))
def test_connect_timeouts_on_a_fifth_of_calls_converge(
    seed: int, clean: CleanApply, manifests: EnvironmentManifests, engines: Engines
) -> None:
    with drifted_demo() as aws:
        faults = Injector.on(aws, seed=seed)
        timeouts = Timeouts(rate=0.2, kind="connect")
        faults.add(timeouts)
        runs = Runs(aws, manifests, engines)
        needed = runs.until_converged(limit=2)
        assert timeouts.hits >= 3
        faults.heal()
        assert runs.plan().in_sync
        assert applied_twice(faults.landed, clean.landed) == []
        print(f"connect seed {seed}: {needed} run(s): {runs.describe()}; {timeouts.hits}")


@pytest.mark.parametrize("seed", range(3))
def test_read_timeouts_on_a_fifth_of_calls_converge(
    seed: int, clean: CleanApply, manifests: EnvironmentManifests, engines: Engines
) -> None:
    with drifted_demo() as aws:
        faults = Injector.on(aws, seed=seed)
        timeouts = Timeouts(rate=0.2, kind="read")
        faults.add(timeouts, DeleteAlarmsAsAws())
        runs = Runs(aws, manifests, engines)
        needed = runs.until_converged(limit=2)
        assert timeouts.hits >= 3
        faults.heal()
        assert runs.plan().in_sync
        assert only_resends(faults, clean) == []
        print(f"read seed {seed}: {needed} run(s): {runs.describe()}; {timeouts.hits}")


def test_every_writes_answer_lost_once_converges_and_lands_nothing_new(
    clean: CleanApply, manifests: EnvironmentManifests, engines: Engines
) -> None:
    """Each write lands, its answer is lost, botocore sends it again. A re-sent DeleteAlarms
    finds the alarm gone (404 on AWS), which a second run settles."""
    with drifted_demo() as aws:
        faults = Injector.on(aws)
        faults.add(Timeouts(rate=0, kind="read", first_send_of_writes=True), DeleteAlarmsAsAws())
        runs = Runs(aws, manifests, engines)
        needed = runs.until_converged(limit=2)
        faults.heal()
        assert runs.plan().in_sync
        assert only_resends(faults, clean) == []
        assert set(faults.landed) == set(clean.landed)
        print(f"every answer lost once: {needed} run(s): {runs.describe()}")


def test_a_delete_whose_answer_was_lost_is_not_a_failed_change(
    manifests: EnvironmentManifests, engines: Engines
) -> None:
    with drifted_demo() as aws:
        faults = Injector.on(aws)
        faults.add(Timeouts(rate=0, kind="read", first_send_of_writes=True), DeleteAlarmsAsAws())
        first = Runs(aws, manifests, engines).apply()
        assert isinstance(first, Outcome)
        failed = [f"{r.change.ref}: {r.error}" for r in first.results if not r.succeeded]
        assert failed == []
        assert first.status is Status.CORRECTED


def test_a_create_whose_answer_was_lost_is_not_a_failed_change(
    manifests: EnvironmentManifests, engines: Engines
) -> None:
    with drifted_demo() as aws:
        boto3.client("budgets", region_name=REGION).delete_budget(
            AccountId=ACCOUNT, BudgetName="demo-monthly-cost"
        )
        faults = Injector.on(aws)
        faults.add(Timeouts(rate=0, kind="read", first_send_of_writes=True))
        runs = Runs(aws, manifests, engines)
        first = runs.apply()
        assert isinstance(first, Outcome)
        creates = [r for r in first.results if r.change.ref == "Budget/demo-monthly-cost"]
        assert [(r.change.action.value, r.succeeded, r.error) for r in creates] == [
            ("create", True, None)
        ]
