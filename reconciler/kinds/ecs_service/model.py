"""The `EcsService` manifest: the desired count or auto scaling range of an existing ECS service,
and the image and Fargate task size of its task definition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from reconciler.kinds.ecs_service.fargate import cpu_problem, memory_problem, pair_problem
from reconciler.model import PATTERN_HINTS, ImageUri, Manifest, Metadata, Strict

#: `CLUSTER/SERVICE`: ECS cluster and service names are up to 255 letters, digits, '-' and '_'.
SERVICE_NAME = r"^[a-zA-Z0-9_-]{1,255}/[a-zA-Z0-9_-]{1,255}$"
#: A container definition's `name`: up to 255 letters, digits, '-' and '_'.
CONTAINER_NAME = r"^[a-zA-Z0-9_-]{1,255}$"
PATTERN_HINTS[SERVICE_NAME] = (
    "CLUSTER/SERVICE (an ECS cluster name, '/', a service name; letters, digits, '-', '_')"
)
PATTERN_HINTS[CONTAINER_NAME] = "a container name (letters, digits, '-', '_'; up to 255)"


class Autoscaling(Strict):
    """The range Application Auto Scaling keeps the service's desired count in."""

    min_capacity: int = Field(ge=0, description="MinCapacity: fewest tasks.")
    max_capacity: int = Field(ge=0, description="MaxCapacity: most tasks (≥ minCapacity).")


class EcsServiceSpec(Strict):
    """`spec` of an EcsService; every field is optional and only set fields are managed."""

    desired_count: int | None = Field(
        default=None, ge=0, description="The service's desired count (not with autoscaling)."
    )
    autoscaling: Autoscaling | None = Field(
        default=None,
        description="Application Auto Scaling's range for the desired count "
        "(ecs:service:DesiredCount); the running count is then not compared.",
    )
    image: ImageUri | None = Field(
        default=None, description="Image of `container` in the service's task definition."
    )
    container: Annotated[str, StringConstraints(pattern=CONTAINER_NAME)] | None = Field(
        default=None,
        description="The container `image` is for; may be left out when there is one.",
    )
    cpu: int | None = Field(
        default=None, ge=256, le=16384, description="Fargate task CPU units (1024 = 1 vCPU)."
    )
    memory: int | None = Field(
        default=None, ge=512, le=122880, description="Fargate task memory (MiB)."
    )


class EcsServiceMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=SERVICE_NAME)] = Field(
        description="CLUSTER/SERVICE."
    )


class EcsService(Manifest):
    """An existing ECS service whose count, scaling range, image and task size are managed."""

    kind: Literal["EcsService"]
    metadata: EcsServiceMetadata
    spec: EcsServiceSpec


def check(manifest: EcsService) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Rules across fields: a desired count is not declared beside auto scaling; min ≤ max;
    cpu and memory are a Fargate task size."""
    spec = manifest.spec
    if spec.desired_count is not None and spec.autoscaling is not None:
        yield (
            ("spec", "desiredCount"),
            "desiredCount cannot be set with autoscaling: Application Auto Scaling moves the "
            "desired count between minCapacity and maxCapacity, so declare one or the other",
        )
    scaling = spec.autoscaling
    if scaling is not None and scaling.min_capacity > scaling.max_capacity:
        yield (
            ("spec", "autoscaling", "minCapacity"),
            f"{scaling.min_capacity} is greater than maxCapacity {scaling.max_capacity}",
        )
    if spec.cpu is not None and (problem := cpu_problem(spec.cpu)) is not None:
        yield ("spec", "cpu"), problem
    elif spec.memory is not None:
        problem = (
            memory_problem(spec.memory) if spec.cpu is None else pair_problem(spec.cpu, spec.memory)
        )
        if problem is not None:
            yield ("spec", "memory"), problem
