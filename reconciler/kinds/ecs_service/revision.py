"""A new revision of a task definition: everything the current one holds, but the image and task
size the manifest asks for.

`DescribeTaskDefinition` answers with the registered fields plus some AWS sets itself; a
`RegisterTaskDefinition` request takes back every registered field (the botocore model
`ecs/2014-11-13`: the `TaskDefinition` members less the `RegisterTaskDefinitionRequest` ones are
exactly `READ_ONLY`). Copying all but those keeps roles, volumes, networking, logging, secrets and
every other container's settings as they are; the tags come from `include=["TAGS"]`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

#: Fields AWS sets on a registered task definition, which `RegisterTaskDefinition` refuses.
READ_ONLY = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
        "deleteRequestedAt",
    }
)


class ContainerChoice(ValueError):
    """The manifest does not name a container of the task definition unambiguously."""


def container_names(task_definition: Mapping[str, Any]) -> list[str]:
    return [c["name"] for c in task_definition.get("containerDefinitions", [])]


def chosen_container(task_definition: Mapping[str, Any], declared: str | None) -> str:
    """The container whose image is managed: `declared`, or the only one there is."""
    names = container_names(task_definition)
    family = task_definition.get("family", "the task definition")
    listed = ", ".join(names) or "none"
    if declared is not None:
        if declared not in names:
            raise ContainerChoice(
                f"task definition {family} has no container '{declared}' (it has {listed})"
            )
        return declared
    if len(names) != 1:
        raise ContainerChoice(
            f"task definition {family} has {len(names)} containers ({listed}): "
            "set spec.container to the one whose image is managed"
        )
    return names[0]


def image_of(task_definition: Mapping[str, Any], container: str) -> str | None:
    for definition in task_definition.get("containerDefinitions", []):
        if definition["name"] == container:
            return str(definition.get("image")) if definition.get("image") else None
    return None


def size_of(task_definition: Mapping[str, Any], field: str) -> int | None:
    """The task-level `cpu` or `memory` as a number (AWS answers strings such as "512")."""
    value = task_definition.get(field)
    try:
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def registration(
    task_definition: Mapping[str, Any],
    tags: Sequence[Mapping[str, str]],
    *,
    container: str | None,
    image: str | None,
    cpu: int | None,
    memory: int | None,
) -> dict[str, Any]:
    """`RegisterTaskDefinition` arguments: `task_definition` copied whole (less `READ_ONLY`),
    with `image` for `container`, and `cpu`/`memory` where given; its tags carried over."""
    request = {
        key: copy.deepcopy(value) for key, value in task_definition.items() if key not in READ_ONLY
    }
    if image is not None and container is not None:
        for definition in request["containerDefinitions"]:
            if definition["name"] == container:
                definition["image"] = image
    if cpu is not None:
        request["cpu"] = str(cpu)
    if memory is not None:
        request["memory"] = str(memory)
    if tags:
        request["tags"] = [dict(tag) for tag in tags]
    return request
