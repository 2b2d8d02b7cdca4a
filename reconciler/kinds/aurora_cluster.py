"""`AuroraServerlessCluster`: capacity and protection settings of an existing Aurora Serverless v2
cluster. Never created or deleted; changes go out with `ApplyImmediately`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from botocore.exceptions import ClientError, WaiterError
from pydantic import Field, StringConstraints

from reconciler.context import Context
from reconciler.errors import PermanentError, TemporaryError
from reconciler.kinds.base import NeverPruned, batches, concurrently
from reconciler.kinds.compare import compare, same
from reconciler.model import PATTERN_HINTS, Manifest, Metadata, Strict
from reconciler.plan import OWNER_TAG, Action, Change, Diff, Observed

if TYPE_CHECKING:
    from mypy_boto3_rds.type_defs import DBClusterTypeDef

    from reconciler.aws import Clients

CLUSTER_ID = r"^[a-zA-Z](?:[a-zA-Z0-9]|-[a-zA-Z0-9]){0,62}$"
PATTERN_HINTS[CLUSTER_ID] = (
    "a DB cluster identifier (a letter, then letters, digits and single hyphens; up to 63)"
)


class AuroraServerlessClusterSpec(Strict):
    """`spec` of an AuroraServerlessCluster; only set fields are managed."""

    min_capacity: float | None = Field(
        default=None, ge=0, le=256, multiple_of=0.5, description="Minimum ACU (0 allows pause)."
    )
    max_capacity: float | None = Field(
        default=None, ge=1, le=256, multiple_of=0.5, description="Maximum ACU."
    )
    seconds_until_auto_pause: int | None = Field(
        default=None, ge=300, le=86400, description="Idle seconds before pausing (minCapacity 0)."
    )
    backup_retention_days: int | None = Field(
        default=None, ge=1, le=35, description="BackupRetentionPeriod in days."
    )
    deletion_protection: bool | None = Field(default=None, description="DeletionProtection.")


class AuroraServerlessClusterMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=CLUSTER_ID)] = Field(
        description="The DB cluster identifier."
    )


class AuroraServerlessCluster(Manifest):
    """An existing Aurora Serverless v2 cluster whose capacity is managed."""

    kind: Literal["AuroraServerlessCluster"]
    metadata: AuroraServerlessClusterMetadata
    spec: AuroraServerlessClusterSpec


def check(manifest: AuroraServerlessCluster) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Rules across fields: min ≤ max; auto-pause only with a minimum of 0."""
    spec = manifest.spec
    low, high = spec.min_capacity, spec.max_capacity
    if low is not None and high is not None and low > high:
        yield ("spec", "minCapacity"), f"{low:g} is greater than maxCapacity {high:g}"
    if spec.seconds_until_auto_pause is not None and low != 0:
        yield (
            ("spec", "secondsUntilAutoPause"),
            "auto-pause needs minCapacity 0"
            + ("" if low is None else f" (minCapacity is {low:g})"),
        )


# --- engine -----------------------------------------------------------------------------------

#: DescribeDBClusters returns at most 100 clusters a page; the filter is sent in batches as large.
BATCH = 100
#: Error codes worth retrying: the cluster is busy (modifying, backing up) or AWS is throttling.
_RETRYABLE = frozenset({"InvalidDBClusterStateFault", "Throttling", "ThrottlingException"})


@dataclass(frozen=True)
class AuroraServerlessClusterEngine(NeverPruned):
    """Reads clusters with one filtered `DescribeDBClusters` per 100 names (the batches in
    parallel) and changes them with one `ModifyDBCluster` each; never creates or deletes a cluster.

    AWS lower-cases cluster identifiers, so names are matched case-insensitively; capacities are
    compared as numbers (1 == 1.0).
    """

    kind = "AuroraServerlessCluster"
    noun = "clusters"
    creatable = False
    prunable = False

    #: Batches read at once; the pacer, not this, holds them to RDS's quota.
    workers: int = 8

    def observe(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context
    ) -> dict[str, Observed]:
        """The declared clusters that exist, keyed by the manifest's spelling of their name."""
        names: dict[str, list[str]] = {}
        for manifest in manifests:
            names.setdefault(manifest.name.lower(), []).append(manifest.name)
        answers = concurrently(
            lambda ids: list(_describe(aws, list(ids))), batches(list(names), BATCH), self.workers
        )
        found: dict[str, Observed] = {}
        for cluster in (cluster for answer in answers for cluster in answer):
            for name in names.get(cluster["DBClusterIdentifier"].lower(), []):
                found[name] = Observed(name, _fields(cluster), _tags(cluster))
        return found

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """Exactly the fields the manifest sets."""
        return _spec(manifest).to_manifest()

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        return compare(self.desired(manifest), observed.fields)

    def apply(self, aws: Clients, change: Change, context: Context) -> None:
        """Send one `ModifyDBCluster` with only the fields that still differ, tag the cluster for
        this environment when it is not, and wait until the cluster is available again.

        The cluster is re-read first: the scaling configuration must be sent whole, so a bound the
        manifest leaves out is taken from what AWS has now.
        """
        if change.action is not Action.UPDATE:
            raise PermanentError(f"{change.ref}: clusters are never created or deleted")
        desired = change.desired or {}
        cluster = _describe_one(aws, change.name)
        owner = _tags(cluster).get(OWNER_TAG)
        if owner not in (None, context.environment):
            raise PermanentError(
                f"{change.ref} is owned by environment '{owner}' "
                f"(tag {OWNER_TAG}={owner}); not changed"
            )
        params = _modification(desired, _fields(cluster), change.ref)
        if params:
            try:
                aws.rds.modify_db_cluster(
                    DBClusterIdentifier=cluster["DBClusterIdentifier"],
                    ApplyImmediately=True,
                    **params,
                )
            except ClientError as exc:
                raise _error(exc, change.ref) from exc
        if owner is None:
            aws.rds.add_tags_to_resource(
                ResourceName=cluster["DBClusterArn"],
                Tags=[{"Key": OWNER_TAG, "Value": context.environment}],
            )
        if params:
            _wait_available(aws, cluster["DBClusterIdentifier"], change.ref)


ENGINE = AuroraServerlessClusterEngine()


def _spec(manifest: Manifest) -> AuroraServerlessClusterSpec:
    if not isinstance(manifest, AuroraServerlessCluster):
        raise TypeError(f"expected an AuroraServerlessCluster, got {manifest.ref}")
    return manifest.spec


def _describe(aws: Clients, ids: list[str]) -> Iterator[DBClusterTypeDef]:
    """Every cluster among `ids` (lower-cased identifiers), following `Marker` across pages."""
    paginator = aws.rds.get_paginator("describe_db_clusters")
    pages = paginator.paginate(
        Filters=[{"Name": "db-cluster-id", "Values": ids}],
        PaginationConfig={"PageSize": BATCH},
    )
    for page in pages:
        yield from page.get("DBClusters", [])


def _describe_one(aws: Clients, name: str) -> DBClusterTypeDef:
    try:
        clusters = aws.rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"]
    except ClientError as exc:
        raise _error(exc, f"AuroraServerlessCluster/{name}") from exc
    if not clusters:
        raise PermanentError(f"AuroraServerlessCluster/{name} does not exist")
    return clusters[0]


def _fields(cluster: DBClusterTypeDef) -> dict[str, Any]:
    """The managed settings in manifest spelling; a setting AWS does not report is None."""
    scaling = cluster.get("ServerlessV2ScalingConfiguration", {})
    return {
        "minCapacity": scaling.get("MinCapacity"),
        "maxCapacity": scaling.get("MaxCapacity"),
        "secondsUntilAutoPause": scaling.get("SecondsUntilAutoPause"),
        "backupRetentionDays": cluster.get("BackupRetentionPeriod"),
        "deletionProtection": cluster.get("DeletionProtection"),
    }


def _tags(cluster: DBClusterTypeDef) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in cluster.get("TagList", []) if "Key" in tag}


def _modification(desired: dict[str, Any], current: dict[str, Any], ref: str) -> dict[str, Any]:
    """`ModifyDBCluster` arguments for the desired fields that differ from `current`."""
    params: dict[str, Any] = {}
    scaling = ("minCapacity", "maxCapacity", "secondsUntilAutoPause")
    if any(k in desired and not same(desired[k], current[k]) for k in scaling):
        low = desired.get("minCapacity", current["minCapacity"])
        high = desired.get("maxCapacity", current["maxCapacity"])
        if low is None or high is None:
            raise PermanentError(
                f"{ref} has no Serverless v2 scaling configuration yet: "
                "declare both minCapacity and maxCapacity"
            )
        config: dict[str, Any] = {"MinCapacity": float(low), "MaxCapacity": float(high)}
        pause = desired.get("secondsUntilAutoPause", current["secondsUntilAutoPause"])
        if low == 0 and pause is not None:
            config["SecondsUntilAutoPause"] = int(pause)
        params["ServerlessV2ScalingConfiguration"] = config
    if "backupRetentionDays" in desired and not same(
        desired["backupRetentionDays"], current["backupRetentionDays"]
    ):
        params["BackupRetentionPeriod"] = int(desired["backupRetentionDays"])
    if "deletionProtection" in desired and not same(
        desired["deletionProtection"], current["deletionProtection"]
    ):
        params["DeletionProtection"] = bool(desired["deletionProtection"])
    return params


def _wait_available(aws: Clients, identifier: str, ref: str) -> None:
    """Wait (up to about ten minutes) until the cluster is `available` after a modification."""
    try:
        aws.rds.get_waiter("db_cluster_available").wait(
            DBClusterIdentifier=identifier, WaiterConfig={"Delay": 10, "MaxAttempts": 60}
        )
    except WaiterError as exc:
        raise TemporaryError(f"{ref} was modified but is not available yet") from exc


def _error(exc: ClientError, ref: str) -> Exception:
    """A retryable or permanent reconciler error for an RDS failure, saying what happened."""
    code = exc.response.get("Error", {}).get("Code", "")
    text = exc.response.get("Error", {}).get("Message", str(exc))
    if code in _RETRYABLE:
        return TemporaryError(f"{ref}: {text} ({code}); retry later")
    if code == "DBClusterNotFoundFault":
        return PermanentError(f"{ref} does not exist")
    return PermanentError(f"{ref}: {text} ({code})")
