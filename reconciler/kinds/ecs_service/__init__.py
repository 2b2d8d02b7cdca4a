"""`EcsService`: the desired count (or Application Auto Scaling range), image and Fargate task size
of an existing ECS service. Never created or deleted. An image, cpu or memory change registers a
new revision of the service's task definition and deploys it; the change has succeeded when that
rollout completes. The manifest is in `model.py` (the Fargate table in `fargate.py`), the engine
in `engine.py` (loaded only when a run talks to AWS), the task definition copy in `revision.py`.
"""

from __future__ import annotations

from reconciler.kinds.description import Kind, Service, quota
from reconciler.kinds.ecs_service.model import EcsService, check

#: "Request throttling for the Amazon ECS API" (Amazon ECS API Reference): token buckets per
#: account and Region, one per group of actions, sustained rate and burst.
_ECS_THROTTLING = "AWS: Amazon ECS API Reference, 'Request throttling for the Amazon ECS API'"

ECS = Service(
    "ecs",
    "ecs",
    (
        quota("ecs", "DescribeServices", 20, 100, f"{_ECS_THROTTLING}, service read actions"),
        quota(
            "ecs",
            "DescribeTaskDefinition",
            20,
            50,
            f"{_ECS_THROTTLING}, task definition read actions",
        ),
        quota("ecs", "UpdateService", 5, 15, f"{_ECS_THROTTLING}, service modification actions"),
        quota(
            "ecs",
            "RegisterTaskDefinition",
            1,
            5,
            f"{_ECS_THROTTLING}, task definition modification actions",
        ),
        quota("ecs", "", 1, 5, "assumed: the lowest of the page's groups (TagResource and others)"),
    ),
    (400, "ThrottlingException"),
)

APPLICATION_AUTOSCALING = Service(
    "application-autoscaling",
    "application-autoscaling",
    (
        quota(
            "application-autoscaling",
            "",
            5,
            5,
            "assumed: Application Auto Scaling publishes no request-rate quota "
            "('Quotas for Application Auto Scaling' lists only resource counts)",
        ),
    ),
    (400, "ThrottlingException"),
)

KIND = Kind(
    name="EcsService",
    model=EcsService,
    check=check,
    noun="services",
    engine="reconciler.kinds.ecs_service.engine",
    services=(ECS, APPLICATION_AUTOSCALING),
    phase=2,
    observe=frozenset(
        {
            # include=TAGS: the ownership tag comes with the service.
            "ecs:DescribeServices",
            "ecs:DescribeTaskDefinition",
            "application-autoscaling:DescribeScalableTargets",
        }
    ),
    apply=frozenset(
        {
            "ecs:UpdateService",
            "ecs:RegisterTaskDefinition",
            # The ownership tag, and the task definition's tags carried to its new revision.
            "ecs:TagResource",
            # A task definition with a task or execution role passes it to ECS tasks.
            "iam:PassRole",
            "application-autoscaling:RegisterScalableTarget",
            # The first RegisterScalableTarget of an ECS service in an account creates
            # AWSServiceRoleForApplicationAutoScaling_ECSService.
            "iam:CreateServiceLinkedRole",
        }
    ),
    writes=frozenset(
        {"UpdateService", "DeleteService", "TagResource", "UntagResource", "CreateService"}
    ),
    identifiers=("service", "serviceName", "resourceArn"),
)
