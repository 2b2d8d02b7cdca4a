"""The EcsService engine against the emulator: observe in batches, diff, apply a new task
definition revision and wait for its rollout, scaling ranges, ownership."""

from __future__ import annotations

from typing import Any

import pytest
from call_log import CallLog

from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.emulator import behaviour
from reconciler.emulator.ecs import CIRCUIT_BREAKER
from reconciler.errors import PermanentError
from reconciler.kinds.ecs_service.engine import ENGINE, EcsServiceEngine
from reconciler.kinds.ecs_service.model import EcsService
from reconciler.kinds.ecs_service.revision import READ_ONLY
from reconciler.plan import OWNER_TAG, Action, Diff, Plan
from tests.builders import document_of, plan_with

ecs_service = document_of(EcsService)
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
WEB_1, WEB_2 = f"{REGISTRY}/web:1.0.0", f"{REGISTRY}/web:2.0.0"
ROLE = "arn:aws:iam::123456789012:role/web-task"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/web-execution"

#: A task definition as teams write them: roles, volumes, several containers, variables, secrets,
#: logging, health checks, a runtime platform and ephemeral storage.
RICH = {
    "family": "web",
    "taskRoleArn": ROLE,
    "executionRoleArn": EXECUTION_ROLE,
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    "ephemeralStorage": {"sizeInGiB": 30},
    "volumes": [{"name": "cache"}, {"name": "shared", "host": {}}],
    "containerDefinitions": [
        {
            "name": "web",
            "image": WEB_1,
            "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "APP_ENV", "value": "dev"}],
            "secrets": [
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db",
                }
            ],
            "mountPoints": [{"sourceVolume": "cache", "containerPath": "/cache"}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1"},
            },
            "healthCheck": {"command": ["CMD-SHELL", "curl -f localhost:8080/health"]},
        },
        {
            "name": "envoy",
            "image": f"{REGISTRY}/envoy:1.29",
            "essential": False,
            "environment": [{"name": "LOG_LEVEL", "value": "info"}],
            "dependsOn": [{"containerName": "web", "condition": "START"}],
        },
    ],
    "enableFaultInjection": False,
}
TD_TAGS = [{"key": "team", "value": "web"}]


def make_service(
    aws: Clients,
    name: str = "apps/web",
    *,
    containers: list[dict[str, Any]] | None = None,
    image: str = WEB_1,
    cpu: str = "256",
    memory: str = "512",
    count: int = 2,
    owner: str | None = "dev",
    definition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A cluster (made if missing), a Fargate task definition and a service running it."""
    ecs = aws.service("ecs")
    cluster, service = name.split("/")
    ecs.create_cluster(clusterName=cluster)
    if definition is None:
        definition = {
            "family": service,
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": cpu,
            "memory": memory,
            "containerDefinitions": containers or [{"name": service, "image": image}],
        }
    registered = ecs.register_task_definition(**definition, tags=TD_TAGS)["taskDefinition"]
    tags = [{"key": OWNER_TAG, "value": owner}] if owner else []
    created: dict[str, Any] = ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=registered["taskDefinitionArn"],
        desiredCount=count,
        launchType="FARGATE",
        tags=tags,
    )["service"]
    return created


def described(aws: Clients, name: str = "apps/web") -> dict[str, Any]:
    cluster, service = name.split("/")
    found: dict[str, Any] = aws.service("ecs").describe_services(
        cluster=cluster, services=[service], include=["TAGS"]
    )["services"][0]
    return found


def task_definition(aws: Clients, arn: str) -> dict[str, Any]:
    answer: dict[str, Any] = aws.service("ecs").describe_task_definition(
        taskDefinition=arn, include=["TAGS"]
    )
    return answer


def register_target(aws: Clients, name: str, low: int, high: int) -> None:
    aws.service("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=f"service/{name}",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=low,
        MaxCapacity=high,
    )


def plan_for(aws: Clients, context: Context, *manifests: EcsService) -> Plan:
    return plan_with(ENGINE, aws, context, *manifests)


def recording_engine() -> tuple[EcsServiceEngine, list[float]]:
    slept: list[float] = []
    return EcsServiceEngine(sleep=slept.append), slept


# --- observe ------------------------------------------------------------------------------------


def test_a_service_as_declared_is_in_sync(aws: Clients, context: Context) -> None:
    make_service(aws, image=WEB_1, cpu="512", memory="1024", count=3)
    manifest = ecs_service("apps/web", desiredCount=3, image=WEB_1, cpu=512, memory=1024)

    observed = ENGINE.observe(aws, [manifest], context)["apps/web"]

    assert {k: observed.fields[k] for k in ("desiredCount", "image", "cpu", "memory")} == {
        "desiredCount": 3,
        "image": WEB_1,
        "cpu": 512,
        "memory": 1024,
    }
    assert plan_for(aws, context, manifest).in_sync


@pytest.mark.parametrize(
    ("spec", "diff"),
    [
        ({"desiredCount": 5}, Diff(field="desiredCount", desired=5, actual=2)),
        ({"image": WEB_2}, Diff(field="image", desired=WEB_2, actual=WEB_1)),
        ({"cpu": 1024, "memory": 2048}, Diff(field="cpu", desired=1024, actual=256)),
        ({"memory": 1024}, Diff(field="memory", desired=1024, actual=512)),
        (
            {"autoscaling": {"minCapacity": 2, "maxCapacity": 8}},
            Diff(field="autoscaling.minCapacity", desired=2, actual=None),
        ),
    ],
)
def test_each_fields_drift_is_one_diff_with_the_manifests_path(
    aws: Clients, context: Context, spec: dict[str, Any], diff: Diff
) -> None:
    make_service(aws)
    (change,) = plan_for(aws, context, ecs_service("apps/web", **spec)).changes
    assert change.action is Action.UPDATE
    assert change.diffs[0] == diff


def test_a_changed_scaling_range_is_one_diff_per_bound(aws: Clients, context: Context) -> None:
    make_service(aws)
    register_target(aws, "apps/web", 2, 8)
    manifest = ecs_service("apps/web", autoscaling={"minCapacity": 2, "maxCapacity": 12})

    (change,) = plan_for(aws, context, manifest).changes

    assert change.diffs == (Diff(field="autoscaling.maxCapacity", desired=12, actual=8),)


def test_with_autoscaling_the_running_count_is_not_compared(aws: Clients, context: Context) -> None:
    make_service(aws, count=7)  # scaled out by Application Auto Scaling
    register_target(aws, "apps/web", 2, 8)
    manifest = ecs_service("apps/web", autoscaling={"minCapacity": 2, "maxCapacity": 8})

    assert plan_for(aws, context, manifest).in_sync


def test_services_are_read_ten_a_call_per_cluster_and_task_definitions_once(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    ecs = aws.service("ecs")
    ecs.create_cluster(clusterName="apps")
    shared = ecs.register_task_definition(
        family="shared",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": WEB_1}],
    )["taskDefinition"]["taskDefinitionArn"]
    names = [f"apps/svc-{i:02}" for i in range(11)]
    for name in names:
        ecs.create_service(
            cluster="apps", serviceName=name.split("/")[1], taskDefinition=shared, desiredCount=1
        )
    make_service(aws, "jobs/batch")
    manifests = [ecs_service(name, image=WEB_1) for name in [*names, "jobs/batch"]]
    calls.clear()

    found = ENGINE.observe(aws, manifests, context)

    assert sorted(found) == sorted([*names, "jobs/batch"])
    assert calls.calls.count(("ecs", "DescribeServices")) == 3  # 10 + 1 of apps, 1 of jobs
    assert calls.calls.count(("ecs", "DescribeTaskDefinition")) == 2  # shared, batch
    assert ("application-autoscaling", "DescribeScalableTargets") not in calls.calls


def test_scaling_targets_are_read_fifty_a_call(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    ecs = aws.service("ecs")
    make_service(aws, "apps/svc-00")
    definition = described(aws, "apps/svc-00")["taskDefinition"]
    names = [f"apps/svc-{i:02}" for i in range(51)]
    for name in names[1:]:
        ecs.create_service(
            cluster="apps", serviceName=name.split("/")[1], taskDefinition=definition
        )
    for name in names:
        register_target(aws, name, 1, 4)
    manifests = [ecs_service(n, autoscaling={"minCapacity": 1, "maxCapacity": 4}) for n in names]
    calls.clear()

    plan = plan_for(aws, context, *manifests)

    assert calls.calls.count(("application-autoscaling", "DescribeScalableTargets")) == 2
    assert ("ecs", "DescribeTaskDefinition") not in calls.calls  # no image or size declared
    assert sum(change.action is Action.NOOP for change in plan.changes) == 1  # svc-00 is tagged


def test_a_missing_service_or_cluster_is_blocked(aws: Clients, context: Context) -> None:
    make_service(aws)
    manifests = [
        ecs_service("apps/web", desiredCount=2),
        ecs_service("apps/gone", desiredCount=2),
        ecs_service("nocluster/web", desiredCount=2),
    ]

    changes = plan_for(aws, context, *manifests).changes

    assert [(c.name, c.action) for c in changes] == [
        ("apps/web", Action.NOOP),
        ("apps/gone", Action.BLOCKED),
        ("nocluster/web", Action.BLOCKED),
    ]


def test_a_deleted_service_counts_as_missing(aws: Clients, context: Context) -> None:
    make_service(aws, count=0)
    aws.service("ecs").delete_service(cluster="apps", service="web")

    (change,) = plan_for(aws, context, ecs_service("apps/web", desiredCount=1)).changes

    assert change.action is Action.BLOCKED


def test_several_containers_without_spec_container_are_blocked_with_their_names(
    aws: Clients, context: Context
) -> None:
    make_service(aws, definition=RICH)

    (change,) = plan_for(aws, context, ecs_service("apps/web", image=WEB_2)).changes

    assert change.action is Action.BLOCKED
    assert "2 containers (web, envoy)" in (change.reason or "")
    assert "spec.container" in (change.reason or "")


def test_a_container_the_task_definition_lacks_is_blocked(aws: Clients, context: Context) -> None:
    make_service(aws, definition=RICH)
    manifest = ecs_service("apps/web", image=WEB_2, container="api")

    (change,) = plan_for(aws, context, manifest).changes

    assert change.action is Action.BLOCKED
    assert "no container 'api' (it has web, envoy)" in (change.reason or "")


def test_a_desired_count_while_a_scalable_target_moves_it_is_blocked(
    aws: Clients, context: Context
) -> None:
    make_service(aws)
    register_target(aws, "apps/web", 1, 6)

    (change,) = plan_for(aws, context, ecs_service("apps/web", desiredCount=3)).changes

    assert change.action is Action.BLOCKED
    assert "declare spec.autoscaling instead of desiredCount" in (change.reason or "")


def test_a_service_owned_by_another_environment_is_blocked(aws: Clients, context: Context) -> None:
    make_service(aws, owner="prod")

    (change,) = plan_for(aws, context, ecs_service("apps/web", desiredCount=5)).changes

    assert change.action is Action.BLOCKED
    assert "prod" in (change.reason or "")


# --- apply ----------------------------------------------------------------------------------------


def test_an_image_change_registers_a_full_copy_and_waits_for_its_rollout(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_service(aws, definition=RICH)
    before = task_definition(aws, described(aws)["taskDefinition"])
    manifest = ecs_service("apps/web", image=WEB_2, container="web")
    (change,) = plan_for(aws, context, manifest).writes
    engine, slept = recording_engine()
    calls.clear()

    with behaviour(ecs_rollout_reads=3):
        engine.apply(aws, change, context)

    assert len(slept) == 3  # three reads saw the rollout IN_PROGRESS
    service = described(aws)
    primary = service["deployments"][0]
    assert (primary["status"], primary["rolloutState"]) == ("PRIMARY", "COMPLETED")
    after = task_definition(aws, service["taskDefinition"])
    assert after["taskDefinition"]["revision"] == before["taskDefinition"]["revision"] + 1
    assert after["tags"] == TD_TAGS
    old, new = before["taskDefinition"], after["taskDefinition"]
    for key in set(RICH) - {"containerDefinitions"}:
        assert new[key] == old[key], key
    assert new["containerDefinitions"][1] == old["containerDefinitions"][1]  # envoy untouched
    web_old, web_new = old["containerDefinitions"][0], new["containerDefinitions"][0]
    assert web_new == {**web_old, "image": WEB_2}
    assert calls.writes == [
        ("ecs", "RegisterTaskDefinition"),
        ("ecs", "UpdateService"),
    ]
    assert plan_for(aws, context, manifest).in_sync


def test_the_new_revision_carries_no_read_only_field(aws: Clients, context: Context) -> None:
    make_service(aws, definition=RICH)
    sent: list[dict[str, Any]] = []
    aws.service("ecs").meta.events.register(
        "provide-client-params.ecs.RegisterTaskDefinition",
        lambda params, **_: sent.append(dict(params)),
    )
    (change,) = plan_for(aws, context, ecs_service("apps/web", cpu=1024, memory=2048)).writes

    ENGINE.apply(aws, change, context)

    (request,) = sent
    assert (request["cpu"], request["memory"]) == ("1024", "2048")
    assert request["taskRoleArn"] == ROLE and request["executionRoleArn"] == EXECUTION_ROLE
    assert request["tags"] == TD_TAGS
    assert not {"taskDefinitionArn", "revision", "status", "compatibilities", "registeredAt"} & set(
        request
    )
    assert plan_for(aws, context, ecs_service("apps/web", cpu=1024, memory=2048)).in_sync


def test_a_failed_rollout_is_a_failed_change_with_awss_reason(
    aws: Clients, context: Context
) -> None:
    make_service(aws)
    (change,) = plan_for(aws, context, ecs_service("apps/web", image=WEB_2)).writes
    engine, _ = recording_engine()

    with (
        behaviour(ecs_failing_images=(WEB_2,), ecs_rollout_reads=1),
        pytest.raises(PermanentError) as failed,
    ):
        engine.apply(aws, change, context)

    assert CIRCUIT_BREAKER in str(failed.value)
    assert "rollout of web:2" in str(failed.value)


def test_a_memory_the_task_cpu_cannot_have_fails_before_registering(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_service(aws, cpu="256", memory="512")
    (change,) = plan_for(aws, context, ecs_service("apps/web", memory=4096)).writes
    calls.clear()

    with pytest.raises(PermanentError, match="cpu 256 with memory 512, 1024 or 2048 MiB"):
        ENGINE.apply(aws, change, context)

    assert calls.writes == []


def test_a_desired_count_is_one_update_and_nothing_to_wait_for(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_service(aws, count=2)
    (change,) = plan_for(aws, context, ecs_service("apps/web", desiredCount=4)).writes
    engine, slept = recording_engine()
    calls.clear()

    engine.apply(aws, change, context)

    assert calls.writes == [("ecs", "UpdateService")]
    assert slept == []
    assert described(aws)["desiredCount"] == 4


def test_a_scaling_range_registers_the_scalable_target(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_service(aws)
    manifest = ecs_service("apps/web", autoscaling={"minCapacity": 2, "maxCapacity": 9})
    (change,) = plan_for(aws, context, manifest).writes
    calls.clear()

    ENGINE.apply(aws, change, context)

    assert calls.writes == [("application-autoscaling", "RegisterScalableTarget")]
    (target,) = aws.service("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs"
    )["ScalableTargets"]
    assert (target["ResourceId"], target["ScalableDimension"]) == (
        "service/apps/web",
        "ecs:service:DesiredCount",
    )
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 9)
    assert plan_for(aws, context, manifest).in_sync


def test_the_owner_tag_is_added_by_the_services_arn(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_service(aws, owner=None)
    manifest = ecs_service("apps/web", desiredCount=2)
    (change,) = plan_for(aws, context, manifest).writes
    assert change.diffs == (Diff(field=f"tags.{OWNER_TAG}", desired="dev", actual=None),)
    calls.clear()

    ENGINE.apply(aws, change, context)

    assert calls.writes == [("ecs", "TagResource")]
    assert {"key": OWNER_TAG, "value": "dev"} in described(aws)["tags"]
    assert described(aws)["serviceArn"].endswith(":service/apps/web")  # the long ARN format
    assert plan_for(aws, context, manifest).in_sync


def test_applying_a_change_twice_writes_once(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_service(aws)
    (change,) = plan_for(aws, context, ecs_service("apps/web", image=WEB_2, desiredCount=3)).writes
    engine, _ = recording_engine()
    calls.clear()

    engine.apply(aws, change, context)
    engine.apply(aws, change, context)  # a retry after a lost answer

    assert calls.writes == [("ecs", "RegisterTaskDefinition"), ("ecs", "UpdateService")]


def test_apply_refuses_a_service_that_became_owned_elsewhere(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_service(aws, owner=None)
    (change,) = plan_for(aws, context, ecs_service("apps/web", image=WEB_2)).writes
    aws.service("ecs").tag_resource(
        resourceArn=described(aws)["serviceArn"], tags=[{"key": OWNER_TAG, "value": "prod"}]
    )
    calls.clear()

    with pytest.raises(PermanentError, match="owned by environment 'prod'"):
        ENGINE.apply(aws, change, context)

    assert calls.writes == []


def test_a_service_deployed_by_codedeploy_is_blocked_for_its_image(
    aws: Clients, context: Context
) -> None:
    make_service(aws)
    ecs = aws.service("ecs")
    ecs.create_service(
        cluster="apps",
        serviceName="blue-green",
        taskDefinition=described(aws)["taskDefinition"],
        desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
        tags=[{"key": OWNER_TAG, "value": "dev"}],
    )
    manifests = [
        ecs_service("apps/blue-green", image=WEB_2),
        ecs_service("apps/blue-green", desiredCount=1),
    ]

    image, count = (plan_for(aws, context, manifest).changes[0] for manifest in manifests)

    assert image.action is Action.BLOCKED
    assert "CODE_DEPLOY deployment controller" in (image.reason or "")
    assert count.action is Action.NOOP  # its count is still ECS's to set


def test_a_service_with_a_short_arn_cannot_be_tagged_and_says_why(
    aws: Clients, context: Context, calls: CallLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ECS_NEW_ARN", "false")  # a service from before the long format
    make_service(aws, owner=None)
    assert described(aws)["serviceArn"].endswith(":service/web")
    (change,) = plan_for(aws, context, ecs_service("apps/web", desiredCount=2)).writes
    calls.clear()

    with pytest.raises(PermanentError, match=r"old short format .* serviceLongArnFormat"):
        ENGINE.apply(aws, change, context)

    assert calls.writes == []


def test_a_rolled_back_rollout_is_a_failed_change_naming_the_rollback(
    aws: Clients, context: Context
) -> None:
    make_service(aws)
    (change,) = plan_for(aws, context, ecs_service("apps/web", image=WEB_2)).writes
    engine, _ = recording_engine()

    with (
        behaviour(ecs_failing_images=(WEB_2,), ecs_rollback_on_failure=True, ecs_rollout_reads=1),
        pytest.raises(PermanentError) as failed,
    ):
        engine.apply(aws, change, context)

    assert CIRCUIT_BREAKER in str(failed.value)
    assert "rollout of web:2" in str(failed.value)
    assert "rolled back to web:1" in str(failed.value)
    assert described(aws)["taskDefinition"].endswith("web:1")


def test_a_failed_deployment_the_primary_replaced_is_not_this_changes_failure(
    aws: Clients, context: Context
) -> None:
    make_service(aws)
    with behaviour(ecs_failing_images=(WEB_2,), ecs_rollback_on_failure=True, ecs_rollout_reads=0):
        aws.service("ecs").register_task_definition(
            family="web",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "web", "image": WEB_2}],
        )
        aws.service("ecs").update_service(cluster="apps", service="web", taskDefinition="web:2")
    # web:2 failed and was rolled back to web:1; now the manifest asks for a third image.
    web_3 = f"{REGISTRY}/web:3.0.0"
    (change,) = plan_for(aws, context, ecs_service("apps/web", image=web_3)).writes
    engine, _ = recording_engine()

    engine.apply(aws, change, context)

    assert described(aws)["deployments"][0]["rolloutState"] == "COMPLETED"
    assert plan_for(aws, context, ecs_service("apps/web", image=web_3)).in_sync


def test_a_revision_registered_by_an_apply_that_died_is_used_not_registered_again(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    make_service(aws, definition=RICH)
    manifest = ecs_service("apps/web", image=WEB_2, container="web")
    (change,) = plan_for(aws, context, manifest).writes
    current = task_definition(aws, described(aws)["taskDefinition"])["taskDefinition"]
    # The earlier apply registered web:2 with the new image, then died before UpdateService.
    copy = {k: v for k, v in current.items() if k not in READ_ONLY}
    copy["containerDefinitions"] = [
        {**c, "image": WEB_2} if c["name"] == "web" else c for c in copy["containerDefinitions"]
    ]
    aws.service("ecs").register_task_definition(**copy, tags=TD_TAGS)
    calls.clear()

    ENGINE.apply(aws, change, context)

    assert calls.writes == [("ecs", "UpdateService")]
    assert described(aws)["taskDefinition"].endswith("web:2")
    assert plan_for(aws, context, manifest).in_sync
