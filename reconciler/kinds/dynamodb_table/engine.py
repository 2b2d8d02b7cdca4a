"""The `DynamoDBTable` engine: tables read four calls each (DynamoDB has no batch read of tables,
their backups, TTL or tags), all of them in parallel, and changed one setting group at a time in
the order AWS accepts, the table waited on between `UpdateTable` calls.

What AWS allows, and how the engine lives with it:

- `UpdateTable` leaves the table `UPDATING`, and another `UpdateTable` meanwhile is refused: the
  billing mode (with its capacities), then deletion protection, each get their own call and the
  engine settles between them (`waits`).
- Capacities mean something only in `PROVISIONED` mode: an on-demand table reports zeros, which
  are never drift (read as None), and a switch to `PROVISIONED` sends `ProvisionedThroughput` in
  the same call, as AWS requires.
- A table may switch to on-demand four times in a rolling 24 hours (switching back is not
  limited); a refused switch is a failed change that says so and when it will pass.
- Time to Live changes once per table an hour, and is enabled on one attribute at a time: moving
  it to another attribute disables it, then enables it, and the second call is refused within the
  hour. The failed change says what was done and after what time to apply again. `ENABLING` and
  `DISABLING` count as the state they lead to: the change is accepted and cannot be made again
  for an hour, so waiting for it (up to an hour) or planning it again would gain nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from reconciler.aws_errors import Failure, describe, failure
from reconciler.errors import PermanentError
from reconciler.kinds.base import Current, Engine, Reading
from reconciler.kinds.compare import same
from reconciler.kinds.dynamodb_table import KIND
from reconciler.kinds.dynamodb_table.model import DynamoDBTable, DynamoDBTableSpec
from reconciler.kinds.reading import concurrently
from reconciler.plan import Observed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.model import Manifest

#: Statuses a table passes through on its own and comes back `ACTIVE` from.
PASSING = frozenset({"CREATING", "UPDATING"})
#: TTL statuses that mean "on": the change to on is accepted and cannot be undone for an hour.
TTL_ON = frozenset({"ENABLED", "ENABLING"})
#: AWS accepts one `UpdateTimeToLive` per table in this long (the operation's documentation).
TTL_INTERVAL = timedelta(hours=1)
#: The window of AWS's limit on switches to on-demand (developer guide, "Considerations when
#: switching capacity modes": four in a 24-hour rolling window).
SWITCH_WINDOW = timedelta(hours=24)
#: The reads besides `DescribeTable` that make up one table.
PARTS = ("backups", "ttl", "tags")


@dataclass(frozen=True)
class Table:
    """One table as the four reads show it: `DescribeTable`'s `Table`, the continuous backups,
    the TTL description and the tags."""

    description: Mapping[str, Any]
    backups: Mapping[str, Any]
    ttl: Mapping[str, Any]
    tags: Mapping[str, str]

    @property
    def arn(self) -> str:
        return str(self.description["TableArn"])

    @property
    def billing_mode(self) -> str:
        # Tables that were always provisioned may have no BillingModeSummary (model docs).
        return str(self.description.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"))

    @property
    def ttl_attribute(self) -> str | None:
        """The attribute TTL is on (or turning on) for; None when it is off or turning off."""
        if self.ttl.get("TimeToLiveStatus") in TTL_ON:
            return self.ttl.get("AttributeName")
        return None

    def fields(self) -> dict[str, Any]:
        """The managed settings in manifest spelling; capacities only of a provisioned table."""
        recovery = self.backups.get("PointInTimeRecoveryDescription", {})
        throughput = self.description.get("ProvisionedThroughput", {})
        provisioned = self.billing_mode == "PROVISIONED"
        return {
            "pointInTimeRecovery": recovery.get("PointInTimeRecoveryStatus") == "ENABLED",
            "deletionProtection": bool(self.description.get("DeletionProtectionEnabled", False)),
            "ttlAttribute": self.ttl_attribute,
            "billingMode": self.billing_mode,
            "readCapacity": throughput.get("ReadCapacityUnits") if provisioned else None,
            "writeCapacity": throughput.get("WriteCapacityUnits") if provisioned else None,
        }


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DynamoDBTableEngine(Engine[Table]):
    """Observes and updates existing DynamoDB tables; never creates or deletes one.

    Observe sends `DescribeTable` for every declared table, then `DescribeContinuousBackups`,
    `DescribeTimeToLive` and `ListTagsOfResource` (every page) for those that exist, all from
    `workers` threads; the clients' pacer keeps them to the control-plane quota. Apply writes
    only the groups that differ from a fresh read, TTL last (it is the one AWS may refuse for an
    hour), and waits for the table to be `ACTIVE` again after each `UpdateTable`.
    """

    description = KIND
    waits = True
    workers: int = 16
    #: The time now, in UTC: when a refused change may be applied again is counted from it.
    now: Callable[[], datetime] = field(default=_utc_now)

    # --- observe --------------------------------------------------------------------------------

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """The declared tables that exist; absent ones are left out (the plan blocks them)."""
        ddb: DynamoDBClient = self.client(aws)
        names = list(dict.fromkeys(manifest.name for manifest in manifests))
        described = concurrently(lambda name: self._describe(ddb, name), names, self.workers)
        tables = {name: found for name, found in zip(names, described, strict=True) if found}
        jobs = [(name, part) for name in tables for part in PARTS]
        parts = concurrently(
            lambda job: self._part(ddb, job[1], job[0], tables[job[0]]["TableArn"]),
            jobs,
            self.workers,
        )
        read: dict[str, dict[str, Any]] = {}
        for (name, part), answer in zip(jobs, parts, strict=True):
            read.setdefault(name, {})[part] = answer
        found: dict[str, Observed] = {}
        for name, description in tables.items():
            table = _table(description, read[name])
            if table is not None:
                found[name] = Observed(name, table.fields(), dict(table.tags))
        return found, {}

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """Exactly the fields the manifest sets (`ttlAttribute: null` included)."""
        return _spec(manifest).to_manifest()

    def _describe(self, ddb: DynamoDBClient, name: str) -> Mapping[str, Any] | None:
        answer = self.call(ddb.describe_table, missing_ok=True, TableName=name)
        return None if answer is None else answer["Table"]

    def _part(self, ddb: DynamoDBClient, part: str, name: str, arn: str) -> Any:
        """One of `PARTS` of a table; None when the table is gone."""
        if part == "backups":
            got = self.call(ddb.describe_continuous_backups, missing_ok=True, TableName=name)
            return None if got is None else got["ContinuousBackupsDescription"]
        if part == "ttl":
            got = self.call(ddb.describe_time_to_live, missing_ok=True, TableName=name)
            return None if got is None else got.get("TimeToLiveDescription", {})
        return self._tags(ddb, arn)

    def _tags(self, ddb: DynamoDBClient, arn: str) -> dict[str, str] | None:
        """Every tag of the table, following `NextToken`; None when the table is gone."""
        tags: dict[str, str] = {}
        token: dict[str, str] = {}
        while True:
            page = self.call(ddb.list_tags_of_resource, missing_ok=True, ResourceArn=arn, **token)
            if page is None:
                return None
            tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
            if not page.get("NextToken"):
                return tags
            token = {"NextToken": page["NextToken"]}

    # --- the primitives of a write --------------------------------------------------------------

    def read_one(self, aws: Clients, name: str, context: Context) -> Current[Table] | None:
        ddb: DynamoDBClient = self.client(aws)
        description = self._describe(ddb, name)
        if description is None:
            return None
        arn = description["TableArn"]
        parts = concurrently(lambda part: self._part(ddb, part, name, arn), PARTS, len(PARTS))
        table = _table(description, dict(zip(PARTS, parts, strict=True)))
        return None if table is None else Current(name, dict(table.tags), table)

    def pending(self, current: Current[Table]) -> str | None:
        status = str(current.state.description.get("TableStatus", "ACTIVE"))
        return status.lower() if status in PASSING else None

    def update(
        self, aws: Clients, current: Current[Table], desired: dict[str, Any], context: Context
    ) -> bool:
        """Billing mode and capacities, deletion protection, point-in-time recovery, then TTL;
        each only when it differs from `current`, the table settled after each `UpdateTable`."""
        ddb: DynamoDBClient = self.client(aws)
        name, ref = current.name, f"{self.kind}/{current.name}"
        table, wrote = current.state, False
        billing = _billing(desired, table, ref)
        if billing:
            self._switch_billing(ddb, table, billing, ref)
            table, wrote = self.settle(aws, name, context, ref).state, True
        have = table.fields()
        if "deletionProtection" in desired and not same(
            desired["deletionProtection"], have["deletionProtection"]
        ):
            self.call(
                ddb.update_table,
                TableName=name,
                DeletionProtectionEnabled=bool(desired["deletionProtection"]),
            )
            table, wrote = self.settle(aws, name, context, ref).state, True
        if "pointInTimeRecovery" in desired and not same(
            desired["pointInTimeRecovery"], have["pointInTimeRecovery"]
        ):
            self.call(
                ddb.update_continuous_backups,
                TableName=name,
                PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": bool(desired["pointInTimeRecovery"])
                },
            )
            wrote = True
        if "ttlAttribute" in desired and desired["ttlAttribute"] != table.ttl_attribute:
            self._move_ttl(ddb, table, desired["ttlAttribute"], ref)
            wrote = True
        return wrote

    def tag(
        self, aws: Clients, current: Current[Table], context: Context, tags: Mapping[str, str]
    ) -> None:
        ddb: DynamoDBClient = self.client(aws)
        self.call(
            ddb.tag_resource,
            ResourceArn=current.state.arn,
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )

    # --- the steps of an update -----------------------------------------------------------------

    def _switch_billing(
        self, ddb: DynamoDBClient, table: Table, params: dict[str, Any], ref: str
    ) -> None:
        """One `UpdateTable` with the billing mode and capacities; a switch to on-demand AWS
        refuses (its 24-hour limit) is a failed change that says when it will pass."""
        try:
            self.call(ddb.update_table, TableName=table.description["TableName"], **params)
        except Exception as exc:
            if params.get("BillingMode") != "PAY_PER_REQUEST" or failure(exc) is not (
                Failure.PERMANENT
            ):
                raise
            last = table.description.get("BillingModeSummary", {}).get(
                "LastUpdateToPayPerRequestDateTime"
            )
            when = (
                f"after {_minute(last + SWITCH_WINDOW)} at the latest"
                if isinstance(last, datetime)
                else "once 24 hours have passed since the first of its recent switches"
            )
            raise PermanentError(
                f"{ref}: AWS refused the switch to PAY_PER_REQUEST ({describe(exc)}); a table "
                "may switch to on-demand 4 times in a rolling 24 hours (switching to "
                f"PROVISIONED is not limited): apply again {when}"
            ) from exc

    def _move_ttl(self, ddb: DynamoDBClient, table: Table, want: str | None, ref: str) -> None:
        """Turn TTL off, on, or over to another attribute (off, then on: AWS enables one
        attribute at a time). A change AWS refuses within its hour is a failed change that says
        what was done and after what time to apply again."""
        name, have = str(table.description["TableName"]), table.ttl_attribute
        if have is not None:
            self._ttl_call(ddb, name, have, False, ref, done=None)
        if want is not None:
            done = (
                None if have is None else f"TTL was turned off on '{have}' to move it to '{want}'"
            )
            self._ttl_call(ddb, name, want, True, ref, done=done)

    def _ttl_call(
        self,
        ddb: DynamoDBClient,
        name: str,
        attribute: str,
        enabled: bool,
        ref: str,
        *,
        done: str | None,
    ) -> None:
        try:
            self.call(
                ddb.update_time_to_live,
                TableName=name,
                TimeToLiveSpecification={"AttributeName": attribute, "Enabled": enabled},
            )
        except Exception as exc:
            if failure(exc) is not Failure.PERMANENT:
                raise
            retry = _minute(self.now() + TTL_INTERVAL)
            what = f"{'enable' if enabled else 'disable'} TTL on '{attribute}'"
            first = f"{done}, but AWS refused to {what}" if done else f"AWS refused to {what}"
            stays = "; TTL stays off until then" if done else ""
            raise PermanentError(
                f"{ref}: {first} ({describe(exc)}); AWS accepts one TTL change per table an "
                f"hour: apply again after {retry}{stays}"
            ) from exc


ENGINE = DynamoDBTableEngine()


def _spec(manifest: Manifest) -> DynamoDBTableSpec:
    if not isinstance(manifest, DynamoDBTable):
        raise TypeError(f"expected a DynamoDBTable, got {manifest.ref}")
    return manifest.spec


def _table(description: Mapping[str, Any], parts: Mapping[str, Any]) -> Table | None:
    """The table from its reads; None when one of them found it gone."""
    if any(parts.get(part) is None for part in PARTS):
        return None
    return Table(description, parts["backups"], parts["ttl"], parts["tags"])


def _billing(desired: Mapping[str, Any], table: Table, ref: str) -> dict[str, Any]:
    """`UpdateTable` arguments for the billing mode and capacities that differ, or {}.

    A switch to `PROVISIONED` carries `ProvisionedThroughput` (AWS requires it). A table with
    global secondary indexes would need capacities for each of them too, which the manifest
    cannot declare: refused with a sentence rather than sent to fail.
    """
    have = table.fields()
    mode = desired.get("billingMode")
    switch = mode is not None and mode != have["billingMode"]
    params: dict[str, Any] = {"BillingMode": mode} if switch else {}
    if "readCapacity" in desired and (
        switch
        or not same(desired["readCapacity"], have["readCapacity"])
        or not same(desired["writeCapacity"], have["writeCapacity"])
    ):
        params["ProvisionedThroughput"] = {
            "ReadCapacityUnits": int(desired["readCapacity"]),
            "WriteCapacityUnits": int(desired["writeCapacity"]),
        }
    indexes = [index["IndexName"] for index in table.description.get("GlobalSecondaryIndexes", [])]
    if switch and mode == "PROVISIONED" and indexes:
        raise PermanentError(
            f"{ref} has global secondary indexes ({', '.join(indexes)}): switching it to "
            "PROVISIONED needs capacities for each of them, which the manifest cannot declare; "
            "switch it by hand, then plan again"
        )
    return params


def _minute(moment: datetime) -> str:
    """`2026-12-03 19:52 UTC`, rounded up to the minute (a retry time is never early)."""
    moment = moment.astimezone(UTC)
    rounded = datetime.fromtimestamp(math.ceil(moment.timestamp() / 60) * 60, UTC)
    return f"{rounded:%Y-%m-%d %H:%M} UTC"
