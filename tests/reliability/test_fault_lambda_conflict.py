"""A Lambda function busy with an update: AWS shows `LastUpdateStatus: InProgress` and refuses
updates with 409 `ResourceConflictException` until it is done. The engine waits for the update,
retries conflicts with backoff, and what outlasts its retries fails the change alone; the next
run converges. Nothing lands twice."""

from __future__ import annotations

from convergence import Engines, Runs, drifted_demo
from faults import BusyFunction, Injector
from world import CleanApply, Sleeps

from reconciler.loader import EnvironmentManifests
from reconciler.outcome import Outcome, Status


def test_a_function_another_deploy_is_updating_is_waited_for(
    clean: CleanApply, manifests: EnvironmentManifests, engines: Engines, waits: Sleeps
) -> None:
    """Busy when the run starts, and busy again after each of the run's own updates."""
    with drifted_demo() as aws:
        faults = Injector.on(aws)
        busy = BusyFunction("flask-api", reads=3, after_update=2)
        faults.add(busy)
        runs = Runs(aws, manifests, engines)
        assert runs.until_converged(limit=1) == 1, runs.describe()
        assert busy.conflicts == 0, "the engine wrote while the function was still updating"
        # at least one poll for the other deploy's update (observe saw the first InProgress),
        # then two for each of the run's own two updates
        assert len(waits) >= 1 + 2 + 2
        faults.heal()
        assert runs.plan().in_sync
        assert faults.landed == clean.landed


def test_conflicts_while_aws_says_the_update_is_done_are_retried_with_backoff(
    clean: CleanApply, manifests: EnvironmentManifests, engines: Engines, waits: Sleeps
) -> None:
    with drifted_demo() as aws:
        faults = Injector.on(aws)
        busy = BusyFunction("flask-api", lying=3)
        faults.add(busy)
        runs = Runs(aws, manifests, engines)
        assert runs.until_converged(limit=1) == 1, runs.describe()
        assert busy.conflicts == 3
        assert waits[:3] == sorted(waits[:3]) and waits[0] < waits[2]  # backing off
        faults.heal()
        assert runs.plan().in_sync
        assert faults.landed == clean.landed


def test_conflicts_past_the_engines_retries_fail_the_change_alone_and_the_next_run_converges(
    clean: CleanApply, manifests: EnvironmentManifests, engines: Engines
) -> None:
    with drifted_demo() as aws:
        faults = Injector.on(aws)
        busy = BusyFunction("flask-api", lying=100)
        faults.add(busy)
        runs = Runs(aws, manifests, engines)
        first = runs.apply()
        assert isinstance(first, Outcome)
        assert first.status is Status.FAILED
        failed = [(r.change.ref, r.error) for r in first.results if not r.succeeded]
        assert len(failed) == 1
        assert failed[0][0] == "LambdaFunction/flask-api"
        assert "busy" in (failed[0][1] or "")
        assert not any(op == "UpdateFunctionCode" for _, op in faults.landed)
        assert sum(r.succeeded for r in first.results) == len(first.results) - 1
        faults.heal()
        assert runs.until_converged(limit=1) == 1, runs.describe()
        assert runs.plan().in_sync
        assert faults.landed == clean.landed
