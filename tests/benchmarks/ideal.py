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
  and one `DescribeSubscribersForNotification` per notification.

`write` makes the minimal writes that undo a fleet's `Drift`: one `UpdateFunctionConfiguration`
per drifted function and one `PutMetricAlarm` per drifted alarm.

Each kind's calls run in their own thread pool, on clients that wait for a token of a client-side
copy of the quota just before each request is sent (`Simulator.session(paced=True)`); the kinds
run side by side. Clients are built inside the timed span, as the engine builds its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from reconciler.aws import Clients
from reconciler.plan import OWNER_TAG
from tests.benchmarks import fleet as fleets
from tests.benchmarks.simulator import Simulator, Stats

T = TypeVar("T")
R = TypeVar("R")

WORKERS = 16
BATCH = 100
BUDGET_PAGE = 1000


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


def _run(sim: Simulator, jobs: Sequence[Job]) -> Reference:
    sim.reset()
    started = time.perf_counter()
    aws = sim.clients(fleets.REGION, paced=True)
    for name in dict.fromkeys(name for _, names in jobs for name in names):
        getattr(aws, name)  # building clients is not thread-safe: build them first
    with ThreadPoolExecutor(max_workers=len(jobs)) as kinds:
        for future in [kinds.submit(job, aws) for job, _ in jobs]:
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

    jobs: list[Job] = [
        (job, clients)
        for job, clients, count in (
            (functions, ("lambda_",), fleet.spec.functions),
            (alarms, ("cloudwatch", "tagging"), fleet.spec.alarms),
            (clusters, ("rds",), fleet.spec.clusters),
            (budgets, ("budgets",), fleet.spec.budgets),
        )
        if count
    ]
    return _run(sim, jobs)


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

    return _run(sim, [(functions, ("lambda_",)), (alarms, ("cloudwatch",))])
