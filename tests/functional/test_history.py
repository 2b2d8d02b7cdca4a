"""The run-history and lock table on moto's DynamoDB: one run per environment at a time, locks of
dead runs free themselves, every run is kept and listed newest first, and `reconciler history`
shows them."""

from __future__ import annotations

import json
import os
import typing
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from reconciler.aws import Clients
from reconciler.cli import main
from reconciler.errors import PermanentError
from reconciler.history import MAX_PLAN_BYTES, RunRecord, RunsTable, RunStatus
from reconciler.outcome import Status
from reconciler.plan import Action, Change, Diff, Plan, Summary

TABLE = "reconciler-runs"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=15)


@pytest.fixture
def table(aws: Clients) -> RunsTable:
    """The deployed table's shape: `pk`/`sk` strings, on demand."""
    client = boto3.client("dynamodb", region_name=aws.region)
    client.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return RunsTable(client, TABLE)


PLAN = Plan(
    environment="dev",
    account="123456789012",
    region="us-east-1",
    revision="0123456789abcdef0123456789abcdef01234567",
    changes=(
        Change(
            kind="AuroraServerlessCluster",
            name="db",
            action=Action.UPDATE,
            diffs=(Diff(field="minCapacity", desired=0.5, actual=2),),
            desired={"minCapacity": 0.5, "maxCapacity": 8},
        ),
        Change(
            kind="MetricAlarm",
            name="api-errors",
            action=Action.CREATE,
            diffs=(Diff(field="threshold", desired=2.75, actual=None),),
            desired={"threshold": 2.75, "dimensions": {"FunctionName": "api"}},
        ),
        Change(kind="Budget", name="monthly", action=Action.NOOP),
    ),
)


def record(
    run_id: str = "run-1",
    started: datetime = T0,
    *,
    environment: str = "dev",
    plan: dict[str, Any] | None = None,
    **fields: Any,
) -> RunRecord:
    body: dict[str, Any] = {
        "runId": run_id,
        "environment": environment,
        "trigger": "schedule",
        "revision": PLAN.revision,
        "status": "corrected",
        "startedAt": started,
        "finishedAt": started + timedelta(seconds=42),
        "durationMs": 42_000,
        "summary": PLAN.summary,
        "plan": plan,
        "results": [
            {
                "kind": "AuroraServerlessCluster",
                "name": "db",
                "action": "update",
                "result": "succeeded",
                "error": None,
            },
            {
                "kind": "MetricAlarm",
                "name": "api-errors",
                "action": "create",
                "result": "failed",
                "error": "AccessDenied",
                "retryAfterSeconds": 1.5,
            },
        ],
        **fields,
    }
    return RunRecord.model_validate(body)


# --- the lock ----------------------------------------------------------------------------------


def test_one_run_at_a_time(table: RunsTable) -> None:
    assert table.acquire_lock("dev", "run-a", now=T0, ttl=TTL)
    assert not table.acquire_lock("dev", "run-b", now=T0 + timedelta(minutes=1), ttl=TTL)
    assert table.lock_holder("dev") == "run-a"


def test_the_holder_may_take_its_lock_again(table: RunsTable) -> None:
    """A retried state of the same run must not lock itself out."""
    assert table.acquire_lock("dev", "run-a", now=T0, ttl=TTL)
    assert table.acquire_lock("dev", "run-a", now=T0 + timedelta(minutes=1), ttl=TTL)


def test_locks_are_per_environment(table: RunsTable) -> None:
    assert table.acquire_lock("dev", "run-a", now=T0, ttl=TTL)
    assert table.acquire_lock("prod", "run-b", now=T0, ttl=TTL)


def test_a_dead_runs_lock_frees_itself_after_it_expires(table: RunsTable) -> None:
    assert table.acquire_lock("dev", "dead", now=T0, ttl=TTL)
    assert not table.acquire_lock("dev", "next", now=T0 + TTL, ttl=TTL)  # not yet: at expiry
    assert table.acquire_lock("dev", "next", now=T0 + TTL + timedelta(seconds=1), ttl=TTL)
    assert table.lock_holder("dev") == "next"


def test_release_frees_the_lock(table: RunsTable) -> None:
    assert table.acquire_lock("dev", "run-a", now=T0, ttl=TTL)
    table.release_lock("dev", "run-a")
    assert table.lock_holder("dev") is None
    assert table.acquire_lock("dev", "run-b", now=T0 + timedelta(seconds=1), ttl=TTL)


def test_release_by_another_run_does_nothing(table: RunsTable) -> None:
    """A run that lost its lock to expiry and then finishes must not free its successor's."""
    assert table.acquire_lock("dev", "dead", now=T0, ttl=TTL)
    assert table.acquire_lock("dev", "next", now=T0 + 2 * TTL, ttl=TTL)
    table.release_lock("dev", "dead")
    assert table.lock_holder("dev") == "next"
    assert not table.acquire_lock("dev", "third", now=T0 + 2 * TTL, ttl=TTL)
    table.release_lock("prod", "next")  # no lock at all: also no error


# --- the records -------------------------------------------------------------------------------


def test_a_record_with_its_plan_round_trips(table: RunsTable) -> None:
    run = record(plan=PLAN.to_json(), error=None)
    table.record(run)
    assert table.run("dev", "run-1") == run
    assert table.run("dev", "run-1", started_at=T0) == run
    assert table.runs("dev", plans=True) == [run]
    assert Plan.from_json(table.run("dev", "run-1").plan or {}) == PLAN  # type: ignore[union-attr]


def test_how_a_record_is_stored(table: RunsTable) -> None:
    table.record(record(plan=PLAN.to_json()))
    raw = table.client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "ENV#dev"}},
    )["Items"]
    assert len(raw) == 1
    item = raw[0]
    assert item["sk"] == {"S": "RUN#2024-05-01T12:00:00.000Z#run-1"}
    finished = T0 + timedelta(seconds=42)
    assert item["expiresAt"] == {"N": str(int((finished + timedelta(days=90)).timestamp()))}
    assert "B" in item["plan"]  # compressed, whatever its size
    assert item["results"]["L"][1]["M"]["retryAfterSeconds"] == {"N": "1.5"}
    assert item["status"] == {"S": "corrected"}


def test_runs_are_listed_newest_first(table: RunsTable) -> None:
    starts = [T0 + timedelta(minutes=15 * i) for i in (3, 0, 4, 1, 2)]
    for number, started in enumerate(starts):
        table.record(record(f"run-{number}", started, plan=PLAN.to_json()))
    table.record(record("prod-run", T0 + timedelta(hours=9), environment="prod"))
    newest = table.runs("dev", limit=3)
    assert [run.run_id for run in newest] == ["run-2", "run-0", "run-4"]
    assert all(run.plan is None for run in newest)  # listing leaves the plans out
    assert [run.run_id for run in table.runs("dev")] == [
        "run-2",
        "run-0",
        "run-4",
        "run-3",
        "run-1",
    ]
    assert table.runs("staging") == []


def test_an_unknown_run_is_none(table: RunsTable) -> None:
    table.record(record())
    assert table.run("dev", "run-404") is None
    assert table.run("dev", "run-1", started_at=T0 + timedelta(seconds=1)) is None


def test_a_plan_too_large_for_an_item_is_stored_compressed(table: RunsTable) -> None:
    """2,000 alarms make about 800 KB of plan JSON, twice what a DynamoDB item may hold."""
    changes = tuple(
        Change(
            kind="MetricAlarm",
            name=f"alarm-{i:04}",
            action=Action.UPDATE,
            diffs=(Diff(field="threshold", desired=i + 0.5, actual=i),),
            desired={"threshold": i + 0.5, "description": f"alarm {i} " * 20},
        )
        for i in range(2000)
    )
    big = PLAN.model_copy(update={"changes": changes}).to_json()
    assert len(json.dumps(big)) > 800_000
    table.record(record(plan=big))
    stored = table.run("dev", "run-1")
    assert stored is not None and stored.plan == big


def test_a_plan_that_cannot_fit_even_compressed_is_left_out(table: RunsTable) -> None:
    noise = os.urandom(MAX_PLAN_BYTES).hex()  # random text compresses about 2:1
    huge = PLAN.model_copy(
        update={"changes": (Change(kind="Budget", name="b", action=Action.NOOP, reason=noise),)}
    ).to_json()
    table.record(record(plan=huge))
    stored = table.run("dev", "run-1")
    assert stored is not None
    assert stored.plan is None
    assert stored.status == "corrected"


def test_a_missing_table_is_a_permanent_error(aws: Clients) -> None:
    table = RunsTable(boto3.client("dynamodb", region_name=aws.region), "no-such-table")
    with pytest.raises(PermanentError, match="no-such-table"):
        table.acquire_lock("dev", "run-a", now=T0, ttl=TTL)
    with pytest.raises(PermanentError, match="no-such-table"):
        table.runs("dev")


def test_every_pipeline_status_can_be_recorded() -> None:
    assert set(typing.get_args(RunStatus)) == {status.value for status in Status}


def test_a_record_needs_times_with_a_zone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        record(started=datetime(2024, 5, 1, 12, 0))


# --- `reconciler history` ----------------------------------------------------------------------


@pytest.fixture
def history(table: RunsTable, monkeypatch: pytest.MonkeyPatch) -> RunsTable:
    monkeypatch.setenv("RECONCILER_RUNS_TABLE", TABLE)
    table.record(record("run-old", T0, summary=Summary(update=1, create=1, noop=1), durationMs=850))
    table.record(
        record(
            "run-new",
            T0 + timedelta(minutes=15),
            trigger="commit",
            status="drifted",
            revision="fedcba9876543210fedcba9876543210fedcba98",
            summary=Summary(noop=3, blocked=1),
            durationMs=245_000,
        )
    )
    return table


def test_history_prints_the_runs_newest_first(
    history: RunsTable, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--env", "dev"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["STARTED", "RUN", "ID", "TRIGGER", "REVISION", "STATUS", "CHANGES", "DURATION"]  # fmt: skip
    assert lines[1].split() == ["2024-05-01", "12:15:00Z", "run-new", "commit", "fedcba987654", "drifted", "1", "blocked", "4m05s"]  # fmt: skip
    assert lines[2].split() == ["2024-05-01", "12:00:00Z", "run-old", "schedule", "0123456789ab", "corrected", "1", "create,", "1", "update", "850ms"]  # fmt: skip
    assert len(lines) == 3


def test_history_limit_and_json(history: RunsTable, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--env", "dev", "--limit", "1", "--format", "json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["runId"] == "run-new"
    assert run["startedAt"] == "2024-05-01T12:15:00Z"
    assert run["summary"] == {"create": 0, "update": 0, "delete": 0, "noop": 3, "blocked": 1}


def test_history_of_an_environment_without_runs(
    history: RunsTable, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--env", "prod", "--table", TABLE]) == 0
    assert "No runs of environment 'prod'" in capsys.readouterr().out


def test_history_without_a_table_is_a_usage_error(
    credentials: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RECONCILER_RUNS_TABLE", raising=False)
    with pytest.raises(SystemExit) as stopped:
        main(["history", "--env", "dev"])
    assert stopped.value.code == 2
    assert "RECONCILER_RUNS_TABLE" in capsys.readouterr().err


def test_history_names_a_missing_table(
    table: RunsTable, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--env", "dev", "--table", "nope"]) == 1
    assert "'nope'" in capsys.readouterr().err
