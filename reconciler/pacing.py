"""Client-side pacing: one token bucket per AWS request-rate quota, so that the engine waits for
its turn instead of being throttled.

AWS meters control-plane calls per account and region with token buckets: a bucket holds up to
`burst` requests and refills at `rate` a second, and a request finding it empty is answered with a
throttling error. The engine keeps a copy of each bucket on its side (`Pacer`) and takes a token
just before every request is sent (retries included), so in steady state AWS never has a reason to
throttle it; botocore's retries (`reconciler.aws.RETRY_CONFIG`) stay the last resort for what the
engine cannot see, such as another tool spending the same quota.

The figures (`QUOTAS`) come from the kinds' descriptions (each kind's `Service`, in
`reconciler/kinds/<kind>/__init__.py`), so a new kind's calls are paced from the day it is added.
Today, requests per second:

    Lambda      GetFunction 100 (AWS); every other control-plane call shares 15 (AWS)
    CloudWatch  DescribeAlarms 9, PutMetricAlarm 3, DeleteAlarms 3 (AWS); any other call 3
                (assumed: the smallest figure AWS publishes for alarm operations)
    RDS         12, burst 300, shared by every call (AWS)
    Budgets     5 (assumed: AWS publishes no figure)
    Tagging     5 (assumed: AWS publishes no figure for the Resource Groups Tagging API)
    DynamoDB    2,500 shared by every control-plane call (AWS; burst assumed)
    Logs        DescribeLogGroups, CreateLogGroup 5 each (AWS); ListTagsForResource,
                PutRetentionPolicy, DeleteRetentionPolicy, TagResource and any other call 5 each
                (assumed: the figure AWS gives the log-group calls it lists)
    API GW v2   10, burst 40, shared by every call (AWS)
    SSM         GetParameter, GetParameters, GetParametersByPath share 40 (AWS); PutParameter 3
                (AWS Support, unpublished); DescribeParameters 2 and any other call 5 (assumed)
    ECS         DescribeServices 20 burst 100, DescribeTaskDefinition 20 burst 50, UpdateService
                5 burst 15, RegisterTaskDefinition 1 burst 5 (AWS); any other call 1 burst 5
                (assumed)
    App AS      5 shared (assumed: Application Auto Scaling publishes no request rate)
    STS         not paced (one call a run)

AWS publishes a burst only for RDS, API Gateway and ECS; elsewhere one second's worth is
assumed. The buckets start
full. Pacing is per `Pacer`, and `reconciler.aws.Clients` makes one per set of clients: two
processes (or two `Clients`) on one account share AWS's quota but not their pacers.

The environment variable `RECONCILER_PACING` adjusts the default pacer (`from_environment`):
`off` turns pacing off, a number scales every quota (2 for an account whose quotas were raised
to twice the defaults; tests that run whole deployments on an emulator use a large one).

Nothing here imports boto3: a pacer hooks onto a client through its event system.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from reconciler.kinds import services
from reconciler.kinds.description import Quota

__all__ = ["PACING_VARIABLE", "QUOTAS", "Pacer", "Quota", "TokenBucket", "from_environment"]

#: Every quota of every service a run calls, as the kinds describe them.
QUOTAS: tuple[Quota, ...] = tuple(quota for service in services() for quota in service.quotas)


class TokenBucket:
    """`rate` tokens a second, holding at most `burst`; starts full. Thread-safe.

    `acquire` reserves the next token and sleeps until it is due, so waiting callers are served in
    the order they asked, none spins, and the bucket never hands out more than AWS's copy allows.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a bucket needs a positive rate and burst (got {rate}, {burst})")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._at = clock()

    def reserve(self) -> float:
        """Take the next token: how many seconds from now it is due (0 when one is there)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
            self._at = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Wait for a token; the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


class Pacer:
    """A bucket per quota in `quotas`, each scaled by `scale` (rate and burst): 1 paces to AWS's
    figures, a large scale (tests) keeps the code path without the waiting.

    `attach` hooks a boto3 client so that every request it sends, retries included, first takes a
    token from its quota's bucket; calls of services without a quota pass straight through.
    """

    def __init__(
        self,
        quotas: Iterable[Quota] = QUOTAS,
        *,
        scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if scale <= 0:
            raise ValueError(f"scale must be positive (got {scale})")
        self.quotas = tuple(quotas)
        self.scale = scale
        self._buckets = {
            quota: TokenBucket(
                quota.rate * scale,
                max(1, math.floor(quota.burst * scale)),
                clock=clock,
                sleep=sleep,
            )
            for quota in self.quotas
        }
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for tokens, all threads together
        self.requests = 0  # requests paced

    def quota(self, service: str, operation: str) -> Quota | None:
        """The quota a call counts against: its operation's own, else its service's shared one."""
        shared = None
        for quota in self.quotas:
            if quota.service != service:
                continue
            if operation in quota.operations:
                return quota
            if not quota.operations:
                shared = quota
        return shared

    def bucket(self, service: str, operation: str) -> TokenBucket | None:
        quota = self.quota(service, operation)
        return None if quota is None else self._buckets[quota]

    def wait(self, service: str, operation: str) -> float:
        """Take a token for one request of `service` `operation`, waiting if need be; seconds
        waited."""
        bucket = self.bucket(service, operation)
        if bucket is None:
            return 0.0
        waited = bucket.acquire()
        with self._lock:
            self.requests += 1
            self.waited += waited
        return waited

    def attach(self, client: Any) -> None:
        """Pace every request `client` sends. Runs first among `before-send` handlers, the last
        moment before a request leaves (after signing, and again for each retry)."""
        model = client.meta.service_model
        service = model.service_name
        if not any(quota.service == service for quota in self.quotas):
            return

        def pace(event_name: str, **_: Any) -> None:
            self.wait(service, event_name.rsplit(".", 1)[-1])

        client.meta.events.register_first(f"before-send.{model.service_id.hyphenize()}", pace)


#: The environment variable that adjusts the default pacer: `off`, or a scale such as `2`.
PACING_VARIABLE = "RECONCILER_PACING"


def from_environment(value: str | None = None) -> Pacer | None:
    """The default pacer as `RECONCILER_PACING` (or `value`) asks: None for `off`, AWS's quotas
    times the number it holds, AWS's quotas when it is unset or `on`."""
    setting = (os.environ.get(PACING_VARIABLE, "") if value is None else value).strip().lower()
    if setting in ("", "on", "true", "1"):
        return Pacer()
    if setting in ("off", "false", "0", "none"):
        return None
    try:
        scale = float(setting)
    except ValueError:
        scale = math.nan
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(
            f"{PACING_VARIABLE}={setting!r}: use 'off', 'on' or a positive number (a scale)"
        )
    return Pacer(scale=scale)
