"""`Environment`: the one document per folder that says where and how an environment reconciles.

It names the account and region, and holds the safety settings every run obeys: the mode of
automatic runs, opt-in prune, the change budget, freeze windows, digest pinning and suspension.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from cronsim import CronSim, CronSimError
from pydantic import (
    AwareDatetime,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
)

from reconciler.kinds.description import Kind
from reconciler.model import PATTERN_HINTS, AccountId, Manifest, Metadata, Region, RoleArn, Strict

DURATION = r"^([0-9]+d([0-9]+h)?([0-9]+m)?|[0-9]+h([0-9]+m)?|[0-9]+m)$"
_DURATION_PARTS = re.compile(r"([0-9]+)([dhm])")
ENVIRONMENT_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"
PATTERN_HINTS[DURATION] = "a duration such as 2h, 30m or 1d12h"
PATTERN_HINTS[ENVIRONMENT_NAME] = "an environment name (lower-case letters, digits, '-', '_')"


def duration_minutes(text: str) -> int:
    """`2h`, `30m`, `1d12h` → minutes (the pattern is checked by the model first)."""
    factor = {"d": 24 * 60, "h": 60, "m": 1}
    return sum(int(n) * factor[unit] for n, unit in _DURATION_PARTS.findall(text))


#: The longest freeze window a recurring schedule may open (`check` refuses longer ones).
MAX_WINDOW_MINUTES = 366 * 24 * 60


def parse_duration(text: str) -> timedelta:
    """The window's length, capped at `MAX_WINDOW_MINUTES` so no input can overflow."""
    return timedelta(minutes=min(duration_minutes(text), MAX_WINDOW_MINUTES))


class FixedWindow(Strict):
    """A one-off freeze between two RFC 3339 instants."""

    start: AwareDatetime = Field(strict=False, description="RFC 3339 instant, with a time zone.")
    end: AwareDatetime = Field(strict=False, description="RFC 3339 instant, after `start`.")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> Any:
        if not isinstance(value, str) or not re.match(
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
            r"([Zz]|[+-][0-9]{2}:[0-9]{2})$",
            value,
        ):
            from reconciler.explain import show  # the value as YAML spells it

            shown = show(value)
            raise ValueError(
                f"{shown} is not an RFC 3339 timestamp with a time zone, like 2026-12-20T00:00:00Z"
            )
        return value

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


class RecurringWindow(Strict):
    """A freeze that opens on a 5-field cron schedule (UTC) and lasts `duration`."""

    schedule: Annotated[str, StringConstraints(max_length=200)] = Field(
        description="5-field cron expression in UTC, e.g. `0 18 * * FRI`.",
        # The shape a schema can check (five fields); the model also parses the expression.
        json_schema_extra={"pattern": r"^\s*\S+(\s+\S+){4}\s*$"},
    )
    duration: Annotated[str, StringConstraints(pattern=DURATION)] = Field(
        description="How long each window lasts: `2h`, `30m`, `1d12h`."
    )

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(
                f"'{value}' is not a 5-field cron expression (minute hour day month weekday)"
            )
        try:
            CronSim(value, datetime(2000, 1, 1, tzinfo=UTC))
        except CronSimError as exc:
            raise ValueError(f"'{value}' is not a valid cron expression: {exc}") from exc
        return value

    def contains(self, instant: datetime) -> bool:
        """True when `instant` falls inside a window opened by the schedule."""
        length = parse_duration(self.duration)
        opened = CronSim(self.schedule, (instant - length).astimezone(UTC))
        return next(opened) <= instant


def _window_tag(value: Any) -> str:
    if isinstance(value, dict) and ("schedule" in value or "duration" in value):
        return "recurring"
    return "fixed"


FreezeWindow = Annotated[
    Annotated[FixedWindow, Tag("fixed")] | Annotated[RecurringWindow, Tag("recurring")],
    Discriminator(_window_tag),
]


class EnvironmentSpec(Strict):
    """`spec` of an Environment."""

    account: AccountId = Field(description="12-digit account id; runs stop when STS differs.")
    region: Region
    assume_role_arn: RoleArn | None = Field(
        default=None, description="Role to assume in the target account (cross-account)."
    )
    mode: Literal["observe", "apply"] = Field(
        default="observe", description="What scheduled and commit-triggered runs do with drift."
    )
    prune: bool = Field(
        default=False, description="Delete owned alarms and budgets that left the manifests."
    )
    max_changes_per_run: int = Field(
        default=25, ge=1, description="A plan with more changes than this is refused whole."
    )
    freeze_windows: list[FreezeWindow] = Field(
        default_factory=list, description="No apply inside any of these windows."
    )
    require_image_digest: bool = Field(
        default=False, description="Images must be pinned by digest (@sha256:…)."
    )
    suspended: bool = Field(
        default=False, description="Automatic runs do nothing but report `suspended`."
    )

    def frozen_at(self, instant: datetime) -> bool:
        """True when `instant` falls inside any freeze window."""
        return any(window.contains(instant) for window in self.freeze_windows)


class EnvironmentMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=ENVIRONMENT_NAME)] = Field(
        description="The environment's name; must equal its folder's name."
    )


class Environment(Manifest):
    """Where an environment lives and the safety settings its runs obey."""

    kind: Literal["Environment"]
    metadata: EnvironmentMetadata
    spec: EnvironmentSpec


def check(manifest: Environment) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Rules across fields: every fixed freeze window starts before it ends."""
    for index, window in enumerate(manifest.spec.freeze_windows):
        if isinstance(window, FixedWindow) and window.start >= window.end:
            yield (
                ("spec", "freezeWindows", index, "end"),
                f"the window does not end ({window.end.isoformat()}) after it starts "
                f"({window.start.isoformat()})",
            )
        if isinstance(window, RecurringWindow):
            minutes = duration_minutes(window.duration)
            if not minutes or minutes > MAX_WINDOW_MINUTES:
                yield (
                    ("spec", "freezeWindows", index, "duration"),
                    f"'{window.duration}' must be longer than 0m and at most 366d",
                )


KIND = Kind("Environment", Environment, check)
