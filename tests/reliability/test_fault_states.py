"""What the state machine sees when AWS keeps failing past botocore's retries.

A failure that may pass by itself (throttling, a 5xx, a timeout) must reach Step Functions as
`TemporaryError`, the error name the states' `Retry` matches, whichever layer wrapped it; any
other failure must not. And an Apply whose writes are done but whose verification cannot read
AWS still reports every change it made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from convergence import Engines, Runs, drifted_demo
from faults import Forward, Injector, Refuse, Sent, Timeouts, WireFault, error_answer
from world import RUN, Deployed, LambdaContext, Queue

from reconciler.errors import TemporaryError
from reconciler.handlers import apply, plan, report
from reconciler.loader import EnvironmentManifests

LOAD = {"status": "valid", "revision": None, "mode": "apply"}

#: Failures that outlast botocore's retries: every attempt of a service's calls fails.
TRANSIENT: dict[str, Callable[[], WireFault]] = {
    "CloudWatch throttling": lambda: Refuse("cloudwatch", None, 10**6, 400, "Throttling"),
    "tagging API throttling": lambda: Refuse(
        "resourcegroupstaggingapi", None, 10**6, 400, "ThrottledException"
    ),
    "STS throttling": lambda: Refuse("sts", None, 10**6, 400, "Throttling"),
    "Lambda 500": lambda: Refuse("lambda", None, 10**6, 500, "ServiceException"),
    "RDS 503": lambda: Refuse("rds", None, 10**6, 503, "ServiceUnavailable"),
    "Budgets 500": lambda: Refuse("budgets", None, 10**6, 500, "InternalFailure"),
    "CloudWatch unreachable": lambda: Timeouts(1, "connect", services=frozenset({"cloudwatch"})),
}


@pytest.mark.parametrize("fault", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_a_plan_state_aws_keeps_failing_transiently_raises_temporary_error(
    fault: Callable[[], WireFault], deployed: Deployed, loaded: None
) -> None:
    deployed.faults.add(fault())
    with pytest.raises(TemporaryError):
        plan.handler({"run": RUN.to_state(), "load": LOAD}, LambdaContext())


def test_a_plan_state_refused_permission_does_not_ask_for_a_retry(
    deployed: Deployed, loaded: None
) -> None:
    deployed.faults.add(Refuse("cloudwatch", "DescribeAlarms", 10**6, 400, "AccessDenied"))
    with pytest.raises(Exception, match="AccessDenied") as raised:
        plan.handler({"run": RUN.to_state(), "load": LOAD}, LambdaContext())
    assert not isinstance(raised.value, TemporaryError)


class ReadsFailOnceWritesLanded:
    """Every CloudWatch read throttled past botocore's retries once apply's last write (prune's
    delete goes last) landed: apply can write, verify cannot read."""

    def __init__(self, deployed: Deployed) -> None:
        self.faults = deployed.faults

    def __call__(self, sent: Sent, forward: Forward) -> Any:
        done = ("old-canary-errors", "DeleteAlarms") in self.faults.landed
        if sent.call.service == "cloudwatch" and not sent.call.write and done:
            return error_answer(sent, 400, "Throttling", "Rate exceeded")
        return forward(sent.request)


def test_an_apply_that_cannot_verify_still_reports_every_change_it_made(
    deployed: Deployed, loaded: None
) -> None:
    queue = Queue(deployed)
    planned = plan.handler({"run": RUN.to_state(), "load": LOAD}, LambdaContext())
    assert planned["decision"] == "apply"
    deployed.faults.add(ReadsFailOnceWritesLanded(deployed))
    state: dict[str, Any] = {"run": RUN.to_state(), "load": LOAD, "plan": planned}
    state["apply"] = apply.handler(state, LambdaContext())
    assert {r["result"] for r in state["apply"]["results"]} == {"succeeded"}
    deployed.faults.heal()
    output = report.handler(state, LambdaContext())
    assert output["status"] == "failed"  # done, but not verified
    kinds = Counter(kind for kind, _ in queue.received())
    assert kinds["Drift Corrected"] == len(state["apply"]["results"]) > 0
    (record,) = deployed.table.runs("demo")
    assert record.status == "failed"
    assert "verif" in (record.error or "")
    assert len(record.results) == len(state["apply"]["results"])


def test_the_engine_calls_every_failure_that_may_pass_by_itself_temporary(
    manifests: EnvironmentManifests, engines: Engines
) -> None:
    """`reconcile` (what `reconciler plan` and `apply` run) stops with TemporaryError, as
    `reconciler.errors` promises, for each of the transient failures above. The state handlers
    make up for the engine where it does not (the tests above)."""
    wrong: list[str] = []
    for name, fault in TRANSIENT.items():
        with drifted_demo() as aws:
            Injector.on(aws).add(fault())
            stopped = Runs(aws, manifests, engines).apply()
            if not isinstance(stopped, TemporaryError):
                wrong.append(f"{name}: {type(stopped).__name__}: {str(stopped)[:160]}")
    assert not wrong, "\n".join(wrong)
