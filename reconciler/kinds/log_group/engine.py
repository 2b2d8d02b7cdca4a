"""The `LogGroup` engine: log groups read 50 names a call, tagged by ARN, never deleted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from reconciler.kinds.base import Current, Engine, Reading
from reconciler.kinds.compare import same
from reconciler.kinds.log_group import KIND
from reconciler.kinds.log_group.model import LogGroup, LogGroupSpec
from reconciler.kinds.reading import batches, concurrently
from reconciler.plan import Observed

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_logs.type_defs import LogGroupTypeDef

    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.model import Manifest

#: `DescribeLogGroups` takes at most 50 `logGroupIdentifiers` and returns at most 50 groups a page
#: (botocore `logs/2014-03-28`: `DescribeLogGroupsLogGroupIdentifiers` max 50, `DescribeLimit`
#: max 50).
BATCH = 50


@dataclass(frozen=True)
class LogGroupEngine(Engine["LogGroupTypeDef"]):
    """Reads the declared groups with one `DescribeLogGroups(logGroupIdentifiers=…)` per 50
    names and each found group's tags with `ListTagsForResource`, all in parallel (paced to the
    quotas). Creates a missing group with its tag and its retention; changes retention with
    `PutRetentionPolicy`, or `DeleteRetentionPolicy` for `null` (never expire); never deletes.

    AWS leaves `retentionInDays` out of a group whose events never expire: that is read as
    `retentionDays: null`, so a group made by default matches `retentionDays: null`.

    The tagging calls take the log group's ARN *without* the trailing `:*`: DescribeLogGroups
    answers it as `logGroupArn` (its `arn` ends in `:*`, which ListTagsForResource and
    TagResource refuse with `ValidationException: Invalid resourceArn`).

    Why identifiers and not `logGroupNamePrefix`: a prefix pages through every group under it,
    declared or not (a `/aws/lambda/` prefix lists every function's group), 50 a page; naming
    the declared groups costs one call per 50 of them, whatever else the account holds.
    """

    description = KIND

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """The declared groups that exist, with their tags; never the owned ones (not pruned)."""
        names = list(dict.fromkeys(manifest.name for manifest in manifests))
        logs: CloudWatchLogsClient = self.client(aws)
        found: dict[str, LogGroupTypeDef] = {}
        for answer in concurrently(partial(_describe, logs), batches(names, BATCH), self.workers):
            found.update(answer)
        groups = [found[name] for name in names if name in found]
        tags = concurrently(partial(self._tags, logs, context), groups, self.workers)
        return {
            group["logGroupName"]: Observed(group["logGroupName"], _fields(group), tagged or {})
            for group, tagged in zip(groups, tags, strict=True)
            if tagged is not None  # deleted between the two reads
        }, {}

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """Exactly the fields the manifest sets (`retentionDays: null` included)."""
        return _spec(manifest).to_manifest()

    # --- the primitives of a write --------------------------------------------------------------

    def read_one(
        self, aws: Clients, name: str, context: Context
    ) -> Current[LogGroupTypeDef] | None:
        """The group (`DescribeLogGroups`) and its tags (`ListTagsForResource`)."""
        logs: CloudWatchLogsClient = self.client(aws)
        group = _describe(logs, [name]).get(name)
        if group is None:
            return None
        tags = self._tags(logs, context, group)
        if tags is None:
            return None  # deleted between the two reads
        return Current(name, tags, group)

    def create(
        self,
        aws: Clients,
        name: str,
        desired: dict[str, Any],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        """`CreateLogGroup` carrying the tags, then the retention if the manifest sets one (a new
        group never expires, which is `retentionDays: null` already)."""
        logs: CloudWatchLogsClient = self.client(aws)
        self.call(logs.create_log_group, logGroupName=name, tags=dict(tags))
        days = LogGroupSpec.model_validate(desired).retention_days
        if days is not None:
            self.call(logs.put_retention_policy, logGroupName=name, retentionInDays=days)

    def update(
        self,
        aws: Clients,
        current: Current[LogGroupTypeDef],
        desired: dict[str, Any],
        context: Context,
    ) -> bool:
        """The retention, when declared and different from the group's."""
        spec = LogGroupSpec.model_validate(desired)
        have = _fields(current.state)["retentionDays"]
        if "retentionDays" not in spec.declared() or same(spec.retention_days, have):
            return False
        logs: CloudWatchLogsClient = self.client(aws)
        if spec.retention_days is None:
            self.call(logs.delete_retention_policy, logGroupName=current.name)
        else:
            self.call(
                logs.put_retention_policy,
                logGroupName=current.name,
                retentionInDays=spec.retention_days,
            )
        return True

    def tag(
        self,
        aws: Clients,
        current: Current[LogGroupTypeDef],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        logs: CloudWatchLogsClient = self.client(aws)
        self.call(logs.tag_resource, resourceArn=_arn(current.state, context), tags=dict(tags))

    def _tags(
        self, logs: CloudWatchLogsClient, context: Context, group: LogGroupTypeDef
    ) -> dict[str, str] | None:
        """The group's tags, or None when it no longer exists."""
        listed = self.call(
            logs.list_tags_for_resource, missing_ok=True, resourceArn=_arn(group, context)
        )
        return None if listed is None else dict(listed.get("tags") or {})


ENGINE = LogGroupEngine()


def _spec(manifest: Manifest) -> LogGroupSpec:
    if not isinstance(manifest, LogGroup):
        raise TypeError(f"{manifest.ref} is not a LogGroup")
    return manifest.spec


def _fields(group: LogGroupTypeDef) -> dict[str, Any]:
    """The group in manifest spelling: no `retentionInDays` means never expire (null)."""
    return {"retentionDays": group.get("retentionInDays")}


def _arn(group: LogGroupTypeDef, context: Context) -> str:
    """The ARN the tagging calls take: `logGroupArn`, which has no trailing `:*`; built from the
    name where an answer lacks it, never `arn` (which ends in `:*`)."""
    arn = group.get("logGroupArn")
    if arn:
        return arn
    return context.arn("logs", f"log-group:{group['logGroupName']}")


def _describe(logs: CloudWatchLogsClient, names: Sequence[str]) -> dict[str, LogGroupTypeDef]:
    """The groups among `names` (at most 50) that exist, by name.

    Every page is read, and only the exact names kept: the answer is one page in AWS, but a
    service that ignores `logGroupIdentifiers` would list more, and must not make another group
    look declared.
    """
    wanted = set(names)
    pages = logs.get_paginator("describe_log_groups").paginate(
        logGroupIdentifiers=list(names), PaginationConfig={"PageSize": BATCH}
    )
    return {
        group["logGroupName"]: group
        for page in pages
        for group in page.get("logGroups", [])
        if group.get("logGroupName") in wanted
    }
