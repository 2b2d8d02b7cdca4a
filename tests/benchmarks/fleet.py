"""Fleets for the benchmarks: N functions, alarms, Aurora clusters, budgets, log groups, DynamoDB
tables, HTTP API stages, SSM parameters, ECS services and DB instances in the emulator, and the
manifests that declare exactly them.

Each resource is defined once, by its index (`function`, `alarm`, `cluster`, `budget`,
`log_group`, `table`, `stage`, `parameter`, `ecs_service`, `instance`); `create`
puts those definitions into moto with plain boto3 clients (so nothing is counted or throttled),
and `manifests` declares the same values, so a fleet created without `Drift` has none. Every
resource carries the environment's ownership tag, as one the reconciler manages would.

Must run inside `reconciler.emulator.emulated_aws()`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import boto3

from reconciler.kinds import KINDS
from reconciler.kinds.environment import Environment
from reconciler.loader import EnvironmentManifests
from reconciler.model import Manifest
from reconciler.plan import OWNER_TAG

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
ENVIRONMENT = "bench"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
API_VERSION = "reconciler/v1"


@dataclass(frozen=True)
class FleetSpec:
    """How many of each kind; `prune` as the Environment sets it (production environments do)."""

    functions: int
    alarms: int
    clusters: int = 0
    budgets: int = 0
    log_groups: int = 0
    tables: int = 0
    stages: int = 0
    parameters: int = 0
    services: int = 0
    instances: int = 0
    environment: str = ENVIRONMENT
    prune: bool = True

    def describe(self) -> str:
        counts = (
            (self.functions, "functions"),
            (self.alarms, "alarms"),
            (self.clusters, "clusters"),
            (self.budgets, "budgets"),
            (self.log_groups, "log groups"),
            (self.tables, "tables"),
            (self.stages, "stages"),
            (self.parameters, "parameters"),
            (self.services, "ECS services"),
            (self.instances, "DB instances"),
        )
        listed = ", ".join(f"{n} {noun}" for n, noun in counts if n or noun == "alarms")
        return f"{listed}{', prune on' if self.prune else ''}"


#: The issue's target fleet and its largest one.
TARGET = FleetSpec(
    functions=300,
    alarms=500,
    clusters=20,
    budgets=10,
    log_groups=200,
    tables=20,
    stages=10,
    parameters=300,
    services=20,
    instances=5,
)
LARGEST = FleetSpec(functions=1000, alarms=2000)


@dataclass(frozen=True)
class Drift:
    """What AWS has that the manifests do not: the first `functions` functions have other memory,
    the first `alarms` alarms another threshold, the first `log_groups` log groups another
    retention, the first `parameters` parameters another value."""

    functions: int = 0
    alarms: int = 0
    log_groups: int = 0
    parameters: int = 0


# --- the definitions, by index -------------------------------------------------------------------


def function(i: int) -> dict[str, Any]:
    """Function i as the manifests declare it: image by digest, memory, timeout, reservation."""
    name = f"fn-{i:04d}"
    digest = hashlib.sha256(name.encode()).hexdigest()
    return {
        "name": name,
        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/bench/{name}@sha256:{digest}",
        "memory": 128 * (1 + i % 16),
        "timeout": 3 + i % 60,
        "reserved": 1 + i % 10,
    }


def drifted_memory(memory: int) -> int:
    return memory + 64


def alarm(i: int, functions: int) -> dict[str, Any]:
    """`PutMetricAlarm` parameters of alarm i (without tags): errors of one of the functions."""
    target = function(i % max(1, functions))["name"]
    return {
        "AlarmName": f"{target}-errors-{i:04d}",
        "AlarmDescription": f"Errors of {target}",
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": target}],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 5,
        "DatapointsToAlarm": 3,
        "Threshold": float(1 + i % 10),
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [TOPIC],
        "OKActions": [TOPIC],
        "InsufficientDataActions": [],
        "ActionsEnabled": True,
    }


def cluster(i: int) -> dict[str, Any]:
    return {
        "name": f"db-{i:03d}",
        "min": 0.5,
        "max": float(2 + i % 8),
        "backup": 1 + i % 14,
        "protected": False,
    }


def budget(i: int) -> dict[str, Any]:
    """Budget i: a monthly cost limit with an ACTUAL (e-mail) and a FORECASTED (SNS) alert."""
    return {
        "name": f"budget-{i:02d}",
        "amount": 100 + 10 * i,
        "notifications": [
            ("ACTUAL", 80, ("EMAIL", "finops@example.com")),
            ("FORECASTED", 100, ("SNS", TOPIC)),
        ],
    }


#: The retention values log groups cycle through (each one AWS accepts).
RETENTIONS = (1, 3, 5, 7, 14, 30, 60, 90)


def log_group(i: int) -> dict[str, Any]:
    return {"name": f"/bench/service-{i:03d}", "retention": RETENTIONS[i % len(RETENTIONS)]}


def drifted_retention(days: int) -> int:
    """Another value AWS accepts."""
    return RETENTIONS[(RETENTIONS.index(days) + 1) % len(RETENTIONS)]


def table(i: int) -> dict[str, Any]:
    """Table i: on-demand, point-in-time recovery on even ones, protected every third, a TTL
    attribute on odd ones (null, never expire, on the others)."""
    return {
        "name": f"bench-table-{i:03d}",
        "pitr": i % 2 == 0,
        "protected": i % 3 == 0,
        "ttl": "expiresAt" if i % 2 else None,
    }


def stage(i: int) -> dict[str, Any]:
    """The `prod` stage of HTTP API `bench-api-i`: default throttling, detailed metrics on odd."""
    return {
        "api": f"bench-api-{i:02d}",
        "stage": "prod",
        "rate": float(100 + 10 * i),
        "burst": 50 + i,
        "metrics": i % 2 == 1,
    }


def parameter(i: int) -> dict[str, Any]:
    return {
        "name": f"/bench/app-{i // 10:02d}/SETTING_{i % 10}",
        "value": f"value-{i}",
        "type": "StringList" if i % 7 == 0 else "String",
        "description": f"Setting {i % 10} of app {i // 10}",
    }


def ecs_service(i: int) -> dict[str, Any]:
    """Service i of cluster `bench-ecs-(i % 2)`: its own task definition family; even ones have
    a desired count, odd ones an auto scaling range."""
    name = f"svc-{i:02d}"
    scaled = i % 2 == 1
    return {
        "cluster": f"bench-ecs-{i % 2}",
        "name": name,
        "family": f"bench-{name}",
        "container": "app",
        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/bench/{name}:1.{i}.0",
        "cpu": 256 * (1 + i % 2),
        "memory": 512 * (1 + i % 2) * 2,
        "desired": None if scaled else 1 + i % 3,
        "range": (1, 4 + i % 4) if scaled else None,
    }


def instance(i: int) -> dict[str, Any]:
    return {"name": f"bench-pg-{i:02d}", "class": "db.t4g.micro", "backup": 1 + i % 7}


# --- the fleet -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fleet:
    spec: FleetSpec
    manifests: EnvironmentManifests
    drift: Drift

    @property
    def function_names(self) -> list[str]:
        return [function(i)["name"] for i in range(self.spec.functions)]

    @property
    def alarm_names(self) -> list[str]:
        return [alarm(i, self.spec.functions)["AlarmName"] for i in range(self.spec.alarms)]

    @property
    def cluster_names(self) -> list[str]:
        return [cluster(i)["name"] for i in range(self.spec.clusters)]

    @property
    def budget_names(self) -> list[str]:
        return [budget(i)["name"] for i in range(self.spec.budgets)]

    @property
    def log_group_names(self) -> list[str]:
        return [log_group(i)["name"] for i in range(self.spec.log_groups)]

    @property
    def table_names(self) -> list[str]:
        return [table(i)["name"] for i in range(self.spec.tables)]

    @property
    def parameter_names(self) -> list[str]:
        return [parameter(i)["name"] for i in range(self.spec.parameters)]

    @property
    def instance_names(self) -> list[str]:
        return [instance(i)["name"] for i in range(self.spec.instances)]


def create(spec: FleetSpec, drift: Drift = Drift()) -> Fleet:
    """Create the fleet in moto (with `drift` applied) and return it with its manifests."""
    owner = {OWNER_TAG: spec.environment}
    tag_list = [{"Key": OWNER_TAG, "Value": spec.environment}]
    if spec.functions:
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="bench-fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", region_name=REGION)
        for i in range(spec.functions):
            fn = function(i)
            lam.create_function(
                FunctionName=fn["name"],
                Role=role,
                PackageType="Image",
                Code={"ImageUri": fn["image"]},
                MemorySize=fn["memory"],
                Timeout=fn["timeout"],
                Tags=owner,
            )
            lam.put_function_concurrency(
                FunctionName=fn["name"], ReservedConcurrentExecutions=fn["reserved"]
            )
    if spec.alarms:
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for i in range(spec.alarms):
            cloudwatch.put_metric_alarm(**alarm(i, spec.functions), Tags=tag_list)
    if spec.clusters:
        rds = boto3.client("rds", region_name=REGION)
        for i in range(spec.clusters):
            db = cluster(i)
            rds.create_db_cluster(
                DBClusterIdentifier=db["name"],
                Engine="aurora-postgresql",
                MasterUsername="bench",
                MasterUserPassword="bench-password",
                ServerlessV2ScalingConfiguration={
                    "MinCapacity": db["min"],
                    "MaxCapacity": db["max"],
                },
                BackupRetentionPeriod=db["backup"],
                DeletionProtection=db["protected"],
                Tags=tag_list,
            )
    if spec.budgets:
        budgets = boto3.client("budgets", region_name=REGION)
        for i in range(spec.budgets):
            b = budget(i)
            budgets.create_budget(
                AccountId=ACCOUNT,
                Budget={
                    "BudgetName": b["name"],
                    "BudgetLimit": {"Amount": str(b["amount"]), "Unit": "USD"},
                    "TimeUnit": "MONTHLY",
                    "BudgetType": "COST",
                },
                NotificationsWithSubscribers=[
                    {
                        "Notification": {
                            "NotificationType": kind,
                            "ComparisonOperator": "GREATER_THAN",
                            "Threshold": float(threshold),
                            "ThresholdType": "PERCENTAGE",
                        },
                        "Subscribers": [{"SubscriptionType": sub[0], "Address": sub[1]}],
                    }
                    for kind, threshold, sub in b["notifications"]
                ],
                ResourceTags=tag_list,
            )
    _create_others(spec, owner, tag_list)
    fleet = Fleet(spec, manifests(spec), drift)
    apply_drift(fleet)
    return fleet


def _create_others(spec: FleetSpec, owner: dict[str, str], tag_list: list[dict[str, str]]) -> None:
    """The log groups, tables, stages, parameters, ECS services and DB instances of `spec`."""
    if spec.log_groups:
        logs = boto3.client("logs", region_name=REGION)
        for i in range(spec.log_groups):
            group = log_group(i)
            logs.create_log_group(logGroupName=group["name"], tags=owner)
            logs.put_retention_policy(
                logGroupName=group["name"], retentionInDays=group["retention"]
            )
    if spec.tables:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for i in range(spec.tables):
            t = table(i)
            dynamodb.create_table(
                TableName=t["name"],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                DeletionProtectionEnabled=t["protected"],
                Tags=tag_list,
            )
            if t["pitr"]:
                dynamodb.update_continuous_backups(
                    TableName=t["name"],
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )
            if t["ttl"]:
                dynamodb.update_time_to_live(
                    TableName=t["name"],
                    TimeToLiveSpecification={"AttributeName": t["ttl"], "Enabled": True},
                )
    if spec.stages:
        gateway = boto3.client("apigatewayv2", region_name=REGION)
        for i in range(spec.stages):
            s = stage(i)
            api_id = gateway.create_api(Name=s["api"], ProtocolType="HTTP")["ApiId"]
            gateway.create_stage(
                ApiId=api_id,
                StageName=s["stage"],
                DefaultRouteSettings={
                    "ThrottlingRateLimit": s["rate"],
                    "ThrottlingBurstLimit": s["burst"],
                    "DetailedMetricsEnabled": s["metrics"],
                },
                Tags=owner,
            )
    if spec.parameters:
        ssm = boto3.client("ssm", region_name=REGION)
        for i in range(spec.parameters):
            p = parameter(i)
            ssm.put_parameter(
                Name=p["name"],
                Value=p["value"],
                Type=p["type"],
                Description=p["description"],
                Tags=tag_list,
            )
    if spec.services:
        _create_ecs_services(spec, tag_list)
    if spec.instances:
        rds = boto3.client("rds", region_name=REGION)
        for i in range(spec.instances):
            db = instance(i)
            rds.create_db_instance(
                DBInstanceIdentifier=db["name"],
                DBInstanceClass=db["class"],
                Engine="postgres",
                MasterUsername="bench",
                MasterUserPassword="bench-password",
                BackupRetentionPeriod=db["backup"],
                MultiAZ=False,
                DeletionProtection=False,
                Tags=tag_list,
            )


def _create_ecs_services(spec: FleetSpec, tag_list: list[dict[str, str]]) -> None:
    ecs = boto3.client("ecs", region_name=REGION)
    scaling = boto3.client("application-autoscaling", region_name=REGION)
    ecs_tags = [{"key": tag["Key"], "value": tag["Value"]} for tag in tag_list]
    for cluster_name in sorted({ecs_service(i)["cluster"] for i in range(spec.services)}):
        ecs.create_cluster(clusterName=cluster_name)
    for i in range(spec.services):
        svc = ecs_service(i)
        definition = ecs.register_task_definition(
            family=svc["family"],
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu=str(svc["cpu"]),
            memory=str(svc["memory"]),
            containerDefinitions=[{"name": svc["container"], "image": svc["image"]}],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(
            cluster=svc["cluster"],
            serviceName=svc["name"],
            taskDefinition=definition,
            desiredCount=svc["desired"] if svc["desired"] is not None else svc["range"][0],
            launchType="FARGATE",
            tags=ecs_tags,
        )
        if svc["range"] is not None:
            scaling.register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId=f"service/{svc['cluster']}/{svc['name']}",
                ScalableDimension="ecs:service:DesiredCount",
                MinCapacity=svc["range"][0],
                MaxCapacity=svc["range"][1],
            )


def apply_drift(fleet: Fleet) -> None:
    """Make AWS differ from the manifests by `fleet.drift` (again, after an apply fixed it)."""
    spec, drift = fleet.spec, fleet.drift
    if drift.functions:
        lam = boto3.client("lambda", region_name=REGION)
        for i in range(min(drift.functions, spec.functions)):
            fn = function(i)
            _settle(lam, fn["name"])  # an update of the ideal writer's may still be under way
            lam.update_function_configuration(
                FunctionName=fn["name"], MemorySize=drifted_memory(fn["memory"])
            )
            _settle(lam, fn["name"])  # the hand-made change was over long before the run
    if drift.alarms:
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for i in range(min(drift.alarms, spec.alarms)):
            params = alarm(i, spec.functions)
            cloudwatch.put_metric_alarm(**{**params, "Threshold": params["Threshold"] + 100})
    if drift.log_groups:
        logs = boto3.client("logs", region_name=REGION)
        for i in range(min(drift.log_groups, spec.log_groups)):
            group = log_group(i)
            logs.put_retention_policy(
                logGroupName=group["name"], retentionInDays=drifted_retention(group["retention"])
            )
    if drift.parameters:
        ssm = boto3.client("ssm", region_name=REGION)
        for i in range(min(drift.parameters, spec.parameters)):
            p = parameter(i)
            ssm.put_parameter(
                Name=p["name"],
                Value=f"{p['value']}-by-hand",
                Type=p["type"],
                Description=p["description"],
                Overwrite=True,
            )


def _settle(lam: Any, name: str) -> None:
    """Look at the function until its last update is no longer `InProgress`: Lambda refuses
    another update meanwhile (409 `ResourceConflictException`; the emulator keeps that rule)."""
    for _ in range(100):
        status = lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus")
        if status != "InProgress":
            return
    raise RuntimeError(f"{name}: its update never completed")


# --- the manifests -------------------------------------------------------------------------------


def _manifest(kind: str, name: str, spec: dict[str, Any]) -> Manifest:
    document = {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec}
    model = KINDS[kind].model.model_validate(document, by_alias=True, by_name=False)
    problems = list(KINDS[kind].check(model))
    assert not problems, (kind, name, problems)
    return model


def manifests(spec: FleetSpec) -> EnvironmentManifests:
    """The Environment and one manifest per resource, declaring exactly what `create` makes."""
    environment = _manifest(
        "Environment",
        spec.environment,
        {
            "account": ACCOUNT,
            "region": REGION,
            "mode": "apply",
            "prune": spec.prune,
            "maxChangesPerRun": 10_000,
        },
    )
    assert isinstance(environment, Environment)
    resources: list[Manifest] = []
    for i in range(spec.functions):
        fn = function(i)
        resources.append(
            _manifest(
                "LambdaFunction",
                fn["name"],
                {
                    "image": fn["image"],
                    "memoryMb": fn["memory"],
                    "timeoutSeconds": fn["timeout"],
                    "reservedConcurrency": fn["reserved"],
                },
            )
        )
    for i in range(spec.clusters):
        db = cluster(i)
        resources.append(
            _manifest(
                "AuroraServerlessCluster",
                db["name"],
                {
                    "minCapacity": db["min"],
                    "maxCapacity": db["max"],
                    "backupRetentionDays": db["backup"],
                    "deletionProtection": db["protected"],
                },
            )
        )
    for i in range(spec.alarms):
        resources.append(_alarm_manifest(alarm(i, spec.functions)))
    for i in range(spec.budgets):
        b = budget(i)
        resources.append(
            _manifest(
                "Budget",
                b["name"],
                {
                    "limit": {"amount": b["amount"], "unit": "USD"},
                    "timeUnit": "MONTHLY",
                    "notifications": [
                        {
                            "notificationType": kind,
                            "comparisonOperator": "GREATER_THAN",
                            "threshold": threshold,
                            "subscribers": [{"type": sub[0], "address": sub[1]}],
                        }
                        for kind, threshold, sub in b["notifications"]
                    ],
                },
            )
        )
    resources += _other_manifests(spec)
    return EnvironmentManifests(
        spec.environment, f"<bench fleet {spec.describe()}>", environment, tuple(resources)
    )


def _alarm_manifest(params: dict[str, Any]) -> Manifest:
    return _manifest(
        "MetricAlarm",
        params["AlarmName"],
        {
            "namespace": params["Namespace"],
            "metricName": params["MetricName"],
            "dimensions": {d["Name"]: d["Value"] for d in params["Dimensions"]},
            "statistic": params["Statistic"],
            "period": params["Period"],
            "evaluationPeriods": params["EvaluationPeriods"],
            "datapointsToAlarm": params["DatapointsToAlarm"],
            "threshold": params["Threshold"],
            "comparisonOperator": params["ComparisonOperator"],
            "treatMissingData": params["TreatMissingData"],
            "description": params["AlarmDescription"],
            "alarmActions": params["AlarmActions"],
            "okActions": params["OKActions"],
        },
    )


def _other_manifests(spec: FleetSpec) -> list[Manifest]:
    """The manifests of the log groups, tables, stages, parameters, ECS services and DB
    instances `create` makes."""
    resources: list[Manifest] = []
    for i in range(spec.log_groups):
        group = log_group(i)
        resources.append(
            _manifest("LogGroup", group["name"], {"retentionDays": group["retention"]})
        )
    for i in range(spec.tables):
        t = table(i)
        resources.append(
            _manifest(
                "DynamoDBTable",
                t["name"],
                {
                    "pointInTimeRecovery": t["pitr"],
                    "deletionProtection": t["protected"],
                    "ttlAttribute": t["ttl"],
                    "billingMode": "PAY_PER_REQUEST",
                },
            )
        )
    for i in range(spec.stages):
        s = stage(i)
        resources.append(
            _manifest(
                "HttpApiStage",
                f"{s['api']}/{s['stage']}",
                {
                    "throttling": {"rateLimit": s["rate"], "burstLimit": s["burst"]},
                    "detailedMetrics": s["metrics"],
                },
            )
        )
    for i in range(spec.parameters):
        p = parameter(i)
        resources.append(
            _manifest(
                "SsmParameter",
                p["name"],
                {"value": p["value"], "type": p["type"], "description": p["description"]},
            )
        )
    for i in range(spec.services):
        svc = ecs_service(i)
        count: dict[str, Any] = (
            {"desiredCount": svc["desired"]}
            if svc["range"] is None
            else {"autoscaling": {"minCapacity": svc["range"][0], "maxCapacity": svc["range"][1]}}
        )
        resources.append(
            _manifest(
                "EcsService",
                f"{svc['cluster']}/{svc['name']}",
                {
                    **count,
                    "image": svc["image"],
                    "container": svc["container"],
                    "cpu": svc["cpu"],
                    "memory": svc["memory"],
                },
            )
        )
    for i in range(spec.instances):
        db = instance(i)
        resources.append(
            _manifest(
                "DatabaseInstance",
                db["name"],
                {
                    "instanceClass": db["class"],
                    "multiAz": False,
                    "backupRetentionDays": db["backup"],
                    "deletionProtection": False,
                },
            )
        )
    return resources
