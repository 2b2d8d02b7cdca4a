"""The `EcsService` engine: services read ten at a time, their task definitions once each, their
scalable targets fifty at a time; a new task definition revision deployed and its rollout awaited.

Observe sends `DescribeServices` (at most 10 services a call, one cluster a call, with their tags)
for every batch in parallel; then, only for services whose image or task size is declared, one
`DescribeTaskDefinition` (with its tags) per distinct task definition; then, only for services
whose count or scaling range is declared, `DescribeScalableTargets` with up to 50 `ResourceIds` a
call. The clients' pacer holds all of them to the quotas in the description.

Apply writes only what differs from a fresh read: an image, cpu or memory change registers a new
revision of the service's current task definition (`revision.py`) and points the service at it
(with the desired count, when that changed too, in the same `UpdateService`); a scaling range is
`RegisterScalableTarget`. A deployment is awaited (`waits`) until the PRIMARY deployment's
`rolloutState` is `COMPLETED`; `FAILED` (the deployment circuit breaker) fails the change with
AWS's `rolloutStateReason`, and so does a FAILED deployment of a newer revision beside the
PRIMARY one (the circuit breaker rolled it back). Registering is not idempotent: a revision an
earlier, interrupted apply registered (the family's latest, equal to the request) is used again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.aws_errors import Failure, failure
from reconciler.errors import PermanentError
from reconciler.kinds.base import Current, Engine, Reading
from reconciler.kinds.compare import compare, same
from reconciler.kinds.ecs_service import KIND
from reconciler.kinds.ecs_service.fargate import pair_problem
from reconciler.kinds.ecs_service.model import EcsService, EcsServiceSpec
from reconciler.kinds.ecs_service.revision import (
    ContainerChoice,
    chosen_container,
    image_of,
    registration,
    size_of,
)
from reconciler.kinds.reading import batches, concurrently
from reconciler.plan import Diff, Observed

if TYPE_CHECKING:
    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.model import Manifest

#: DescribeServices takes at most 10 services a call, all of one cluster.
SERVICE_BATCH = 10
#: DescribeScalableTargets takes at most 50 ResourceIds a call, and answers 50 a page.
TARGET_BATCH = 50
NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
#: The fields read from the task definition; the others come from the service and its target.
TASK_FIELDS = frozenset({"image", "container", "cpu", "memory"})
COUNT_FIELDS = frozenset({"desiredCount", "autoscaling"})


@dataclass(frozen=True)
class Deployed:
    """A service as `read_one` finds it: the service, its task definition (and tags) and its
    scalable target (None when it has none)."""

    service: Mapping[str, Any]
    task_definition: Mapping[str, Any]
    task_tags: tuple[Mapping[str, str], ...]
    target: Mapping[str, Any] | None


@dataclass(frozen=True)
class EcsServiceEngine(Engine[Deployed]):
    """Observes, compares and updates existing ECS services; never creates or deletes one."""

    description = KIND
    waits = True
    poll_seconds: float = 10.0
    #: A rolling deployment takes minutes (tasks start, pass health checks, old ones drain).
    update_wait_seconds: float = 900.0

    # --- observe --------------------------------------------------------------------------------

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """Every declared service that exists and is ACTIVE; absent ones are left out."""
        specs = {manifest.name: _spec(manifest) for manifest in manifests}
        services = self._services(aws, list(specs))
        arns = sorted(
            {
                services[name]["taskDefinition"]
                for name, spec in specs.items()
                if name in services
                and spec.declared() & TASK_FIELDS
                and services[name].get("taskDefinition")
            }
        )
        described = concurrently(lambda arn: self._task_definition(aws, arn), arns, self.workers)
        definitions = dict(zip(arns, described, strict=True))
        counted = [
            name
            for name, spec in specs.items()
            if name in services and spec.declared() & COUNT_FIELDS
        ]
        targets = self._targets(aws, counted)
        found: dict[str, Observed] = {}
        for name, spec in specs.items():
            service = services.get(name)
            if service is None:
                continue
            definition = definitions.get(service.get("taskDefinition", ""))
            found[name] = _observed(name, spec, service, definition, targets.get(name))
        return found, {}

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """Exactly the fields the manifest sets; `container` travels with them (apply needs it)
        but is not compared: it says where `image` is."""
        return _spec(manifest).to_manifest()

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        """The declared fields that differ; the scaling range bound by bound."""
        desired = self.desired(manifest)
        desired.pop("container", None)
        scaling = desired.pop("autoscaling", None)
        diffs = compare(desired, observed.fields)
        if scaling is not None:
            have = observed.fields.get("autoscaling") or {}
            diffs += compare(scaling, have, prefix="autoscaling.")
        return diffs

    def _services(self, aws: Clients, names: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """`CLUSTER/SERVICE` → the ACTIVE service, `DescribeServices` per 10 of a cluster."""
        by_cluster: dict[str, list[str]] = {}
        for name in names:
            cluster, service = name.split("/", 1)
            by_cluster.setdefault(cluster, []).append(service)
        work = [
            (cluster, list(batch))
            for cluster, services in by_cluster.items()
            for batch in batches(sorted(set(services)), SERVICE_BATCH)
        ]
        answers = concurrently(lambda item: self._describe(aws, *item), work, self.workers)
        return {name: service for answer in answers for name, service in answer.items()}

    def _describe(
        self, aws: Clients, cluster: str, services: list[str]
    ) -> dict[str, Mapping[str, Any]]:
        try:
            answer = aws.service("ecs").describe_services(
                cluster=cluster, services=services, include=["TAGS"]
            )
        except Exception as exc:
            if failure(exc) is Failure.MISSING:  # the cluster does not exist
                return {}
            raise
        return {
            f"{cluster}/{service['serviceName']}": service
            for service in answer.get("services", [])
            if service.get("status") == "ACTIVE"  # DRAINING and INACTIVE ones are being deleted
        }

    def _task_definition(
        self, aws: Clients, arn: str
    ) -> tuple[Mapping[str, Any], tuple[Mapping[str, str], ...]]:
        answer = self.call(
            aws.service("ecs").describe_task_definition, taskDefinition=arn, include=["TAGS"]
        )
        return answer["taskDefinition"], tuple(answer.get("tags") or ())

    def _targets(self, aws: Clients, names: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """`CLUSTER/SERVICE` → its `ecs:service:DesiredCount` scalable target, 50 a call."""
        ids = sorted({_resource_id(name) for name in names})
        answers = concurrently(
            lambda batch: self._describe_targets(aws, list(batch)),
            batches(ids, TARGET_BATCH),
            self.workers,
        )
        return {
            target["ResourceId"].removeprefix("service/"): target
            for answer in answers
            for target in answer
        }

    def _describe_targets(self, aws: Clients, ids: list[str]) -> list[Mapping[str, Any]]:
        pages = (
            aws.service("application-autoscaling")
            .get_paginator("describe_scalable_targets")
            .paginate(ServiceNamespace=NAMESPACE, ResourceIds=ids, ScalableDimension=DIMENSION)
        )
        return [target for page in pages for target in page.get("ScalableTargets", [])]

    # --- the primitives of a write --------------------------------------------------------------

    def read_one(self, aws: Clients, name: str, context: Context) -> Current[Deployed] | None:
        """The service (with its tags), its task definition and its scalable target."""
        cluster, service_name = name.split("/", 1)
        answer = self.call(
            aws.service("ecs").describe_services,
            missing_ok=True,
            cluster=cluster,
            services=[service_name],
            include=["TAGS"],
        )
        active = [s for s in (answer or {}).get("services", []) if s.get("status") == "ACTIVE"]
        if not active:
            return None
        service = active[0]
        definition: Mapping[str, Any] = {}
        tags: tuple[Mapping[str, str], ...] = ()
        if service.get("taskDefinition"):
            definition, tags = self._task_definition(aws, service["taskDefinition"])
        target = self._targets(aws, [name]).get(name)
        return Current(name, _tags(service), Deployed(service, definition, tags, target))

    def update(
        self, aws: Clients, current: Current[Deployed], desired: dict[str, Any], context: Context
    ) -> bool:
        """Bring the service to `desired`; whether it started a deployment to wait for.

        A desired count alone changes no task definition: ECS starts or stops tasks of the
        current deployment, and there is no rollout to wait for.
        """
        spec = EcsServiceSpec.model_validate(desired)
        ref = f"{self.kind}/{current.name}"
        state = current.state
        declared = spec.declared()
        change: dict[str, Any] = {}
        if declared & {"image", "cpu", "memory"}:
            revision = self._new_revision(aws, state, spec, ref)
            if revision is not None:
                change["taskDefinition"] = revision
        if "desiredCount" in declared and not same(
            spec.desired_count, state.service.get("desiredCount")
        ):
            if state.target is not None:
                raise PermanentError(f"{ref}: {_scaled_refusal(state.target)}")
            change["desiredCount"] = spec.desired_count
        if change:
            cluster, service_name = current.name.split("/", 1)
            self.call(
                aws.service("ecs").update_service, cluster=cluster, service=service_name, **change
            )
        scaling = spec.autoscaling
        if scaling is not None and not same(
            {"minCapacity": scaling.min_capacity, "maxCapacity": scaling.max_capacity},
            _range(state.target),
        ):
            self.call(
                aws.service("application-autoscaling").register_scalable_target,
                ServiceNamespace=NAMESPACE,
                ResourceId=_resource_id(current.name),
                ScalableDimension=DIMENSION,
                MinCapacity=scaling.min_capacity,
                MaxCapacity=scaling.max_capacity,
            )
        return "taskDefinition" in change

    def _new_revision(
        self, aws: Clients, state: Deployed, spec: EcsServiceSpec, ref: str
    ) -> str | None:
        """Register the task definition with the declared image and size; its ARN, or None when
        the current one has them already."""
        refused = _deployed_elsewhere(state.service)
        if refused is not None:
            raise PermanentError(f"{ref}: {refused}")
        definition = state.task_definition
        container: str | None = None
        if spec.image is not None:
            try:
                container = chosen_container(definition, spec.container)
            except ContainerChoice as exc:
                raise PermanentError(f"{ref}: {exc}") from exc
        image = spec.image if container and spec.image != image_of(definition, container) else None
        cpu = spec.cpu if spec.cpu is not None and spec.cpu != size_of(definition, "cpu") else None
        memory = (
            spec.memory
            if spec.memory is not None and spec.memory != size_of(definition, "memory")
            else None
        )
        if image is None and cpu is None and memory is None:
            return None
        on_fargate = "FARGATE" in (definition.get("requiresCompatibilities") or ())
        final_cpu = cpu if cpu is not None else size_of(definition, "cpu")
        final_memory = memory if memory is not None else size_of(definition, "memory")
        if on_fargate and final_cpu is not None and final_memory is not None:
            problem = pair_problem(final_cpu, final_memory)
            if problem is not None:
                raise PermanentError(f"{ref}: {problem}; change the manifest's cpu or memory")
        request = registration(
            definition, state.task_tags, container=container, image=image, cpu=cpu, memory=memory
        )
        registered = self._registered_already(aws, definition, request)
        if registered is not None:
            return registered
        answer = self.call(aws.service("ecs").register_task_definition, **request)
        return str(answer["taskDefinition"]["taskDefinitionArn"])

    def _registered_already(
        self, aws: Clients, definition: Mapping[str, Any], request: Mapping[str, Any]
    ) -> str | None:
        """The ARN of the family's latest revision when it is exactly `request` (registered by
        an apply that died before `UpdateService`): registering is not idempotent, and a retry
        must not add a revision each time."""
        latest, _ = self._task_definition(aws, str(definition["family"]))
        if latest.get("taskDefinitionArn") == definition.get("taskDefinitionArn"):
            return None
        unchanged = registration(latest, (), container=None, image=None, cpu=None, memory=None)
        wanted = {key: value for key, value in request.items() if key != "tags"}
        return str(latest["taskDefinitionArn"]) if unchanged == wanted else None

    def tag(
        self, aws: Clients, current: Current[Deployed], context: Context, tags: Mapping[str, str]
    ) -> None:
        """ECS tags a service by its ARN, in the long format only (`service/CLUSTER/SERVICE`)."""
        arn = str(current.state.service["serviceArn"])
        if arn.count("/") < 2:
            raise PermanentError(
                f"{self.kind}/{current.name} has an ARN in the old short format ({arn}), which "
                "ECS cannot tag: services keep the format they were created with, so it must be "
                "created again after the account opts in to serviceLongArnFormat"
            )
        self.call(
            aws.service("ecs").tag_resource,
            resourceArn=arn,
            tags=[{"key": key, "value": value} for key, value in tags.items()],
        )

    def pending(self, current: Current[Deployed]) -> str | None:
        primary = _primary(current.state.service)
        if primary is None or primary.get("rolloutState") != "IN_PROGRESS":
            return None
        return f"rolling out {_revision_name(primary)} ({primary.get('id', 'deployment')})"

    def failed(self, current: Current[Deployed]) -> str | None:
        """The PRIMARY deployment FAILED; or the circuit breaker rolled a newer revision back,
        so the PRIMARY deployment is a rollback and the FAILED one beside it was the change."""
        service = current.state.service
        primary = _primary(service)
        if primary is None:
            return None
        failed = primary if primary.get("rolloutState") == "FAILED" else _rolled_back(service)
        if failed is None:
            return None
        reason = failed.get("rolloutStateReason") or "no reason given"
        back = "" if failed is primary else f"; ECS rolled back to {_revision_name(primary)}"
        return (
            f"the rollout of {_revision_name(failed)} ({failed.get('id', 'deployment')}) "
            f"failed: {reason}{back}"
        )


ENGINE = EcsServiceEngine()


def _spec(manifest: Manifest) -> EcsServiceSpec:
    if not isinstance(manifest, EcsService):
        raise TypeError(f"expected an EcsService, got {manifest.ref}")
    return manifest.spec


def _resource_id(name: str) -> str:
    """Application Auto Scaling's name for an ECS service: `service/CLUSTER/SERVICE`."""
    return f"service/{name}"


def _tags(service: Mapping[str, Any]) -> dict[str, str]:
    return {tag["key"]: tag.get("value", "") for tag in service.get("tags") or () if "key" in tag}


def _range(target: Mapping[str, Any] | None) -> dict[str, int] | None:
    if target is None:
        return None
    return {"minCapacity": target["MinCapacity"], "maxCapacity": target["MaxCapacity"]}


def _scaled_refusal(target: Mapping[str, Any]) -> str:
    return (
        "Application Auto Scaling manages its desired count (scalable target "
        f"{target['MinCapacity']}-{target['MaxCapacity']}): declare spec.autoscaling instead "
        "of desiredCount"
    )


def _deployed_elsewhere(service: Mapping[str, Any]) -> str | None:
    """Why the service's task definition cannot be changed with UpdateService, or None: its
    deployments are CodeDeploy's or an external controller's (task sets), not ECS's."""
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    if controller == "ECS" and service.get("taskDefinition"):
        return None
    return (
        f"its deployments are run by the {controller} deployment controller, not by ECS "
        "rolling updates: its image and task size are changed there, not by UpdateService"
    )


def _primary(service: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((d for d in service.get("deployments") or () if d.get("status") == "PRIMARY"), None)


def _rolled_back(service: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A FAILED deployment of a newer revision of the PRIMARY's family: the circuit breaker
    rolled it back. (A FAILED deployment of an older revision is one the PRIMARY replaced.)"""
    primary = _primary(service)
    if primary is None:
        return None
    family, revision = _family_revision(primary)
    for deployment in service.get("deployments") or ():
        if deployment.get("rolloutState") != "FAILED" or deployment is primary:
            continue
        other_family, other_revision = _family_revision(deployment)
        if other_family == family and other_revision > revision:
            found: Mapping[str, Any] = deployment
            return found
    return None


def _family_revision(deployment: Mapping[str, Any]) -> tuple[str, int]:
    family, _, revision = _revision_name(deployment).rpartition(":")
    return family, int(revision) if revision.isdigit() else 0


def _revision_name(deployment: Mapping[str, Any]) -> str:
    """`family:revision` of the deployment's task definition ARN."""
    return str(deployment.get("taskDefinition", "")).rsplit("/", 1)[-1] or "the task definition"


def _observed(
    name: str,
    spec: EcsServiceSpec,
    service: Mapping[str, Any],
    definition: tuple[Mapping[str, Any], tuple[Mapping[str, str], ...]] | None,
    target: Mapping[str, Any] | None,
) -> Observed:
    """The service in manifest terms, or a refusal when the manifest cannot be applied to it."""
    tags = _tags(service)
    declared = spec.declared()
    if "desiredCount" in declared and target is not None:
        return Observed(name, {}, tags, refusal=_scaled_refusal(target))
    if declared & TASK_FIELDS and (refused := _deployed_elsewhere(service)) is not None:
        return Observed(name, {}, tags, refusal=refused)
    fields: dict[str, Any] = {
        "desiredCount": service.get("desiredCount"),
        "autoscaling": _range(target),
    }
    if definition is not None:
        task = definition[0]
        if declared & {"image", "container"}:
            try:
                container = chosen_container(task, spec.container)
            except ContainerChoice as exc:
                return Observed(name, {}, tags, refusal=str(exc))
            fields["image"] = image_of(task, container)
        fields["cpu"] = size_of(task, "cpu")
        fields["memory"] = size_of(task, "memory")
    return Observed(name, fields, tags)
