"""The whole loop on moto: a drifted stack converges in one apply, safely."""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from call_log import CallLog
from moto.core.botocore_stubber import MockRawResponse

from reconciler.aws import Clients
from reconciler.demo.stack import create_drifted_stack, write_manifests
from reconciler.errors import PermanentError
from reconciler.kinds import managed
from reconciler.kinds.description import TAGGING
from reconciler.loader import EnvironmentManifests, load_environment
from reconciler.outcome import Status
from reconciler.pipeline import apply, reconcile
from reconciler.pipeline import observe_and_plan as plan
from reconciler.plan import Action, Change, Plan


def stack(tmp_path: Path, **environment: object) -> EnvironmentManifests:
    """The demo stack, drifted, with the Environment's spec overridden by `environment`."""
    create_drifted_stack(boto3.Session(region_name="us-east-1"))
    root = write_manifests(str(tmp_path))
    env_file = os.path.join(root, "demo", "environment.yaml")
    text = Path(env_file).read_text()
    for key, value in environment.items():
        text = text.replace(f"  {key}: ", f"  {key}-old: ") if f"  {key}: " in text else text
        text += f"  {key}: {value}\n"
    text = "\n".join(line for line in text.splitlines() if "-old: " not in line) + "\n"
    Path(env_file).write_text(text)
    return load_environment(os.path.join(root, "demo"))


def test_drifted_stack_converges_in_one_apply(aws: Clients, tmp_path: Path) -> None:
    manifests = stack(tmp_path)
    outcome = reconcile(aws, manifests, apply_changes=True)
    assert [r.error for r in outcome.results if not r.succeeded] == []
    assert outcome.status is Status.CORRECTED
    assert outcome.verified is not None and outcome.verified.in_sync
    actions = {c.ref: c.action for c in outcome.plan.changes}
    assert actions["LambdaFunction/flask-api"] is Action.UPDATE
    assert actions["MetricAlarm/flask-api-latency-p99"] is Action.CREATE
    assert actions["MetricAlarm/old-canary-errors"] is Action.DELETE
    again = reconcile(aws, manifests, apply_changes=False)
    assert again.status is Status.IN_SYNC


def test_second_apply_makes_no_writes(aws: Clients, calls: CallLog, tmp_path: Path) -> None:
    manifests = stack(tmp_path)
    reconcile(aws, manifests, apply_changes=True)
    calls.clear()
    outcome = reconcile(aws, manifests, apply_changes=True)
    assert outcome.status is Status.IN_SYNC
    assert calls.writes == []
    assert calls.calls, "the second run should still have read AWS"


def test_wrong_account_stops_before_reading_anything(
    aws: Clients, calls: CallLog, tmp_path: Path
) -> None:
    manifests = stack(tmp_path, account='"999999999999"')
    with pytest.raises(PermanentError, match="999999999999"):
        reconcile(aws, manifests, apply_changes=True)
    assert calls.calls == [("sts", "GetCallerIdentity")]


def test_plan_over_the_change_budget_is_refused_whole(
    aws: Clients, calls: CallLog, tmp_path: Path
) -> None:
    manifests = stack(tmp_path, maxChangesPerRun=2)
    outcome = reconcile(aws, manifests, apply_changes=True)
    assert outcome.refusal is not None and "maxChangesPerRun" in outcome.refusal
    assert outcome.status is Status.DRIFTED
    assert calls.writes == []


def test_freeze_window_reports_drift_but_applies_nothing(
    aws: Clients, calls: CallLog, tmp_path: Path
) -> None:
    window = '[{start: "2026-12-20T00:00:00Z", end: "2027-01-02T00:00:00Z"}]'
    manifests = stack(tmp_path, freezeWindows=window)
    outcome = reconcile(aws, manifests, apply_changes=True, now=datetime(2026, 12, 25, tzinfo=UTC))
    assert outcome.refusal is not None and "freeze window" in outcome.refusal
    assert outcome.plan.writes
    assert calls.writes == []


def test_prune_off_leaves_undeclared_owned_alarms(aws: Clients, tmp_path: Path) -> None:
    manifests = stack(tmp_path, prune="false")
    outcome = reconcile(aws, manifests, apply_changes=True)
    assert "MetricAlarm/old-canary-errors" not in {c.ref for c in outcome.plan.changes}
    alarms = aws.cloudwatch.describe_alarms(AlarmNames=["old-canary-errors"])["MetricAlarms"]
    assert len(alarms) == 1


def test_prune_never_deletes_unowned_or_foreign_alarms(aws: Clients, tmp_path: Path) -> None:
    manifests = stack(tmp_path)
    for name, tags in (
        ("hand-made", []),
        ("prod-owned", [{"Key": "reconciler:environment", "Value": "prod"}]),
    ):
        aws.cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="N", MetricName="M", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold", Tags=tags,
        )  # fmt: skip
    reconcile(aws, manifests, apply_changes=True)
    left = {a["AlarmName"] for a in aws.cloudwatch.describe_alarms()["MetricAlarms"]}
    assert {"hand-made", "prod-owned"} <= left
    assert "old-canary-errors" not in left


# --- pacing and parallelism -----------------------------------------------------------------


def throttle_once(aws: Clients, operation: str) -> list[str]:
    """Answer the first `operation` request with Lambda's throttling error (HTTP 429), after the
    pacer has let it go: botocore retries it, and the retry must be paced too."""
    answered: list[str] = []

    def answer(request: AWSPreparedRequest, **_: object) -> AWSResponse | None:
        if answered:
            return None
        answered.append(request.url)
        headers = HTTPHeaders()
        headers["x-amzn-ErrorType"] = "TooManyRequestsException"
        body = json.dumps({"Type": "User", "message": "Rate exceeded"})
        return AWSResponse(request.url, 429, headers, MockRawResponse(body))

    aws.lambda_.meta.events.register(f"before-send.lambda.{operation}", answer)
    return answered


def test_every_request_the_run_sends_is_paced_retries_included(
    aws: Clients, calls: CallLog, tmp_path: Path
) -> None:
    manifests = stack(tmp_path)
    throttled = throttle_once(aws, "GetFunction")
    assert aws.pacer is not None
    outcome = reconcile(aws, manifests, apply_changes=True)
    assert outcome.status is Status.CORRECTED
    assert throttled, "the injected throttle was never sent"
    assert calls.writes, "the run should have written (apply's writes are paced too)"
    quota_bound = [call for call in calls.calls if call[0] != "sts"]  # STS has no quota
    assert aws.pacer.requests == len(quota_bound) + 1  # + the retried GetFunction


def test_a_prune_run_reads_each_tag_and_listing_once(
    aws: Clients, calls: CallLog, tmp_path: Path
) -> None:
    manifests = stack(tmp_path)
    reconcile(aws, manifests, apply_changes=True)
    budgets = len(
        aws.budgets.describe_budgets(AccountId=manifests.environment.spec.account)["Budgets"]
    )
    calls.clear()
    plan(aws, manifests)
    counted = Counter(calls.calls)
    # one tag-filtered pass per pruned kind that finds its own by tag (alarms, parameters)
    by_tag = [kind for kind in managed() if kind.prunable and TAGGING in kind.services]
    assert counted[("resourcegroupstaggingapi", "GetResources")] == len(by_tag) == 2
    assert counted[("budgets", "DescribeBudgets")] == 1
    assert counted[("budgets", "ListTagsForResource")] == budgets
    assert counted[("lambda", "GetFunction")] == len(
        [m for m in manifests.resources if m.kind == "LambdaFunction"]
    )


@dataclass
class Recorder:
    """A kind engine whose `apply` notes when each change starts and ends; `meet` makes each create
    or update wait until that many have started (proof they run side by side)."""

    kind: str
    log: list[tuple[str, str]]
    meet: threading.Barrier | None = None
    fail: str | None = None
    creatable = True
    prunable = True

    def apply(self, aws: object, change: Change, context: object) -> None:
        self.log.append(("start", change.ref))
        if self.meet is not None and change.action is not Action.DELETE:
            self.meet.wait(timeout=10)
        time.sleep(0.01)
        self.log.append(("end", change.ref))
        if change.name == self.fail:
            raise PermanentError(f"{change.ref}: refused")


def test_apply_runs_a_kinds_changes_side_by_side_in_kind_order_deletes_last() -> None:
    log: list[tuple[str, str]] = []
    engines: dict[str, Any] = {
        "AuroraServerlessCluster": Recorder("AuroraServerlessCluster", log),
        "LambdaFunction": Recorder("LambdaFunction", log, threading.Barrier(3), fail="f2"),
        "MetricAlarm": Recorder("MetricAlarm", log, threading.Barrier(2)),
        "Budget": Recorder("Budget", log),
    }

    def change(kind: str, name: str, action: Action) -> Change:
        desired = None if action is Action.DELETE else {"x": 1}
        return Change(kind=kind, name=name, action=action, desired=desired)

    the_plan = Plan(
        environment="dev",
        account="123456789012",
        region="us-east-1",
        changes=(
            change("MetricAlarm", "a-old", Action.DELETE),
            change("MetricAlarm", "a1", Action.CREATE),
            change("LambdaFunction", "f1", Action.UPDATE),
            change("Budget", "b-old", Action.DELETE),
            change("LambdaFunction", "f2", Action.UPDATE),
            change("MetricAlarm", "a2", Action.UPDATE),
            change("LambdaFunction", "f3", Action.UPDATE),
            change("AuroraServerlessCluster", "db", Action.UPDATE),
            Change(kind="LambdaFunction", name="same", action=Action.NOOP),
        ),
    )
    progress_threads: set[int] = set()

    def progress(_: str) -> None:
        progress_threads.add(threading.get_ident())

    results = apply(aws=None, plan=the_plan, context=None, engines=engines, progress=progress)  # type: ignore[arg-type]

    steps = [
        ["AuroraServerlessCluster/db"],
        ["LambdaFunction/f1", "LambdaFunction/f2", "LambdaFunction/f3"],
        ["MetricAlarm/a1", "MetricAlarm/a2"],
        ["Budget/b-old"],
        ["MetricAlarm/a-old"],
    ]
    assert [r.change.ref for r in results] == [ref for step in steps for ref in step]
    assert [r.change.ref for r in results if not r.succeeded] == ["LambdaFunction/f2"]
    position = {event: index for index, event in enumerate(log)}
    for before, after in itertools.pairwise(steps):
        assert max(position["end", ref] for ref in before) < min(
            position["start", ref] for ref in after
        )
    assert progress_threads == {threading.get_ident()}


def test_apply_runs_the_kinds_of_one_phase_side_by_side_and_the_next_phase_after() -> None:
    """Functions and parameters (phase 2) depend on neither of each other: their changes meet
    (a shared barrier no sequential run could pass); log groups (1) end before either starts,
    alarms (3) start after both end."""
    log: list[tuple[str, str]] = []
    meet = threading.Barrier(2)
    engines: dict[str, Any] = {
        "LogGroup": Recorder("LogGroup", log),
        "LambdaFunction": Recorder("LambdaFunction", log, meet),
        "MetricAlarm": Recorder("MetricAlarm", log),
        "SsmParameter": Recorder("SsmParameter", log, meet),
    }
    the_plan = Plan(
        environment="dev",
        account="123456789012",
        region="us-east-1",
        changes=tuple(
            Change(kind=kind, name=name, action=Action.UPDATE, desired={"x": 1})
            for kind, name in (
                ("MetricAlarm", "a"),
                ("SsmParameter", "/p"),
                ("LambdaFunction", "f"),
                ("LogGroup", "g"),
            )
        ),
    )

    results = apply(aws=None, plan=the_plan, context=None, engines=engines)  # type: ignore[arg-type]

    assert [r.change.ref for r in results] == [
        "LogGroup/g",
        "LambdaFunction/f",
        "SsmParameter//p",
        "MetricAlarm/a",
    ]
    assert all(r.succeeded for r in results), [r.error for r in results]
    position = {event: index for index, event in enumerate(log)}
    together = ("LambdaFunction/f", "SsmParameter//p")
    assert position["end", "LogGroup/g"] < min(position["start", ref] for ref in together)
    assert max(position["end", ref] for ref in together) < position["start", "MetricAlarm/a"]
