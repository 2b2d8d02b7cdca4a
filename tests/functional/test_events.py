"""Events: every built detail matches its committed JSON Schema, and `send` delivers them all
through EventBridge (moto, through a rule to an SQS queue) in batches of ten, re-sending only the
entries that failed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler import events
from reconciler.aws import Clients
from reconciler.errors import ManifestError, PermanentError, TemporaryError
from reconciler.events import DetailType, Event
from reconciler.outcome import ChangeResult
from reconciler.plan import Action, Change, Diff, Plan

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"
RUN_ID = "run-0001"
SECRET_BODY = "desired-body-that-must-stay-out-of-events"

PLAN = Plan(
    environment="dev",
    account="123456789012",
    region="us-east-1",
    revision="0123456789abcdef0123456789abcdef01234567",
    changes=(
        Change(
            kind="LambdaFunction",
            name="api",
            action=Action.UPDATE,
            diffs=(
                Diff(field="memoryMb", desired=512, actual=256),
                Diff(field="environment", desired={"LOG": "debug"}, actual={"LOG": "info"}),
            ),
            desired={"memoryMb": 512, "environment": {"LOG": "debug"}, "note": SECRET_BODY},
        ),
        Change(
            kind="MetricAlarm",
            name="api-errors",
            action=Action.CREATE,
            diffs=(Diff(field="threshold", desired=2.5, actual=None),),
            desired={"threshold": 2.5, "note": SECRET_BODY},
        ),
        Change(kind="MetricAlarm", name="old-canary", action=Action.DELETE),
        Change(
            kind="AuroraServerlessCluster",
            name="db",
            action=Action.BLOCKED,
            reason="the cluster does not exist; the reconciler never creates clusters",
        ),
        Change(kind="Budget", name="monthly", action=Action.NOOP),
    ),
)
RESULTS = (
    ChangeResult(PLAN.changes[0], succeeded=True),
    ChangeResult(
        PLAN.changes[1], succeeded=False, error="PutMetricAlarm: AccessDenied\n  for  you"
    ),
    ChangeResult(PLAN.changes[2], succeeded=True),
)
ERRORS = [
    ManifestError(
        "manifests/dev/api.yaml",
        12,
        5,
        "spec.memoryMb",
        "20000 is too big",
        "LambdaFunction",
        "api",
    ),
    ManifestError("manifests/dev/environment.yaml", 1, 1, "", "duplicate key"),
]


def schema(detail_type: DetailType) -> dict[str, Any]:
    return json.loads((SCHEMAS / events.SCHEMA_FILES[detail_type]).read_text(encoding="utf-8"))


def schema_errors(event: Event) -> list[str]:
    validator = Draft202012Validator(schema(event.detail_type))
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(event.detail)
    ]


def every_kind_of_event() -> list[Event]:
    return [
        *events.drift_detected(PLAN, RUN_ID),
        *events.corrections(RESULTS, PLAN, RUN_ID),
        *(
            events.completed(
                "dev",
                RUN_ID,
                revision=PLAN.revision,
                trigger="schedule",
                status=status,
                summary=PLAN.summary,
                duration_ms=1234,
            )
            for status in sorted(events.COMPLETED_STATUSES)
        ),
        events.completed(
            "dev",
            RUN_ID,
            revision=None,
            trigger="manual",
            status="suspended",
            summary=None,
            duration_ms=5,
            reason="spec.suspended is true",
        ),
        events.failed("dev", RUN_ID, stage="plan", error=TimeoutError()),
        events.failed("dev", RUN_ID, stage="load", error="git fetch failed", revision="abc"),
        events.invalid("dev", "abc", ERRORS, run_id=RUN_ID),
    ]


# --- the schemas -------------------------------------------------------------------------------


def test_there_is_one_schema_per_detail_type() -> None:
    committed = {path.name for path in SCHEMAS.glob("*.schema.json")}
    assert committed == set(events.SCHEMA_FILES.values())
    assert events.SCHEMA_FILES[DetailType.DRIFT_DETECTED] == "drift-detected.schema.json"


@pytest.mark.parametrize("detail_type", list(DetailType), ids=str)
def test_schema_is_a_valid_draft_2020_12_schema(detail_type: DetailType) -> None:
    body = schema(detail_type)
    assert body["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(body)
    assert detail_type.value in body["description"]


def test_every_built_event_matches_its_schema() -> None:
    built = every_kind_of_event()
    assert {event.detail_type for event in built} == set(DetailType)
    for event in built:
        assert schema_errors(event) == [], event


def test_the_schemas_reject_a_missing_or_unknown_field() -> None:
    """Guards the schemas themselves: a schema that accepted anything would pass the test above."""
    for event in every_kind_of_event():
        required = schema(event.detail_type)["required"]
        for key in required:
            without = {k: v for k, v in event.detail.items() if k != key}
            assert schema_errors(Event(event.detail_type, without)), (event.detail_type, key)
        extra = Event(event.detail_type, {**event.detail, "desired": {"memoryMb": 1}})
        assert schema_errors(extra), event.detail_type


# --- the builders ------------------------------------------------------------------------------


def test_drift_detected_is_one_event_per_drifted_resource() -> None:
    drift = events.drift_detected(PLAN, RUN_ID)
    assert [(e.detail["kind"], e.detail["name"], e.detail["action"]) for e in drift] == [
        ("LambdaFunction", "api", "update"),
        ("MetricAlarm", "api-errors", "create"),
        ("MetricAlarm", "old-canary", "delete"),
        ("AuroraServerlessCluster", "db", "blocked"),
    ]
    first = drift[0].detail
    assert first["environment"] == "dev"
    assert first["revision"] == PLAN.revision
    assert first["runId"] == RUN_ID
    assert first["diffs"][0] == {"field": "memoryMb", "desired": 512, "actual": 256}
    assert drift[3].detail["reason"].startswith("the cluster does not exist")
    assert SECRET_BODY not in json.dumps([e.detail for e in drift])


def test_an_in_sync_plan_detects_no_drift() -> None:
    in_sync = PLAN.model_copy(update={"changes": (PLAN.changes[4],)})
    assert events.drift_detected(in_sync, RUN_ID) == []


def test_corrections_report_each_result() -> None:
    sent = events.corrections(RESULTS, PLAN, RUN_ID)
    assert [e.detail_type for e in sent] == [
        DetailType.DRIFT_CORRECTED,
        DetailType.CORRECTION_FAILED,
        DetailType.DRIFT_CORRECTED,
    ]
    assert sent[0].detail["result"] == "succeeded"
    assert sent[1].detail["error"] == "PutMetricAlarm: AccessDenied for you"
    assert sent[1].detail["name"] == "api-errors"
    assert SECRET_BODY not in json.dumps([e.detail for e in sent])


def test_completed_refuses_a_status_the_contract_does_not_send() -> None:
    with pytest.raises(ValueError, match="invalid"):
        events.completed(
            "dev", RUN_ID, revision=None, trigger="schedule", status="invalid", summary=None,
            duration_ms=1,
        )  # fmt: skip
    with pytest.raises(ValueError, match="trigger"):
        events.completed(
            "dev", RUN_ID, revision=None, trigger="cron", status="in-sync", summary=None,
            duration_ms=1,
        )  # fmt: skip


def test_failed_names_the_stage_and_the_error() -> None:
    event = events.failed("dev", RUN_ID, stage="apply", error=RuntimeError("boom\nagain"))
    assert event.detail == {
        "environment": "dev",
        "revision": None,
        "runId": RUN_ID,
        "stage": "apply",
        "error": "boom again",
    }
    assert events.failed("dev", RUN_ID, stage="plan", error=TimeoutError()).detail["error"] == (
        "TimeoutError"
    )


def test_manifests_invalid_lists_errors_in_file_order_and_counts_them_all() -> None:
    many = [
        ManifestError(f"manifests/dev/f{i:03}.yaml", 1, 1, "spec", "bad") for i in range(150, 0, -1)
    ]
    event = events.invalid("dev", "abc", many)
    assert event.detail["errorCount"] == 150
    assert len(event.detail["errors"]) == events.MAX_ERRORS
    assert event.detail["errors"][0]["file"] == "manifests/dev/f001.yaml"
    assert schema_errors(event) == []


def test_huge_diffs_are_cut_so_an_event_stays_small() -> None:
    big = {f"VAR_{i}": "x" * 200 for i in range(100)}
    change = Change(
        kind="LambdaFunction",
        name="api",
        action=Action.UPDATE,
        diffs=tuple(Diff(field=f"f{i}", desired=big, actual=i) for i in range(100)),
        desired={"environment": big},
    )
    plan = PLAN.model_copy(update={"changes": (change,)})
    (event,) = events.drift_detected(plan, RUN_ID)
    assert len(event.detail["diffs"]) == events.MAX_DIFFS
    assert event.detail["diffsOmitted"] == 60
    assert event.detail["diffs"][0]["desired"].startswith("<")
    assert event.detail["diffs"][0]["actual"] == 0
    assert len(json.dumps(event.detail)) < 20_000
    assert schema_errors(event) == []


# --- delivery ----------------------------------------------------------------------------------


class Bus:
    """The default bus, with a rule sending every `reconciler` event to an SQS queue."""

    def __init__(self, aws: Clients) -> None:
        self.events = aws.events
        self.sqs = aws.client("sqs")
        self.queue_url = self.sqs.create_queue(QueueName="reconciler-events")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        self.events.put_rule(
            Name="reconciler-to-queue", EventPattern=json.dumps({"source": ["reconciler"]})
        )
        self.events.put_targets(
            Rule="reconciler-to-queue",
            Targets=[{"Id": "queue", "Arn": arn["Attributes"]["QueueArn"]}],
        )
        self.calls: list[int] = []  # the number of entries of each PutEvents call
        self.events.meta.events.register("before-parameter-build.events.PutEvents", self._count)

    def _count(self, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(len(params["Entries"]))

    def received(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            batch = answer.get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def bus(aws: Clients) -> Bus:
    return Bus(aws)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def numbered(count: int) -> list[Event]:
    return [events.failed("dev", f"run-{i:02}", stage="plan", error="x") for i in range(count)]


def run_ids(received: list[dict[str, Any]]) -> list[str]:
    return sorted(message["detail"]["runId"] for message in received)


def test_events_reach_a_rule_target(bus: Bus) -> None:
    built = every_kind_of_event()
    events.send(bus.events, "default", built)
    received = bus.received()
    assert len(received) == len(built)
    assert {m["source"] for m in received} == {"reconciler"}
    sent = sorted((e.detail_type.value, json.dumps(e.detail, sort_keys=True)) for e in built)
    got = sorted((m["detail-type"], json.dumps(m["detail"], sort_keys=True)) for m in received)
    assert got == sent


def test_events_go_in_batches_of_at_most_ten(bus: Bus) -> None:
    events.send(bus.events, "default", numbered(25))
    assert bus.calls == [10, 10, 5]
    assert run_ids(bus.received()) == [f"run-{i:02}" for i in range(25)]


def test_batches_also_stay_under_256_kb() -> None:
    entries: list[Any] = [
        {"Source": "reconciler", "DetailType": "x", "Detail": "y" * 100_000} for _ in range(5)
    ]
    assert [len(b) for b in events.batches(entries)] == [2, 2, 1]


def test_an_event_too_large_for_eventbridge_is_refused_before_anything_is_sent(bus: Bus) -> None:
    huge = Event(DetailType.RECONCILE_FAILED, {"error": "x" * 300_000})
    with pytest.raises(PermanentError, match="Reconcile Failed"):
        events.send(bus.events, "default", [*numbered(3), huge])
    assert bus.calls == []


class Answer:
    """The little of an HTTP response botocore reads from an answer a hook gives instead."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def fail_entries(bus: Bus, should_fail: Callable[[int, dict[str, Any]], bool]) -> None:
    """Make EventBridge drop the entries `should_fail(call_number, entry)` picks, and report them
    failed as it does: `FailedEntryCount` and an `ErrorCode` at each one's position."""
    dropped: list[int] = []
    call = iter(range(1_000))

    def build(params: dict[str, Any], **_: Any) -> None:
        number = next(call)
        dropped[:] = [i for i, e in enumerate(params["Entries"]) if should_fail(number, e)]
        kept = [e for i, e in enumerate(params["Entries"]) if i not in dropped]
        if kept:  # when none is kept, `before_call` answers instead of moto
            params["Entries"] = kept

    def before_call(params: dict[str, Any], **_: Any) -> tuple[Answer, dict[str, Any]] | None:
        body = json.loads(params["body"])
        if len(dropped) < len(body["Entries"]):
            return None
        return Answer(200), {"FailedEntryCount": 0, "Entries": [], "ResponseMetadata": {}}

    def after_call(parsed: dict[str, Any], **_: Any) -> None:
        for index in dropped:
            parsed["Entries"].insert(
                index, {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            )
        parsed["FailedEntryCount"] = len(dropped)

    bus.events.meta.events.register("before-parameter-build.events.PutEvents", build)
    bus.events.meta.events.register("before-call.events.PutEvents", before_call)
    bus.events.meta.events.register("after-call.events.PutEvents", after_call)


def test_failed_entries_alone_are_sent_again(bus: Bus) -> None:
    fail_entries(
        bus, lambda call, entry: call == 0 and any(f'"run-0{i}"' in entry["Detail"] for i in "17")
    )
    sleeps = Sleeps()
    events.send(bus.events, "default", numbered(12), sleep=sleeps)
    assert bus.calls == [10, 2, 2]  # the first ten, the last two, then the two that failed
    assert sleeps == [0.2]
    assert run_ids(bus.received()) == [f"run-{i:02}" for i in range(12)]  # each exactly once


def test_entries_still_failing_after_the_last_attempt_are_reported_lost(bus: Bus) -> None:
    fail_entries(bus, lambda _, entry: '"run-01"' in entry["Detail"])
    sleeps = Sleeps()
    with pytest.raises(
        TemporaryError, match=r"1 of 3 events .* after 5 attempts .*InternalFailure"
    ):
        events.send(bus.events, "default", numbered(3), sleep=sleeps)
    assert sleeps == [0.2, 0.4, 0.8, 1.6]
    assert bus.calls == [3, 1, 1, 1, 1]
    assert run_ids(bus.received()) == ["run-00", "run-02"]


def refuse_calls(bus: Bus, code: str, times: int) -> None:
    """Answer the first `times` PutEvents calls with the error `code`, sending nothing."""
    left = [times]

    def before(**_: Any) -> tuple[Answer, dict[str, Any]] | None:
        if left[0] == 0:
            return None
        left[0] -= 1
        return Answer(400), {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {}}

    bus.events.meta.events.register("before-call.events.PutEvents", before)


def test_a_throttled_call_is_sent_again(bus: Bus) -> None:
    refuse_calls(bus, "ThrottlingException", times=1)
    sleeps = Sleeps()
    events.send(bus.events, "default", numbered(4), sleep=sleeps)
    assert sleeps == [0.2]
    assert run_ids(bus.received()) == [f"run-{i:02}" for i in range(4)]


def test_a_refused_call_is_a_permanent_error_and_not_retried(bus: Bus) -> None:
    sleeps = Sleeps()
    with pytest.raises(PermanentError, match="no-such-bus"):
        events.send(bus.events, "no-such-bus", numbered(2), sleep=sleeps)
    assert sleeps == []
    assert bus.calls == [2]
