"""DynamoDB tables as AWS updates them: not at once, not as often as asked, and billing as billed.

Rules kept from AWS (botocore ``dynamodb/2012-08-10``; the DynamoDB developer guide), where moto
answers every update at once and accepts any number of them:

- ``UpdateTable`` "is an asynchronous operation; while it's executing, the table status changes
  from ``ACTIVE`` to ``UPDATING``. While it's ``UPDATING``, you can't issue another
  ``UpdateTable`` request" (the operation's documentation): the table is ``UPDATING`` for the
  next ``Behaviour.dynamodb_update_reads`` ``DescribeTable`` of it, and an ``UpdateTable``
  meanwhile (itself a look) -> ``ResourceInUseException`` (400). moto is ``ACTIVE`` at once.
- Billing mode (``Behaviour.dynamodb_billing_rules``): "You can switch tables from provisioned
  capacity mode to on-demand mode up to four times in a 24-hour rolling window. You can switch
  tables from on-demand mode to provisioned capacity mode at any time." (developer guide,
  "Considerations when switching capacity modes"); a fifth switch ->
  ``LimitExceededException`` (400) "Subscriber limit exceeded: Update to PayPerRequest mode are
  limited to 4 times in 1 day(s)." (AWS's wording for the older one-a-day rule is quoted in
  aws-amplify/amplify-cli#1054). An on-demand table reports ``ProvisionedThroughput`` of 0 and
  ``BillingModeSummary.LastUpdateToPayPerRequestDateTime``, kept after a switch back (moto kept
  the old capacities and no date).
  ``BillingMode: PROVISIONED`` from on-demand without ``ProvisionedThroughput``, or
  ``ProvisionedThroughput`` for an on-demand table, -> ``ValidationException`` with AWS's texts
  ("One or more parameter values were invalid: ...", quoted in
  circles-learning-labs/ecto_adapters_dynamodb#11 and dynamoose/dynamoose#1406).
- Time to Live (``Behaviour.dynamodb_ttl_rules``): "It can take up to one hour for the change to
  fully process. Any additional UpdateTimeToLive calls for the same table during this one hour
  duration result in a ValidationException." (``UpdateTimeToLive``'s documentation): a second
  change within ``dynamodb_ttl_interval_seconds`` (3,600) -> ``ValidationException`` "Time to
  live has been modified multiple times within a fixed interval". Enabling TTL while it is on
  (``TimeToLive is already enabled``, or on another attribute: ``TimeToLive is active on a
  different AttributeName: current AttributeName is X``) and disabling it while it is off
  (``TimeToLive is already disabled``) -> ``ValidationException``. With the rule off, changes are
  not counted (test fixtures set TTL up with it off).
- After ``UpdateTimeToLive`` the status is ``ENABLING`` / ``DISABLING`` for the next
  ``Behaviour.dynamodb_ttl_reads`` ``DescribeTimeToLive``, then ``ENABLED`` / ``DISABLED``; a
  disabled table reports no ``AttributeName``. TTL of a missing table ->
  ``ResourceNotFoundException`` (moto answered ``ResourceNotFound``).
- ``TagResource`` replaces the value of a key the table already has (moto added a duplicate).

The wording of the messages not quoted above is the emulator's, in AWS's form.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

from moto.dynamodb.exceptions import (
    DynamodbException,
    MockValidationException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from reconciler.emulator.settings import Pending, current

_MARKER: Final = "_reconciler_emulator_dynamodb"
_UPDATING: Final = "_reconciler_updating"
_TTL_PENDING: Final = "_reconciler_ttl_pending"
_TTL_CHANGED: Final = "_reconciler_ttl_changed"
_SWITCHES: Final = "_reconciler_pay_per_request_switches"
_SWITCHED_AT: Final = "_reconciler_pay_per_request_at"
#: Switches to on-demand a table may make in `_WINDOW` seconds (the developer guide's figure).
SWITCHES_TO_ON_DEMAND: Final = 4
_WINDOW: Final = 24 * 3600.0
_ON: Final = frozenset({"ENABLED", "ENABLING"})

#: The clock the hour and 24-hour windows are measured on (tests move it).
clock: Callable[[], float] = time.time


class LimitExceededException(DynamodbException):
    error_type = "com.amazonaws.dynamodb.v20120810#LimitExceededException"

    def __init__(self, message: str) -> None:
        super().__init__(LimitExceededException.error_type, message=message)


def _table(backend: DynamoDBBackend, name: str) -> Table:
    table = backend.tables.get(name)
    if table is None:
        raise ResourceNotFoundException(table_name=name)
    return table


def _check_billing(table: Table, mode: str | None, throughput: Any) -> None:
    """AWS's rules on a billing-mode switch and on capacities (see the module doc)."""
    was = table.billing_mode or "PROVISIONED"
    now = mode or was
    if now == "PROVISIONED" and was == "PAY_PER_REQUEST" and not throughput:
        raise MockValidationException(
            "One or more parameter values were invalid: ProvisionedThroughput must be specified "
            "when BillingMode is PROVISIONED"
        )
    if now == "PAY_PER_REQUEST" and throughput:
        raise MockValidationException(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
            "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
        )
    if now == "PAY_PER_REQUEST" and was != "PAY_PER_REQUEST":
        recent = [at for at in vars(table).get(_SWITCHES, []) if at > clock() - _WINDOW]
        if len(recent) >= SWITCHES_TO_ON_DEMAND:
            raise LimitExceededException(
                "Subscriber limit exceeded: Update to PayPerRequest mode are limited to "
                f"{SWITCHES_TO_ON_DEMAND} times in 1 day(s)."
            )
        vars(table)[_SWITCHES] = [*recent, clock()]


def _check_ttl(table: Table, spec: dict[str, Any]) -> None:
    """AWS's rules on a TTL change (see the module doc)."""
    status = table.ttl.get("TimeToLiveStatus", "DISABLED")
    attribute = table.ttl.get("AttributeName")
    if spec.get("Enabled") and status in _ON:
        if attribute == spec.get("AttributeName"):
            raise MockValidationException("TimeToLive is already enabled")
        raise MockValidationException(
            f"TimeToLive is active on a different AttributeName: current AttributeName is "
            f"{attribute}"
        )
    if not spec.get("Enabled") and status not in _ON:
        raise MockValidationException("TimeToLive is already disabled")
    changed = vars(table).get(_TTL_CHANGED)
    if changed is not None and clock() - changed < current().dynamodb_ttl_interval_seconds:
        raise MockValidationException(
            "Time to live has been modified multiple times within a fixed interval"
        )
    vars(table)[_TTL_CHANGED] = clock()


#: moto's own methods, which the patched ones call.
_original: dict[str, Any] = {}


def _update_table(self: DynamoDBBackend, name: str, *args: Any, **kwargs: Any) -> Table:
    table = _table(self, name)
    pending: Pending | None = vars(table).get(_UPDATING)
    if pending is not None and pending.look():
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table is being updated: {name}"
        )
    mode, throughput = kwargs.get("billing_mode"), kwargs.get("throughput")
    if current().dynamodb_billing_rules:
        _check_billing(table, mode, throughput)
    answer: Table = _original["update_table"](self, name, *args, **kwargs)
    if mode == "PAY_PER_REQUEST":
        answer.throughput = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
        vars(answer)[_SWITCHED_AT] = clock()
    if throughput or mode == "PAY_PER_REQUEST":
        answer.throughput = {"NumberOfDecreasesToday": 0, **(throughput or answer.throughput)}
    vars(answer).pop(_UPDATING, None)
    started = Pending.start(current().dynamodb_update_reads)
    if started is not None:
        vars(answer)[_UPDATING] = started
    return answer


def _describe_table(self: DynamoDBBackend, name: str) -> dict[str, Any]:
    table = self.tables.get(name)
    pending: Pending | None = None if table is None else vars(table).get(_UPDATING)
    still = pending is not None and pending.look()
    if table is not None and pending is not None and not still:
        vars(table).pop(_UPDATING)
    answer: dict[str, Any] = _original["describe_table"](self, name)
    answer["Table"]["TableStatus"] = "UPDATING" if still else "ACTIVE"
    return answer


def _table_describe(self: Table, base_key: str = "TableDescription") -> dict[str, Any]:
    answer: dict[str, Any] = _original["table_describe"](self, base_key)
    described = answer[base_key]
    if _UPDATING in vars(self):
        described["TableStatus"] = "UPDATING"
    switched = vars(self).get(_SWITCHED_AT)
    if switched is not None:  # kept after a switch back to PROVISIONED
        described["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"] = switched
    return answer


def _update_time_to_live(self: DynamoDBBackend, table_name: str, ttl_spec: Any) -> None:
    table = _table(self, table_name)
    if current().dynamodb_ttl_rules:
        _check_ttl(table, ttl_spec)
    _original["update_time_to_live"](self, table_name, ttl_spec)
    started = Pending.start(current().dynamodb_ttl_reads)
    if started is not None:
        vars(table)[_TTL_PENDING] = started
        table.ttl["TimeToLiveStatus"] = "ENABLING" if ttl_spec["Enabled"] else "DISABLING"
    elif not ttl_spec["Enabled"]:
        table.ttl.pop("AttributeName", None)


def _describe_time_to_live(self: DynamoDBBackend, table_name: str) -> dict[str, Any]:
    table = _table(self, table_name)
    pending: Pending | None = vars(table).get(_TTL_PENDING)
    if pending is not None and not pending.look():
        vars(table).pop(_TTL_PENDING)
        status = table.ttl["TimeToLiveStatus"]
        table.ttl["TimeToLiveStatus"] = "ENABLED" if status == "ENABLING" else "DISABLED"
        if status == "DISABLING":
            table.ttl.pop("AttributeName", None)
    return dict(table.ttl)


def _tag_resource(self: DynamoDBBackend, arn: str, tags: dict[str, str]) -> None:
    for table in list(self.tables.values()):
        if table.table_arn == arn:
            table.tags = [tag for tag in table.tags if tag["Key"] not in tags]
    _original["tag_resource"](self, arn, tags)


def install() -> None:
    """Patch moto's DynamoDB backend and tables with the rules above. Idempotent."""
    if getattr(DynamoDBBackend, _MARKER, False):
        return
    _original.update(
        update_table=DynamoDBBackend.update_table,
        describe_table=DynamoDBBackend.describe_table,
        update_time_to_live=DynamoDBBackend.update_time_to_live,
        tag_resource=DynamoDBBackend.tag_resource,
        table_describe=Table.describe,
    )
    DynamoDBBackend.update_table = _update_table  # type: ignore[method-assign]
    DynamoDBBackend.describe_table = _describe_table  # type: ignore[method-assign]
    DynamoDBBackend.update_time_to_live = _update_time_to_live  # type: ignore[method-assign]
    DynamoDBBackend.describe_time_to_live = _describe_time_to_live  # type: ignore[method-assign]
    DynamoDBBackend.tag_resource = _tag_resource  # type: ignore[method-assign]
    Table.describe = _table_describe  # type: ignore[method-assign]
    setattr(DynamoDBBackend, _MARKER, True)
