"""Fleets for the benchmarks: N functions, alarms, Aurora clusters and budgets in the emulator, and
the manifests that declare exactly them.

Each resource is defined once, by its index (`function`, `alarm`, `cluster`, `budget`); `create`
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
    environment: str = ENVIRONMENT
    prune: bool = True

    def describe(self) -> str:
        return (
            f"{self.functions} functions, {self.alarms} alarms, {self.clusters} clusters, "
            f"{self.budgets} budgets{', prune on' if self.prune else ''}"
        )


#: The issue's target fleet and its largest one.
TARGET = FleetSpec(functions=300, alarms=500, clusters=20, budgets=10)
LARGEST = FleetSpec(functions=1000, alarms=2000)


@dataclass(frozen=True)
class Drift:
    """What AWS has that the manifests do not: the first `functions` functions have other memory,
    the first `alarms` alarms another threshold."""

    functions: int = 0
    alarms: int = 0


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
    fleet = Fleet(spec, manifests(spec), drift)
    apply_drift(fleet)
    return fleet


def apply_drift(fleet: Fleet) -> None:
    """Make AWS differ from the manifests by `fleet.drift` (again, after an apply fixed it)."""
    spec, drift = fleet.spec, fleet.drift
    if drift.functions:
        lam = boto3.client("lambda", region_name=REGION)
        for i in range(min(drift.functions, spec.functions)):
            fn = function(i)
            lam.update_function_configuration(
                FunctionName=fn["name"], MemorySize=drifted_memory(fn["memory"])
            )
    if drift.alarms:
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for i in range(min(drift.alarms, spec.alarms)):
            params = alarm(i, spec.functions)
            cloudwatch.put_metric_alarm(**{**params, "Threshold": params["Threshold"] + 100})


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
