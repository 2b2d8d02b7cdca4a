"""Partial PutEvents failures (`FailedEntryCount`, an `ErrorCode` per failed entry) and Report or
Failed states that the state machine runs again: every event ends delivered exactly once, read
back from an SQS queue behind a rule."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from convergence import Engines
from faults import PartialPutEvents, Refuse
from world import RUN, Deployed, LambdaContext, Queue, Sleeps, stable

from reconciler import events
from reconciler.errors import TemporaryError
from reconciler.handlers import fail, report
from reconciler.loader import EnvironmentManifests
from reconciler.pipeline import reconcile


@pytest.fixture
def queue(deployed: Deployed) -> Queue:
    return Queue(deployed)


def report_state(deployed: Deployed, manifests: EnvironmentManifests, engines: Engines) -> Any:
    """The Report state's input after a real apply of the drifted demo."""
    outcome = reconcile(deployed.aws, manifests, apply_changes=True, engines=engines)
    assert outcome.verified is not None
    return {
        "run": RUN.to_state(),
        "load": {"status": "valid", "revision": None, "mode": "apply"},
        "plan": {"plan": outcome.plan.to_json(), "decision": "apply", "refusal": None},
        "apply": {
            "results": [result.to_json() for result in outcome.results],
            "verified": outcome.verified.to_json(),
        },
    }


def each_once(state: dict[str, Any], received: Counter[tuple[str, str]]) -> bool:
    """One Drift Detected per drifted resource, one Drift Corrected per change, one Reconcile
    Completed: each delivered once."""
    drifted = [c for c in state["plan"]["plan"]["changes"] if c["action"] != "noop"]
    expected = len(drifted) + len(state["apply"]["results"]) + 1
    return set(received.values()) == {1} and len(received) == expected


def run_state(handler: Any, event: dict[str, Any], attempts: int = 4) -> tuple[Any, int]:
    """Call a state's handler as the state machine does: again after a TemporaryError."""
    for attempt in range(1, attempts + 1):
        try:
            return handler(event, LambdaContext()), attempt
        except TemporaryError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def test_partial_failures_deliver_every_event_once(deployed: Deployed, queue: Queue) -> None:
    put = PartialPutEvents(rate=0.3)
    deployed.faults.add(put)
    built = [
        events.failed("demo", f"run-{i:02}", stage="plan", error=f"error {i}") for i in range(37)
    ]
    events.send(deployed.aws.events, "default", built, sleep=Sleeps())
    assert put.failed_entries >= 5
    assert queue.received() == Counter((e.detail_type.value, stable(e.detail)) for e in built)


def test_the_report_state_delivers_every_event_once_through_partial_failures(
    deployed: Deployed, queue: Queue, manifests: EnvironmentManifests, engines: Engines
) -> None:
    state = report_state(deployed, manifests, engines)
    put = PartialPutEvents(rate=0.3)
    deployed.faults.add(put)
    output, attempts = run_state(report.handler, state)
    assert (output["status"], attempts) == ("corrected", 1)
    assert put.failed_entries > 0
    received = queue.received()
    assert each_once(state, received), received


def test_events_still_failing_after_the_senders_attempts_are_sent_once_by_the_retried_state(
    deployed: Deployed, queue: Queue, manifests: EnvironmentManifests, engines: Engines
) -> None:
    """Two entries fail more often than `events.send` tries, so Report raises TemporaryError
    and the state machine runs it again: the events already delivered are not sent twice."""
    state = report_state(deployed, manifests, engines)
    deployed.faults.add(PartialPutEvents(rate=0, stubborn_marker="flask-api-errors", stubborn=7))
    output, attempts = run_state(report.handler, state)
    assert (output["status"], attempts) == ("corrected", 2)
    received = queue.received()
    assert each_once(state, received), received


def test_a_report_retried_because_the_history_failed_sends_its_events_once(
    deployed: Deployed, queue: Queue, manifests: EnvironmentManifests, engines: Engines
) -> None:
    state = report_state(deployed, manifests, engines)
    deployed.faults.add(Refuse("dynamodb", "PutItem", times=100, code="ThrottlingException"))
    with pytest.raises(TemporaryError, match="run-history"):
        report.handler(state, LambdaContext())
    deployed.faults.heal()
    output, _ = run_state(report.handler, state)
    assert output["status"] == "corrected"
    received = queue.received()
    assert each_once(state, received), received


def test_a_failed_state_retried_because_the_history_failed_sends_reconcile_failed_once(
    deployed: Deployed, queue: Queue
) -> None:
    state = {
        "state": {
            "run": RUN.to_state(),
            "load": {"status": "valid", "revision": None, "mode": "apply"},
            "error": {"Error": "PermanentError", "Cause": '{"errorMessage": "no such thing"}'},
        },
        "runId": RUN.run_id,
        "startedAt": RUN.started_at,
    }
    deployed.faults.add(Refuse("dynamodb", "PutItem", times=100, code="ThrottlingException"))
    with pytest.raises(TemporaryError, match="run-history"):
        fail.handler(state, LambdaContext())
    deployed.faults.heal()
    assert fail.handler(state, LambdaContext())["status"] == "failed"
    received = queue.received()
    assert [kind for kind, _ in received] == ["Reconcile Failed"]
    assert set(received.values()) == {1}, received
