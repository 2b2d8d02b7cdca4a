"""A representative life of a deployment, run for real on the emulator, for the recorder to watch.

The deployment is `tests/e2e/deployment.py`'s (the real handlers under the real state machine),
with each function given its own cache folder, as each Lambda function has its own `/tmp`. The
environment `demo` is reached through `assumeRoleArn`, as a target account would be. Then:

1. a signed GitHub push (revision 1) corrects the drifted demo stack: image, memory, reserved
   concurrency, the Aurora scaling, an alarm updated, one created and one pruned, the budget's
   limit; the same delivery again starts nothing;
2. resources made by hand appear (untagged functions, cluster, ECS service, alarm, DynamoDB table,
   log group and budget, a budget owned by `demo` that no manifest declares), and revision 2 adopts them: the
   service's scaling range registered, the
   table switched to provisioned, protected and given TTL; the functions read from
   `ListFunctions` (its threshold lowered to two), alias and provisioned concurrency,
   reserved concurrency removed, tags added, notifications and subscribers edited, a budget
   created and one pruned, SSM parameters adopted, created and pruned (a SecureString beside
   them left alone), a log group's retention removed;
3. revision 3 moves the alias to a new version, removes the provisioned concurrency and a
   subscriber, and creates a log group;
4. a scheduled tick finds everything in sync;
5. a run of a revision never published fails in Load and reports it;
6. a delivery whose runs cannot start answers 500 and forgets the delivery.

Every step asserts its outcome, so a workload that silently stopped reaching AWS would fail here
rather than make the least-privilege comparison vacuous.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from deployment import BUCKET, ENTRY_FUNCTIONS, REGION, STATE_FUNCTIONS, WEBHOOK_SECRET, Deployment

from reconciler.cli import main as cli
from reconciler.demo.stack import ACCOUNT, MANIFESTS, REGISTRY
from reconciler.triggers import sign

SOURCE = f"s3://{BUCKET}/manifests"
#: The deployed function → its logical id in template.yaml.
FUNCTIONS = {
    f"reconciler-{name}": f"{name.capitalize()}Function"
    for name in (*STATE_FUNCTIONS, *ENTRY_FUNCTIONS)
}
REVISIONS = {n: str(n) * 40 for n in (1, 2, 3)}
TARGET_ROLE = f"arn:aws:iam::{ACCOUNT}:role/reconciler-target"
OWNER = [{"Key": "reconciler:environment", "Value": "demo"}]


def _environment() -> str:
    return MANIFESTS["environment.yaml"] + f"  assumeRoleArn: {TARGET_ROLE}\n"


def _function(memory: int, provisioned: int) -> str:
    return MANIFESTS["flask-api.yaml"].replace(
        "  memoryMb: 512\n",
        f"  memoryMb: {memory}\n  reservedConcurrency: 10\n  alias: live\n"
        f"  provisionedConcurrency: {provisioned}\n",
    )


def _adopted(first_subscribers: str) -> str:
    return f"""\
apiVersion: reconciler/v1
kind: EcsService
metadata:
  name: flask-api/reports
spec:
  autoscaling: {{minCapacity: 1, maxCapacity: 4}}
---
apiVersion: reconciler/v1
kind: AuroraServerlessCluster
metadata:
  name: reports-db
spec:
  minCapacity: 0.5
  maxCapacity: 1
---
apiVersion: reconciler/v1
kind: MetricAlarm
metadata:
  name: legacy-errors
spec:
  namespace: AWS/Lambda
  metricName: Errors
  statistic: Sum
  period: 60
  evaluationPeriods: 1
  threshold: 5
  comparisonOperator: GreaterThanThreshold
---
apiVersion: reconciler/v1
kind: Budget
metadata:
  name: legacy-budget
spec:
  limit: {{amount: 75, unit: USD}}
  timeUnit: MONTHLY
  notifications:
    - notificationType: ACTUAL
      comparisonOperator: GREATER_THAN
      threshold: 80
      subscribers: {first_subscribers}
    - notificationType: FORECASTED
      comparisonOperator: GREATER_THAN
      threshold: 110
      subscribers: [{{type: EMAIL, address: a@example.com}}]
    - notificationType: ACTUAL
      comparisonOperator: LESS_THAN
      threshold: 10
      thresholdType: ABSOLUTE_VALUE
      subscribers: [{{type: EMAIL, address: z@example.com}}]
---
apiVersion: reconciler/v1
kind: DynamoDBTable
metadata:
  name: orders
spec:
  deletionProtection: true
  ttlAttribute: expiresAt
  billingMode: PROVISIONED
  readCapacity: 2
  writeCapacity: 1
---
apiVersion: reconciler/v1
kind: Budget
metadata:
  name: demo-new
spec:
  limit: {{amount: 10, unit: USD}}
  timeUnit: MONTHLY
---
apiVersion: reconciler/v1
kind: SsmParameter
metadata:
  name: /demo/legacy/FEATURE_FLAGS
spec:
  value: search,export
  type: StringList
---
apiVersion: reconciler/v1
kind: SsmParameter
metadata:
  name: /demo/flask-api/ALLOWED_ORIGINS
spec:
  value: https://app.example.com
"""


#: Functions that manage only what `ListFunctions` shows, so the engine may read them from it.
WORKERS = ("worker-a", "worker-b")

SNS = f"arn:aws:sns:{REGION}:{ACCOUNT}:budget-alerts"


def manifests(revision: int) -> dict[str, str]:
    """The demo environment's files at revision 1, 2 or 3."""
    files = {**MANIFESTS, "environment.yaml": _environment()}
    if revision >= 2:
        three = revision == 3
        files["flask-api.yaml"] = _function(
            memory=1024 if three else 512, provisioned=0 if three else 2
        )
        files["gateway.yaml"] = MANIFESTS["gateway.yaml"].replace(
            "reservedConcurrency: 100", "reservedConcurrency: null"
        )
        subscribers = (
            "[{type: EMAIL, address: a@example.com}, {type: EMAIL, address: c@example.com}"
        )
        files["workers.yaml"] = "---\n".join(
            f"apiVersion: reconciler/v1\nkind: LambdaFunction\nmetadata:\n  name: {name}\n"
            "spec:\n  memoryMb: 256\n  timeoutSeconds: 60\n"
            for name in WORKERS
        )
        files["adopted.yaml"] = _adopted(
            subscribers + ("]" if three else f", {{type: SNS, address: '{SNS}'}}]")
        )
        files["log-groups.yaml"] = _log_groups(created=three)
    return files


def _log_groups(created: bool) -> str:
    """A group made by hand adopted as never expiring (DeleteRetentionPolicy, TagResource); at
    revision 3 a group that does not exist yet (CreateLogGroup with tags, PutRetentionPolicy)."""
    documents = [("/aws/lambda/worker-a", "null")]
    if created:
        documents.append(("/aws/lambda/worker-b", "7"))
    return "---\n".join(
        f"apiVersion: reconciler/v1\nkind: LogGroup\nmetadata:\n  name: {name}\n"
        f"spec:\n  retentionDays: {days}\n"
        for name, days in documents
    )


def publish(root: Path, revision: int) -> str:
    folder = root / f"revision-{revision}"
    (folder / "demo").mkdir(parents=True)
    for name, text in manifests(revision).items():
        (folder / "demo" / name).write_text(text, encoding="utf-8")
    sha = REVISIONS[revision]
    assert cli(["publish", "--to", SOURCE, "--revision", sha, str(folder)]) == 0
    return sha


def own_cache_per_function(cache: Path) -> None:
    """Each function its own `/tmp`, as in Lambda: every state reads the source for itself."""
    lam = boto3.client("lambda", region_name=REGION)
    for function in lam.list_functions()["Functions"]:
        name = function["FunctionName"]
        if not name.startswith("reconciler-"):
            continue
        variables = dict(function["Environment"]["Variables"])
        variables["RECONCILER_CACHE_DIR"] = str(cache / name)
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})


def push(revision: str, delivery: str) -> dict[str, Any]:
    """Deliver a signed push of `revision` changing the demo environment; the parsed answer."""
    changed = {"added": [], "removed": [], "modified": ["manifests/demo/flask-api.yaml"]}
    body = json.dumps({
        "ref": "refs/heads/main", "after": revision, "before": "0" * 39 + "1", "deleted": False,
        "commits": [{"id": revision, **changed}], "head_commit": {"id": revision, **changed},
    })  # fmt: skip
    request = {
        "headers": {
            "x-hub-signature-256": sign(WEBHOOK_SECRET, body.encode()),
            "x-github-event": "push",
            "x-github-delivery": delivery,
        },
        "body": body,
        "isBase64Encoded": False,
    }
    lam = boto3.client("lambda", region_name=REGION)
    answer = lam.invoke(FunctionName="reconciler-webhook", Payload=json.dumps(request))
    response: dict[str, Any] = json.loads(answer["Payload"].read())
    return response


def by_hand() -> None:
    """What people created beside the reconciler, before revision 2 adopts (or prunes) it."""
    session = boto3.Session(region_name=REGION)
    role = session.client("iam").get_role(RoleName="flask-api-role")["Role"]["Arn"]
    for name in WORKERS:
        session.client("lambda").create_function(
            FunctionName=name,
            PackageType="Image",
            Code={"ImageUri": f"{REGISTRY}/worker:1.0.0"},
            Role=role,
            MemorySize=128,
        )
    ecs = session.client("ecs")
    worker = ecs.describe_services(cluster="flask-api", services=["worker"])["services"][0]
    ecs.create_service(
        cluster="flask-api",
        serviceName="reports",
        taskDefinition=worker["taskDefinition"],
        desiredCount=1,
        launchType="FARGATE",
    )
    session.client("rds").create_db_cluster(
        DBClusterIdentifier="reports-db",
        Engine="aurora-postgresql",
        EngineMode="provisioned",
        MasterUsername="reports",
        MasterUserPassword="by-hand-password",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 2},
    )
    session.client("cloudwatch").put_metric_alarm(
        AlarmName="legacy-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
    )
    session.client("dynamodb").create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    budgets = session.client("budgets")

    def note(kind: str, threshold: float, *emails: str) -> dict[str, Any]:
        return {
            "Notification": {
                "NotificationType": kind,
                "ComparisonOperator": "GREATER_THAN",
                "Threshold": threshold,
                "ThresholdType": "PERCENTAGE",
            },
            "Subscribers": [{"SubscriptionType": "EMAIL", "Address": e} for e in emails],
        }

    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "legacy-budget",
            "BudgetLimit": {"Amount": "75", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        NotificationsWithSubscribers=[
            note("ACTUAL", 80, "a@example.com", "b@example.com"),
            note("FORECASTED", 100, "a@example.com"),
            note("ACTUAL", 50, "a@example.com"),
        ],
    )
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "old-owned",
            "BudgetLimit": {"Amount": "5", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        ResourceTags=OWNER,
    )
    ssm = session.client("ssm")
    # adopted (the tag added by AddTagsToResource), and owned but undeclared (pruned)
    ssm.put_parameter(Name="/demo/legacy/FEATURE_FLAGS", Value="search", Type="StringList")
    ssm.put_parameter(Name="/demo/legacy/OLD_KNOB", Value="1", Type="String", Tags=OWNER)
    # a secret beside them, owned by demo: never read, written or deleted
    ssm.put_parameter(
        Name="/demo/legacy/DB_PASSWORD", Value="by-hand-secret", Type="SecureString", Tags=OWNER
    )
    logs = session.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/worker-a")
    logs.put_retention_policy(logGroupName="/aws/lambda/worker-a", retentionInDays=30)


def run(deployment: Deployment, name: str, revision: str | None) -> dict[str, Any]:
    arn = deployment.execute(
        name, {"environment": "demo", "trigger": "manual", "revision": revision, "mode": "apply"}
    )
    execution = deployment.wait(arn)
    assert execution["status"] == "SUCCEEDED", execution
    output: dict[str, Any] = json.loads(execution["output"])
    return output


def live(deployment: Deployment, root: Path) -> None:
    """The whole workload; each step checks it did what it is there to do."""
    from reconciler.handlers import webhook

    sfn = boto3.client("stepfunctions", region_name=REGION)

    # 1. a signed push corrects the drifted stack; the redelivery starts nothing
    answer = push(REVISIONS[1], "delivery-1")
    assert answer["statusCode"] == 202, answer
    (started,) = json.loads(answer["body"])["started"]
    output = json.loads(deployment.wait(started["executionArn"])["output"])
    assert (output["status"], output["revision"]) == ("corrected", REVISIONS[1]), output
    again = json.loads(push(REVISIONS[1], "delivery-1")["body"])
    assert again.get("duplicate") is True, again

    # 2. adopt what was made by hand, alias and provisioned concurrency, budgets in detail
    by_hand()
    publish(root, 2)
    output = run(deployment, "revision-2", REVISIONS[2])
    assert output["status"] == "corrected", output
    assert output["summary"]["create"] == 2 and output["summary"]["delete"] == 2, output
    left = boto3.client("ssm", region_name=REGION).describe_parameters(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": ["/demo/legacy"]}]
    )["Parameters"]
    assert sorted(p["Name"] for p in left) == [
        "/demo/legacy/DB_PASSWORD",
        "/demo/legacy/FEATURE_FLAGS",
    ], left

    # 3. the alias moves to a new version; provisioned concurrency and a subscriber go
    publish(root, 3)
    assert run(deployment, "revision-3", REVISIONS[3])["status"] == "corrected"

    # 4. a scheduled tick: everything is in sync now
    lam = boto3.client("lambda", region_name=REGION)
    tick = lam.invoke(
        FunctionName="reconciler-schedule", Payload=b'{"time": "2026-11-21T12:00:00Z"}'
    )
    (scheduled,) = json.loads(tick["Payload"].read())
    assert json.loads(deployment.wait(scheduled["executionArn"])["output"])["status"] == "in-sync"

    # 5. a revision nobody published: Load fails, Failed reports it and releases the lock
    assert run(deployment, "unpublished", "c" * 40)["status"] == "failed"

    # 6. runs that cannot start: 500, and the delivery is forgotten so GitHub may redeliver
    function = lam.get_function_configuration(FunctionName="reconciler-webhook")
    variables = dict(function["Environment"]["Variables"])
    variables["STATE_MACHINE_ARN"] += "-gone"
    lam.update_function_configuration(
        FunctionName="reconciler-webhook", Environment={"Variables": variables}
    )
    webhook.runtime.cache_clear()
    assert push(REVISIONS[3], "delivery-2")["statusCode"] == 500
    assert len(sfn.list_executions(stateMachineArn=deployment.state_machine_arn)["executions"]) == 5
