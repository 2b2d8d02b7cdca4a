"""Client-side pacing: the buckets hand out exactly what AWS's quotas allow, from any thread."""

from __future__ import annotations

import threading

import pytest

from reconciler.pacing import PACING_VARIABLE, QUOTAS, Pacer, Quota, TokenBucket, from_environment


class Clock:
    """A clock that moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_a_full_bucket_gives_its_burst_at_once_then_one_token_per_interval() -> None:
    clock = Clock()
    bucket = TokenBucket(10, 3, clock=clock, sleep=clock.sleep)
    waits = [bucket.reserve() for _ in range(6)]
    assert waits == pytest.approx([0, 0, 0, 0.1, 0.2, 0.3])


def test_the_bucket_refills_at_its_rate_and_never_beyond_its_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(10, 3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        bucket.reserve()
    clock.now = 0.15  # 1.5 tokens back
    assert [bucket.reserve(), bucket.reserve()] == pytest.approx([0, 0.05])
    clock.now = 100.0  # a long quiet spell refills to the burst, not beyond
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0, 0, 0, 0.1])


def test_acquire_sleeps_until_the_reserved_token_is_due() -> None:
    clock = Clock()
    bucket = TokenBucket(4, 1, clock=clock, sleep=clock.sleep)
    assert bucket.acquire() == 0
    assert bucket.acquire() == pytest.approx(0.25)
    assert clock.slept == [pytest.approx(0.25)]


def test_threads_reserve_distinct_tokens() -> None:
    """Taken from many threads at one instant, every token is handed out once, in order."""
    clock = Clock()
    bucket = TokenBucket(100, 10, clock=clock, sleep=clock.sleep)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(25):
            wait = bucket.reserve()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([0.0] * 10 + [k / 100 for k in range(1, 191)])


def test_a_bucket_refuses_a_rate_or_burst_it_could_never_serve() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0, 1)
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(1, 0)


@pytest.mark.parametrize(
    ("service", "operation", "rate", "burst"),
    [
        ("lambda", "GetFunction", 100, 100),
        ("lambda", "UpdateFunctionConfiguration", 15, 15),
        ("lambda", "ListFunctions", 15, 15),
        ("lambda", "GetProvisionedConcurrencyConfig", 15, 15),
        ("cloudwatch", "DescribeAlarms", 9, 9),
        ("cloudwatch", "PutMetricAlarm", 3, 3),
        ("cloudwatch", "DeleteAlarms", 3, 3),
        ("cloudwatch", "TagResource", 3, 3),
        ("rds", "DescribeDBClusters", 12, 300),
        ("rds", "ModifyDBCluster", 12, 300),
        ("budgets", "DescribeBudgets", 5, 5),
        ("resourcegroupstaggingapi", "GetResources", 5, 5),
        ("ssm", "GetParameters", 40, 40),
        ("ssm", "PutParameter", 3, 3),
        ("ssm", "DescribeParameters", 2, 2),
        ("ssm", "ListTagsForResource", 5, 5),
    ],
)
def test_each_call_counts_against_its_quota(
    service: str, operation: str, rate: float, burst: int
) -> None:
    quota = Pacer().quota(service, operation)
    assert quota is not None
    assert (quota.service, quota.rate, quota.burst) == (service, rate, burst)


def test_operations_sharing_a_quota_share_one_bucket() -> None:
    pacer = Pacer()
    shared = pacer.bucket("lambda", "UpdateFunctionConfiguration")
    assert shared is pacer.bucket("lambda", "PublishVersion")
    assert shared is not pacer.bucket("lambda", "GetFunction")
    assert pacer.bucket("cloudwatch", "PutMetricAlarm") is not pacer.bucket(
        "cloudwatch", "DeleteAlarms"
    )


def test_services_without_a_quota_are_not_paced() -> None:
    pacer = Pacer()
    assert pacer.quota("sts", "GetCallerIdentity") is None
    assert pacer.wait("sts", "GetCallerIdentity") == 0
    assert pacer.requests == 0


def test_every_published_or_assumed_figure_says_where_it_comes_from() -> None:
    assert all(quota.source for quota in QUOTAS)
    assert {quota.service for quota in QUOTAS} == {
        "lambda",
        "cloudwatch",
        "rds",
        "budgets",
        "logs",
        "resourcegroupstaggingapi",
        "dynamodb",
        "ssm",
        "apigatewayv2",
        "ecs",
        "application-autoscaling",
    }


def test_scale_multiplies_rate_and_burst() -> None:
    clock = Clock()
    pacer = Pacer([Quota("lambda", frozenset(), 15, 15, "test")], scale=2, clock=clock)
    bucket = pacer.bucket("lambda", "UpdateAlias")
    assert bucket is not None
    assert (bucket.rate, bucket.burst) == (30, 30)
    with pytest.raises(ValueError, match="scale"):
        Pacer(scale=0)


def test_the_pacer_counts_requests_and_time_waited() -> None:
    clock = Clock()
    pacer = Pacer([Quota("cloudwatch", frozenset(), 3, 3, "test")], clock=clock, sleep=clock.sleep)
    for _ in range(5):
        pacer.wait("cloudwatch", "PutMetricAlarm")
    assert pacer.requests == 5
    assert pacer.waited == pytest.approx(1 / 3 + 2 / 3)
    assert clock.slept == pytest.approx([1 / 3, 2 / 3])


@pytest.mark.parametrize(
    ("value", "scale"),
    [("", 1.0), ("on", 1.0), ("off", None), ("0", None), ("2", 2.0), (" 1000 ", 1000.0)],
)
def test_the_environment_turns_the_default_pacer_off_or_scales_it(
    value: str, scale: float | None
) -> None:
    pacer = from_environment(value)
    assert (pacer.scale if pacer else None) == scale


@pytest.mark.parametrize("value", ["fast", "-1", "nan", "inf"])
def test_a_pacing_setting_that_means_nothing_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="RECONCILER_PACING"):
        from_environment(value)


def test_clients_pace_by_default_as_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.aws import Clients

    monkeypatch.delenv(PACING_VARIABLE, raising=False)
    paced = Clients("us-east-1").pacer
    assert paced is not None and paced.scale == 1
    monkeypatch.setenv(PACING_VARIABLE, "off")
    assert Clients("us-east-1").pacer is None
    own = Pacer(scale=3)
    assert Clients("us-east-1", pacing=own).pacer is own
    assert Clients("us-east-1", pacing=False).pacer is None
