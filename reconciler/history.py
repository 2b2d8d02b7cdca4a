"""The run-history and lock table: at most one run per environment, and a record of every run.

One DynamoDB table (key `pk` + `sk`, TTL attribute `expiresAt` in epoch seconds) holds, per
environment `pk = "ENV#<env>"`:

- the lock, `sk = "LOCK"` (attributes `runId`, `acquiredAt`, `expiresAt`). A run takes it with
  one conditional write that succeeds only when nobody holds it, the holder's time is up, or the
  holder is the same run (a retried state). A run that dies keeps the lock until `expiresAt`
  only: the next run takes it over then. The table's TTL also deletes expired locks eventually,
  but correctness never waits for that.
- one record per run, `sk = "RUN#<startedAt>#<runId>"` with `startedAt` in fixed-width ISO 8601
  UTC (`2024-05-01T12:00:00.000Z`), so a descending Query lists the newest runs first. Records
  expire 90 days after the run finished (`expiresAt`).
- one delivery ledger per run, `sk = "EVENTS#<runId>"` (attribute `delivered`, the positions of
  the run's events EventBridge accepted), so that a Report the state machine retries sends only
  the events an earlier attempt did not deliver. It expires after a day.

Storage of a record: the plan is stored as one Binary attribute, gzip-compressed compact JSON,
always (plans vary a thousandfold between environments, and an item may hold at most 400 KB; one
format is simpler than two). A plan still larger than `MAX_PLAN_BYTES` compressed is left out
and the record says so (`planOmitted`); it reads back as `plan=None`. Everything else is stored
as plain DynamoDB attributes, readable in the console; floats become Decimals on the way in
(DynamoDB rejects floats) and numbers come back as int when integral, else as float.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt

from reconciler.errors import PermanentError, TemporaryError
from reconciler.outcome import Status
from reconciler.plan import Summary
from reconciler.triggers import Trigger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

RETENTION = timedelta(days=90)
DELIVERY_RETENTION = timedelta(days=1)
MAX_PLAN_BYTES = 300 * 1024
LOCK_SK = "LOCK"
RUN_PREFIX = "RUN#"
EVENTS_PREFIX = "EVENTS#"

#: A record's status as a `Literal` of `Status`'s values, for readers that want the type spelled
#: out; derived, so the two can never disagree.
RunStatus: object = Literal[tuple(status.value for status in Status)]


class RunRecord(BaseModel):
    """One run as the history keeps it. JSON (`to_json`) uses the camelCase names.

    `plan` is the contract's plan JSON (None when the run made none); `results` holds one object
    per change apply attempted (`{kind, name, action, result, error}`, as `apply --format json`
    prints them).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    run_id: str = Field(alias="runId", min_length=1)
    environment: str = Field(min_length=1)
    trigger: Trigger
    revision: str | None = None
    status: Status
    started_at: AwareDatetime = Field(alias="startedAt")
    finished_at: AwareDatetime = Field(alias="finishedAt")
    duration_ms: NonNegativeInt = Field(alias="durationMs")
    summary: Summary = Summary()
    plan: dict[str, Any] | None = None
    results: tuple[dict[str, Any], ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def environment_key(environment: str) -> str:
    return f"ENV#{environment}"


def timestamp(moment: datetime) -> str:
    """Fixed-width ISO 8601 in UTC with milliseconds, so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def run_key(record: RunRecord) -> str:
    return f"{RUN_PREFIX}{timestamp(record.started_at)}#{record.run_id}"


class RunsTable:
    """The lock and the run records of every environment, in one DynamoDB table.

    Every method raises TemporaryError when DynamoDB throttles or fails transiently, and
    PermanentError for anything else (no such table, no permission).
    """

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    # --- the lock ------------------------------------------------------------------------------

    def acquire_lock(self, environment: str, run_id: str, *, now: datetime, ttl: timedelta) -> bool:
        """Take the environment's lock for `run_id` until `now + ttl`; False when another run
        holds it and its time is not up. Taking a lock this run already holds extends it."""
        condition = "attribute_not_exists(pk) OR expiresAt < :now OR runId = :run"
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=_item(
                    {
                        "pk": environment_key(environment),
                        "sk": LOCK_SK,
                        "runId": run_id,
                        "acquiredAt": timestamp(now),
                        "expiresAt": math.ceil((now + ttl).timestamp()),
                    }
                ),
                ConditionExpression=condition,
                ExpressionAttributeValues=_item(
                    {":now": math.floor(now.timestamp()), ":run": run_id}
                ),
            )
        except _ConditionFailed:
            return False
        return True

    def release_lock(self, environment: str, run_id: str) -> None:
        """Give the lock back if `run_id` holds it; do nothing when another run holds it now."""
        try:
            self._call(
                "delete_item",
                TableName=self.table_name,
                Key=_item({"pk": environment_key(environment), "sk": LOCK_SK}),
                ConditionExpression="runId = :run",
                ExpressionAttributeValues=_item({":run": run_id}),
            )
        except _ConditionFailed:
            return

    def lock_holder(self, environment: str) -> str | None:
        """The run id on the lock item (which may have expired), or None when there is none."""
        answer = self._call(
            "get_item",
            TableName=self.table_name,
            Key=_item({"pk": environment_key(environment), "sk": LOCK_SK}),
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return None if item is None else str(_values(item)["runId"])

    # --- the records ---------------------------------------------------------------------------

    def record(self, run: RunRecord) -> None:
        """Store `run` (replacing an earlier record of the same run), kept for 90 days."""
        body = run.to_json()
        plan = body.pop("plan")
        body.update(
            pk=environment_key(run.environment),
            sk=run_key(run),
            startedAt=timestamp(run.started_at),
            finishedAt=timestamp(run.finished_at),
            expiresAt=math.ceil((run.finished_at + RETENTION).timestamp()),
        )
        if plan is not None:
            packed = gzip.compress(json.dumps(plan, separators=(",", ":")).encode(), mtime=0)
            if len(packed) <= MAX_PLAN_BYTES:
                body["plan"] = packed
            else:
                body["planOmitted"] = True
        self._call("put_item", TableName=self.table_name, Item=_item(body))

    def runs(self, environment: str, limit: int = 20, *, plans: bool = False) -> list[RunRecord]:
        """The newest `limit` runs of `environment`, newest first. Plans are read only with
        `plans=True` (they are the bulk of each item); otherwise every `plan` is None."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :run)",
            "ExpressionAttributeValues": _item(
                {":pk": environment_key(environment), ":run": RUN_PREFIX}
            ),
            "ScanIndexForward": False,
        }
        if not plans:
            names = [n for n in _RECORD_ATTRIBUTES if n != "plan"]
            query["ProjectionExpression"] = ", ".join(f"#{n}" for n in names)
            query["ExpressionAttributeNames"] = {f"#{n}": n for n in names}
        found: list[RunRecord] = []
        while len(found) < limit:
            answer = self._call("query", Limit=limit - len(found), **query)
            found.extend(_record(item) for item in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                break
            query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        return found

    def run(
        self, environment: str, run_id: str, *, started_at: datetime | None = None
    ) -> RunRecord | None:
        """One run with its plan, or None. With `started_at` this is one GetItem; without it the
        environment's runs are searched newest first, which reads more the older the run is."""
        if started_at is not None:
            key = f"{RUN_PREFIX}{timestamp(started_at)}#{run_id}"
            answer = self._call(
                "get_item",
                TableName=self.table_name,
                Key=_item({"pk": environment_key(environment), "sk": key}),
            )
            item = answer.get("Item")
            return None if item is None else _record(item)
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :run)",
            "FilterExpression": "runId = :id",
            "ExpressionAttributeValues": _item(
                {":pk": environment_key(environment), ":run": RUN_PREFIX, ":id": run_id}
            ),
            "ScanIndexForward": False,
        }
        while True:
            answer = self._call("query", **query)
            items = answer.get("Items", [])
            if items:
                return _record(items[0])
            if "LastEvaluatedKey" not in answer:
                return None
            query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    # --- event delivery ------------------------------------------------------------------------

    def delivered_events(self, environment: str, run_id: str, *, now: datetime) -> set[int]:
        """The positions of the run's events that an earlier attempt of its report delivered.

        The first attempt finds none and starts the run's ledger. The ledger is read through a
        conditional put that never overwrites it (`dynamodb:PutItem` is all the report may do).
        """
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=self._ledger(environment, run_id, (), now),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except _ConditionFailed as exists:
            return {int(position) for position in _values(exists.item).get("delivered", [])}
        return set()

    def mark_events_delivered(
        self, environment: str, run_id: str, positions: set[int], *, now: datetime
    ) -> None:
        """Note which of the run's events are delivered, for the report's next attempt."""
        self._call(
            "put_item",
            TableName=self.table_name,
            Item=self._ledger(environment, run_id, sorted(positions), now),
        )

    def _ledger(
        self, environment: str, run_id: str, positions: Any, now: datetime
    ) -> dict[str, AttributeValueTypeDef]:
        return _item(
            {
                "pk": environment_key(environment),
                "sk": f"{EVENTS_PREFIX}{run_id}",
                "delivered": list(positions),
                "expiresAt": math.ceil((now + DELIVERY_RETENTION).timestamp()),
            }
        )

    def _call(self, operation: str, **request: Any) -> Any:
        from reconciler import aws_errors
        from reconciler.aws_errors import Failure

        try:
            return getattr(self.client, operation)(**request)
        except Exception as exc:
            failure = aws_errors.failure(exc)
            if failure is None:
                raise
            if failure is Failure.CHANGED:  # the conditional write found the item otherwise
                item: Any = aws_errors.answer(exc).get("Item") or {}  # ALL_OLD, when asked for
                raise _ConditionFailed(item) from exc
            what = f"run-history table {self.table_name!r}: {' '.join(str(exc).split())}"
            if failure in aws_errors.TRANSIENT:
                raise TemporaryError(what) from exc
            raise PermanentError(what) from exc


class _ConditionFailed(Exception):
    """A conditional write found the item not as required (the lock is someone else's).

    `item` is the item as it is, when the write asked for it, else empty."""

    def __init__(self, item: Mapping[str, AttributeValueTypeDef]) -> None:
        super().__init__("the condition failed")
        self.item = item


_RECORD_ATTRIBUTES = (
    *(field.alias or name for name, field in RunRecord.model_fields.items()),
    "planOmitted",
)


def _record(item: Mapping[str, AttributeValueTypeDef]) -> RunRecord:
    values = _values(item)
    body = {key: values[key] for key in _RECORD_ATTRIBUTES if key in values}
    body.pop("planOmitted", None)
    packed = body.get("plan")
    if packed is not None:
        body["plan"] = json.loads(gzip.decompress(packed))
    return RunRecord.model_validate(body)


# --- DynamoDB values -------------------------------------------------------------------------


def _item(values: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {key: serializer.serialize(_to_dynamo(value)) for key, value in values.items()}


def _values(item: Mapping[str, AttributeValueTypeDef]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: _from_dynamo(deserializer.deserialize(value)) for key, value in item.items()}


def _to_dynamo(value: Any) -> Any:
    """JSON-like data as DynamoDB accepts it: floats as Decimals (via their shortest text)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PermanentError(f"cannot store the number {value} in the run history")
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {key: _to_dynamo(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(item) for item in value]
    return value


def _from_dynamo(value: Any) -> Any:
    """DynamoDB data back as JSON-like data: integral numbers as int, others as float, bytes."""
    from boto3.dynamodb.types import Binary

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return bytes(value.value)  # type: ignore[attr-defined]  # missing from the stubs
    if isinstance(value, dict):
        return {key: _from_dynamo(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(item) for item in value]
    return value
