"""Throttling, with each service's own status and error code: botocore retries it, the engine
turns what outlasts those retries into a failed change or a stopped run, and the next run
converges. Nothing lands twice."""

from __future__ import annotations

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from convergence import Engines, Runs, applied_twice, drifted_demo
from faults import THROTTLING, Forward, Injector, Sent, Throttle
from world import CleanApply, Sleeps

from reconciler.demo.stack import ACCOUNT
from reconciler.kinds import services
from reconciler.loader import EnvironmentManifests
from reconciler.outcome import Outcome, Status

#: Every service a kind's description names: a new kind's service is throttled here too.
ENGINE_SERVICES = [service.name for service in services()]
#: One read of each service: the method and its arguments (a new service needs one here).
READS = {
    "lambda": ("get_function", {"FunctionName": "gateway"}),
    "rds": ("describe_db_clusters", {}),
    "cloudwatch": ("describe_alarms", {}),
    "budgets": ("describe_budgets", {"AccountId": ACCOUNT}),
    "logs": ("describe_log_groups", {}),
    "resourcegroupstaggingapi": ("get_resources", {}),
    "dynamodb": ("describe_table", {"TableName": "flask-api-sessions"}),
    "ssm": ("describe_parameters", {}),
    "ecs": ("describe_services", {"cluster": "flask-api", "services": ["worker"]}),
    "application-autoscaling": ("describe_scalable_targets", {"ServiceNamespace": "ecs"}),
    "sts": ("get_caller_identity", {}),
    "apigatewayv2": ("get_apis", {}),
}


class FirstSendThrottled(Throttle):
    """The first send of every distinct request is throttled; botocore's retry gets through."""

    def __call__(self, sent: Sent, forward: Forward) -> AWSResponse:
        if sent.repeat == 0:
            return super().__call__(sent, forward)
        return forward(sent.request)


@pytest.mark.parametrize("service", ENGINE_SERVICES)
def test_each_services_throttling_is_retried_and_the_run_converges(
    service: str,
    clean: CleanApply,
    manifests: EnvironmentManifests,
    engines: Engines,
    backoff: Sleeps,
) -> None:
    with drifted_demo() as aws:
        faults = Injector.on(aws)
        throttle = FirstSendThrottled(rate=1.0, services=frozenset({service}))
        faults.add(throttle)
        runs = Runs(aws, manifests, engines)
        assert runs.until_converged(limit=1) == 1, runs.describe()
        assert throttle.hits[service] >= 1
        assert len(backoff) >= throttle.hits[service]  # botocore backed off before each retry
        faults.heal()
        assert runs.plan().in_sync
        assert applied_twice(faults.landed, clean.landed) == []
        assert faults.landed == clean.landed


@pytest.mark.parametrize("seed", range(5))
def test_throttling_on_30_percent_of_calls_converges(
    seed: int, clean: CleanApply, manifests: EnvironmentManifests, engines: Engines
) -> None:
    """Every service throttles 30 % of all attempts, in every run (seeded, so repeatable)."""
    with drifted_demo() as aws:
        faults = Injector.on(aws, seed=seed)
        throttle = Throttle(rate=0.3)
        faults.add(throttle)
        runs = Runs(aws, manifests, engines)
        needed = runs.until_converged(limit=2)
        assert sum(throttle.hits.values()) > 10
        faults.heal()
        assert runs.plan().in_sync, runs.describe()
        assert applied_twice(faults.landed, clean.landed) == []
        print(
            f"seed {seed}: converged in {needed} run(s): {runs.describe()}; {dict(throttle.hits)}"
        )


def test_writes_throttled_past_botocores_retries_fail_alone_and_the_next_run_converges(
    clean: CleanApply, manifests: EnvironmentManifests, engines: Engines
) -> None:
    with drifted_demo() as aws:
        faults = Injector.on(aws)
        faults.add(Throttle(rate=0.0, every_attempt_of=frozenset({"PutMetricAlarm"})))
        runs = Runs(aws, manifests, engines)
        first = runs.apply()
        assert isinstance(first, Outcome)
        assert first.status is Status.FAILED
        failed = {r.change.ref for r in first.results if not r.succeeded}
        assert failed == {"MetricAlarm/flask-api-errors", "MetricAlarm/flask-api-latency-p99"}
        assert all("retry later" in (r.error or "") for r in first.results if not r.succeeded)
        faults.heal()
        assert runs.until_converged(limit=1) == 1, runs.describe()
        assert runs.plan().in_sync
        assert faults.landed == clean.landed


def test_a_read_throttled_past_botocores_retries_stops_the_run_before_any_write(
    clean: CleanApply, manifests: EnvironmentManifests, engines: Engines
) -> None:
    with drifted_demo() as aws:
        faults = Injector.on(aws)
        faults.add(Throttle(rate=0.0, every_attempt_of=frozenset({"DescribeAlarms"})))
        runs = Runs(aws, manifests, engines)
        stopped = runs.apply()
        assert isinstance(stopped, Exception), runs.describe()
        assert faults.writes == []
        faults.heal()
        assert runs.until_converged(limit=1) == 1, runs.describe()
        assert faults.landed == clean.landed


@pytest.mark.parametrize("service", ENGINE_SERVICES)
def test_the_injected_throttling_is_what_botocore_raises_for_the_service(service: str) -> None:
    """Each service's answer parses to its own error code, and botocore retries it."""
    status, code = THROTTLING[service]
    with drifted_demo() as aws:
        Injector.on(aws).add(Throttle(rate=1.0, services=frozenset({service})))
        method, arguments = READS[service]
        with pytest.raises(ClientError) as raised:
            getattr(aws.service(service), method)(**arguments)
    answer = raised.value.response
    assert answer["Error"]["Code"] == code
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == status
    assert answer["ResponseMetadata"]["RetryAttempts"] > 0
