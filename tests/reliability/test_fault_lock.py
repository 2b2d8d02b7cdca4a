"""One run per environment at a time, at the level of the state handlers and the runs table.

Through the real state machine these are covered by tests/e2e/test_state_machine.py:
`test_a_second_run_while_one_holds_the_lock_ends_locked_and_touches_nothing`,
`test_two_runs_at_once_one_is_locked` and `test_a_dead_runs_lock_frees_after_its_expiry`; and at
the table level (`RunsTable.acquire_lock` with an old `now`) by tests/functional/test_history.py:
`test_a_dead_runs_lock_frees_itself_after_it_expires` and
`test_release_by_another_run_does_nothing`. Here: the same through the Start, Apply and Failed
handlers, and what neither reaches: a run that outlived its lock (a slow or stuck Apply) writes
nothing once another run has taken the lock over, and a live Apply keeps its lock so that no
second run can take it over while it writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from convergence import Engines, Runs
from world import Deployed, LambdaContext

from reconciler.errors import PermanentError
from reconciler.handlers import apply, fail, start
from reconciler.handlers.runtime import LOCK_SECONDS
from reconciler.loader import EnvironmentManifests

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LOCK = timedelta(seconds=LOCK_SECONDS)


def started(monkeypatch: pytest.MonkeyPatch, run_id: str, at: datetime) -> dict[str, Any]:
    """The Start state of run `run_id`, at `at`."""
    monkeypatch.setattr(start, "now", lambda: at)
    event = {
        "input": {"environment": "demo", "trigger": "manual", "revision": None, "mode": "apply"},
        "runId": run_id,
        "startedAt": at.isoformat(),
    }
    return start.handler(event, LambdaContext())


def applied(
    monkeypatch: pytest.MonkeyPatch, run: dict[str, Any], plan: dict[str, Any], at: datetime
) -> dict[str, Any]:
    """The Apply state of `run`, at `at`, applying `plan`."""
    monkeypatch.setattr(apply, "now", lambda: at, raising=False)
    event = {
        "run": run,
        "load": {"status": "valid", "revision": None, "mode": "apply"},
        "plan": {"plan": plan, "decision": "apply", "refusal": None},
    }
    return apply.handler(event, LambdaContext())


def test_two_runs_at_once_the_second_is_locked_and_only_tried_the_lock(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = started(monkeypatch, "run-a", T0)
    calls_before = len(deployed.faults.calls)
    second = started(monkeypatch, "run-b", T0 + timedelta(seconds=1))
    assert (first["locked"], second["locked"]) == (False, True)
    tried = [(c.service, c.operation) for c in deployed.faults.calls[calls_before:]]
    assert tried == [("dynamodb", "PutItem")]  # the conditional put of the lock, nothing else
    assert deployed.table.lock_holder("demo") == "run-a"


def test_a_dead_runs_lock_frees_after_its_expiry_and_its_late_failure_keeps_the_new_lock(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = started(monkeypatch, "run-dead", T0)
    assert not dead["locked"]
    assert started(monkeypatch, "run-early", T0 + LOCK - timedelta(seconds=1))["locked"]
    assert not started(monkeypatch, "run-next", T0 + LOCK + timedelta(seconds=1))["locked"]
    assert deployed.table.lock_holder("demo") == "run-next"
    late = {"state": {"run": dead, "error": {"Error": "States.Timeout"}}, "runId": "run-dead"}
    assert fail.handler(late, LambdaContext())["status"] == "failed"
    assert deployed.table.lock_holder("demo") == "run-next"


def test_a_run_that_lost_its_lock_to_another_applies_nothing(
    deployed: Deployed,
    monkeypatch: pytest.MonkeyPatch,
    manifests: EnvironmentManifests,
    engines: Engines,
    loaded: None,
) -> None:
    """A stuck run's Apply starts after its lock expired and a new run took the lock."""
    plan = Runs(deployed.aws, manifests, engines).plan()
    stuck = started(monkeypatch, "run-stuck", T0)
    assert not started(monkeypatch, "run-new", T0 + LOCK + timedelta(seconds=1))["locked"]
    with pytest.raises(PermanentError, match="lock"):
        applied(monkeypatch, stuck, plan.to_json(), T0 + LOCK + timedelta(seconds=2))
    assert [c for c in deployed.faults.writes if c.service != "dynamodb"] == []
    assert deployed.table.lock_holder("demo") == "run-new"


def test_an_apply_keeps_its_lock_for_as_long_as_it_may_write(
    deployed: Deployed,
    monkeypatch: pytest.MonkeyPatch,
    manifests: EnvironmentManifests,
    engines: Engines,
    loaded: None,
) -> None:
    """An Apply that starts just before the lock taken at Start expires renews it: a run
    starting while the Apply may still be writing (its Lambda timeout is below the lock's
    duration) finds the environment locked."""
    plan = Runs(deployed.aws, manifests, engines).plan()
    slow = started(monkeypatch, "run-slow", T0)
    output = applied(monkeypatch, slow, plan.to_json(), T0 + LOCK - timedelta(seconds=10))
    assert {r["result"] for r in output["results"]} == {"succeeded"}
    assert started(monkeypatch, "run-other", T0 + LOCK + timedelta(minutes=15))["locked"]
    assert deployed.table.lock_holder("demo") == "run-slow"
