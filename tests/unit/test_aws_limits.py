"""Validation agrees with AWS: every manifest field sent to AWS is checked against its botocore shape.

`reconciler validate` must refuse what AWS would refuse at apply, and accept what AWS accepts.
For each spec field, this walks the botocore service model of the operation the kind sends it
with, and compares the field's JSON Schema with the shape: enums (the schema's values are a subset
of AWS's), numeric ranges and lengths (the schema is never wider than AWS; never narrower unless
an AWS document gives the stricter limit, named below), list sizes. A field the schema adds
without a mapping here fails the test, so a new field cannot skip the comparison.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape

from reconciler.loader import validate_document
from reconciler.yaml_source import parse_text

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@dataclass(frozen=True)
class Sent:
    """A manifest field and the request member that carries it to AWS ("A.B" walks structures,
    lists and map values)."""

    kind: str
    field: str
    service: str
    operation: str
    member: str
    #: Where the schema is narrower than the model on purpose: the AWS document that says so.
    narrower_because: str = ""
    #: The manifest's 0 means "remove it", a call of its own, though AWS's minimum is 1.
    zero_removes: bool = False
    #: Enum values AWS accepts that the manifest leaves out on purpose, and why.
    omitted_because: str = ""


LAMBDA_LIMITS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"

SENT = [
    Sent("LambdaFunction", "memoryMb", "lambda", "UpdateFunctionConfiguration", "MemorySize",
         narrower_because=f"{LAMBDA_LIMITS}: 128 MB to 10,240 MB for functions"),
    Sent("LambdaFunction", "timeoutSeconds", "lambda", "UpdateFunctionConfiguration", "Timeout",
         narrower_because=f"{LAMBDA_LIMITS}: function timeout 900 seconds (15 minutes)"),
    Sent("LambdaFunction", "reservedConcurrency", "lambda", "PutFunctionConcurrency",
         "ReservedConcurrentExecutions"),
    Sent("LambdaFunction", "provisionedConcurrency", "lambda", "PutProvisionedConcurrencyConfig",
         "ProvisionedConcurrentExecutions",
         zero_removes=True),
    Sent("LambdaFunction", "tracing", "lambda", "UpdateFunctionConfiguration", "TracingConfig.Mode"),
]  # fmt: skip
SENT += [
    Sent("MetricAlarm", "namespace", "cloudwatch", "PutMetricAlarm", "Namespace"),
    Sent("MetricAlarm", "metricName", "cloudwatch", "PutMetricAlarm", "MetricName"),
    Sent("MetricAlarm", "dimensions", "cloudwatch", "PutMetricAlarm", "Dimensions"),
    Sent("MetricAlarm", "statistic", "cloudwatch", "PutMetricAlarm", "Statistic"),
    Sent("MetricAlarm", "extendedStatistic", "cloudwatch", "PutMetricAlarm", "ExtendedStatistic"),
    Sent("MetricAlarm", "period", "cloudwatch", "PutMetricAlarm", "Period",
         narrower_because="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html: "
         "valid values are 10, 20, 30, and any multiple of 60"),
    Sent("MetricAlarm", "evaluationPeriods", "cloudwatch", "PutMetricAlarm", "EvaluationPeriods"),
    Sent("MetricAlarm", "datapointsToAlarm", "cloudwatch", "PutMetricAlarm", "DatapointsToAlarm"),
    Sent("MetricAlarm", "threshold", "cloudwatch", "PutMetricAlarm", "Threshold"),
    Sent("MetricAlarm", "comparisonOperator", "cloudwatch", "PutMetricAlarm", "ComparisonOperator",
         omitted_because="the Lower/Upper operators are for anomaly-detection bands, which a "
         "MetricAlarm manifest cannot express (ThresholdMetricId)"),
    Sent("MetricAlarm", "treatMissingData", "cloudwatch", "PutMetricAlarm", "TreatMissingData",
         narrower_because="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html: "
         "valid values are breaching, notBreaching, ignore, missing"),
    Sent("MetricAlarm", "description", "cloudwatch", "PutMetricAlarm", "AlarmDescription"),
    Sent("MetricAlarm", "alarmActions", "cloudwatch", "PutMetricAlarm", "AlarmActions"),
    Sent("MetricAlarm", "okActions", "cloudwatch", "PutMetricAlarm", "OKActions"),
    Sent("MetricAlarm", "insufficientDataActions", "cloudwatch", "PutMetricAlarm",
         "InsufficientDataActions"),
    Sent("MetricAlarm", "actionsEnabled", "cloudwatch", "PutMetricAlarm", "ActionsEnabled"),
    Sent("AuroraServerlessCluster", "minCapacity", "rds", "ModifyDBCluster",
         "ServerlessV2ScalingConfiguration.MinCapacity"),
    Sent("AuroraServerlessCluster", "maxCapacity", "rds", "ModifyDBCluster",
         "ServerlessV2ScalingConfiguration.MaxCapacity"),
    Sent("AuroraServerlessCluster", "secondsUntilAutoPause", "rds", "ModifyDBCluster",
         "ServerlessV2ScalingConfiguration.SecondsUntilAutoPause"),
    Sent("AuroraServerlessCluster", "backupRetentionDays", "rds", "ModifyDBCluster",
         "BackupRetentionPeriod"),
    Sent("AuroraServerlessCluster", "deletionProtection", "rds", "ModifyDBCluster",
         "DeletionProtection"),
    Sent("Budget", "timeUnit", "budgets", "CreateBudget", "Budget.TimeUnit",
         omitted_because="CUSTOM needs a TimePeriod, which a Budget manifest cannot express"),
    Sent("Budget", "budgetType", "budgets", "CreateBudget", "Budget.BudgetType"),
    Sent("Budget", "notifications", "budgets", "CreateBudget", "NotificationsWithSubscribers"),
    Sent("Budget", "notifications.notificationType", "budgets", "CreateBudget",
         "NotificationsWithSubscribers.Notification.NotificationType"),
    Sent("Budget", "notifications.comparisonOperator", "budgets", "CreateBudget",
         "NotificationsWithSubscribers.Notification.ComparisonOperator"),
    Sent("Budget", "notifications.threshold", "budgets", "CreateBudget",
         "NotificationsWithSubscribers.Notification.Threshold"),
    Sent("Budget", "notifications.thresholdType", "budgets", "CreateBudget",
         "NotificationsWithSubscribers.Notification.ThresholdType"),
    Sent("Budget", "notifications.subscribers", "budgets", "CreateBudget",
         "NotificationsWithSubscribers.Subscribers"),
    Sent("Budget", "notifications.subscribers.type", "budgets", "CreateBudget",
         "NotificationsWithSubscribers.Subscribers.SubscriptionType"),
    Sent("Budget", "notifications.subscribers.address", "budgets", "CreateBudget",
         "NotificationsWithSubscribers.Subscribers.Address"),
    Sent("LogGroup", "retentionDays", "logs", "PutRetentionPolicy", "retentionInDays",
         narrower_because="botocore logs/2014-03-28, shape Days: 'Possible values are: 1, 3, 5, "
         "7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, "
         "3288, and 3653'"),
]  # fmt: skip


def shape_of(sent: Sent) -> Shape:
    service = botocore.session.get_session().get_service_model(sent.service)
    shape: Shape = service.operation_model(sent.operation).input_shape
    for name in sent.member.split("."):
        while shape.type_name in ("list", "map"):
            shape = shape.member if shape.type_name == "list" else shape.value  # type: ignore[attr-defined]
        shape = shape.members[name]  # type: ignore[attr-defined]
    return shape


def schema_of(kind: str, field: str) -> dict[str, Any]:
    document = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    definitions = document["$defs"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[1]]
        return node

    node = resolve(document["properties"]["spec"])
    for name in field.split("."):
        while node.get("type") == "array":
            node = resolve(node["items"])
        node = resolve(node["properties"][name])
    return node


def alternatives(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null branches of a schema node (`anyOf` of a nullable field)."""
    branches = node.get("anyOf") or [node]
    return [{**node, **b} for b in branches if b.get("type") != "null"]


SPEC_FIELDS = sorted({(s.kind, s.field) for s in SENT})
NOT_SENT = {
    (
        "LambdaFunction",
        "image",
    ): "sent as ImageUri, a plain string in the model (pattern checked by ECR rules)",
    (
        "LambdaFunction",
        "environment",
    ): "checked by test_environment_variable_names_follow_the_model",
    (
        "LambdaFunction",
        "alias",
    ): "an alias name: pattern from the model's Alias shape, checked in the planner tests",
    ("Budget", "limit"): "sent as Spend.Amount, a decimal string in the model",
}


@pytest.mark.parametrize(
    "kind", ["LambdaFunction", "MetricAlarm", "AuroraServerlessCluster", "Budget", "LogGroup"]
)
def test_every_spec_field_sent_to_aws_is_compared(kind: str) -> None:
    document = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    spec_name = document["properties"]["spec"]["$ref"].rsplit("/", 1)[1]
    fields = set(document["$defs"][spec_name]["properties"])
    covered = {f.split(".")[0] for k, f in SPEC_FIELDS if k == kind} | {
        f for k, f in NOT_SENT if k == kind
    }
    assert fields - covered == set(), "map each new field to the botocore member that carries it"


def bounds(node: dict[str, Any], type_name: str) -> tuple[Any, Any]:
    """The schema's lower and upper bound on what the shape's min/max constrain: the value of a
    number, the length of a string, the size of a list or map (a list of name/value pairs in AWS
    is a mapping in a manifest)."""
    if node.get("type") == "object":
        return node.get("minProperties"), node.get("maxProperties")
    if type_name in ("integer", "long", "double", "float"):
        low = node.get("minimum", node.get("exclusiveMinimum"))
        return low, node.get("maximum")
    if type_name == "list":
        return node.get("minItems"), node.get("maxItems")
    if type_name == "map":
        return node.get("minProperties"), node.get("maxProperties")
    return node.get("minLength"), node.get("maxLength")


@pytest.mark.parametrize("sent", SENT, ids=[f"{s.kind}.{s.field}" for s in SENT])
def test_the_schema_is_within_the_botocore_shape(sent: Sent) -> None:
    shape = shape_of(sent)
    limits = shape.metadata
    accepted = set(limits.get("enum", []))
    for node in alternatives(schema_of(sent.kind, sent.field)):
        values = set(node.get("enum", [])) | ({node["const"]} if "const" in node else set())
        if accepted:
            assert values, (
                f"{sent.field}: AWS takes one of {sorted(accepted)}; the schema must say which"
            )
            assert values <= accepted, f"{sent.field}: AWS refuses {values - accepted}"
            if accepted - values:
                assert sent.omitted_because, (
                    f"{sent.field}: AWS also accepts {sorted(accepted - values)}: accept them, or say why not"
                )
            continue
        if values:  # a closed list of strings the model leaves open: the AWS document must say so
            assert sent.narrower_because, (
                f"{sent.field}: the model accepts any value; name the document"
            )
            continue
        low, high = bounds(node, shape.type_name)
        if "min" in limits and limits["min"] > 0:
            assert low is not None, (
                f"{sent.field}: AWS refuses below {limits['min']}; the schema must too"
            )
            if not (sent.zero_removes and low == 0):
                assert low >= limits["min"], f"{sent.field}: AWS refuses below {limits['min']}"
        if "max" in limits:
            assert high is not None, (
                f"{sent.field}: AWS refuses above {limits['max']}; the schema must too"
            )
            assert high <= limits["max"], f"{sent.field}: AWS refuses above {limits['max']}"
            if high < limits["max"]:
                assert sent.narrower_because, (
                    f"{sent.field}: AWS accepts up to {limits['max']}, the schema only {high}: "
                    "accept it, or name the AWS document that says otherwise"
                )


def test_log_group_retention_days_are_the_models_list() -> None:
    """The model's `Days` lists its values only in words: the schema's enum is exactly those."""
    service = botocore.session.get_session().get_service_model("logs")
    words = service.shape_for("Days").documentation
    listed = words.split("Possible values are:", 1)[1].split(".", 1)[0]
    documented = {int(number) for number in re.findall(r"\d+", listed)}
    ours = set(schema_of("LogGroup", "retentionDays")["enum"]) - {None}
    assert ours == documented


def test_environment_variable_names_follow_the_model() -> None:
    """The schema's name pattern is Lambda's `EnvironmentVariables` key pattern, anchored."""
    service = botocore.session.get_session().get_service_model("lambda")
    model = service.shape_for("EnvironmentVariables").key.metadata["pattern"]  # type: ignore[attr-defined]
    ours = schema_of("LambdaFunction", "environment")["propertyNames"]["pattern"]
    for name in ["A", "AB", "a1", "A_", "_A", "1A", "A-B", "LOG_LEVEL", "x" * 50]:
        assert bool(re.fullmatch(model, name)) == bool(re.search(ours, name)), name


ALARM = """\
apiVersion: reconciler/v1
kind: MetricAlarm
metadata: {name: latency}
spec:
  namespace: AWS/Lambda
  metricName: Duration
  period: 60
  evaluationPeriods: 3
  threshold: 1000
  comparisonOperator: GreaterThanThreshold
"""

BUDGET = """\
apiVersion: reconciler/v1
kind: Budget
metadata: {name: shop}
spec:
  limit: {amount: 100}
  timeUnit: MONTHLY
"""


@pytest.mark.parametrize(
    "text",
    [
        *(
            ALARM + f"  extendedStatistic: '{s}'\n"
            for s in (
                "p99",
                "p99.9",
                "tm99",
                "wm95",
                "tc90",
                "ts90",
                "IQM",
                "TM(10%:90%)",
                "WM(20%:80%)",
                "TC(10%:90%)",
                "PR(0.5:)",
                "TS(10%:90%)",
                "PR(:300)",
                "PR(100:2000)",
            )
        ),
        ALARM.replace("period: 60", "period: 20") + "  statistic: Average\n",
        ALARM.replace("evaluationPeriods: 3", "evaluationPeriods: 1440") + "  statistic: Sum\n",
        ALARM.replace("period: 60", "period: 3600").replace(
            "evaluationPeriods: 3", "evaluationPeriods: 168"
        )
        + "  statistic: Sum\n",
        BUDGET + "  notifications:\n    - {notificationType: ACTUAL, comparisonOperator: "
        "GREATER_THAN, threshold: 5000, subscribers: [{type: EMAIL, address: a@example.com}]}\n",
        BUDGET.replace("timeUnit: MONTHLY", "timeUnit: MONTHLY\n  budgetType: RI_COVERAGE"),
        BUDGET + "  notifications:\n    - {notificationType: ACTUAL, comparisonOperator: "
        "GREATER_THAN, threshold: 80, subscribers: [{type: SNS, address: "
        "'arn:aws:sns:us-east-1:123456789012:a'}, {type: EMAIL, address: a@example.com}]}\n",
    ],
    ids=lambda text: text.splitlines()[-1].strip()[:60],
)
def test_what_aws_accepts_validates(text: str) -> None:
    """Forms AWS documents as valid, which `validate` used to refuse (percentile ranges, IQM,
    20-second periods, a day of one-minute periods, thresholds over 1000 %)."""
    (document,), errors = parse_text(text, "accepted.yaml")
    assert errors == []

    _, problems = validate_document(document)

    assert problems == []
