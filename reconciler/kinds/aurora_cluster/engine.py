"""The `AuroraServerlessCluster` engine: clusters read in batches, changed with one
`ModifyDBCluster` each and waited on until they are available again."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.aws_errors import Failure, describe, failure
from reconciler.errors import PermanentError
from reconciler.kinds.aurora_cluster import KIND
from reconciler.kinds.aurora_cluster.model import (
    AuroraServerlessCluster,
    AuroraServerlessClusterSpec,
)
from reconciler.kinds.base import Current, Engine, Reading
from reconciler.kinds.compare import same
from reconciler.kinds.reading import batches, concurrently
from reconciler.plan import Observed

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_rds.type_defs import DBClusterTypeDef

    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.model import Manifest

#: DescribeDBClusters returns at most 100 clusters a page; the filter is sent in batches as large.
BATCH = 100
#: The states a cluster passes through on its own and comes back `available` from: a write waits
#: for them to end. Any other state (`stopped`, `failed`, …) is not waited for.
PASSING = frozenset(
    {
        "backing-up",
        "configuring-iam-database-auth",
        "creating",
        "maintenance",
        "migrating",
        "modifying",
        "promoting",
        "renaming",
        "resetting-master-credentials",
        "starting",
        "storage-optimization",
        "upgrading",
    }
)


@dataclass(frozen=True)
class AuroraServerlessClusterEngine(Engine["DBClusterTypeDef"]):
    """Reads clusters with one filtered `DescribeDBClusters` per 100 names (the batches in
    parallel) and changes them with one `ModifyDBCluster` each, sending only the fields that
    differ from the cluster read just before; never creates or deletes a cluster.

    AWS lower-cases cluster identifiers, so names are matched case-insensitively; capacities are
    compared as numbers (1 == 1.0). A modification leaves the cluster `modifying` for minutes:
    apply waits until it is available again (polling every `poll_seconds`).
    """

    description = KIND
    waits = True
    poll_seconds: float = 10.0

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
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
        return found, {}

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """Exactly the fields the manifest sets."""
        return _spec(manifest).to_manifest()

    # --- the primitives of a write --------------------------------------------------------------

    def read_one(
        self, aws: Clients, name: str, context: Context
    ) -> Current[DBClusterTypeDef] | None:
        rds: RDSClient = self.client(aws)
        found = self.call(rds.describe_db_clusters, missing_ok=True, DBClusterIdentifier=name)
        clusters = [] if found is None else found["DBClusters"]
        return Current(name, _tags(clusters[0]), clusters[0]) if clusters else None

    def update(
        self,
        aws: Clients,
        current: Current[DBClusterTypeDef],
        desired: dict[str, Any],
        context: Context,
    ) -> bool:
        """One `ModifyDBCluster` with the fields that differ, applied immediately. The scaling
        configuration must be sent whole, so a bound the manifest leaves out is the cluster's."""
        cluster = current.state
        params = _modification(desired, _fields(cluster), f"{self.kind}/{current.name}")
        if not params:
            return False
        rds: RDSClient = self.client(aws)
        try:
            self.call(
                rds.modify_db_cluster,
                DBClusterIdentifier=cluster["DBClusterIdentifier"],
                ApplyImmediately=True,
                **params,
            )
        except Exception as exc:
            refused = _capacity_refused(cluster, params, exc, f"{self.kind}/{current.name}")
            if refused is None:
                raise
            raise refused from exc
        return True

    def tag(
        self,
        aws: Clients,
        current: Current[DBClusterTypeDef],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        rds: RDSClient = self.client(aws)
        self.call(
            rds.add_tags_to_resource,
            ResourceName=current.state["DBClusterArn"],
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )

    def pending(self, current: Current[DBClusterTypeDef]) -> str | None:
        status = current.state.get("Status", "available")
        return status if status in PASSING else None


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


#: What the Aurora user guide says needs a recent engine version ("Aurora Serverless v2 capacity";
#: "Scaling to Zero ACUs").
_NEEDS = {
    "minCapacity 0 (auto-pause)": "aurora-postgresql 13.15, 14.12, 15.7, 16.3 or later, or "
    "aurora-mysql 3.08.0 or later",
    "maxCapacity above 128": "aurora-postgresql 13.13, 14.10, 15.5, 16.1 or later, or "
    "aurora-mysql 3.06.0 or later",
}


def _capacity_refused(
    cluster: DBClusterTypeDef, params: dict[str, Any], error: BaseException, ref: str
) -> PermanentError | None:
    """The sentence for AWS refusing a capacity the cluster's engine version cannot have (AWS's
    own answer is a bare InvalidParameterValue), or None for any other failure."""
    config = params.get("ServerlessV2ScalingConfiguration")
    if config is None or failure(error) is not Failure.PERMANENT:
        return None
    needs = [
        what
        for what, wanted in (
            ("minCapacity 0 (auto-pause)", config["MinCapacity"] == 0),
            ("maxCapacity above 128", config["MaxCapacity"] > 128),
        )
        if wanted
    ]
    if not needs:
        return None
    running = f"{cluster.get('Engine', 'its engine')} {cluster.get('EngineVersion', '')}".strip()
    return PermanentError(
        f"{ref}: AWS refused the capacity ({describe(error)}); "
        + "; ".join(f"{what} needs {_NEEDS[what]}" for what in needs)
        + f", and the cluster runs {running}: upgrade the engine, or change the manifest"
    )


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
