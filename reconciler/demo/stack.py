"""The demo's manifests and the drifted stack it creates in the emulator before reconciling."""

from __future__ import annotations

import os
from typing import Any

ACCOUNT = "123456789012"  # the emulator's account
REGION = "us-east-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"

MANIFESTS = {
    "environment.yaml": f"""\
apiVersion: reconciler/v1
kind: Environment
metadata:
  name: demo
spec:
  account: "{ACCOUNT}"
  region: {REGION}
  mode: apply
  prune: true
""",
    "flask-api.yaml": f"""\
apiVersion: reconciler/v1
kind: LambdaFunction
metadata:
  name: flask-api
  labels: {{app: flask-api}}
spec:
  image: {REGISTRY}/flask-api:1.14.0
  memoryMb: 512
  timeoutSeconds: 30
  environment:
    APP_ENV: demo
    LOG_LEVEL: INFO
---
apiVersion: reconciler/v1
kind: AuroraServerlessCluster
metadata:
  name: flask-api-db
spec:
  minCapacity: 0.5
  maxCapacity: 1
  backupRetentionDays: 1
---
apiVersion: reconciler/v1
kind: MetricAlarm
metadata:
  name: flask-api-errors
spec:
  namespace: AWS/Lambda
  metricName: Errors
  dimensions: {{FunctionName: flask-api}}
  statistic: Sum
  period: 300
  evaluationPeriods: 3
  datapointsToAlarm: 2
  threshold: 5
  comparisonOperator: GreaterThanOrEqualToThreshold
  treatMissingData: notBreaching
---
apiVersion: reconciler/v1
kind: MetricAlarm
metadata:
  name: flask-api-latency-p99
spec:
  namespace: AWS/Lambda
  metricName: Duration
  dimensions: {{FunctionName: flask-api}}
  extendedStatistic: p99
  period: 300
  evaluationPeriods: 3
  threshold: 10000
  comparisonOperator: GreaterThanThreshold
""",
    "gateway.yaml": f"""\
apiVersion: reconciler/v1
kind: LambdaFunction
metadata:
  name: gateway
spec:
  image: {REGISTRY}/gateway:2.3.0
  memoryMb: 256
  timeoutSeconds: 15
  reservedConcurrency: 100
""",
    # --- DatabaseInstance ----------------------------------------------------------------------
    "database-instance.yaml": """\
apiVersion: reconciler/v1
kind: DatabaseInstance
metadata:
  name: orders-pg
spec:
  instanceClass: db.t4g.medium
  multiAz: false
  backupRetentionDays: 7
  deletionProtection: true
""",
    # --- end of DatabaseInstance --------------------------------------------------------------
    # --- EcsService -------------------------------------------------------------------------
    "ecs-service.yaml": f"""\
apiVersion: reconciler/v1
kind: EcsService
metadata:
  name: flask-api/worker
spec:
  desiredCount: 2
  image: {REGISTRY}/flask-worker:1.14.0
  cpu: 256
  memory: 512
""",
    # -----------------------------------------------------------------------------------------
    "budget.yaml": """\
apiVersion: reconciler/v1
kind: Budget
metadata:
  name: demo-monthly-cost
spec:
  limit: {amount: 50, unit: USD}
  timeUnit: MONTHLY
  notifications:
    - notificationType: ACTUAL
      comparisonOperator: GREATER_THAN
      threshold: 80
      subscribers: [{type: EMAIL, address: platform-alerts@example.com}]
""",
    # --- DynamoDBTable ---------------------------------------------------------------------------
    "dynamodb-table.yaml": """\
apiVersion: reconciler/v1
kind: DynamoDBTable
metadata:
  name: flask-api-sessions
spec:
  pointInTimeRecovery: true
  ttlAttribute: expiresAt
  billingMode: PAY_PER_REQUEST
""",
    # --- SsmParameter ----------------------------------------------------------------------------
    "ssm-parameter.yaml": """\
apiVersion: reconciler/v1
kind: SsmParameter
metadata:
  name: /demo/flask-api/RATE_LIMIT_PER_MINUTE
spec:
  value: "600"
  description: Requests a client may make per minute
""",
    # --- HttpApiStage -------------------------------------------------------------------------
    "http-api-stage.yaml": """\
apiVersion: reconciler/v1
kind: HttpApiStage
metadata:
  name: gateway/$default
spec:
  throttling: {rateLimit: 100, burstLimit: 50}
  detailedMetrics: true
  routes:
    GET /health: {rateLimit: 5, burstLimit: 2}
""",
    # --- LogGroup ---------------------------------------------------------------------------------
    "log-group.yaml": """\
apiVersion: reconciler/v1
kind: LogGroup
metadata:
  name: /aws/lambda/flask-api
spec:
  retentionDays: 14
""",
}

#: What the demo changes behind the manifests' back, as a person would read it.
DRIFT = [
    "flask-api: image 1.13.2 instead of 1.14.0, 256 MB instead of 512",
    "gateway: reserved concurrency 20 instead of 100",
    "flask-api-db: 0.5-4 ACU instead of 0.5-1",
    "flask-api-errors: threshold 50 instead of 5",
    "flask-api-latency-p99: missing (deleted by hand)",
    "demo-monthly-cost: $500 instead of $50",
    "old-canary-errors: an alarm owned by demo but no longer declared (prune deletes it)",
    "flask-api-sessions: point-in-time recovery off instead of on",
    "/demo/flask-api/RATE_LIMIT_PER_MINUTE: value 100 instead of 600",
    "gateway/$default: throttling 1000/500 instead of 100/50, detailed metrics off, an "
    "undeclared throttle on ANY /{proxy+}, untagged",
    "orders-pg: db.t4g.micro instead of db.t4g.medium (scheduled for the maintenance window), "
    "deletion protection off, untagged",
    "/aws/lambda/flask-api: log events never expire instead of 14 days",
    "flask-api/worker: image 1.13.2 instead of 1.14.0, 1 task instead of 2, not tagged",
]


def write_manifests(root: str) -> str:
    """Write the demo environment under `root` and return its manifests folder."""
    folder = os.path.join(root, "demo")
    os.makedirs(folder, exist_ok=True)
    for name, text in MANIFESTS.items():
        header = "# yaml-language-server: $schema=../../schemas/manifest.schema.json\n"
        with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
            handle.write(header + text)
    return root


def create_drifted_stack(session: Any) -> None:
    """Create the stack in the emulator, already drifted from the manifests."""
    tags = {"reconciler:environment": "demo"}
    iam = session.client("iam")
    role = iam.create_role(
        RoleName="flask-api-role",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    )["Role"]["Arn"]
    lam = session.client("lambda", region_name=REGION)
    lam.create_function(
        FunctionName="flask-api",
        PackageType="Image",
        Code={"ImageUri": f"{REGISTRY}/flask-api:1.13.2"},
        Role=role,
        MemorySize=256,
        Timeout=30,
        Environment={"Variables": {"APP_ENV": "demo", "LOG_LEVEL": "INFO"}},
        Tags=tags,
    )
    lam.create_function(
        FunctionName="gateway",
        PackageType="Image",
        Code={"ImageUri": f"{REGISTRY}/gateway:2.3.0"},
        Role=role,
        MemorySize=256,
        Timeout=15,
    )
    lam.put_function_concurrency(FunctionName="gateway", ReservedConcurrentExecutions=20)
    rds = session.client("rds", region_name=REGION)
    rds.create_db_cluster(
        DBClusterIdentifier="flask-api-db",
        Engine="aurora-postgresql",
        EngineMode="provisioned",
        MasterUsername="flask",
        MasterUserPassword="demo-only-password",
        BackupRetentionPeriod=1,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4},
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    # --- DatabaseInstance: made by hand, untagged, a smaller class, unprotected ---------------
    rds.create_db_instance(
        DBInstanceIdentifier="orders-pg",
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        MasterUsername="orders",
        MasterUserPassword="demo-only-password",
        BackupRetentionPeriod=7,
        DeletionProtection=False,
    )
    # --- end of DatabaseInstance --------------------------------------------------------------
    cloudwatch = session.client("cloudwatch", region_name=REGION)
    for name, threshold in (("flask-api-errors", 50.0), ("old-canary-errors", 1.0)):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": "flask-api"}],
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=threshold,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
    _create_drifted_ecs_service(session)
    budgets = session.client("budgets", region_name=REGION)
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "demo-monthly-cost",
            "BudgetLimit": {"Amount": "500", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        NotificationsWithSubscribers=[
            {
                "Notification": {
                    "NotificationType": "ACTUAL",
                    "ComparisonOperator": "GREATER_THAN",
                    "Threshold": 80,
                    "ThresholdType": "PERCENTAGE",
                },
                "Subscribers": [
                    {"SubscriptionType": "EMAIL", "Address": "platform-alerts@example.com"}
                ],
            }
        ],
        ResourceTags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    # --- DynamoDBTable: on-demand, TTL on expiresAt, point-in-time recovery off (drift) ---
    dynamodb = session.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="flask-api-sessions",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    dynamodb.update_time_to_live(
        TableName="flask-api-sessions",
        TimeToLiveSpecification={"AttributeName": "expiresAt", "Enabled": True},
    )

    # --- SsmParameter: a parameter whose value was changed by hand ---------------------------
    session.client("ssm", region_name=REGION).put_parameter(
        Name="/demo/flask-api/RATE_LIMIT_PER_MINUTE",
        Value="100",
        Type="String",
        Description="Requests a client may make per minute",
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )

    # --- LogGroup: the function's log group as Lambda leaves it, never expiring (no retention).
    logs = session.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/lambda/flask-api", tags=tags)

    # --- HttpApiStage ----------------------------------------------------------------------------
    _create_drifted_http_api(session)


def _create_drifted_http_api(session: Any) -> None:
    """HttpApiStage: the HTTP API `gateway`, its `$default` stage drifted and untagged."""
    gateway = session.client("apigatewayv2", region_name=REGION)
    api_id = gateway.create_api(Name="gateway", ProtocolType="HTTP")["ApiId"]
    for key in ("GET /health", "ANY /{proxy+}"):
        gateway.create_route(ApiId=api_id, RouteKey=key)
    gateway.create_stage(
        ApiId=api_id,
        StageName="$default",
        AutoDeploy=True,
        DefaultRouteSettings={"ThrottlingRateLimit": 1000.0, "ThrottlingBurstLimit": 500},
        RouteSettings={
            "GET /health": {"ThrottlingRateLimit": 5.0, "ThrottlingBurstLimit": 2},
            "ANY /{proxy+}": {"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1},
        },
    )


def _create_drifted_ecs_service(session: Any) -> None:
    """EcsService: a Fargate service on an older image, one task short, not tagged yet."""
    execution_role = session.client("iam").create_role(
        RoleName="flask-worker-execution",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    )["Role"]["Arn"]
    ecs = session.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName="flask-api")
    definition = ecs.register_task_definition(
        family="flask-worker",
        executionRoleArn=execution_role,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "worker",
                "image": f"{REGISTRY}/flask-worker:1.13.2",
                "environment": [{"name": "APP_ENV", "value": "demo"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/ecs/flask-worker", "awslogs-region": REGION},
                },
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="flask-api",
        serviceName="worker",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
    )
