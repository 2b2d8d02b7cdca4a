"""The `DatabaseInstance` engine: instances read in batches, changed with one `ModifyDBInstance`
each, scheduled for the maintenance window or applied at once as the manifest says."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds.base import Current, Engine, Reading
from reconciler.kinds.compare import compare
from reconciler.kinds.database_instance import KIND
from reconciler.kinds.database_instance.model import DatabaseInstance, DatabaseInstanceSpec
from reconciler.kinds.database_instance.modifications import (
    WHEN,
    fields,
    modification,
    note,
    settles_now,
)
from reconciler.kinds.reading import batches, concurrently
from reconciler.plan import Diff, Observed

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_rds.type_defs import DBInstanceTypeDef

    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.model import Manifest

#: DescribeDBInstances returns at most 100 instances a page, and the `db-instance-id` filter is
#: sent in batches as large.
BATCH = 100
#: The states an instance passes through on its own and comes back `available` from (the RDS user
#: guide, "Viewing Amazon RDS DB instance status"): a write waits for them to end.
PASSING = frozenset(
    {
        "backing-up",
        "configuring-enhanced-monitoring",
        "configuring-iam-database-auth",
        "configuring-log-exports",
        "converting-to-vpc",
        "creating",
        "maintenance",
        "modifying",
        "moving-to-vpc",
        "rebooting",
        "renaming",
        "resetting-master-credentials",
        "starting",
        "storage-config-upgrade",
        "upgrading",
    }
)
#: The states in which the instance cannot finish a modification without someone's help.
FAILED = frozenset(
    {
        "failed",
        "inaccessible-encryption-credentials",
        "incompatible-network",
        "incompatible-option-group",
        "incompatible-parameters",
        "incompatible-restore",
        "restore-error",
        "storage-full",
    }
)


@dataclass(frozen=True)
class DatabaseInstanceEngine(Engine["DBInstanceTypeDef"]):
    """Reads instances with one filtered `DescribeDBInstances` per 100 names (the batches in
    parallel) and changes each with one `ModifyDBInstance` holding the fields that differ, with
    `ApplyImmediately` as the manifest says; never creates or deletes an instance.

    A setting is compared as it will be (`modifications`): a modification pending for the
    maintenance window that matches the manifest is in sync, one that differs is drift. A change
    applied immediately leaves the instance `modifying` for minutes: apply waits until it is
    available again. A change scheduled for the window is not waited for; the plan says when it
    takes effect (the change's `reason`).
    """

    description = KIND
    waits = True
    poll_seconds: float = 10.0

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """The declared instances that exist, keyed by the manifest's spelling of their name."""
        declared: dict[str, list[Manifest]] = {}
        for manifest in manifests:
            declared.setdefault(manifest.name.lower(), []).append(manifest)
        rds: RDSClient = self.client(aws)
        answers = concurrently(
            lambda ids: list(_describe(rds, list(ids))),
            batches(list(declared), BATCH),
            self.workers,
        )
        found: dict[str, Observed] = {}
        for instance in (instance for answer in answers for instance in answer):
            for manifest in declared.get(instance["DBInstanceIdentifier"].lower(), []):
                wanted = self.desired(manifest)
                found[manifest.name] = Observed(
                    manifest.name,
                    fields(instance, wanted),
                    _tags(instance),
                    _refusal(instance),
                    note(instance, wanted),
                )
        return found, {}

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """The fields the manifest sets, and when to apply them (`applyImmediately`, default
        false), which apply needs and nothing compares."""
        spec = _spec(manifest)
        return {**spec.to_manifest(), WHEN: spec.apply_immediately}

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        wanted = {k: v for k, v in self.desired(manifest).items() if k != WHEN}
        return compare(wanted, observed.fields)

    # --- the primitives of a write --------------------------------------------------------------

    def read_one(
        self, aws: Clients, name: str, context: Context
    ) -> Current[DBInstanceTypeDef] | None:
        rds: RDSClient = self.client(aws)
        found = self.call(rds.describe_db_instances, missing_ok=True, DBInstanceIdentifier=name)
        instances = [] if found is None else found["DBInstances"]
        if not instances:
            return None
        instance = instances[0]
        return Current(name, _tags(instance), instance, _refusal(instance))

    def update(
        self,
        aws: Clients,
        current: Current[DBInstanceTypeDef],
        desired: dict[str, Any],
        context: Context,
    ) -> bool:
        """One `ModifyDBInstance` with the fields that differ from what the instance has or will
        have. Answers whether AWS does the work now (something to wait for): not when every
        change was only scheduled for the maintenance window."""
        instance = current.state
        params = modification(instance, desired)
        if not params:
            return False
        rds: RDSClient = self.client(aws)
        self.call(
            rds.modify_db_instance,
            DBInstanceIdentifier=instance["DBInstanceIdentifier"],
            **params,
        )
        return settles_now(instance, params)

    def tag(
        self,
        aws: Clients,
        current: Current[DBInstanceTypeDef],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        rds: RDSClient = self.client(aws)
        self.call(
            rds.add_tags_to_resource,
            ResourceName=current.state["DBInstanceArn"],
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )

    def pending(self, current: Current[DBInstanceTypeDef]) -> str | None:
        status = current.state.get("DBInstanceStatus", "available")
        return status if status in PASSING else None

    def failed(self, current: Current[DBInstanceTypeDef]) -> str | None:
        status = current.state.get("DBInstanceStatus", "available")
        if status not in FAILED:
            return None
        return f"AWS reports the DB instance {status}; the modification cannot complete"


ENGINE = DatabaseInstanceEngine()


def _spec(manifest: Manifest) -> DatabaseInstanceSpec:
    if not isinstance(manifest, DatabaseInstance):
        raise TypeError(f"expected a DatabaseInstance, got {manifest.ref}")
    return manifest.spec


def _describe(rds: RDSClient, ids: list[str]) -> Iterator[DBInstanceTypeDef]:
    """Every instance among `ids` (lower-cased identifiers), following `Marker` across pages."""
    pages = rds.get_paginator("describe_db_instances").paginate(
        Filters=[{"Name": "db-instance-id", "Values": ids}],
        PaginationConfig={"PageSize": BATCH},
    )
    for page in pages:
        yield from page.get("DBInstances", [])


def _tags(instance: DBInstanceTypeDef) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in instance.get("TagList", []) if "Key" in tag}


def _refusal(instance: DBInstanceTypeDef) -> str | None:
    """Why an instance that belongs to a DB cluster is not managed here: its backups and
    deletion protection are the cluster's (the `ModifyDBInstance` documentation)."""
    engine = instance.get("Engine", "")
    cluster = instance.get("DBClusterIdentifier")
    if engine.startswith("aurora"):
        return (
            f"an Aurora DB instance (engine {engine}"
            + (f", cluster {cluster}" if cluster else "")
            + "): its backups and deletion protection are its cluster's; declare the cluster "
            "as an AuroraServerlessCluster"
        )
    if cluster:
        return (
            f"a member of DB cluster {cluster} (engine {engine}): its settings are the "
            "cluster's, not the instance's"
        )
    return None
