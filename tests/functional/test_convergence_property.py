"""Property: whatever drift a stack suffers, one apply brings it back and the next plan is empty."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.aws import Clients
from reconciler.demo.stack import ACCOUNT, REGISTRY, create_drifted_stack, write_manifests
from reconciler.emulator import emulated_aws
from reconciler.loader import load_environment
from reconciler.outcome import Status
from reconciler.pacing import Pacer
from reconciler.pipeline import reconcile

REGION = "us-east-1"


def _lambda_drift(session: Any, memory: int, timeout: int, tag: str, log_level: str) -> None:
    lam = session.client("lambda", region_name=REGION)
    lam.update_function_configuration(
        FunctionName="flask-api",
        MemorySize=memory,
        Timeout=timeout,
        Environment={"Variables": {"APP_ENV": "demo", "LOG_LEVEL": log_level}},
    )
    # AWS refuses the next write (409) while the last update is InProgress, as a person's
    # console change would wait: poll until it is done.
    while lam.get_function_configuration(FunctionName="flask-api").get("LastUpdateStatus") == (
        "InProgress"
    ):
        pass
    lam.update_function_code(FunctionName="flask-api", ImageUri=f"{REGISTRY}/flask-api:{tag}")


drifts = st.fixed_dictionaries(
    {},
    optional={
        "lambda": st.tuples(
            st.integers(128, 10240), st.integers(1, 900), st.sampled_from(["0.1", "9.9"]),
            st.sampled_from(["DEBUG", "INFO", "WARN"]),
        ),
        "reserved": st.one_of(st.none(), st.integers(0, 500)),
        # AWS refuses a minimum above the maximum: only pairs it accepts are drift a person makes.
        "acu": st.tuples(st.sampled_from([0.5, 1.0, 2.0]), st.sampled_from([1.0, 4.0, 16.0]))
        .filter(lambda pair: pair[0] <= pair[1]),
        "threshold": st.floats(0, 1000, allow_nan=False).map(lambda x: round(x, 2)),
        "delete_alarm": st.booleans(),
        "budget": st.sampled_from(["1", "50.5", "1000"]),
        "untag": st.booleans(),
    },
)  # fmt: skip


def _drift(session: Any, drift: dict[str, Any]) -> None:
    if "lambda" in drift:
        _lambda_drift(session, *drift["lambda"])
    lam = session.client("lambda", region_name=REGION)
    if "reserved" in drift:
        if drift["reserved"] is None:
            lam.delete_function_concurrency(FunctionName="gateway")
        else:
            lam.put_function_concurrency(
                FunctionName="gateway", ReservedConcurrentExecutions=drift["reserved"]
            )
    if "acu" in drift:
        low, high = drift["acu"]
        rds = session.client("rds", region_name=REGION)
        # AWS refuses a modify while the cluster is still `modifying`: wait, as a person would.
        while rds.describe_db_clusters(DBClusterIdentifier="flask-api-db")["DBClusters"][0].get(
            "Status"
        ) not in (None, "available"):
            pass
        rds.modify_db_cluster(
            DBClusterIdentifier="flask-api-db",
            ServerlessV2ScalingConfiguration={"MinCapacity": low, "MaxCapacity": high},
            ApplyImmediately=True,
        )
    cloudwatch = session.client("cloudwatch", region_name=REGION)
    if "threshold" in drift:
        alarm = cloudwatch.describe_alarms(AlarmNames=["flask-api-errors"])["MetricAlarms"][0]
        cloudwatch.put_metric_alarm(
            AlarmName="flask-api-errors", Namespace=alarm["Namespace"],
            MetricName=alarm["MetricName"], Dimensions=alarm["Dimensions"],
            Statistic=alarm["Statistic"], Period=alarm["Period"],
            EvaluationPeriods=alarm["EvaluationPeriods"], Threshold=drift["threshold"],
            ComparisonOperator=alarm["ComparisonOperator"],
        )  # fmt: skip
    if drift.get("delete_alarm"):
        cloudwatch.delete_alarms(AlarmNames=["flask-api-latency-p99"])
    if "budget" in drift:
        session.client("budgets", region_name=REGION).update_budget(
            AccountId=ACCOUNT,
            NewBudget={
                "BudgetName": "demo-monthly-cost",
                "BudgetLimit": {"Amount": drift["budget"], "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
            },
        )
    if drift.get("untag"):
        arn = lam.get_function(FunctionName="gateway")["Configuration"]["FunctionArn"]
        lam.untag_resource(Resource=arn, TagKeys=["reconciler:environment"])


@pytest.mark.slow
@pytest.mark.usefixtures("credentials")
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drift=drifts)
def test_any_drift_converges_in_one_apply(drift: dict[str, Any]) -> None:
    with emulated_aws(), tempfile.TemporaryDirectory() as root:
        session = boto3.Session(region_name=REGION)
        create_drifted_stack(session)
        manifests = load_environment(os.path.join(write_manifests(root), "demo"))
        aws = Clients(REGION, pacing=Pacer(scale=1000))  # paced, without the waiting
        assert reconcile(aws, manifests, apply_changes=True).status is Status.CORRECTED
        _drift(session, drift)
        outcome = reconcile(aws, manifests, apply_changes=True)
        assert [r.error for r in outcome.results if not r.succeeded] == []
        assert outcome.status in (Status.CORRECTED, Status.IN_SYNC)
        after = reconcile(aws, manifests, apply_changes=False)
        assert after.plan.in_sync, [c for c in after.plan.changes if c.action != "noop"]
