"""ECS services as AWS deploys them: a new task definition rolls out over time, and may fail.

Rules kept from AWS (the botocore model ``ecs/2014-11-13``, ``Deployment.rolloutState``: "When a
service deployment is started, it begins in an IN_PROGRESS state. When the service reaches a
steady state, the deployment transitions to a COMPLETED state. If the service fails to reach a
steady state and circuit breaker is turned on, the deployment transitions to a FAILED state"):

- ``CreateService`` starts the service's first deployment the same way (moto left it
  ``IN_PROGRESS`` for ever unless ``MOTO_ECS_SERVICE_RUNNING`` was set).
- ``UpdateService`` with another ``taskDefinition`` (or ``forceNewDeployment``) starts a new
  ``PRIMARY`` deployment of that task definition, ``rolloutState: IN_PROGRESS``; the previous
  primary becomes ``ACTIVE`` and is gone once the new one completes. moto kept its one deployment
  and its old task definition. The new deployment stays ``IN_PROGRESS`` for the next
  ``Behaviour.ecs_rollout_reads`` ``DescribeServices`` that include the service, then is
  ``COMPLETED`` ("ECS deployment ecs-svc/… completed."), or ``FAILED`` when one of its images is
  in ``Behaviour.ecs_failing_images``, with the circuit breaker's reason ("ECS deployment circuit
  breaker: tasks failed to start."). With ``Behaviour.ecs_rollback_on_failure`` (the circuit
  breaker's ``rollback: true``) the failed deployment stays listed, ``ACTIVE`` and ``FAILED``,
  behind a new ``PRIMARY`` deployment of the previous task definition.
- ``RegisterTaskDefinition`` keeps ``enableFaultInjection`` and ``trustedExecutionConfiguration``
  (moto dropped them) and answers ``registeredAt`` as AWS does
  (``Behaviour.ecs_task_definition_fields``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from moto.core.responses import ActionResult
from moto.ecs.models import EC2ContainerServiceBackend, Service, TaskDefinition
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

from reconciler.emulator.settings import Pending, current

_MARKER: Final = "_reconciler_emulator_ecs"
_ROLLOUT: Final = "_reconciler_rollout"
CIRCUIT_BREAKER: Final = "ECS deployment circuit breaker: tasks failed to start."
#: Members of ``RegisterTaskDefinition`` that moto 5.2 drops, as (request key, attribute).
_KEPT: Final = (
    ("enableFaultInjection", "enable_fault_injection"),
    ("trustedExecutionConfiguration", "trusted_execution_configuration"),
)


class _Rollout:
    """The deployment under way and whether it will fail."""

    def __init__(self, pending: Pending | None, fails: bool) -> None:
        self.pending = pending
        self.fails = fails


def _images(backend: EC2ContainerServiceBackend, arn: str) -> set[str]:
    definition: TaskDefinition = backend.describe_task_definition(arn)
    return {str(c.get("image")) for c in definition.container_definitions}


def _deploy(backend: EC2ContainerServiceBackend, service: Service) -> None:
    """A new PRIMARY deployment of the service's task definition, under way."""
    now = datetime.now(UTC)
    deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
    old = [dict(d, status="ACTIVE") for d in service.deployments]  # listed until drained
    template = old[0] if old else {}
    task_definition = backend.describe_task_definition(str(service.task_definition)).arn
    primary = {
        **template,
        "id": deployment_id,
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": service.desired_count,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": now,
        "updatedAt": now,
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
    }
    service.deployments = [primary, *old]
    _roll_out(backend, service)


def _roll_out(backend: EC2ContainerServiceBackend, service: Service) -> None:
    """The PRIMARY deployment is under way: it completes, or fails, after the reads set."""
    primary = service.deployments[0]
    primary.update(rolloutState="IN_PROGRESS")
    failing = set(current().ecs_failing_images) & _images(backend, str(primary["taskDefinition"]))
    rollout = _Rollout(Pending.start(current().ecs_rollout_reads), bool(failing))
    vars(service)[_ROLLOUT] = rollout
    if rollout.pending is None:
        _finish(service, rollout)


def _finish(service: Service, rollout: _Rollout) -> None:
    vars(service).pop(_ROLLOUT, None)
    primary = service.deployments[0]
    primary["updatedAt"] = datetime.now(UTC)
    if rollout.fails:
        primary.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER, failedTasks=1)
        previous = service.deployments[1:2]
        if current().ecs_rollback_on_failure and previous:
            _roll_back(service, primary, previous[0])
        return
    primary.update(
        rolloutState="COMPLETED",
        rolloutStateReason=f"ECS deployment {primary['id']} completed.",
        runningCount=service.desired_count,
        pendingCount=0,
    )
    service.deployments = [primary]


def _roll_back(service: Service, failed: dict[str, Any], previous: dict[str, Any]) -> None:
    """The circuit breaker's rollback: a new PRIMARY deployment of the previous task definition,
    completed; the failed one stays listed as ACTIVE and FAILED."""
    now = datetime.now(UTC)
    deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
    service.task_definition = previous["taskDefinition"]
    rollback = {
        **previous,
        "id": deployment_id,
        "status": "PRIMARY",
        "createdAt": now,
        "updatedAt": now,
        "rolloutState": "COMPLETED",
        "rolloutStateReason": f"ECS deployment {deployment_id} completed.",
    }
    service.deployments = [rollback, dict(failed, status="ACTIVE")]


def _looked_at(service: Service) -> None:
    """A describe included the service: a rollout under way advances, maybe ends."""
    rollout: _Rollout | None = vars(service).get(_ROLLOUT)
    if rollout is None or rollout.pending is None:
        return
    if not rollout.pending.look():
        _finish(service, rollout)


def install() -> None:
    """Patch moto's ECS backend and responses with the rules above. Idempotent."""
    if getattr(EC2ContainerServiceBackend, _MARKER, False):
        return
    original_update = EC2ContainerServiceBackend.update_service
    original_create = EC2ContainerServiceBackend.create_service
    original_describe = EC2ContainerServiceResponse.describe_services
    original_register = EC2ContainerServiceResponse.register_task_definition

    def update_service(
        self: EC2ContainerServiceBackend, service_properties: dict[str, Any]
    ) -> Service:
        cluster = service_properties.get("cluster", "default")
        name = str(service_properties.get("service", "")).split("/")[-1]
        wanted = service_properties.get("task_definition")
        force = bool(service_properties.get("force_new_deployment"))
        before = self._get_service(cluster, name).task_definition
        service: Service = original_update(self, service_properties)
        changed = wanted is not None and self.describe_task_definition(wanted).arn != (
            self.describe_task_definition(before).arn if before else None
        )
        if changed or force:
            _deploy(self, service)
        return service

    def create_service(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Service:
        service: Service = original_create(self, *args, **kwargs)
        if service.deployments and service.task_definition:
            _roll_out(self, service)
        return service

    def describe_services(self: EC2ContainerServiceResponse) -> ActionResult:
        answer: ActionResult = original_describe(self)
        result: Any = answer.result
        for service in result.get("services", []):
            _looked_at(service)
        return answer

    def register_task_definition(self: EC2ContainerServiceResponse) -> ActionResult:
        answer: ActionResult = original_register(self)
        if current().ecs_task_definition_fields:
            result: Any = answer.result
            definition = result["taskDefinition"]
            for key, attribute in _KEPT:
                value = self._get_param(key)
                if value is not None:
                    setattr(definition, attribute, value)
            definition.registered_at = datetime.now(UTC)
        return answer

    EC2ContainerServiceBackend.update_service = update_service  # type: ignore[method-assign]
    EC2ContainerServiceBackend.create_service = create_service  # type: ignore[method-assign]
    EC2ContainerServiceResponse.describe_services = describe_services  # type: ignore[method-assign]
    EC2ContainerServiceResponse.register_task_definition = register_task_definition  # type: ignore[method-assign]
    setattr(EC2ContainerServiceBackend, _MARKER, True)
