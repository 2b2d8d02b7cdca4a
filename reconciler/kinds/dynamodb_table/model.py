"""The `DynamoDBTable` manifest: recovery, protection, expiry and billing settings of an existing
DynamoDB table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from reconciler.model import PATTERN_HINTS, Manifest, Metadata, Strict

#: botocore's `TableName`: 3 to 255 of letters, digits, '_', '.' and '-'.
TABLE_NAME = r"^[a-zA-Z0-9_.-]{3,255}$"
PATTERN_HINTS[TABLE_NAME] = "a DynamoDB table name (3 to 255 letters, digits, '_', '.', '-')"

BillingMode = Literal["PAY_PER_REQUEST", "PROVISIONED"]


class DynamoDBTableSpec(Strict):
    """`spec` of a DynamoDBTable; only set fields are managed."""

    NULLABLE = frozenset({"ttlAttribute"})

    point_in_time_recovery: bool | None = Field(
        default=None, description="Point-in-time recovery (UpdateContinuousBackups)."
    )
    deletion_protection: bool | None = Field(
        default=None, description="DeletionProtectionEnabled (UpdateTable)."
    )
    ttl_attribute: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = Field(
        default=None,
        description="The attribute Time to Live reads expiry times from; null turns TTL off. "
        "AWS accepts one TTL change per table an hour.",
    )
    billing_mode: BillingMode | None = Field(
        default=None,
        description="PAY_PER_REQUEST (on-demand) or PROVISIONED (needs readCapacity and "
        "writeCapacity). AWS allows four switches to on-demand per table in 24 hours.",
    )
    read_capacity: int | None = Field(
        default=None, ge=1, description="ReadCapacityUnits; only with billingMode PROVISIONED."
    )
    write_capacity: int | None = Field(
        default=None, ge=1, description="WriteCapacityUnits; only with billingMode PROVISIONED."
    )


class DynamoDBTableMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=TABLE_NAME)] = Field(
        description="The table name."
    )


class DynamoDBTable(Manifest):
    """An existing DynamoDB table whose settings are managed; never created or deleted."""

    kind: Literal["DynamoDBTable"]
    metadata: DynamoDBTableMetadata
    spec: DynamoDBTableSpec


def check(manifest: DynamoDBTable) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Capacities go with, and only with, `billingMode: PROVISIONED` (one line per mistake)."""
    spec = manifest.spec
    given = [
        name
        for name, value in (
            ("readCapacity", spec.read_capacity),
            ("writeCapacity", spec.write_capacity),
        )
        if value is not None
    ]
    if spec.billing_mode == "PROVISIONED":
        missing = [name for name in ("readCapacity", "writeCapacity") if name not in given]
        if missing:
            yield (
                ("spec", "billingMode"),
                f"PROVISIONED needs {' and '.join(missing)} (capacity units, at least 1)",
            )
    elif given:
        mode = spec.billing_mode or "not declared"
        yield (
            ("spec", given[0]),
            f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} only for "
            f"billingMode PROVISIONED (billingMode is {mode})",
        )
