"""The `LogGroup` manifest: a CloudWatch Logs log group and how long it keeps its events.

Only the fields a document sets are managed: a document without `retentionDays` asks only that
the group exist (and carry the ownership tag).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from reconciler.explain import show
from reconciler.model import PATTERN_HINTS, Manifest, Metadata, Strict

#: The botocore shape `LogGroupName`: `[\.\-_/#A-Za-z0-9]+`, 1 to 512 characters. (CreateLogGroup
#: also refuses names starting `aws/`, which AWS keeps for groups its services create, such as
#: `aws/spans`; a manifest may still manage such a group's retention, so they are not refused.)
LOG_GROUP_NAME = r"^[.\-_/#A-Za-z0-9]{1,512}$"
PATTERN_HINTS[LOG_GROUP_NAME] = (
    "a log group name (letters, digits, '.', '-', '_', '/', '#'; up to 512)"
)

#: The values `PutRetentionPolicy` takes (botocore shape `Days`); never expiring is no policy.
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip


class LogGroupSpec(Strict):
    """`spec` of a LogGroup; only set fields are managed."""

    NULLABLE = frozenset({"retentionDays"})

    retention_days: int | None = Field(
        default=None,
        json_schema_extra={"enum": [*RETENTION_DAYS, None]},
        description="Days the log events are kept (PutRetentionPolicy); null: never expire.",
    )

    @field_validator("retention_days", mode="before")
    @classmethod
    def _retention(cls, value: Any) -> Any:
        """One of AWS's values. A boolean is refused here: `True == 1` in Python, so a check of
        the value alone would take `retentionDays: true` for one day."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number of days, not {show(value)}")
        if value not in RETENTION_DAYS:
            allowed = ", ".join(map(str, RETENTION_DAYS))
            raise ValueError(
                f"{value} days is not a retention AWS offers (one of {allowed}, or null)"
            )
        return value


class LogGroupMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=LOG_GROUP_NAME)] = Field(
        description="The log group name, e.g. /aws/lambda/flask-api."
    )


class LogGroup(Manifest):
    """A CloudWatch Logs log group: created when missing, never deleted (deleting a log group
    deletes its logs)."""

    kind: Literal["LogGroup"]
    metadata: LogGroupMetadata
    spec: LogGroupSpec


def check(manifest: LogGroup) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """No rule spans fields: the one field checks itself."""
    return iter(())
