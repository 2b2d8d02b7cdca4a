"""Reliability tests: faults injected into real runs of the engine on the emulator.

Every case gets a fresh emulated account (`drifted_demo()`), fake credentials, and no real
waiting: botocore's retry backoff and the Lambda engine's polls are recorded instead of slept.
"""

from __future__ import annotations

import json
import time
import types
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.endpoint
import pytest
from convergence import Engines, Runs, drifted_demo, quick_engines
from faults import Call, Injector

from reconciler import events, pipeline
from reconciler.aws import Clients
from reconciler.demo.stack import REGION, write_manifests
from reconciler.handlers import runtime
from reconciler.handlers.runtime import Run
from reconciler.history import RunsTable
from reconciler.loader import EnvironmentManifests, load_environment

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
CLEARED = ("AWS_PROFILE", "AWS_ENDPOINT_URL")


@pytest.fixture(scope="session")
def offline() -> Iterator[None]:
    """Fake credentials, and no profile or endpoint that could lead to a real account."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_CREDENTIALS.items():
            patch.setenv(name, value)
        for name in CLEARED:
            patch.delenv(name, raising=False)
        yield


class Sleeps(list[float]):
    """Waits asked for and not slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def backoff(offline: None, monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    """botocore's retry backoff, recorded instead of slept."""
    sleeps = Sleeps()
    monkeypatch.setattr(
        botocore.endpoint, "time", types.SimpleNamespace(sleep=sleeps, time=time.time)
    )
    return sleeps


@pytest.fixture
def waits() -> Sleeps:
    """The Lambda engine's polls and conflict backoffs, recorded instead of slept."""
    return Sleeps()


@pytest.fixture
def engines(waits: Sleeps) -> Engines:
    return quick_engines(waits)


@pytest.fixture(scope="session")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> EnvironmentManifests:
    """The demo environment: two functions, a cluster, two alarms, a budget, prune on."""
    root = write_manifests(str(tmp_path_factory.mktemp("manifests")))
    return load_environment(str(Path(root, "demo")))


@dataclass(frozen=True)
class CleanApply:
    """What a fault-free apply of the drifted demo writes, in order, and what AWS accepted."""

    writes: tuple[Call, ...]
    landed: Counter[tuple[str, str]]

    def label(self, k: int) -> str:
        call = self.writes[k - 1]
        return f"write {k} of {len(self.writes)}: {call.operation} {call.resource}"


@pytest.fixture(scope="session")
def clean(offline: None, manifests: EnvironmentManifests) -> CleanApply:
    with drifted_demo() as aws:
        faults = Injector.on(aws)
        runs = Runs(aws, manifests, quick_engines(Sleeps()))
        assert runs.until_converged(limit=1) == 1
        assert runs.plan().in_sync
    return CleanApply(tuple(faults.writes), faults.landed)


# --- the state machine's handlers ------------------------------------------------------------

TABLE = "reconciler-runs"


@dataclass
class LambdaContext:
    """What Powertools reads of a Lambda context."""

    function_name: str = "reconciler-state"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:reconciler-state"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


@dataclass
class Deployed:
    """What the state handlers run against: the drifted demo, the runs table, and faults on
    every client, the engine's and those the handlers build themselves (`boto3.client`)."""

    aws: Clients
    faults: Injector
    table: RunsTable


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    monkeypatch.setenv("RUNS_TABLE", TABLE)
    monkeypatch.setenv("EVENT_BUS_NAME", "default")
    monkeypatch.setitem(events.send.__kwdefaults__, "sleep", Sleeps())
    with drifted_demo() as aws:
        session = aws.session
        dynamodb = session.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
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
        faults = Injector.on(aws)

        def client(service: str, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("region_name", REGION)
            built = session.client(service, *args, **kwargs)
            faults.wire([built])
            return built

        monkeypatch.setattr(boto3, "client", client)
        monkeypatch.setattr(pipeline, "clients_for", lambda _: aws)
        yield Deployed(aws, faults, RunsTable(dynamodb, TABLE))


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch, manifests: EnvironmentManifests) -> None:
    """The Plan and Apply states read the demo manifests instead of checking out a source."""

    def load(settings: runtime.Settings, run: runtime.Run) -> Any:
        return run.revision, manifests, []

    monkeypatch.setattr(runtime, "load_manifests", load)


RUN = Run(
    run_id="run-faulty-events",
    environment="demo",
    trigger="manual",
    revision=None,
    mode="apply",
    started_at="2026-11-21T12:00:00+00:00",
)


class Queue:
    """An SQS queue behind a rule that matches every reconciler event on the default bus."""

    def __init__(self, deployed: Deployed) -> None:
        session = deployed.aws.session
        self.sqs = session.client("sqs", region_name=REGION)
        self.url = self.sqs.create_queue(QueueName="reconciler-events")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        bus = session.client("events", region_name=REGION)
        bus.put_rule(Name="all-reconciler", EventPattern=json.dumps({"source": ["reconciler"]}))
        bus.put_targets(
            Rule="all-reconciler", Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}]
        )

    def received(self) -> Counter[tuple[str, str]]:
        """Every event delivered so far: (detail-type, detail without durationMs) → times."""
        seen: Counter[tuple[str, str]] = Counter()
        while batch := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                event = json.loads(message["Body"])
                seen[(event["detail-type"], stable(event["detail"]))] += 1
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return seen


def stable(detail: dict[str, Any]) -> str:
    """A detail as text, without `durationMs` (which each attempt of a state measures anew)."""
    return json.dumps({k: v for k, v in detail.items() if k != "durationMs"}, sort_keys=True)
