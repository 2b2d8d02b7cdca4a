"""The schedule fan-out against moto's Step Functions (executions are stored, not run)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import moto
import pytest

from reconciler.errors import PermanentError
from reconciler.handlers import schedule


@dataclass
class LambdaContext:
    function_name: str = "reconciler-schedule"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:reconciler-schedule"
    aws_request_id: str = "request-1"


#: What an EventBridge schedule rule sends.
TICK = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2025-06-01T12:15:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/reconciler-schedule"],
    "detail": {},
}


@pytest.fixture
def sfn(credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto.mock_aws():
        client = boto3.client("stepfunctions")
        arn = client.create_state_machine(
            name="reconcile",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/reconciler-state-machine",
        )["stateMachineArn"]
        monkeypatch.setenv("STATE_MACHINE_ARN", arn)
        monkeypatch.setenv("ENVIRONMENTS", "dev,staging,prod")
        schedule.runtime.cache_clear()
        yield client
        schedule.runtime.cache_clear()


def executions(sfn: Any) -> dict[str, dict[str, Any]]:
    arn = schedule.runtime().settings.state_machine_arn
    return {
        e["name"]: json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
        for e in sfn.list_executions(stateMachineArn=arn)["executions"]
    }


def test_a_tick_starts_one_run_per_environment(sfn: Any) -> None:
    started = schedule.handler(TICK, LambdaContext())
    assert [run["name"] for run in started] == [
        "schedule-dev-20250601T121500Z",
        "schedule-staging-20250601T121500Z",
        "schedule-prod-20250601T121500Z",
    ]
    assert executions(sfn) == {
        f"schedule-{env}-20250601T121500Z": {
            "environment": env,
            "trigger": "schedule",
            "revision": None,
            "mode": None,
        }
        for env in ("dev", "staging", "prod")
    }


def test_a_tick_delivered_twice_runs_each_environment_once(sfn: Any) -> None:
    schedule.handler(TICK, LambdaContext())
    for execution in sfn.list_executions(
        stateMachineArn=schedule.runtime().settings.state_machine_arn
    )["executions"]:
        sfn.stop_execution(executionArn=execution["executionArn"])
    again = schedule.handler(TICK, LambdaContext())
    assert [run["alreadyStarted"] for run in again] == [True, True, True]
    assert len(executions(sfn)) == 3


def test_the_next_tick_starts_new_runs(sfn: Any) -> None:
    schedule.handler(TICK, LambdaContext())
    schedule.handler({**TICK, "time": "2025-06-01T12:30:00Z"}, LambdaContext())
    assert len(executions(sfn)) == 6


@pytest.mark.parametrize("event", [{}, None, "tick", {"time": "not a time"}])
def test_any_event_starts_runs_named_after_now(sfn: Any, event: Any) -> None:
    started = schedule.handler(event, LambdaContext())
    assert [run["environment"] for run in started] == ["dev", "staging", "prod"]
    assert all(re.fullmatch(r"schedule-[a-z]+-\d{8}T\d{6}Z", run["name"]) for run in started)


def test_a_missing_state_machine_is_a_permanent_error(
    sfn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATE_MACHINE_ARN", schedule.runtime().settings.state_machine_arn + "-gone")
    schedule.runtime.cache_clear()
    with pytest.raises(PermanentError, match="dev: StateMachineDoesNotExist"):
        schedule.handler(TICK, LambdaContext())
