"""The `AuroraServerlessCluster` manifest: capacity and protection settings of an existing Aurora
Serverless v2 cluster."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from reconciler.model import PATTERN_HINTS, Manifest, Metadata, Strict

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
