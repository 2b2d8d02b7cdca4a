"""The benchmark simulator is right: AWS's quotas with each service's throttling answer, latency,
AWS's page sizes, pluggable faults, and never a request to the network."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.retries.standard import ExponentialBackoff

from tests.benchmarks.simulator import (
    QUOTAS,
    THROTTLING,
    Call,
    Fault,
    Quota,
    Simulator,
    offline,
    quota_for,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def account() -> Iterator[None]:
    with offline(REGION):
        yield


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore waits 50 ms before each retry instead of up to a second or more, at random."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.05)


def _one_token(service: str, rate: float = 0.001) -> tuple[Quota, ...]:
    return (Quota(service, "*", rate, 1, "test"),)


def _role() -> str:
    iam = boto3.client("iam", region_name=REGION)
    return str(iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"])


def _functions(count: int) -> None:
    lam, role = boto3.client("lambda", region_name=REGION), _role()
    for i in range(count):
        lam.create_function(
            FunctionName=f"fn-{i:03d}",
            Role=role,
            PackageType="Image",
            Code={"ImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:v{i}"},
        )


def _alarm(name: str) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }


def _alarms(count: int) -> list[str]:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    names = [f"alarm-{i:03d}" for i in range(count)]
    for name in names:
        cloudwatch.put_metric_alarm(**_alarm(name), Tags=[{"Key": "team", "Value": "a"}])
    return names


# --- quotas and throttling -------------------------------------------------------------------

CALLS: dict[str, Callable[[Any], Any]] = {
    "lambda": lambda client: client.list_functions(),
    "cloudwatch": lambda client: client.describe_alarms(),
    "rds": lambda client: client.describe_db_clusters(),
    "budgets": lambda client: client.describe_budgets(AccountId=ACCOUNT),
    "resourcegroupstaggingapi": lambda client: client.get_resources(),
}


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("lambda", "TooManyRequestsException", 429),
        ("cloudwatch", "Throttling", 400),
        ("rds", "Throttling", 400),
        ("budgets", "ThrottlingException", 400),
        ("resourcegroupstaggingapi", "ThrottledException", 400),
    ],
)
def test_beyond_its_quota_a_service_answers_with_its_own_throttling_error(
    account: None, service: str, code: str, status: int
) -> None:
    sim = Simulator(latency=0, quotas=_one_token(service))
    client = sim.session(REGION).client(service, config=NO_RETRIES)
    CALLS[service](client)
    with pytest.raises(ClientError) as caught:
        CALLS[service](client)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    stats = sim.stats()
    assert stats.total == 2
    assert stats.total_throttled == 1


def test_the_quota_table_holds_the_published_figures() -> None:
    def rate(service: str, operation: str) -> tuple[float, int] | None:
        quota = quota_for(QUOTAS, service, operation)
        return None if quota is None else (quota.rate, quota.burst)

    assert rate("lambda", "GetFunction") == (100, 100)
    shared = quota_for(QUOTAS, "lambda", "ListFunctions")
    assert shared is quota_for(QUOTAS, "lambda", "UpdateFunctionConfiguration")
    assert shared is quota_for(QUOTAS, "lambda", "PutFunctionConcurrency")
    assert rate("lambda", "ListFunctions") == (15, 15)
    assert rate("lambda", "Invoke") is None
    assert rate("cloudwatch", "DescribeAlarms") == (9, 9)
    assert rate("cloudwatch", "PutMetricAlarm") == (3, 3)
    assert rate("cloudwatch", "DeleteAlarms") == (3, 3)
    assert rate("rds", "DescribeDBClusters") == rate("rds", "ModifyDBCluster") == (12, 300)
    assert rate("sts", "GetCallerIdentity") is None
    assert rate("logs", "DescribeLogGroups") == rate("logs", "ListTagsForResource") == (5, 5)
    assert rate("dynamodb", "DescribeTable") == (2500, 2500)
    assert rate("apigatewayv2", "GetStage") == (10, 40)
    assert rate("ssm", "GetParameters") == (40, 40)
    assert rate("ssm", "DescribeParameters") == (2, 2)
    assert rate("ecs", "DescribeServices") == (20, 100)
    assert rate("ecs", "DescribeTaskDefinition") == (20, 50)
    assert rate("application-autoscaling", "DescribeScalableTargets") == (5, 5)
    assert set(THROTTLING) >= {q.service for q in QUOTAS}


def test_operations_sharing_one_quota_share_one_bucket(account: None) -> None:
    """SSM's GetParameter and GetParameters take their tokens from one 40/s quota: 40 calls of
    one leave nothing for the other (one bucket each would allow 80)."""
    boto3.client("ssm", region_name=REGION).put_parameter(Name="/p", Value="v", Type="String")
    sim = Simulator(latency=0, clock=lambda: 0.0)  # a burst: no time passes between the calls
    ssm = sim.session(REGION).client("ssm", config=NO_RETRIES)
    for _ in range(40):
        ssm.get_parameters(Names=["/p"])
    with pytest.raises(ClientError, match="ThrottlingException"):
        ssm.get_parameter(Name="/p")
    assert quota_for(QUOTAS, "ssm", "GetParameter").name == (  # type: ignore[union-attr]
        quota_for(QUOTAS, "ssm", "GetParameters").name  # type: ignore[union-attr]
    )
    logs = (quota_for(QUOTAS, "logs", op) for op in ("DescribeLogGroups", "ListTagsForResource"))
    assert len({quota.name for quota in logs if quota is not None}) == 2  # each its own


@pytest.mark.parametrize(
    ("service", "call", "limit"),
    [
        (
            "logs",
            lambda c, names: c.describe_log_groups(logGroupIdentifiers=names),
            50,
        ),
        ("ssm", lambda c, names: c.get_parameters(Names=names), 10),
        (
            "ssm",
            lambda c, names: c.describe_parameters(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": names}]
            ),
            50,
        ),
        ("ecs", lambda c, names: c.describe_services(cluster="c", services=names), 10),
        (
            "application-autoscaling",
            lambda c, names: c.describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[f"service/c/{n}" for n in names]
            ),
            50,
        ),
    ],
)
def test_a_batch_read_naming_more_than_aws_takes_is_refused(
    account: None, service: str, call: Callable[[Any, list[str]], Any], limit: int
) -> None:
    boto3.client("ecs", region_name=REGION).create_cluster(clusterName="c")
    client = Simulator(latency=0, quotas=()).session(REGION).client(service, config=NO_RETRIES)
    names = [f"/n{i}" if service == "ssm" else f"n{i}" for i in range(limit + 1)]
    call(client, names[:limit])
    with pytest.raises(ClientError) as caught:
        call(client, names)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert f"less than or equal to {limit}" in str(caught.value)


def test_the_benchmark_account_may_reserve_more_lambda_concurrency_than_aws_default(
    account: None,
) -> None:
    """The target fleet reserves 1,650 between its functions: more than AWS's default account
    quota of 1000 leaves unreserved, so the benchmark account has a raised quota."""
    _functions(2)
    lam = boto3.client("lambda", region_name=REGION)
    lam.put_function_concurrency(FunctionName="fn-000", ReservedConcurrentExecutions=900)
    lam.put_function_concurrency(FunctionName="fn-001", ReservedConcurrentExecutions=900)


def test_describe_alarms_beyond_nine_in_a_burst_is_throttled(account: None) -> None:
    sim = Simulator(latency=0, clock=lambda: 0.0)  # a burst: no time passes between the calls
    client = sim.session(REGION).client("cloudwatch", config=NO_RETRIES)
    answers = []
    for _ in range(10):
        try:
            client.describe_alarms(AlarmNames=["a"])
            answers.append("ok")
        except ClientError as exc:
            answers.append(exc.response["Error"]["Code"])
    assert answers == ["ok"] * 9 + ["Throttling"]


def test_botocore_retries_a_throttled_call_and_every_attempt_is_counted(
    account: None, quick_backoff: None
) -> None:
    sim = Simulator(latency=0, quotas=_one_token("lambda", rate=10))
    lam = sim.clients(REGION).lambda_  # the engine's retry configuration
    lam.list_functions()
    answer = lam.list_functions()  # throttled at once, then retried after the bucket refills
    assert answer["ResponseMetadata"]["RetryAttempts"] >= 1
    stats = sim.stats()
    assert stats.total_throttled == answer["ResponseMetadata"]["RetryAttempts"]
    assert stats.calls[("lambda", "ListFunctions")] == 2 + stats.total_throttled


def test_a_throttled_write_changes_nothing(account: None) -> None:
    sim = Simulator(latency=0, quotas=(Quota("cloudwatch", "*", 0.001, 0, "test"),))
    client = sim.session(REGION).client("cloudwatch", config=NO_RETRIES)
    with pytest.raises(ClientError, match="Throttling"):
        client.put_metric_alarm(**_alarm("never"))
    direct = boto3.client("cloudwatch", region_name=REGION)
    assert direct.describe_alarms(AlarmNames=["never"])["MetricAlarms"] == []


def test_paced_clients_wait_for_the_quota_instead_of_being_throttled(account: None) -> None:
    sim = Simulator(latency=0)
    client = sim.session(REGION, paced=True).client("cloudwatch", config=NO_RETRIES)
    started = time.monotonic()
    for _ in range(12):
        client.describe_alarms(AlarmNames=["a"])
    assert time.monotonic() - started >= (12 - 9) / 9 - 0.01
    assert sim.stats().total_throttled == 0


def test_ideal_clients_are_paced_once_and_engine_clients_by_their_own_pacer(
    account: None,
) -> None:
    sim = Simulator(latency=0)
    assert sim.clients(REGION, paced=True).pacer is None  # the session's pacers only
    assert sim.clients(REGION).pacer is not None


# --- latency -------------------------------------------------------------------------------------


def test_every_request_waits_the_latency_and_waits_overlap(account: None) -> None:
    sim = Simulator(latency=0.1)
    client = sim.session(REGION).client("cloudwatch")
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: client.describe_alarms(AlarmNames=["a"]), range(4)))
    records = sim.stats().records
    assert len(records) == 4
    assert all(record.ended - record.started >= 0.1 for record in records)
    # Sleeping, not serialised: all four were waiting at once, however busy the machine is.
    assert max(record.started for record in records) < min(record.ended for record in records)


# --- paging --------------------------------------------------------------------------------------


def _page_sizes(pages: Iterator[dict[str, Any]], key: str) -> list[int]:
    return [len(page[key]) for page in pages]


def test_list_functions_pages_by_fifty_whatever_is_asked(account: None) -> None:
    _functions(120)
    sim = Simulator(latency=0, quotas=())
    lam = sim.session(REGION).client("lambda")
    pages = lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1000})
    assert _page_sizes(pages, "Functions") == [50, 50, 20]
    assert sim.stats().calls[("lambda", "ListFunctions")] == 3


def test_describe_alarms_pages_and_refuses_more_than_100_names(account: None) -> None:
    names = _alarms(150)
    sim = Simulator(latency=0, quotas=())
    cloudwatch = sim.session(REGION).client("cloudwatch")
    paginator = cloudwatch.get_paginator("describe_alarms")
    assert _page_sizes(paginator.paginate(), "MetricAlarms") == [50, 50, 50]
    pages = paginator.paginate(PaginationConfig={"PageSize": 100})
    found = [alarm["AlarmName"] for page in pages for alarm in page["MetricAlarms"]]
    assert sorted(found) == names
    with pytest.raises(ClientError) as caught:
        cloudwatch.describe_alarms(AlarmNames=names[:101])
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    hundred = cloudwatch.describe_alarms(AlarmNames=names[:100], MaxRecords=100)
    assert len(hundred["MetricAlarms"]) == 100
    assert "NextToken" not in hundred
    with pytest.raises(ClientError, match="InvalidNextToken"):
        cloudwatch.describe_alarms(NextToken="not-a-token")


def test_tagging_pages_hold_100_alarms_as_in_aws(account: None) -> None:
    _alarms(150)
    sim = Simulator(latency=0, quotas=())
    tagging = sim.session(REGION).client("resourcegroupstaggingapi")
    pages = tagging.get_paginator("get_resources").paginate(
        ResourceTypeFilters=["cloudwatch:alarm"], PaginationConfig={"PageSize": 100}
    )
    assert _page_sizes(pages, "ResourceTagMappingList") == [100, 50]


def test_clusters_and_budgets_are_paged(account: None) -> None:
    rds = boto3.client("rds", region_name=REGION)
    for i in range(25):
        rds.create_db_cluster(
            DBClusterIdentifier=f"db-{i}",
            Engine="aurora-postgresql",
            MasterUsername="admin",
            MasterUserPassword="password123",
        )
    budgets = boto3.client("budgets", region_name=REGION)
    for i in range(3):
        budgets.create_budget(
            AccountId=ACCOUNT,
            Budget={
                "BudgetName": f"b-{i}",
                "BudgetLimit": {"Amount": "10", "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
            },
        )
    session = Simulator(latency=0, quotas=()).session(REGION)
    clusters = session.client("rds").get_paginator("describe_db_clusters")
    assert _page_sizes(clusters.paginate(), "DBClusters") == [25]
    pages = clusters.paginate(PaginationConfig={"PageSize": 20})
    assert _page_sizes(pages, "DBClusters") == [20, 5]
    described = session.client("budgets").get_paginator("describe_budgets")
    pages = described.paginate(AccountId=ACCOUNT, PaginationConfig={"PageSize": 2})
    assert _page_sizes(pages, "Budgets") == [2, 1]


# --- faults --------------------------------------------------------------------------------------


def test_injected_faults_see_each_attempt_and_are_retried_like_aws_errors(
    account: None, quick_backoff: None
) -> None:
    _functions(1)
    seen: list[Call] = []

    def flaky(call: Call) -> Fault | None:
        seen.append(call)
        if call.operation != "GetFunction":
            return None
        if call.attempt == 1:
            return Fault("ServiceException", 500, "Internal failure")
        if call.attempt == 2:
            raise EndpointConnectionError(endpoint_url="https://lambda.us-east-1.amazonaws.com")
        return Fault(delay=0.05)

    sim = Simulator(latency=0, inject=flaky)
    started = time.monotonic()
    got = sim.clients(REGION).lambda_.get_function(FunctionName="fn-000")
    assert got["Configuration"]["FunctionName"] == "fn-000"
    assert [(c.operation, c.attempt) for c in seen] == [("GetFunction", n) for n in (1, 2, 3)]
    assert seen[0].params == {"FunctionName": "fn-000"}
    assert time.monotonic() - started >= 0.05
    outcomes = [record.outcome for record in sim.stats().records]
    assert outcomes == ["ServiceException", "EndpointConnectionError", "ok"]


def test_the_simulator_never_sends_a_request_to_the_network(
    credentials: None,
) -> None:
    client = Simulator(latency=0).session(REGION).client("lambda", config=NO_RETRIES)
    with pytest.raises(RuntimeError, match="never sends a request to the network"):
        client.list_functions()
