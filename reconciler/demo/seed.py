"""Create an example environment's stack in the emulator, as AWS would hold it, then drift it.

The reconciler never creates functions, clusters, tables, HTTP APIs, ECS services or DB
instances: a demo of an example needs them to exist first, as a deploy tool (SAM, CDK,
Terraform) would have left them. This module creates every declared resource from the
environment's own manifests with plain boto3 calls (moto answers them in the demo; no engine
imports this module), tagged for the environment, and changes some of them behind the manifests'
back:

- the first resource of each kind is drifted by one field (`reconciler.demo.drift` says which);
- of a kind the reconciler creates (alarms, budgets, log groups, parameters) that has several
  resources, the last is left missing, so the plan creates it;
- every other resource is created exactly as declared, so the plan shows it `noop`.

`seed` returns the drift as a person reads it, one line a changed resource.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from reconciler.demo.drift import DRIFTS, Spec
from reconciler.loader import load_environment
from reconciler.ownership import OWNER_TAG

#: Kinds the reconciler creates when they are missing (CONTRACT.md section 1).
CREATED_BY_THE_RECONCILER = frozenset({"MetricAlarm", "Budget", "LogGroup", "SsmParameter"})

_LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass(frozen=True)
class Declared:
    """One declared resource: its kind, its AWS name and its spec in manifest spelling."""

    kind: str
    name: str
    spec: Spec

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Declared:
        return cls(document["kind"], document["metadata"]["name"], document.get("spec", {}))


@dataclass
class Stack:
    """The account being seeded, and what several resources share (a role, an API, a VPC)."""

    session: Any
    environment: str
    account: str
    region: str
    apis: dict[str, str] = field(default_factory=dict)
    clusters: set[str] = field(default_factory=set)

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region)

    def tags(self, tagged: bool = True) -> dict[str, str]:
        return {OWNER_TAG: self.environment} if tagged else {}

    def tag_list(self, tagged: bool = True, key: str = "Key", value: str = "Value") -> list[Any]:
        return [{key: k, value: v} for k, v in self.tags(tagged).items()]

    def image(self, name: str) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/{name}:latest"

    @cached_property
    def role(self) -> str:
        """The execution role the functions and tasks run as (IAM is global)."""
        iam = self.session.client("iam")
        created = iam.create_role(RoleName="app-execution", AssumeRolePolicyDocument=_LAMBDA_TRUST)
        return str(created["Role"]["Arn"])

    @cached_property
    def network(self) -> dict[str, Any]:
        """One private subnet and security group for the Fargate tasks."""
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(
            GroupName="app-tasks", Description="application tasks", VpcId=vpc
        )["GroupId"]
        return {
            "awsvpcConfiguration": {
                "subnets": [subnet],
                "securityGroups": [group],
                "assignPublicIp": "DISABLED",
            }
        }


def lambda_function(stack: Stack, name: str, spec: Spec, tagged: bool) -> None:
    lam = stack.client("lambda")
    extra: dict[str, Any] = {}
    if "memoryMb" in spec:
        extra["MemorySize"] = spec["memoryMb"]
    if "timeoutSeconds" in spec:
        extra["Timeout"] = spec["timeoutSeconds"]
    if "environment" in spec:
        extra["Environment"] = {"Variables": dict(spec["environment"])}
    if "tracing" in spec:
        extra["TracingConfig"] = {"Mode": spec["tracing"]}
    lam.create_function(
        FunctionName=name,
        PackageType="Image",
        Code={"ImageUri": spec.get("image") or stack.image(name)},
        Role=stack.role,
        Tags=stack.tags(tagged),
        **extra,
    )
    if spec.get("reservedConcurrency") is not None:
        lam.put_function_concurrency(
            FunctionName=name, ReservedConcurrentExecutions=spec["reservedConcurrency"]
        )
    if "alias" in spec:
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.create_alias(FunctionName=name, Name=spec["alias"], FunctionVersion=version)
        if spec.get("provisionedConcurrency"):
            lam.put_provisioned_concurrency_config(
                FunctionName=name,
                Qualifier=spec["alias"],
                ProvisionedConcurrentExecutions=spec["provisionedConcurrency"],
            )


def aurora_cluster(stack: Stack, name: str, spec: Spec, tagged: bool) -> None:
    scaling: dict[str, Any] = {
        "MinCapacity": spec.get("minCapacity", 0.5),
        "MaxCapacity": spec.get("maxCapacity", max(1.0, spec.get("minCapacity", 0.5))),
    }
    if "secondsUntilAutoPause" in spec:
        scaling["SecondsUntilAutoPause"] = spec["secondsUntilAutoPause"]
    stack.client("rds").create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        EngineMode="provisioned",
        MasterUsername="app",
        MasterUserPassword="demo-only-password",
        BackupRetentionPeriod=spec.get("backupRetentionDays", 1),
        DeletionProtection=spec.get("deletionProtection", False),
        ServerlessV2ScalingConfiguration=scaling,
        Tags=stack.tag_list(tagged),
    )


_ALARM_FIELDS = {
    "namespace": "Namespace",
    "metricName": "MetricName",
    "statistic": "Statistic",
    "extendedStatistic": "ExtendedStatistic",
    "period": "Period",
    "evaluationPeriods": "EvaluationPeriods",
    "datapointsToAlarm": "DatapointsToAlarm",
    "threshold": "Threshold",
    "comparisonOperator": "ComparisonOperator",
    "treatMissingData": "TreatMissingData",
    "description": "AlarmDescription",
    "alarmActions": "AlarmActions",
    "okActions": "OKActions",
    "insufficientDataActions": "InsufficientDataActions",
    "actionsEnabled": "ActionsEnabled",
}


def metric_alarm(stack: Stack, name: str, spec: Spec, tagged: bool) -> None:
    request = {api: spec[field] for field, api in _ALARM_FIELDS.items() if field in spec}
    request["Dimensions"] = [{"Name": k, "Value": v} for k, v in spec.get("dimensions", {}).items()]
    stack.client("cloudwatch").put_metric_alarm(
        AlarmName=name, Tags=stack.tag_list(tagged), **request
    )


def budget(stack: Stack, name: str, spec: Spec, tagged: bool) -> None:
    notifications = [
        {
            "Notification": {
                "NotificationType": item["notificationType"],
                "ComparisonOperator": item["comparisonOperator"],
                "Threshold": item["threshold"],
                "ThresholdType": item.get("thresholdType", "PERCENTAGE"),
            },
            "Subscribers": [
                {"SubscriptionType": s["type"], "Address": s["address"]}
                for s in item["subscribers"]
            ],
        }
        for item in spec.get("notifications", [])
    ]
    stack.client("budgets").create_budget(
        AccountId=stack.account,
        Budget={
            "BudgetName": name,
            "BudgetLimit": {
                "Amount": f"{spec['limit']['amount']:g}",
                "Unit": spec["limit"].get("unit", "USD"),
            },
            "TimeUnit": spec.get("timeUnit", "MONTHLY"),
            "BudgetType": spec.get("budgetType", "COST"),
        },
        NotificationsWithSubscribers=notifications,
        ResourceTags=stack.tag_list(tagged),
    )


def log_group(stack: Stack, name: str, spec: Spec, tagged: bool) -> None:
    logs = stack.client("logs")
    if tagged:
        logs.create_log_group(logGroupName=name, tags=stack.tags())
    else:
        logs.create_log_group(logGroupName=name)
    if spec.get("retentionDays") is not None:
        logs.put_retention_policy(logGroupName=name, retentionInDays=spec["retentionDays"])


def dynamodb_table(stack: Stack, name: str, spec: Spec, tagged: bool) -> None:
    dynamodb = stack.client("dynamodb")
    billing = spec.get("billingMode", "PAY_PER_REQUEST")
    capacity: dict[str, Any] = {}
    if billing == "PROVISIONED":
        capacity["ProvisionedThroughput"] = {
            "ReadCapacityUnits": spec.get("readCapacity", 1),
            "WriteCapacityUnits": spec.get("writeCapacity", 1),
        }
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode=billing,
        DeletionProtectionEnabled=spec.get("deletionProtection", False),
        Tags=stack.tag_list(tagged),
        **capacity,
    )
    if spec.get("pointInTimeRecovery"):
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    if spec.get("ttlAttribute"):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec["ttlAttribute"]},
        )


def _throttle(limits: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ThrottlingRateLimit": float(limits["rateLimit"]),
        "ThrottlingBurstLimit": int(limits["burstLimit"]),
    }


def http_api_stage(stack: Stack, name: str, spec: Spec, tagged: bool) -> None:
    api_name, stage = name.split("/", 1)
    gateway = stack.client("apigatewayv2")
    if api_name not in stack.apis:
        created = gateway.create_api(Name=api_name, ProtocolType="HTTP", Tags=stack.tags(tagged))
        stack.apis[api_name] = created["ApiId"]
    api = stack.apis[api_name]
    routes = spec.get("routes", {})
    for key in routes:
        gateway.create_route(ApiId=api, RouteKey=key)
    defaults: dict[str, Any] = {}
    if "throttling" in spec:
        defaults |= _throttle(spec["throttling"])
    if "detailedMetrics" in spec:
        defaults["DetailedMetricsEnabled"] = spec["detailedMetrics"]
    gateway.create_stage(
        ApiId=api,
        StageName=stage,
        AutoDeploy=stage == "$default",
        DefaultRouteSettings=defaults,
        RouteSettings={key: _throttle(limits) for key, limits in routes.items()},
        Tags=stack.tags(tagged),
    )


def ssm_parameter(stack: Stack, name: str, spec: Spec, tagged: bool) -> None:
    extra = {"Description": spec["description"]} if spec.get("description") else {}
    stack.client("ssm").put_parameter(
        Name=name,
        Value=spec["value"],
        Type=spec.get("type", "String"),
        Tags=stack.tag_list(tagged),
        **extra,
    )


def ecs_service(stack: Stack, name: str, spec: Spec, tagged: bool) -> None:
    cluster, service = name.split("/", 1)
    ecs = stack.client("ecs")
    if cluster not in stack.clusters:
        ecs.create_cluster(clusterName=cluster)
        stack.clusters.add(cluster)
    container = spec.get("container", service)
    definition = ecs.register_task_definition(
        family=f"{cluster}-{service}",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu=str(spec.get("cpu", 256)),
        memory=str(spec.get("memory", 512)),
        executionRoleArn=stack.role,
        containerDefinitions=[
            {
                "name": container,
                "image": spec.get("image") or stack.image(f"{cluster}-{service}"),
                "essential": True,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    scaling = spec.get("autoscaling")
    ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=definition,
        desiredCount=scaling["minCapacity"] if scaling else spec.get("desiredCount", 1),
        launchType="FARGATE",
        networkConfiguration=stack.network,
        tags=stack.tag_list(tagged, key="key", value="value"),
    )
    if scaling:
        stack.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=f"service/{cluster}/{service}",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=scaling["minCapacity"],
            MaxCapacity=scaling["maxCapacity"],
        )


def database_instance(stack: Stack, name: str, spec: Spec, tagged: bool) -> None:
    stack.client("rds").create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass=spec.get("instanceClass", "db.t4g.micro"),
        Engine="postgres",
        EngineVersion="16.4",
        MasterUsername="app",
        MasterUserPassword="demo-only-password",
        AllocatedStorage=20,
        MultiAZ=spec.get("multiAz", False),
        BackupRetentionPeriod=spec.get("backupRetentionDays", 7),
        DeletionProtection=spec.get("deletionProtection", False),
        Tags=stack.tag_list(tagged),
    )


Create = Callable[[Stack, str, Spec, bool], None]

#: How each kind the examples use is created, by manifest kind.
CREATES: dict[str, Create] = {
    "LambdaFunction": lambda_function,
    "AuroraServerlessCluster": aurora_cluster,
    "MetricAlarm": metric_alarm,
    "Budget": budget,
    "LogGroup": log_group,
    "DynamoDBTable": dynamodb_table,
    "HttpApiStage": http_api_stage,
    "SsmParameter": ssm_parameter,
    "EcsService": ecs_service,
    "DatabaseInstance": database_instance,
}


def _by_kind(declared: Iterable[Declared]) -> dict[str, list[Declared]]:
    groups: dict[str, list[Declared]] = {}
    for resource in declared:
        groups.setdefault(resource.kind, []).append(resource)
    return groups


def seed(stack: Stack, declared: Sequence[Declared]) -> list[str]:
    """Create the declared resources in `stack`'s account, drifted as the module says; returns
    the drift, one line a resource (`name: what differs`)."""
    drift: list[str] = []
    for kind, resources in _by_kind(declared).items():
        if kind not in CREATES:
            raise ValueError(f"the demo cannot create {kind} resources yet")
        create = CREATES[kind]
        for index, resource in enumerate(resources):
            last = index == len(resources) - 1
            if kind in CREATED_BY_THE_RECONCILER and len(resources) > 1 and last:
                drift.append(f"{resource.name}: missing (deleted by hand)")
            elif index == 0:
                changed = DRIFTS[kind](resource.spec)
                create(stack, resource.name, changed.spec, changed.tagged)
                drift.append(f"{resource.name}: {changed.line}")
            else:
                create(stack, resource.name, resource.spec, True)
    return drift


def seed_environment(session: Any, folder: str) -> list[str]:
    """Seed the environment whose manifests are in `folder` (validated first); see `seed`."""
    loaded = load_environment(folder)
    stack = Stack(
        session, loaded.name, loaded.environment.spec.account, loaded.environment.spec.region
    )
    return seed(stack, [Declared.of(r.to_manifest()) for r in loaded.resources])
