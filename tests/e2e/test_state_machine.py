"""The real state machine definition runs the real handlers to convergence, on moto.

Covers a manual, a schedule and a commit trigger, asserting on the execution output, the events
as delivered to an SQS target, the run history and the lock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
from deployment import REGION, TABLE, WEBHOOK_SECRET, Deployment, deploy
from lambda_in_process import MOTO_CONFIG, handlers_in_process

from reconciler.cli import main as cli
from reconciler.demo.stack import create_drifted_stack, write_manifests
from reconciler.emulator import install
from reconciler.history import RunsTable


@pytest.fixture
def deployment(credentials: None, tmp_path: Path) -> Iterator[Deployment]:
    from reconciler.handlers import schedule, webhook

    install()
    schedule.runtime.cache_clear()
    webhook.runtime.cache_clear()
    with moto.mock_aws(config=MOTO_CONFIG), handlers_in_process():  # type: ignore[arg-type]
        create_drifted_stack(boto3.Session(region_name=REGION))
        deployed = deploy()
        manifests = write_manifests(str(tmp_path / "repo"))
        assert (
            cli(
                [
                    "publish",
                    "--to",
                    "s3://reconciler-manifests/manifests",
                    "--revision",
                    "a" * 40,
                    manifests,
                ]
            )
            == 0
        )
        yield deployed


def history(environment: str = "demo") -> list[dict[str, object]]:
    table = RunsTable(boto3.client("dynamodb", region_name=REGION), TABLE)
    return [record.to_json() for record in table.runs(environment)]


def lock_holder(environment: str = "demo") -> str | None:
    return RunsTable(boto3.client("dynamodb", region_name=REGION), TABLE).lock_holder(environment)


def test_manual_run_converges_a_drifted_environment(deployment: Deployment) -> None:
    arn = deployment.execute(
        "manual-1", {"environment": "demo", "trigger": "manual", "revision": None, "mode": "apply"}
    )
    execution = deployment.wait(arn)
    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["status"] == "corrected", output
    assert output["runId"] == "manual-1"
    assert output["revision"] == "a" * 40
    assert output["summary"] == {"create": 1, "update": 11, "delete": 1, "noop": 0, "blocked": 0}

    kinds = Counter(event["detail-type"] for event in deployment.events())
    assert kinds == {"Drift Detected": 13, "Drift Corrected": 13, "Reconcile Completed": 1}

    (record,) = history()
    assert record["status"] == "corrected"
    assert record["trigger"] == "manual"
    assert lock_holder() is None

    again = deployment.wait(
        deployment.execute(
            "manual-2", {"environment": "demo", "trigger": "manual", "revision": None, "mode": None}
        )
    )
    assert json.loads(again["output"])["status"] == "in-sync"


def test_scheduled_run_starts_one_execution_per_environment(deployment: Deployment) -> None:
    lam = boto3.client("lambda", region_name=REGION)
    answer = lam.invoke(
        FunctionName="reconciler-schedule", Payload=json.dumps({"time": "2026-11-21T12:00:00Z"})
    )
    started = json.loads(answer["Payload"].read())
    assert [run["environment"] for run in started] == ["demo"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    (execution,) = sfn.list_executions(stateMachineArn=deployment.state_machine_arn)["executions"]
    output = json.loads(deployment.wait(execution["executionArn"])["output"])
    # the demo environment's mode is apply, so a scheduled run corrects it
    assert output["status"] == "corrected"
    (record,) = history()
    assert record["trigger"] == "schedule"


def test_commit_run_starts_from_a_signed_push(deployment: Deployment, tmp_path: Path) -> None:
    revision = "b" * 40
    manifests = write_manifests(str(tmp_path / "repo2"))
    assert (
        cli(
            [
                "publish",
                "--to",
                "s3://reconciler-manifests/manifests",
                "--revision",
                revision,
                manifests,
            ]
        )
        == 0
    )
    body = json.dumps({
        "ref": "refs/heads/main", "after": revision, "before": "a" * 40, "deleted": False,
        "commits": [{"id": revision, "added": [], "removed": [], "modified": ["manifests/demo/gateway.yaml"]}],
        "head_commit": {"id": revision, "added": [], "removed": [], "modified": ["manifests/demo/gateway.yaml"]},
    })  # fmt: skip
    signature = (
        "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    )
    request = {
        "headers": {"x-hub-signature-256": signature, "x-github-event": "push", "x-github-delivery": "delivery-1"},
        "body": body, "isBase64Encoded": False,
    }  # fmt: skip
    lam = boto3.client("lambda", region_name=REGION)
    answer = json.loads(
        lam.invoke(FunctionName="reconciler-webhook", Payload=json.dumps(request))["Payload"].read()
    )
    assert answer["statusCode"] == 202, answer
    sfn = boto3.client("stepfunctions", region_name=REGION)
    (execution,) = sfn.list_executions(stateMachineArn=deployment.state_machine_arn)["executions"]
    assert execution["name"].startswith("delivery-1")
    output = json.loads(deployment.wait(execution["executionArn"])["output"])
    assert output["status"] == "corrected"
    assert output["revision"] == revision
    (record,) = history()
    assert record["trigger"] == "commit"
    assert record["revision"] == revision


def test_a_second_run_while_one_holds_the_lock_ends_locked_and_touches_nothing(
    deployment: Deployment,
) -> None:
    table = RunsTable(boto3.client("dynamodb", region_name=REGION), TABLE)
    assert table.acquire_lock(
        "demo", "someone-else", now=datetime.now(UTC), ttl=timedelta(minutes=5)
    )
    output = json.loads(
        deployment.wait(
            deployment.execute(
                "second",
                {"environment": "demo", "trigger": "manual", "revision": None, "mode": "apply"},
            )
        )["output"]
    )
    assert output == {
        "runId": "second",
        "environment": "demo",
        "revision": None,
        "status": "locked",
        "summary": None,
    }
    assert deployment.events() == []
    assert lock_holder() == "someone-else"
    memory = boto3.client("lambda", region_name=REGION).get_function(FunctionName="flask-api")[
        "Configuration"
    ]["MemorySize"]
    assert memory == 256, "the locked run must not have applied anything"


def test_two_runs_at_once_one_is_locked(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run is held inside Plan until the second has ended: they truly overlap."""
    from reconciler.handlers import plan as plan_state

    sfn = boto3.client("stepfunctions", region_name=REGION)
    real_plan = plan_state.handler
    second: dict[str, str] = {}

    def plan_after_the_second_run_ended(event: dict[str, Any], context: Any) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (
                "arn" in second
                and sfn.describe_execution(executionArn=second["arn"])["status"] != "RUNNING"
            ):
                break
            time.sleep(0.05)
        return real_plan(event, context)

    monkeypatch.setattr(plan_state, "handler", plan_after_the_second_run_ended)
    first = deployment.execute(
        "one", {"environment": "demo", "trigger": "manual", "revision": None, "mode": "apply"}
    )
    while not history() and lock_holder() is None:  # the first run holds the lock
        time.sleep(0.05)
    second["arn"] = deployment.execute(
        "two", {"environment": "demo", "trigger": "manual", "revision": None, "mode": "apply"}
    )
    assert json.loads(deployment.wait(second["arn"])["output"])["status"] == "locked"
    assert json.loads(deployment.wait(first)["output"])["status"] == "corrected"


def test_a_dead_runs_lock_frees_after_its_expiry(deployment: Deployment) -> None:
    table = RunsTable(boto3.client("dynamodb", region_name=REGION), TABLE)
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    assert table.acquire_lock("demo", "dead-run", now=long_ago, ttl=timedelta(minutes=30))
    output = json.loads(
        deployment.wait(
            deployment.execute(
                "after-dead",
                {"environment": "demo", "trigger": "manual", "revision": None, "mode": "apply"},
            )
        )["output"]
    )
    assert output["status"] == "corrected"


def test_a_failing_stage_reports_reconcile_failed_and_releases_the_lock(
    deployment: Deployment,
) -> None:
    output = json.loads(
        deployment.wait(
            deployment.execute(
                "bad-rev",
                {"environment": "demo", "trigger": "manual", "revision": "c" * 40, "mode": "apply"},
            )
        )["output"]
    )
    assert output["status"] == "failed"
    failures = [e for e in deployment.events() if e["detail-type"] == "Reconcile Failed"]
    assert len(failures) == 1
    assert failures[0]["detail"]["stage"] == "load"
    assert lock_holder() is None
    (record,) = history()
    assert record["status"] == "failed"


def test_invalid_manifests_end_the_run_as_invalid(deployment: Deployment, tmp_path: Path) -> None:
    from reconciler.sources.bundle import Bundle
    from reconciler.sources.s3 import S3BundleSource

    manifests = write_manifests(str(tmp_path / "bad"))
    gateway = Path(manifests, "demo", "gateway.yaml")
    gateway.write_text(gateway.read_text().replace("memoryMb: 256", "memoryMb: 20000"))
    # `reconciler publish` refuses invalid manifests; CI could still upload a bad bundle by hand
    source = S3BundleSource.from_uri("s3://reconciler-manifests/manifests")
    source.publish(Bundle.collect([os.path.join(manifests, "demo")]), "d" * 40)
    output = json.loads(
        deployment.wait(
            deployment.execute(
                "invalid",
                {"environment": "demo", "trigger": "commit", "revision": "d" * 40, "mode": None},
            )
        )["output"]
    )
    assert output["status"] == "invalid"
    (event,) = deployment.events()
    assert event["detail-type"] == "Manifests Invalid"
    assert "spec.memoryMb" in event["detail"]["errors"][0]["path"]
    assert lock_holder() is None
    memory = boto3.client("lambda", region_name=REGION).get_function(FunctionName="gateway")[
        "Configuration"
    ]["MemorySize"]
    assert memory == 256


def test_invalid_input_ends_failed_with_an_event_and_a_record(deployment: Deployment) -> None:
    arn = deployment.execute("bad-input", {"environment": "Not A Name!", "trigger": "sometimes"})
    execution = deployment.wait(arn)
    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["status"] == "failed"
    (event,) = deployment.events()
    assert event["detail-type"] == "Reconcile Failed"
    assert event["detail"]["stage"] == "start"
    assert "the run's input is invalid" in event["detail"]["error"]
    (record,) = history("Not A Name!")
    assert record["status"] == "failed"
