"""An AWS simulator for the benchmarks: moto, behind AWS's latency, quotas and page sizes.

moto answers at once, never throttles and ignores most page sizes, so a reconciler measured on it
looks faster and cheaper than it is. `Simulator` puts moto (in process, inside
`reconciler.emulator.emulated_aws()`) behind a botocore session whose clients see what AWS would
do to them:

- every request waits `latency` seconds (sleeping, so threads overlap as they would on a network);
- every request takes a token from its quota's bucket (`QUOTAS`); an empty bucket answers with
  the service's own throttling error and HTTP status (`THROTTLING`), which botocore's retries see
  as a throttle, so a retried call is counted, and throttled, every time it is sent;
- list calls moto does not page are paged as AWS pages them (`PAGING`; moto already pages
  `DescribeLogGroups`, `DescribeParameters` and `DescribeScalableTargets` by 50 and the emulator
  `GetApis`), and a batch read naming more than AWS takes (`BATCH_LIMITS`: 100 alarm names, 50
  log groups, 10 parameter values, 50 described parameters, 10 ECS services, 50 scalable
  targets) is refused as AWS refuses it, so a call count measured here is the count AWS would
  need;
- every request is recorded (`CallRecord`): operation, start and end, outcome (`stats`,
  `profile`).

A session made with `paced=True` waits for a token of a client-side copy of each bucket just
before it sends: the ideal client, never throttled. The server side lends a token to a request
arriving up to `GRACE_SECONDS` early (the debt delays the next), so that the two clocks' few
microseconds apart never count as a throttle; the sustained rate is unchanged.

Faults are pluggable: an `Injector` sees every request (`Call`) before it is answered and may
return a `Fault` (an error answer, a delay, or both) or raise a botocore `HTTPClientError` such as
`EndpointConnectionError` to fail the connection.

Quota figures (requests per second; the bucket starts full with `burst` tokens and refills at
`rate`) and each service's throttling answer come from the kinds' descriptions
(`reconciler.kinds.services()`), the figures the reconciler paces itself to, so a new kind's
service is simulated from the day it is added. AWS publishes the rates but not, except for RDS,
a burst: one second's worth is assumed. Page sizes are listed above `PAGING`. Today:

    Lambda      GetFunction 100/s; every other control-plane call shares 15/s
    CloudWatch  DescribeAlarms 9/s; PutMetricAlarm 3/s; DeleteAlarms 3/s;
                any other operation 3/s (assumed)
    RDS         12/s shared, burst 300 (AWS-EMULATION.md)
    Budgets     5/s shared (assumed: AWS publishes no figure)
    Tagging     5/s shared, GetResources included (assumed: AWS publishes no figure)
    Logs        DescribeLogGroups, CreateLogGroup, ListTagsForResource, PutRetentionPolicy,
                DeleteRetentionPolicy, TagResource 5/s each; any other 5/s (assumed but the first two)
    DynamoDB    2,500/s shared (control plane)
    API GW v2   10/s shared, burst 40
    SSM         GetParameter(s)/GetParametersByPath 40/s shared; PutParameter 3/s;
                DescribeParameters 2/s (assumed); any other 5/s (assumed)
    ECS         DescribeServices 20/s burst 100; DescribeTaskDefinition 20/s burst 50;
                UpdateService 5/s burst 15; RegisterTaskDefinition 1/s burst 5; any other 1/s
    App AS      5/s shared (assumed: AWS publishes no figure)
    STS         not limited

Usage (`offline()` is `emulated_aws()` with fake credentials and no real endpoint)::

    with offline():
        sim = Simulator()
        aws = sim.clients("us-east-1")      # reconciler.aws.Clients on the simulator
        ...
        sim.stats().calls                   # Counter of (service, operation) -> requests sent
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import boto3
import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

from reconciler.aws import RETRY_CONFIG, Clients
from reconciler.emulator import emulated_aws
from reconciler.emulator.settings import behaviour
from reconciler.kinds import services

DEFAULT_LATENCY = 0.015
#: A request may arrive this much before its token is due (client and AWS clocks never agree to
#: the microsecond); the bucket goes into debt instead, so the sustained rate is unchanged.
GRACE_SECONDS = 0.005


#: The Lambda concurrency quota of the benchmark account (see `offline`).
ACCOUNT_CONCURRENCY = 10_000

#: Settings that could point boto3 at a real account or endpoint; `offline` removes them.
_REAL_AWS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")


@contextmanager
def offline(region: str = "us-east-1") -> Iterator[None]:
    """`emulated_aws()` (fresh, empty moto state) with fake credentials and no profile, config
    file or endpoint URL that could lead a client to a real account; the environment is restored
    afterwards.

    The account's Lambda concurrency quota is `ACCOUNT_CONCURRENCY`, not AWS's default 1000: the
    benchmark fleets reserve more than 900 between their functions (the target fleet 1,650, the
    largest 5,500), which an account running that many functions has asked AWS to raise its quota
    for (a routine Service Quotas increase)."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name in _REAL_AWS or name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    try:
        with emulated_aws(), behaviour(lambda_account_concurrency=ACCOUNT_CONCURRENCY):
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# --- quotas -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quota:
    """A request-rate quota: `operation` "*" covers the service's calls without a quota of their
    own. `source` says whether AWS publishes the figure or it is assumed. `shared_by`: every
    operation of the description's quota (SSM's GetParameter, GetParameters and
    GetParametersByPath share one), which share one bucket (`name`)."""

    service: str
    operation: str
    rate: float
    burst: int
    source: str
    shared_by: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.service}:{'+'.join(self.shared_by) or self.operation}"


QUOTAS: tuple[Quota, ...] = tuple(
    Quota(
        quota.service,
        operation,
        quota.rate,
        quota.burst,
        quota.source,
        tuple(sorted(quota.operations)),
    )
    for service in services()
    for quota in service.quotas
    for operation in sorted(quota.operations) or ["*"]
)

#: Operations no control-plane quota covers (Lambda's data plane).
UNLIMITED = frozenset({("lambda", "Invoke"), ("lambda", "InvokeWithResponseStream")})


def quota_for(quotas: Iterable[Quota], service: str, operation: str) -> Quota | None:
    """The quota a request counts against: its operation's own, else its service's shared one."""
    if (service, operation) in UNLIMITED:
        return None
    shared = None
    for quota in quotas:
        if quota.service != service:
            continue
        if quota.operation == operation:
            return quota
        if quota.operation == "*":
            shared = quota
    return shared


class TokenBucket:
    """`rate` tokens a second up to `burst`, starting full. Thread-safe.

    `take` is the server's check (never waits; within `grace` seconds of a token it lends one, and
    the debt delays the next); `acquire` is a client pacing itself (waits until a token is there).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        grace: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._floor = 1.0 - rate * grace
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._at = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        return self._tokens

    def take(self) -> bool:
        with self._lock:
            if self._refill() < self._floor:
                return False
            self._tokens -= 1.0
            return True

    def acquire(self) -> None:
        while True:
            with self._lock:
                tokens = self._refill()
                if tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - tokens) / self.rate
            self._sleep(wait)

    def reset(self) -> None:
        with self._lock:
            self._tokens = float(self.burst)
            self._at = self._clock()


# --- errors -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """How to answer one request instead of moto: an AWS error (`code` with HTTP `status`), and/or
    `delay` seconds more than the latency. With `code` None the request is only delayed."""

    code: str | None = None
    status: int = 400
    message: str = "Injected fault"
    delay: float = 0.0


#: Each service's real answer beyond its quota.
THROTTLING: Mapping[str, Fault] = {
    service.name: Fault(service.throttling[1], service.throttling[0], "Rate exceeded")
    for service in services()
}

_BAD_TOKEN: Mapping[str, str] = {
    "lambda": "InvalidParameterValueException",
    "cloudwatch": "InvalidNextToken",
    "rds": "InvalidParameterValue",
    "budgets": "InvalidNextTokenException",
}


def error_response(model: Any, fault: Fault, url: str) -> AWSResponse:
    """An HTTP answer carrying `fault` in the wire format of the operation's protocol."""
    assert fault.code is not None
    service = model.service_model
    protocol = service.resolved_protocol
    headers = HTTPHeaders()
    request_id = str(uuid.uuid4())
    headers["x-amzn-RequestId"] = request_id
    if protocol == "rest-json":
        headers["Content-Type"] = "application/json"
        headers["x-amzn-ErrorType"] = fault.code
        body = json.dumps({"Type": "User", "message": fault.message})
    elif protocol == "json":
        headers["Content-Type"] = f"application/x-amz-json-{service.metadata.get('jsonVersion')}"
        if "awsQueryCompatible" in service.metadata:  # CloudWatch: the Query-era code
            side = "Receiver" if fault.status >= 500 else "Sender"
            headers["x-amzn-query-error"] = f"{fault.code};{side}"
        body = json.dumps({"__type": fault.code, "message": fault.message})
    elif protocol == "query":
        headers["Content-Type"] = "text/xml"
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{escape(fault.code)}</Code><Message>{escape(fault.message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    else:
        raise NotImplementedError(f"the simulator cannot answer in the {protocol} protocol")
    return AWSResponse(url, fault.status, headers, MockRawResponse(body))


# --- paging -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paging:
    """How AWS pages one list operation. `emulated`: moto returns everything in one answer, so
    the simulator takes the paging parameters away from moto and slices the answer itself."""

    size: str
    token_in: str
    token_out: str
    items: tuple[str, ...]
    default: int
    maximum: int
    emulated: bool


PAGING: Mapping[tuple[str, str], Paging] = {
    ("lambda", "ListFunctions"): Paging(
        "MaxItems", "Marker", "NextMarker", ("Functions",), 50, 50, emulated=True
    ),
    ("cloudwatch", "DescribeAlarms"): Paging(
        "MaxRecords",
        "NextToken",
        "NextToken",
        ("MetricAlarms", "CompositeAlarms"),
        50,
        100,
        emulated=True,
    ),
    ("rds", "DescribeDBClusters"): Paging(
        "MaxRecords", "Marker", "Marker", ("DBClusters",), 100, 100, emulated=True
    ),
    ("budgets", "DescribeBudgets"): Paging(
        "MaxResults", "NextToken", "NextToken", ("Budgets",), 100, 1000, emulated=True
    ),
    ("budgets", "DescribeBudgetNotificationsForAccount"): Paging(
        "MaxResults",
        "NextToken",
        "NextToken",
        ("BudgetNotificationsForAccount",),
        50,
        1000,
        emulated=False,
    ),
    ("budgets", "DescribeSubscribersForNotification"): Paging(
        "MaxResults", "NextToken", "NextToken", ("Subscribers",), 100, 100, emulated=False
    ),
    ("resourcegroupstaggingapi", "GetResources"): Paging(
        "ResourcesPerPage",
        "PaginationToken",
        "PaginationToken",
        ("ResourceTagMappingList",),
        50,
        100,
        emulated=False,
    ),
}
#: `DescribeAlarms` refuses more names than this (botocore does not check the list's length).
MAX_ALARM_NAMES = 100


@dataclass(frozen=True)
class BatchLimit:
    """A list parameter AWS caps (botocore's model states the cap but does not enforce it):
    `path` leads to the list, through a list of filters when its first step is one."""

    path: tuple[str, ...]
    maximum: int
    field: str  # as AWS names it in its validation error


#: What AWS refuses beyond its batch size, so neither the engine nor the ideal reader can count
#: a call AWS would refuse (botocore service models: `DescribeLogGroupsLogGroupIdentifiers` max
#: 50, `ParameterNameList` max 10, `ParameterStringFilterValueList` max 50,
#: `ResourceIdsMaxLen1600` max 50; DescribeServices "up to 10 services … in a single operation").
BATCH_LIMITS: Mapping[tuple[str, str], BatchLimit] = {
    ("cloudwatch", "DescribeAlarms"): BatchLimit(("AlarmNames",), MAX_ALARM_NAMES, "alarmNames"),
    ("logs", "DescribeLogGroups"): BatchLimit(("logGroupIdentifiers",), 50, "logGroupIdentifiers"),
    ("ssm", "GetParameters"): BatchLimit(("Names",), 10, "names"),
    ("ssm", "DescribeParameters"): BatchLimit(
        ("ParameterFilters", "Values"), 50, "parameterFilters.member.values"
    ),
    ("ecs", "DescribeServices"): BatchLimit(("services",), 10, "services"),
    ("application-autoscaling", "DescribeScalableTargets"): BatchLimit(
        ("ResourceIds",), 50, "resourceIds"
    ),
}


def _longest(params: Mapping[str, Any], path: tuple[str, ...]) -> int:
    """The length of the list at `path` (the longest one when the path runs through a list)."""
    value: Any = params.get(path[0])
    if len(path) == 1:
        return len(value or [])
    return max((_longest(item, path[1:]) for item in value or []), default=0)


# --- records ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request as an `Injector` sees it: the API parameters the caller passed, and which try
    this is (1, then 2… for botocore's retries of the same call)."""

    service: str
    operation: str
    params: Mapping[str, Any]
    attempt: int


#: Sees every request before it is answered; returns a `Fault`, None (answer normally), or
#: raises a botocore `HTTPClientError` to fail the connection.
Injector = Callable[[Call], Fault | None]


@dataclass(frozen=True)
class CallRecord:
    """One request sent: when, and how it was answered (`ok`, `throttled`, or the error code)."""

    service: str
    operation: str
    started: float
    ended: float
    outcome: str

    @property
    def key(self) -> tuple[str, str]:
        return self.service, self.operation


@dataclass(frozen=True)
class Stats:
    """Every request recorded since the last `Simulator.reset`."""

    records: tuple[CallRecord, ...] = ()
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    throttled: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def total_throttled(self) -> int:
        return sum(self.throttled.values())

    def writes(self) -> Counter[tuple[str, str]]:
        """Write requests AWS accepted (not Get, Describe or List; not throttled or refused)."""
        return Counter(
            r.key for r in self.records if r.outcome == "ok" and not r.operation.startswith(_READS)
        )


_READS = ("Get", "Describe", "List")

_CALL = "reconciler.simulator.call"
_PAGE = "reconciler.simulator.page"
_REFUSAL = "reconciler.simulator.refusal"


class Simulator:
    """Latency, quotas, paging, fault injection and a call log in front of in-process moto.

    Only clients from `session()` (or `clients()`) go through it; plain boto3 clients still reach
    moto directly, which is how fleets are created without being counted or throttled. It must be
    used inside `emulated_aws()`: a request moto does not answer is an error, never a network call.
    """

    def __init__(
        self,
        *,
        latency: float = DEFAULT_LATENCY,
        quotas: Sequence[Quota] = QUOTAS,
        inject: Injector | None = None,
        grace: float = GRACE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock`: the quotas' time (a test that counts a burst freezes it, so a slow machine
        cannot refill a bucket between two calls)."""
        self.latency = latency
        self.quotas = tuple(quotas)
        self.inject = inject
        self._buckets = {
            quota.name: TokenBucket(quota.rate, quota.burst, grace=grace, clock=clock)
            for quota in self.quotas
        }
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []

    # --- wiring ---------------------------------------------------------------------------------

    def session(self, region: str = "us-east-1", *, paced: bool = False) -> boto3.Session:
        """A fresh boto3 session whose clients go through the simulator instead of straight to
        moto (moto's own `before-send` hook is replaced by ours, which calls it).

        `paced`: the session's clients pace themselves exactly to the quotas, waiting for a token
        of a client-side copy of each bucket (`pacers`, full when the session is made) at the last
        moment before a request is sent: what an ideal client does, so it is never throttled.
        """
        core = botocore.session.Session()
        core.unregister("before-send", botocore_stubber)
        core.register("before-parameter-build", self._before_parameter_build)
        if paced:
            core.register("before-send", functools.partial(self._pace, self.pacers()))
        core.register("before-send", self._before_send)
        core.register("after-call", self._after_call)
        return boto3.Session(botocore_session=core, region_name=region)

    def clients(self, region: str = "us-east-1", *, paced: bool = False) -> Clients:
        """The engine's `Clients` on a fresh simulator `session`, with the engine's retry config:
        paced by the engine's own `Pacer`, or with `paced` by the session's exact pacers only
        (the ideal client waits for one token a request, not for two)."""
        return Clients(
            region,
            session=self.session(region, paced=paced),
            config=RETRY_CONFIG,
            pacing=not paced,
        )

    def pacers(self) -> dict[str, TokenBucket]:
        """Client-side buckets replicating every quota, full: a caller that `acquire`s from the
        right one before each request is never throttled."""
        return {q.name: TokenBucket(q.rate, q.burst) for q in self.quotas}

    def quota(self, service: str, operation: str) -> Quota | None:
        return quota_for(self.quotas, service, operation)

    def reset(self) -> None:
        """Refill every bucket and forget every record (as after a quiet minute in AWS)."""
        with self._lock:
            self._records.clear()
        for bucket in self._buckets.values():
            bucket.reset()

    def stats(self) -> Stats:
        with self._lock:
            records = tuple(self._records)
        calls: Counter[tuple[str, str]] = Counter(r.key for r in records)
        throttled: Counter[tuple[str, str]] = Counter(
            r.key for r in records if r.outcome == "throttled"
        )
        return Stats(records, calls, throttled)

    # --- botocore event handlers -----------------------------------------------------------

    def _before_parameter_build(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        """Note the call; take paging away from moto where moto ignores it; refuse what AWS
        refuses (more names than a batch read takes, a page token AWS never gave)."""
        service, operation = model.service_model.service_name, model.name
        context[_CALL] = (service, operation, dict(params), model)
        limit = BATCH_LIMITS.get((service, operation))
        if limit is not None and (count := _longest(params, limit.path)) > limit.maximum:
            context[_REFUSAL] = Fault(
                "ValidationException" if service != "cloudwatch" else "ValidationError",
                400,
                f"1 validation error detected: Value at '{limit.field}' failed to satisfy "
                f"constraint: Member must have length less than or equal to "
                f"{limit.maximum} (got {count})",
            )
        paging = PAGING.get((service, operation))
        if paging is None:
            return
        size = min(int(params.get(paging.size) or paging.default), paging.maximum)
        if not paging.emulated:
            params[paging.size] = size
            if operation == "GetResources":
                # moto closes a page one tag early (`>=`); one more gives AWS's count.
                params["TagsPerPage"] = min(int(params.get("TagsPerPage") or 100) + 1, 500)
            return
        params.pop(paging.size, None)
        token = params.pop(paging.token_in, None)
        offset = 0
        if token:
            offset = _offset(token, operation)
            if offset is None:
                context[_REFUSAL] = Fault(
                    _BAD_TOKEN.get(service, "InvalidParameterValue"),
                    400,
                    f"Invalid pagination token: {token}",
                )
                return
        context[_PAGE] = (paging, offset, size)

    def _pace(
        self, pacers: Mapping[str, TokenBucket], request: AWSPreparedRequest, **_: Any
    ) -> None:
        service, operation = request.context[_CALL][:2]
        quota = self.quota(service, operation)
        if quota is not None:
            pacers[quota.name].acquire()

    def _before_send(
        self, request: AWSPreparedRequest, event_name: str, **kwargs: Any
    ) -> AWSResponse:
        context = request.context
        service, operation, params, model = context[_CALL]
        attempt = int(context.get("retries", {}).get("attempt", 1))
        started = time.monotonic()
        outcome = "ok"
        try:
            fault = self._verdict(service, operation, params, attempt, context)
            if fault is not None and fault.code is not None:
                outcome = "throttled" if fault is THROTTLING.get(service) else fault.code
            delay = self.latency + (fault.delay if fault is not None else 0.0)
            if delay > 0:
                time.sleep(delay)
            if fault is not None and fault.code is not None:
                return error_response(model, fault, request.url)
            response = botocore_stubber(event_name, request, **kwargs)
            if response is None:
                raise RuntimeError(
                    f"moto did not answer {service}.{operation}: the simulator only runs inside "
                    "reconciler.emulator.emulated_aws() and never sends a request to the network"
                )
            if response.status_code >= 300:
                outcome = f"http {response.status_code}"
            return response
        except Exception as exc:
            outcome = type(exc).__name__
            raise
        finally:
            record = CallRecord(service, operation, started, time.monotonic(), outcome)
            with self._lock:
                self._records.append(record)

    def _verdict(
        self,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        attempt: int,
        context: Mapping[str, Any],
    ) -> Fault | None:
        """The quota first (AWS throttles before it looks at a request), then AWS's refusals,
        then the injected faults."""
        quota = self.quota(service, operation)
        if quota is not None and not self._buckets[quota.name].take():
            return THROTTLING[service]
        refusal: Fault | None = context.get(_REFUSAL)
        if refusal is not None:
            return refusal
        if self.inject is not None:
            return self.inject(Call(service, operation, params, attempt))
        return None

    def _after_call(
        self, http_response: Any, parsed: dict[str, Any], context: Mapping[str, Any], **_: Any
    ) -> None:
        """Cut moto's whole answer down to the page AWS would have sent, with its token."""
        page = context.get(_PAGE)
        if page is None or http_response.status_code >= 300:
            return
        paging, offset, size = page
        items = [(key, item) for key in paging.items for item in parsed.get(key) or []]
        chosen = items[offset : offset + size]
        for key in paging.items:
            if key in parsed:
                parsed[key] = [item for owner, item in chosen if owner == key]
        if offset + size < len(items):
            operation = context[_CALL][1]
            parsed[paging.token_out] = f"sim:{operation}:{offset + size}"
        else:
            parsed.pop(paging.token_out, None)


def _offset(token: str, operation: str) -> int | None:
    prefix = f"sim:{operation}:"
    if not token.startswith(prefix) or not token[len(prefix) :].isdigit():
        return None
    return int(token[len(prefix) :])


# --- profile ------------------------------------------------------------------------------------


def concurrency(records: Sequence[CallRecord]) -> tuple[int, float]:
    """(peak, mean) requests in flight over the span from the first start to the last end."""
    if not records:
        return 0, 0.0
    events = sorted([(r.started, 1) for r in records] + [(r.ended, -1) for r in records])
    peak = level = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    span = max(r.ended for r in records) - min(r.started for r in records)
    busy = sum(r.ended - r.started for r in records)
    return peak, (busy / span if span > 0 else float(len(records)))


def profile(stats: Stats, origin: float | None = None) -> dict[str, dict[str, Any]]:
    """Per operation: requests, throttled answers, concurrency achieved, and when (seconds from
    `origin`, default the first request) its first request started and its last one ended."""
    if not stats.records:
        return {}
    origin = min(r.started for r in stats.records) if origin is None else origin
    by_key: dict[tuple[str, str], list[CallRecord]] = {}
    for record in stats.records:
        by_key.setdefault(record.key, []).append(record)
    result: dict[str, dict[str, Any]] = {}
    for key in sorted(by_key):
        records = by_key[key]
        peak, mean = concurrency(records)
        result[f"{key[0]}.{key[1]}"] = {
            "calls": len(records),
            "throttled": stats.throttled[key],
            "peak_in_flight": peak,
            "mean_in_flight": round(mean, 2),
            "first_s": round(min(r.started for r in records) - origin, 3),
            "last_s": round(max(r.ended for r in records) - origin, 3),
        }
    return result
