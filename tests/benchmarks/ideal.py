"""The references the engine is measured against: the fewest calls a fleet needs, made in parallel
and paced exactly to the simulator's quotas, so never throttled.

`read` makes the minimal reads of a no-drift plan:

- one `GetFunction` per function (image and reserved concurrency are not in `ListFunctions`);
- one `DescribeAlarms` per 100 alarm names, and one tagging `GetResources` pass over the alarms
  carrying the ownership tag (100 a page) for their tags, which also names the owned ones that
  prune needs;
- one `DescribeDBClusters` per 100 cluster identifiers (filter `db-cluster-id`);
- `DescribeBudgets` and `DescribeBudgetNotificationsForAccount` (1000 a page), then, as AWS has no
  batch read for them, one `ListTagsForResource` per budget (ownership, and what prune needs)
  and one `DescribeSubscribersForNotification` per notification;
- one `DescribeLogGroups` per 50 log group names (`logGroupIdentifiers`), and one
  `ListTagsForResource` per group (CloudWatch Logs has no batch read of tags; the ARN is known
  from the name, so the tags are read alongside the groups);
- per DynamoDB table, `DescribeTable` (billing mode, deletion protection),
  `DescribeContinuousBackups` (point-in-time recovery), `DescribeTimeToLive` and
  `ListTagsOfResource`, all four at once (DynamoDB has no batch read of any of them);
- `GetApis` (its pages; AWS has no lookup of an API by name) then one `GetStage` per stage, whose
  answer carries the stage's tags (`GetStageResponse.Tags`: AWS keeps one set per stage), so no
  `GetTags` is minimal. The engine reads `GetTags` as well, one more call a stage that AWS does
  not force: it guards against a service answering `GetStage` without the tags `TagResource`
  put on the stage's ARN (moto did, until `reconciler/emulator/apigatewayv2.py`);
- one `DescribeParameters` per 50 parameter names (a `Name` filter: type and description), then,
  for each batch described, one `GetParameters` per 10 of its names that are not a SecureString
  (a SecureString's value is never asked for, so the values wait for the type); with prune, one
  tag-filtered `GetResources` pass over `ssm:parameter` (100 a page) for the environment's
  parameters, which gives the declared ones' tags as well (no `ListTagsForResource` each);
- one `DescribeServices` per 10 ECS services of a cluster (`include=TAGS`: the tags come with
  them), then one `DescribeTaskDefinition` per distinct task definition they run (its ARN is in
  the service); one `DescribeScalableTargets` per 50 services, alongside;
- one `DescribeDBInstances` per 100 DB instance identifiers (filter `db-instance-id`).

`write` makes the minimal writes that undo a fleet's `Drift`: one `UpdateFunctionConfiguration`
per drifted function, one `PutMetricAlarm` per drifted alarm, one `PutRetentionPolicy` per
drifted log group and one `PutParameter` (`Overwrite`) per drifted parameter, phase by phase as
the contract orders apply (`Kind.phase`: log groups, then functions beside parameters, then the
alarms that watch them): AWS would take the alarms first, but a writer that changed an alarm
before the function it watches is not one the reconciler may be.

Each kind's calls run in their own thread pool, on clients that wait for a token of a client-side
copy of the quota just before each request is sent (`Simulator.session(paced=True)`); the kinds
run side by side. Clients are built inside the timed span, as the engine builds its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from reconciler.aws import Clients
from reconciler.kinds import KINDS
from reconciler.plan import OWNER_TAG
from tests.benchmarks import fleet as fleets
from tests.benchmarks.simulator import Simulator, Stats

T = TypeVar("T")
R = TypeVar("R")

WORKERS = 16
BATCH = 100
BUDGET_PAGE = 1000
LOG_GROUP_BATCH = 50
PARAMETER_DESCRIBE_BATCH = 50
PARAMETER_VALUE_BATCH = 10
SERVICE_BATCH = 10
TARGET_BATCH = 50


@dataclass(frozen=True)
class Reference:
    """How long the reference took and every call it made (the minimal count)."""

    seconds: float
    stats: Stats


def _fan_out(work: Callable[[T], R], items: Sequence[T], workers: int = WORKERS) -> list[R]:
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(work, items))


def _batches(items: Sequence[str], size: int = BATCH) -> list[list[str]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def _pages(fetch: Callable[[str | None], tuple[list[Any], str | None]]) -> list[Any]:
    """Every item of a paged read, one page after the other (each page needs the last token)."""
    items, token = fetch(None)
    while token:
        more, token = fetch(token)
        items += more
    return items


#: The clients each job uses (`Clients` attribute names).
Job = tuple[Callable[[Clients], None], tuple[str, ...]]


def _run(sim: Simulator, jobs: Sequence[Job], services: Sequence[str] = ()) -> Reference:
    """Run `jobs` side by side, timed."""
    return _run_phases(sim, [jobs], services)


def _run_phases(
    sim: Simulator, phases: Sequence[Sequence[Job]], services: Sequence[str]
) -> Reference:
    """Each phase's jobs side by side, the phases one after the other, timed as one."""
    sim.reset()
    started = time.perf_counter()
    aws = sim.clients(fleets.REGION, paced=True)
    jobs = [job for phase in phases for job in phase]
    for name in dict.fromkeys(name for _, names in jobs for name in names):
        getattr(aws, name)  # building clients is not thread-safe: build them first
    for service in services:
        aws.service(service)
    for phase in phases:
        if not phase:
            continue
        with ThreadPoolExecutor(max_workers=len(phase)) as kinds:
            for future in [kinds.submit(job, aws) for job, _ in phase]:
                future.result()
    return Reference(time.perf_counter() - started, sim.stats())


# --- reads ---------------------------------------------------------------------------------------


def read(sim: Simulator, fleet: fleets.Fleet) -> Reference:
    """The minimal reads of a plan of `fleet`, timed; raises if any resource is not found."""

    def functions(aws: Clients) -> None:
        def get(name: str) -> None:
            aws.lambda_.get_function(FunctionName=name)

        _fan_out(get, fleet.function_names)

    def alarms(aws: Clients) -> None:
        def describe(names: list[str]) -> int:
            answer = aws.cloudwatch.describe_alarms(
                AlarmNames=names,
                AlarmTypes=["MetricAlarm"],
                MaxRecords=BATCH,
            )
            assert "NextToken" not in answer
            return len(answer["MetricAlarms"])

        def tagged() -> int:
            def page(token: str | None) -> tuple[list[Any], str | None]:
                answer = aws.tagging.get_resources(
                    TagFilters=[{"Key": OWNER_TAG}],
                    ResourceTypeFilters=["cloudwatch:alarm"],
                    ResourcesPerPage=BATCH,
                    **({"PaginationToken": token} if token else {}),
                )
                return answer["ResourceTagMappingList"], answer.get("PaginationToken") or None

            return len(_pages(page))

        jobs: list[Callable[[], int]] = [
            (lambda names=names: describe(names)) for names in _batches(fleet.alarm_names)
        ]
        found = _fan_out(lambda job: job(), [*jobs, tagged])
        assert sum(found[:-1]) == found[-1] == fleet.spec.alarms, found

    def clusters(aws: Clients) -> None:
        def describe(ids: list[str]) -> int:
            answer = aws.rds.describe_db_clusters(
                Filters=[{"Name": "db-cluster-id", "Values": ids}],
                MaxRecords=BATCH,
            )
            assert "Marker" not in answer
            return len(answer["DBClusters"])

        found = _fan_out(describe, _batches(fleet.cluster_names))
        assert sum(found) == fleet.spec.clusters, found

    def budgets(aws: Clients) -> None:
        client, account = aws.budgets, fleets.ACCOUNT

        def all_budgets() -> int:
            def page(token: str | None) -> tuple[list[Any], str | None]:
                answer = client.describe_budgets(
                    AccountId=account,
                    MaxResults=BUDGET_PAGE,
                    **({"NextToken": token} if token else {}),
                )
                return answer["Budgets"], answer.get("NextToken")

            return len(_pages(page))

        def notifications() -> list[Any]:
            def page(token: str | None) -> tuple[list[Any], str | None]:
                answer = client.describe_budget_notifications_for_account(
                    AccountId=account,
                    MaxResults=BUDGET_PAGE,
                    **({"NextToken": token} if token else {}),
                )
                return answer["BudgetNotificationsForAccount"], answer.get("NextToken")

            return _pages(page)

        def tags(name: str) -> None:
            arn = f"arn:aws:budgets::{account}:budget/{name}"
            client.list_tags_for_resource(ResourceARN=arn)

        def subscribers(name: str, notification: dict[str, Any]) -> None:
            client.describe_subscribers_for_notification(
                AccountId=account,
                BudgetName=name,
                Notification=notification,
                MaxResults=BATCH,
            )

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            counted = pool.submit(all_budgets)
            listed = pool.submit(notifications)
            later: list[Future[None]] = [pool.submit(tags, n) for n in fleet.budget_names]
            for entry in listed.result():
                for notification in entry["Notifications"]:
                    later.append(pool.submit(subscribers, entry["BudgetName"], notification))
            for future in later:
                future.result()
            assert counted.result() == fleet.spec.budgets

    spec = fleet.spec
    jobs: list[Job] = [
        (job, clients)
        for job, clients, count in (
            (functions, ("lambda_",), spec.functions),
            (alarms, ("cloudwatch", "tagging"), spec.alarms),
            (clusters, ("rds",), spec.clusters),
            (budgets, ("budgets",), spec.budgets),
            (partial(_log_groups, fleet), (), spec.log_groups),
            (partial(_tables, fleet), (), spec.tables),
            (partial(_stages, fleet), (), spec.stages),
            (partial(_parameters, fleet), ("tagging",), spec.parameters),
            (partial(_ecs_services, fleet), (), spec.services),
            (partial(_instances, fleet), ("rds",), spec.instances),
        )
        if count
    ]
    return _run(sim, jobs, services=_SERVICES)


#: The clients the newer kinds' readers use, by botocore name (`Clients.service`).
_SERVICES = ("logs", "dynamodb", "apigatewayv2", "ssm", "ecs", "application-autoscaling")


def _log_groups(fleet: fleets.Fleet, aws: Clients) -> None:
    logs = aws.service("logs")
    names = fleet.log_group_names

    def describe(batch: list[str]) -> int:
        answer = logs.describe_log_groups(logGroupIdentifiers=batch, limit=LOG_GROUP_BATCH)
        assert "nextToken" not in answer
        return len(answer["logGroups"])

    def tags(name: str) -> int:
        arn = f"arn:aws:logs:{fleets.REGION}:{fleets.ACCOUNT}:log-group:{name}"
        return len(logs.list_tags_for_resource(resourceArn=arn)["tags"])

    jobs: list[Callable[[], int]] = [
        *[(lambda batch=batch: describe(batch)) for batch in _batches(names, LOG_GROUP_BATCH)],
        *[(lambda name=name: tags(name)) for name in names],
    ]
    found = _fan_out(lambda job: job(), jobs)
    described = len(_batches(names, LOG_GROUP_BATCH))
    assert sum(found[:described]) == len(names), found[:described]
    assert all(found[described:]), "a log group without its ownership tag"


def _tables(fleet: fleets.Fleet, aws: Clients) -> None:
    ddb = aws.service("dynamodb")

    def read(job: tuple[str, str]) -> None:
        name, part = job
        if part == "table":
            ddb.describe_table(TableName=name)
        elif part == "backups":
            ddb.describe_continuous_backups(TableName=name)
        elif part == "ttl":
            ddb.describe_time_to_live(TableName=name)
        else:
            arn = f"arn:aws:dynamodb:{fleets.REGION}:{fleets.ACCOUNT}:table/{name}"
            assert "NextToken" not in ddb.list_tags_of_resource(ResourceArn=arn)

    parts = ("table", "backups", "ttl", "tags")
    _fan_out(read, [(name, part) for name in fleet.table_names for part in parts])


def _stages(fleet: fleets.Fleet, aws: Clients) -> None:
    gateway = aws.service("apigatewayv2")

    def page(token: str | None) -> tuple[list[Any], str | None]:
        answer = gateway.get_apis(**({"NextToken": token} if token else {}))
        return answer["Items"], answer.get("NextToken")

    ids = {api["Name"]: api["ApiId"] for api in _pages(page)}

    def get(i: int) -> None:
        stage = fleets.stage(i)
        answer = gateway.get_stage(ApiId=ids[stage["api"]], StageName=stage["stage"])
        assert answer["Tags"], "GetStage answers the stage's tags"

    _fan_out(get, range(fleet.spec.stages))


def _parameters(fleet: fleets.Fleet, aws: Clients) -> None:
    ssm = aws.service("ssm")

    def values(names: list[str]) -> int:
        return len(ssm.get_parameters(Names=names)["Parameters"])

    def described(names: list[str]) -> int:
        answer = ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": names}],
            MaxResults=PARAMETER_DESCRIBE_BATCH,
        )
        assert "NextToken" not in answer
        plain = [p["Name"] for p in answer["Parameters"] if p["Type"] != "SecureString"]
        read = _fan_out(values, _batches(plain, PARAMETER_VALUE_BATCH))
        assert sum(read) == len(plain) == len(names), (read, len(names))
        return len(plain)

    def tagged() -> int:
        def page(token: str | None) -> tuple[list[Any], str | None]:
            answer = aws.tagging.get_resources(
                TagFilters=[{"Key": OWNER_TAG, "Values": [fleet.spec.environment]}],
                ResourceTypeFilters=["ssm:parameter"],
                ResourcesPerPage=BATCH,
                **({"PaginationToken": token} if token else {}),
            )
            return answer["ResourceTagMappingList"], answer.get("PaginationToken") or None

        return len(_pages(page))

    names = fleet.parameter_names
    jobs: list[Callable[[], int]] = [
        *[
            (lambda batch=batch: described(batch))
            for batch in _batches(names, PARAMETER_DESCRIBE_BATCH)
        ],
        *([tagged] if fleet.spec.prune else []),
    ]
    found = _fan_out(lambda job: job(), jobs)
    assert sum(found[: len(jobs) - fleet.spec.prune]) == len(names), found
    if fleet.spec.prune:
        assert found[-1] == len(names), found


def _ecs_services(fleet: fleets.Fleet, aws: Clients) -> None:
    ecs = aws.service("ecs")
    scaling = aws.service("application-autoscaling")
    by_cluster: dict[str, list[str]] = {}
    for i in range(fleet.spec.services):
        svc = fleets.ecs_service(i)
        by_cluster.setdefault(svc["cluster"], []).append(svc["name"])

    def describe(job: tuple[str, list[str]]) -> list[str]:
        answer = ecs.describe_services(cluster=job[0], services=job[1], include=["TAGS"])
        assert not answer["failures"], answer["failures"]
        return [service["taskDefinition"] for service in answer["services"]]

    def definitions() -> int:
        jobs = [
            (cluster, batch)
            for cluster, names in by_cluster.items()
            for batch in _batches(names, SERVICE_BATCH)
        ]
        arns = sorted({arn for found in _fan_out(describe, jobs) for arn in found})
        _fan_out(
            lambda arn: ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]), arns
        )
        return len(arns)

    def targets(ids: list[str]) -> int:
        answer = scaling.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=ids, ScalableDimension="ecs:service:DesiredCount"
        )
        assert "NextToken" not in answer
        return len(answer["ScalableTargets"])

    ids = [f"service/{c}/{n}" for c, names in by_cluster.items() for n in names]
    jobs: list[Callable[[], int]] = [
        definitions,
        *[(lambda batch=batch: targets(batch)) for batch in _batches(ids, TARGET_BATCH)],
    ]
    found = _fan_out(lambda job: job(), jobs)
    assert found[0] == fleet.spec.services, found


def _instances(fleet: fleets.Fleet, aws: Clients) -> None:
    def describe(ids: list[str]) -> int:
        answer = aws.rds.describe_db_instances(
            Filters=[{"Name": "db-instance-id", "Values": ids}], MaxRecords=BATCH
        )
        assert "Marker" not in answer
        return len(answer["DBInstances"])

    assert sum(_fan_out(describe, _batches(fleet.instance_names))) == fleet.spec.instances


# --- writes --------------------------------------------------------------------------------------


def write(sim: Simulator, fleet: fleets.Fleet) -> Reference:
    """The minimal writes that bring a drifted `fleet` back to its manifests, timed."""
    spec, drift = fleet.spec, fleet.drift

    def functions(aws: Clients) -> None:
        def update(i: int) -> None:
            fn = fleets.function(i)
            aws.lambda_.update_function_configuration(
                FunctionName=fn["name"],
                MemorySize=fn["memory"],
            )

        _fan_out(update, range(min(drift.functions, spec.functions)))

    def alarms(aws: Clients) -> None:
        def put(i: int) -> None:
            aws.cloudwatch.put_metric_alarm(**fleets.alarm(i, spec.functions))

        _fan_out(put, range(min(drift.alarms, spec.alarms)))

    def log_groups(aws: Clients) -> None:
        logs = aws.service("logs")

        def put(i: int) -> None:
            group = fleets.log_group(i)
            logs.put_retention_policy(
                logGroupName=group["name"], retentionInDays=group["retention"]
            )

        _fan_out(put, range(min(drift.log_groups, spec.log_groups)))

    def parameters(aws: Clients) -> None:
        ssm = aws.service("ssm")

        def put(i: int) -> None:
            p = fleets.parameter(i)
            ssm.put_parameter(
                Name=p["name"],
                Value=p["value"],
                Type=p["type"],
                Description=p["description"],
                Overwrite=True,
            )

        _fan_out(put, range(min(drift.parameters, spec.parameters)))

    by_kind: dict[str, Job] = {
        "LambdaFunction": (functions, ("lambda_",)),
        "MetricAlarm": (alarms, ("cloudwatch",)),
        "LogGroup": (log_groups, ()),
        "SsmParameter": (parameters, ()),
    }
    phases = sorted({KINDS[kind].phase for kind in by_kind})
    return _run_phases(
        sim,
        [[job for kind, job in by_kind.items() if KINDS[kind].phase == p] for p in phases],
        services=("logs", "ssm"),
    )
