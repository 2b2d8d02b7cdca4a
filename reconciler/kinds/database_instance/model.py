"""The `DatabaseInstance` manifest: the size, availability and protection settings of an existing
RDS DB instance (not Aurora), and when AWS may apply a change to them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from reconciler.model import PATTERN_HINTS, Manifest, Metadata, Strict

#: A DB instance identifier: a letter, then letters, digits and single hyphens, up to 63; AWS
#: stores it lower-cased.
INSTANCE_ID = r"^[A-Za-z](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,62}$"
PATTERN_HINTS[INSTANCE_ID] = (
    "a DB instance identifier (a letter, then letters, digits and single hyphens; up to 63)"
)
#: `db.<family>.<size>`, as the RDS user guide's "DB instance classes" lists them (db.t4g.micro,
#: db.r6g.large, db.m5d.24xlarge, db.x2iedn.metal, ...), with the optional processor-features
#: suffix of RDS for Oracle (db.r5.2xlarge.tpc2.mem4x). `db.serverless` is Aurora's only.
INSTANCE_CLASS = (
    r"^db\.[a-z][a-z0-9-]*\.(?:nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge"
    r"|metal(?:-[1-9][0-9]*xl)?)(?:\.tpc[1-9]\.mem[1-9][0-9]*x)?$"
)
PATTERN_HINTS[INSTANCE_CLASS] = (
    "a DB instance class, db.<family>.<size> such as db.t4g.micro or db.r6g.large "
    "(db.serverless is Aurora Serverless v2 only: declare an AuroraServerlessCluster)"
)


class DatabaseInstanceSpec(Strict):
    """`spec` of a DatabaseInstance; only set fields are managed (`applyImmediately` is how, not
    what: it is never compared)."""

    instance_class: Annotated[str, StringConstraints(pattern=INSTANCE_CLASS)] | None = Field(
        default=None, description="DBInstanceClass, db.<family>.<size> (db.t4g.micro)."
    )
    multi_az: bool | None = Field(default=None, description="MultiAZ.")
    backup_retention_days: int | None = Field(
        default=None,
        ge=0,
        le=35,
        description="BackupRetentionPeriod in days (0 turns backups off).",
    )
    deletion_protection: bool | None = Field(default=None, description="DeletionProtection.")
    apply_immediately: bool = Field(
        default=False,
        description=(
            "false: changes wait for the instance's next maintenance window (a pending "
            "modification that matches the manifest is in sync); true: applied at once, "
            "with any modification already pending."
        ),
    )


class DatabaseInstanceMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=INSTANCE_ID)] = Field(
        description="The DB instance identifier."
    )


class DatabaseInstance(Manifest):
    """An existing RDS DB instance (not Aurora) whose class, Multi-AZ, backups and deletion
    protection are managed. Never created or deleted."""

    kind: Literal["DatabaseInstance"]
    metadata: DatabaseInstanceMetadata
    spec: DatabaseInstanceSpec


def check(manifest: DatabaseInstance) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """No rules across fields: each field stands alone."""
    return iter(())
