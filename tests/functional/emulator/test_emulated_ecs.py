"""ECS deployments as the emulator rolls them out, driven by boto3.

Sources: the botocore model ``ecs/2014-11-13`` (``Deployment.rolloutState`` IN_PROGRESS →
COMPLETED, or FAILED under the deployment circuit breaker; ``RegisterTaskDefinitionRequest``
members; ``TaskDefinition.registeredAt``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest

from reconciler.emulator import behaviour
from reconciler.emulator.ecs import CIRCUIT_BREAKER

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient


@pytest.fixture
def ecs(emulated: None) -> ECSClient:
    client = boto3.client("ecs", region_name="us-east-1")
    client.create_cluster(clusterName="apps")
    for image in ("web:1", "web:2"):
        client.register_task_definition(
            family="web",
            containerDefinitions=[{"name": "web", "image": image}],
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
        )
    client.create_service(cluster="apps", serviceName="web", taskDefinition="web:1", desiredCount=2)
    return client


def _service(ecs: ECSClient) -> Any:
    return ecs.describe_services(cluster="apps", services=["web"])["services"][0]


def _primary(service: Any) -> Any:
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def test_a_new_task_definition_rolls_out_for_two_describes_then_completes(ecs: ECSClient) -> None:
    with behaviour(ecs_rollout_reads=2):
        updated = ecs.update_service(cluster="apps", service="web", taskDefinition="web:2")
        first, second, third = (_service(ecs) for _ in range(3))
    assert _primary(updated["service"])["taskDefinition"].endswith("web:2")
    assert _primary(updated["service"])["rolloutState"] == "IN_PROGRESS"

    assert _primary(first)["rolloutState"] == "IN_PROGRESS"
    assert {d["status"] for d in first["deployments"]} == {"PRIMARY", "ACTIVE"}
    assert _primary(second)["rolloutState"] == "IN_PROGRESS"
    assert _primary(third)["rolloutState"] == "COMPLETED"
    assert [d["taskDefinition"].rsplit("/", 1)[-1] for d in third["deployments"]] == ["web:2"]
    assert third["taskDefinition"].endswith("web:2")


def test_a_created_service_rolls_out_its_first_deployment(ecs: ECSClient) -> None:
    ecs.create_service(cluster="apps", serviceName="api", taskDefinition="web:1", desiredCount=1)

    first, second = (ecs.describe_services(cluster="apps", services=["api"]) for _ in range(2))

    assert _primary(first["services"][0])["rolloutState"] == "IN_PROGRESS"
    assert _primary(second["services"][0])["rolloutState"] == "COMPLETED"


def test_a_desired_count_alone_starts_no_deployment(ecs: ECSClient) -> None:
    before = _primary(_service(ecs))["id"]
    ecs.update_service(cluster="apps", service="web", desiredCount=5)
    after = _service(ecs)
    assert (_primary(after)["id"], after["desiredCount"]) == (before, 5)


def test_a_failing_image_fails_the_rollout_with_the_circuit_breakers_reason(
    ecs: ECSClient,
) -> None:
    with behaviour(ecs_failing_images=("web:2",), ecs_rollout_reads=1):
        ecs.update_service(cluster="apps", service="web", taskDefinition="web:2")
        assert _primary(_service(ecs))["rolloutState"] == "IN_PROGRESS"
        failed = _primary(_service(ecs))
    assert (failed["rolloutState"], failed["rolloutStateReason"]) == ("FAILED", CIRCUIT_BREAKER)


def test_register_task_definition_keeps_every_member_and_answers_registered_at(
    ecs: ECSClient,
) -> None:
    registered = ecs.register_task_definition(
        family="web",
        containerDefinitions=[{"name": "web", "image": "web:3"}],
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        enableFaultInjection=True,
    )["taskDefinition"]
    described = ecs.describe_task_definition(taskDefinition=registered["taskDefinitionArn"])
    assert described["taskDefinition"]["enableFaultInjection"] is True
    assert "registeredAt" in described["taskDefinition"]


def test_a_failed_rollout_with_rollback_redeploys_the_previous_task_definition(
    ecs: ECSClient,
) -> None:
    with behaviour(ecs_failing_images=("web:2",), ecs_rollback_on_failure=True):
        ecs.update_service(cluster="apps", service="web", taskDefinition="web:2")
        _service(ecs)
        after = _service(ecs)
    primary, failed = after["deployments"]
    assert (primary["status"], primary["rolloutState"]) == ("PRIMARY", "COMPLETED")
    assert primary["taskDefinition"].endswith("web:1")
    assert (failed["status"], failed["rolloutState"]) == ("ACTIVE", "FAILED")
    assert failed["rolloutStateReason"] == CIRCUIT_BREAKER
    assert after["taskDefinition"].endswith("web:1")
