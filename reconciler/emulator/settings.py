"""How closely the emulator follows AWS where moto is quicker or more lenient: one settings object.

moto answers instantly and accepts more than AWS does. The emulator's realism (see
``reconciler/emulator/README.md``) is governed by one frozen :class:`Behaviour`, process-wide so
that a moto server thread sees what the test set. Everything is on by default, with short
durations so tests stay fast::

    from reconciler.emulator import behaviour

    with behaviour(lambda_update_reads=3, lambda_tags_denied=True):
        ...  # three reads see InProgress after each update; GetFunction answers TagsError

    configure(Behaviour.moto())  # moto's own behaviour, for comparison

``RECONCILER_EMULATOR=moto`` in the environment makes :meth:`Behaviour.moto` the starting point
of the process (``RECONCILER_EMULATOR=moto make test`` runs the suite without the realism).

Durations are counted in reads, not seconds, so tests are deterministic: a change stays pending
for the next *n* requests that look at it (a read, or a write refused because of it), then
completes. ``pending_seconds`` adds a wall-clock bound for people watching the demo: a pending
change also completes once that many seconds have passed, whichever comes first.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["Behaviour", "Pending", "behaviour", "configure", "current"]

#: The environment variable that starts a process with moto's own behaviour (``moto``).
ENV_VAR = "RECONCILER_EMULATOR"


@dataclass(frozen=True)
class Behaviour:
    """Every realism switch and duration of the emulator. Counts are reads (see the module doc);
    0 turns a delay off, ``False`` a rule."""

    # Lambda: LastUpdateStatus InProgress (and 409 to other writes) after UpdateFunctionCode or
    # UpdateFunctionConfiguration, for this many reads of $LATEST.
    lambda_update_reads: int = 1
    # Lambda: State Pending (and 409 to writes) after CreateFunction, for this many reads. Off by
    # default: test fixtures create functions and publish versions at once, as no engine does.
    lambda_create_reads: int = 0
    # Lambda: environment variable names, reserved keys and the 4 KB total.
    lambda_environment_rules: bool = True
    # Lambda: GetFunction answers TagsError instead of Tags, ListTags AccessDeniedException, as
    # for a caller without lambda:ListTags (the emulator cannot know IAM: tests switch it on).
    lambda_tags_denied: bool = False
    # Lambda: the account's concurrency (AWS's default quota); reservations and provisioned
    # concurrency of unreserved functions must leave 100 unreserved. None: no account quota.
    # ``MOTO_LAMBDA_CONCURRENCY_QUOTA``, when set, wins (moto's own switch).
    lambda_account_concurrency: int | None = 1000
    # Lambda: a provisioned concurrency config stays IN_PROGRESS for this many reads after a put
    # or after its alias moved to another version (the alias carries routing weights meanwhile).
    provisioning_reads: int = 1
    # Lambda: PutProvisionedConcurrencyConfig refuses an alias with routing weights.
    weighted_alias_rule: bool = True
    # CloudWatch: ListTagsForResource of a missing alarm raises ResourceNotFoundException.
    cloudwatch_missing_alarm_error: bool = True
    # CloudWatch: PutMetricAlarm checks periods, the evaluation window, extended statistics and
    # DatapointsToAlarm, and ignores Tags when it updates an existing alarm.
    cloudwatch_alarm_rules: bool = True
    # CloudWatch Logs: DescribeLogGroups honours logGroupIdentifiers; the tagging calls refuse a
    # log group ARN ending in `:*` and the ARN of a missing group; PutRetentionPolicy takes only
    # AWS's numbers of days.
    logs_rules: bool = True
    # RDS: a cluster stays `modifying` for this many describes after ModifyDBCluster; a second
    # modify meanwhile fails with InvalidDBClusterStateFault.
    rds_modify_reads: int = 1
    # RDS: ServerlessV2ScalingConfiguration ranges, by engine version; CreateDBCluster without
    # EngineVersion gets a version AWS offers today instead of moto's retired default.
    rds_capacity_rules: bool = True
    # RDS: ModifyDBInstance(ApplyImmediately=False) queues DBInstanceClass, MultiAZ and a backup
    # retention turned on or off in PendingModifiedValues for the maintenance window.
    rds_pending_modifications: bool = True
    # RDS: an instance stays `modifying` for this many describes after an immediate
    # ModifyDBInstance; a second modify meanwhile fails with InvalidDBInstanceState.
    rds_instance_modify_reads: int = 1
    # ECS: a deployment started by UpdateService (a new task definition, or forceNewDeployment)
    # stays rolloutState IN_PROGRESS for this many DescribeServices that include the service.
    ecs_rollout_reads: int = 1
    # ECS: a deployment of a task definition with one of these images fails (rolloutState FAILED,
    # the deployment circuit breaker's reason) instead of completing.
    ecs_failing_images: tuple[str, ...] = ()
    # ECS: a failed deployment is rolled back (the circuit breaker's rollback: true): a new
    # PRIMARY deployment of the previous task definition, the failed one listed beside it.
    ecs_rollback_on_failure: bool = False
    # ECS: RegisterTaskDefinition keeps the members moto drops and answers registeredAt.
    ecs_task_definition_fields: bool = True
    # Budgets: subscriber limits on CreateBudget, RI/Savings Plans limits, FilterExpression shown
    # only on request, CostFilters and FilterExpression not mixed.
    budgets_rules: bool = True
    # DynamoDB: a table stays UPDATING for this many DescribeTable after UpdateTable; another
    # UpdateTable meanwhile fails with ResourceInUseException.
    dynamodb_update_reads: int = 1
    # DynamoDB: TTL stays ENABLING / DISABLING for this many DescribeTimeToLive after a change.
    dynamodb_ttl_reads: int = 1
    # DynamoDB: one TTL change per table in this many seconds, no enabling of an enabled TTL or
    # disabling of a disabled one (changes made with the rule off are not counted).
    dynamodb_ttl_rules: bool = True
    dynamodb_ttl_interval_seconds: float = 3600.0
    # DynamoDB: four switches to on-demand per table in 24 hours; capacities only and always
    # with PROVISIONED; on-demand tables report zero capacities.
    dynamodb_billing_rules: bool = True
    # API Gateway v2: route settings name routes the API has; no execution logs on HTTP APIs.
    apigateway_stage_rules: bool = True
    # API Gateway v2: GetApis answers this many APIs a page when the caller sends no maxResults
    # (None: all in one page, as moto does).
    apigateway_page_size: int | None = 25
    # STS: credentials from AssumeRole expire after their DurationSeconds (AWS's default 3600),
    # or after this many seconds / this many requests signed with them when set.
    credentials_expire: bool = True
    credentials_ttl_seconds: float | None = None
    credentials_ttl_requests: int | None = None
    # Wall-clock bound on every pending state above (None: reads only).
    pending_seconds: float | None = None

    @classmethod
    def moto(cls) -> Behaviour:
        """moto's own behaviour: no delays, no extra rules (the extensions' operations stay)."""
        return cls(
            lambda_update_reads=0,
            lambda_create_reads=0,
            lambda_environment_rules=False,
            lambda_tags_denied=False,
            lambda_account_concurrency=None,
            provisioning_reads=0,
            weighted_alias_rule=False,
            cloudwatch_missing_alarm_error=False,
            cloudwatch_alarm_rules=False,
            logs_rules=False,
            rds_modify_reads=0,
            rds_capacity_rules=False,
            rds_pending_modifications=False,
            rds_instance_modify_reads=0,
            budgets_rules=False,
            dynamodb_update_reads=0,
            dynamodb_ttl_reads=0,
            dynamodb_ttl_rules=False,
            dynamodb_ttl_interval_seconds=0,
            dynamodb_billing_rules=False,
            apigateway_stage_rules=False,
            apigateway_page_size=None,
            ecs_rollout_reads=0,
            ecs_task_definition_fields=False,
            credentials_expire=False,
        )


def _initial() -> Behaviour:
    return Behaviour.moto() if os.environ.get(ENV_VAR, "").lower() == "moto" else Behaviour()


_lock = threading.Lock()
_current = _initial()


def current() -> Behaviour:
    """The behaviour in force now (read on every emulated request)."""
    return _current


def configure(new: Behaviour) -> Behaviour:
    """Put `new` in force for the whole process; returns the one it replaces."""
    global _current  # one process-wide setting, shared with server threads
    with _lock:
        old, _current = _current, new
    return old


@contextmanager
def behaviour(base: Behaviour | None = None, **changes: Any) -> Iterator[Behaviour]:
    """Run a block with `base` (default: the current behaviour) changed by `changes`."""
    new = replace(base or current(), **changes)
    old = configure(new)
    try:
        yield new
    finally:
        configure(old)


class Pending:
    """A change still under way: it completes after `reads` looks, or `seconds` if set.

    :meth:`look` is one request looking at it: it answers whether that request still sees the
    change under way, and uses up one read. So ``Pending(1)`` is seen pending once, then done.
    """

    __slots__ = ("_deadline", "_reads")

    def __init__(self, reads: int, seconds: float | None = None) -> None:
        self._reads = max(0, reads)
        self._deadline = None if seconds is None else time.monotonic() + seconds

    @classmethod
    def start(cls, reads: int) -> Pending | None:
        """A pending change lasting `reads` looks (bounded by ``pending_seconds``); None for 0."""
        if reads <= 0:
            return None
        return cls(reads, current().pending_seconds)

    @property
    def done(self) -> bool:
        """Whether the change has completed (without counting a look)."""
        expired = self._deadline is not None and time.monotonic() >= self._deadline
        return self._reads <= 0 or expired

    def look(self) -> bool:
        """One request looks: True while it still sees the change under way."""
        if self.done:
            return False
        self._reads -= 1
        return True
