"""The whole loop on moto: a drifted stack converges in one apply, safely."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from call_log import CallLog

from reconciler.aws import Clients
from reconciler.demo.stack import create_drifted_stack, write_manifests
from reconciler.errors import PermanentError
from reconciler.loader import EnvironmentManifests, load_environment
from reconciler.pipeline import Status, reconcile
from reconciler.plan import Action


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
