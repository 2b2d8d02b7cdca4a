"""The benchmark fleet and its ideal reader and writer are right, on a small fleet of every kind:
the manifests declare exactly what the fleet creates (a plan of it has no change), a `Drift`
makes exactly the drift it names, the ideal reader finds every resource in as many calls per
kind as its docstring says, and the ideal writer undoes the drift."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from reconciler import pipeline
from reconciler.plan import Action, Plan
from tests.benchmarks import fleet as fleets
from tests.benchmarks import ideal
from tests.benchmarks.simulator import Simulator, offline

SMALL = fleets.FleetSpec(
    functions=3,
    alarms=3,
    clusters=2,
    budgets=2,
    log_groups=60,
    tables=2,
    stages=2,
    parameters=25,
    services=12,
    instances=2,
)


@pytest.fixture
def account() -> Iterator[None]:
    with offline(fleets.REGION):
        yield


def _sim() -> Simulator:
    return Simulator(latency=0, quotas=())


def _changes(plan: Plan) -> Counter[tuple[str, str]]:
    return Counter(
        (change.action.value, change.kind)
        for change in plan.changes
        if change.action is not Action.NOOP
    )


def test_a_fleet_without_drift_plans_no_change(account: None) -> None:
    fleet = fleets.create(SMALL)
    plan = pipeline.observe_and_plan(_sim().clients(fleets.REGION), fleet.manifests)
    assert _changes(plan) == Counter()
    kinds = Counter(manifest.kind for manifest in fleet.manifests.resources)
    assert kinds == {
        "LambdaFunction": 3,
        "MetricAlarm": 3,
        "AuroraServerlessCluster": 2,
        "Budget": 2,
        "LogGroup": 60,
        "DynamoDBTable": 2,
        "HttpApiStage": 2,
        "SsmParameter": 25,
        "EcsService": 12,
        "DatabaseInstance": 2,
    }


def test_a_drift_is_exactly_the_changes_it_names_and_the_ideal_writer_undoes_it(
    account: None,
) -> None:
    drift = fleets.Drift(functions=2, alarms=1, log_groups=5, parameters=4)
    fleet = fleets.create(SMALL, drift)
    sim = _sim()
    plan = pipeline.observe_and_plan(sim.clients(fleets.REGION), fleet.manifests)
    assert _changes(plan) == {
        ("update", "LambdaFunction"): 2,
        ("update", "MetricAlarm"): 1,
        ("update", "LogGroup"): 5,
        ("update", "SsmParameter"): 4,
    }
    written = ideal.write(sim, fleet)
    assert written.stats.writes() == {
        ("lambda", "UpdateFunctionConfiguration"): 2,
        ("cloudwatch", "PutMetricAlarm"): 1,
        ("logs", "PutRetentionPolicy"): 5,
        ("ssm", "PutParameter"): 4,
    }
    again = pipeline.observe_and_plan(sim.clients(fleets.REGION), fleet.manifests)
    assert _changes(again) == Counter()


def test_the_ideal_reader_makes_the_minimal_reads_of_each_new_kind(account: None) -> None:
    fleet = fleets.create(SMALL)
    calls = ideal.read(_sim(), fleet).stats.calls
    assert calls[("logs", "DescribeLogGroups")] == 2  # 50 names a call
    assert calls[("logs", "ListTagsForResource")] == 60
    for operation in (
        "DescribeTable",
        "DescribeContinuousBackups",
        "DescribeTimeToLive",
        "ListTagsOfResource",
    ):
        assert calls[("dynamodb", operation)] == 2
    assert calls[("apigatewayv2", "GetApis")] == 1
    assert calls[("apigatewayv2", "GetStage")] == 2
    assert calls[("apigatewayv2", "GetTags")] == 0  # GetStage answers the tags
    assert calls[("ssm", "DescribeParameters")] == 1  # 50 names a call
    assert calls[("ssm", "GetParameters")] == 3  # 10 a call
    assert calls[("ssm", "ListTagsForResource")] == 0  # the prune pass gives the tags
    # the parameters' tagging pass (one page) and the alarms' (one page)
    assert calls[("resourcegroupstaggingapi", "GetResources")] == 2
    assert calls[("ecs", "DescribeServices")] == 2  # 6 services in each of 2 clusters
    assert calls[("ecs", "DescribeTaskDefinition")] == 12
    assert calls[("application-autoscaling", "DescribeScalableTargets")] == 1
    assert calls[("rds", "DescribeDBInstances")] == 1
