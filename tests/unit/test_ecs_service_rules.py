"""The EcsService kind's pure parts: the Fargate table, the validate rules, the revision copy."""

from __future__ import annotations

import botocore.session
import pytest

from reconciler.kinds.ecs_service.fargate import MEMORY_BY_CPU, pair_problem
from reconciler.kinds.ecs_service.model import EcsService, check
from reconciler.kinds.ecs_service.revision import READ_ONLY, registration
from tests.builders import document_of

ecs_service = document_of(EcsService)


@pytest.mark.parametrize(
    ("cpu", "low", "high", "step"),
    [
        (512, 1024, 4096, 1024),
        (1024, 2048, 8192, 1024),
        (2048, 4096, 16384, 1024),
        (4096, 8192, 30720, 1024),
        (8192, 16384, 61440, 4096),
        (16384, 32768, 122880, 8192),
    ],
)
def test_the_fargate_table_is_the_documented_one(cpu: int, low: int, high: int, step: int) -> None:
    """Amazon ECS developer guide, "Task CPU and memory"; 256 units take 512, 1024 or 2048."""
    assert MEMORY_BY_CPU[256] == (512, 1024, 2048)
    assert MEMORY_BY_CPU[cpu] == tuple(range(low, high + 1, step))
    assert pair_problem(cpu, low) is None and pair_problem(cpu, high) is None
    assert pair_problem(cpu, high + step) is not None


def test_a_wrong_pair_names_the_memories_the_cpu_allows() -> None:
    (issue,) = check(ecs_service("apps/web", cpu=8192, memory=10240))
    assert issue == (
        ("spec", "memory"),
        "Fargate runs cpu 8192 with memory 16384 to 61440 in steps of 4096 MiB, not 10240",
    )


def test_memory_alone_is_checked_against_every_fargate_size() -> None:
    assert list(check(ecs_service("apps/web", memory=30720))) == []
    ((path, message),) = check(ecs_service("apps/web", memory=31744))
    assert path == ("spec", "memory") and "no Fargate task memory size" in message


def test_a_desired_count_beside_autoscaling_says_why_it_is_refused() -> None:
    spec = {"desiredCount": 2, "autoscaling": {"minCapacity": 1, "maxCapacity": 4}}
    ((path, message),) = check(ecs_service("apps/web", **spec))
    assert path == ("spec", "desiredCount")
    assert "Application Auto Scaling moves the desired count" in message


def test_read_only_is_what_describe_answers_and_register_refuses() -> None:
    """The botocore model: `TaskDefinition` members that `RegisterTaskDefinitionRequest` lacks."""
    model = botocore.session.get_session().get_service_model("ecs")
    answered = set(model.shape_for("TaskDefinition").members)
    accepted = set(model.operation_model("RegisterTaskDefinition").input_shape.members)
    assert answered - accepted == READ_ONLY


def test_registration_copies_everything_but_the_read_only_fields() -> None:
    described = {
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
        "revision": 3,
        "status": "ACTIVE",
        "compatibilities": ["EC2", "FARGATE"],
        "requiresAttributes": [{"name": "ecs.capability.execution-role-awslogs"}],
        "registeredAt": "2026-01-01T00:00:00Z",
        "registeredBy": "arn:aws:iam::123456789012:role/ci",
        "family": "web",
        "cpu": "256",
        "memory": "512",
        "pidMode": "task",
        "containerDefinitions": [{"name": "web", "image": "a"}, {"name": "log", "image": "b"}],
    }
    request = registration(
        described, [{"key": "team", "value": "web"}], container="web", image="c", cpu=None,
        memory=1024,
    )  # fmt: skip
    assert request == {
        "family": "web",
        "cpu": "256",
        "memory": "1024",
        "pidMode": "task",
        "containerDefinitions": [{"name": "web", "image": "c"}, {"name": "log", "image": "b"}],
        "tags": [{"key": "team", "value": "web"}],
    }
    assert described["containerDefinitions"][0]["image"] == "a"  # the answer is left alone
