"""The plan is a value: what each declared (or prunable) resource needs, as frozen data.

A `Plan` round-trips the contract's plan JSON exactly (plus one addition, `desired` on changes
that write, which is what apply sends), so Step Functions can carry it between states and apply
can run from it alone: apply branches only on `action`; `reason` is for people.

Nothing here talks to AWS. The step that makes a plan is `reconciler.planner.build_plan`, a pure
function of the manifests and what was observed; the pipeline's `observe_and_plan` feeds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from reconciler.ownership import OWNER_TAG, owner

__all__ = [
    "OWNER_TAG",
    "WRITES",
    "Action",
    "Change",
    "Diff",
    "Observed",
    "Plan",
    "Summary",
    "owner_of",
    "summary_line",
]


class Action(StrEnum):
    """What a change does. `blocked` is drift the reconciler will not touch; `reason` says why."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "noop"
    BLOCKED = "blocked"


#: Actions that write to AWS (the ones `maxChangesPerRun` counts).
WRITES = frozenset({Action.CREATE, Action.UPDATE, Action.DELETE})


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Diff(_Value):
    """One field that differs: the manifest's field path, the wanted and the observed value."""

    field: str
    desired: Any
    actual: Any


class Change(_Value):
    """What one resource needs. `desired` (manifest spelling) is what apply sends."""

    kind: str
    name: str
    action: Action
    diffs: tuple[Diff, ...] = ()
    reason: str | None = None
    desired: dict[str, Any] | None = Field(default=None, exclude_if=lambda value: value is None)

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


class Summary(_Value):
    create: int = 0
    update: int = 0
    delete: int = 0
    noop: int = 0
    blocked: int = 0


class Plan(_Value):
    """Every declared resource's change, and every owned resource prune would delete."""

    api_version: Literal["reconciler/v1"] = Field(default="reconciler/v1", alias="apiVersion")
    environment: str
    account: str
    region: str
    revision: str | None = None
    changes: tuple[Change, ...] = ()
    #: What a person should know that is not drift (an image that a moved tag will not update):
    #: one sentence each, in the JSON only when there is one.
    warnings: tuple[str, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> Summary:
        counts = {action.value: 0 for action in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return Summary(**counts)

    @property
    def writes(self) -> tuple[Change, ...]:
        """The changes that write to AWS."""
        return tuple(c for c in self.changes if c.action in WRITES)

    @property
    def blocked(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is Action.BLOCKED)

    @property
    def in_sync(self) -> bool:
        return all(c.action is Action.NOOP for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        """The contract's plan JSON (key order as in the contract)."""
        body = self.model_dump(mode="json", by_alias=True)
        order = ["apiVersion", "environment", "account", "region", "revision", "summary"]
        warnings = {"warnings": body["warnings"]} if self.warnings else {}
        return {**{key: body[key] for key in order}, "changes": body["changes"], **warnings}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """Read a plan back from its JSON (the summary is derived, so it is not read)."""
        body = {key: value for key, value in data.items() if key != "summary"}
        return cls.model_validate(body)


@dataclass(frozen=True)
class Observed:
    """A resource as AWS has it, in manifest terms: field values normalised and its tags.

    `refusal` says why the reconciler must leave it alone although it exists (a `SecureString`
    parameter is never read or overwritten; an API name that two APIs share names neither): the
    planner blocks it with that reason.

    `note` is what a person should know about it that is not drift (a change AWS will only apply
    in the maintenance window, a pending modification that makes it in sync): the planner gives
    it as the reason of its `update` or `noop` change.
    """

    name: str
    fields: Mapping[str, Any]
    tags: Mapping[str, str] = field(default_factory=dict)
    refusal: str | None = None
    note: str | None = None


def owner_of(observed: Observed) -> str | None:
    """The environment that owns the observed resource (its ownership tag), if any."""
    return owner(observed.tags)


def summary_line(plan: Plan) -> str:
    """`1 to create, 2 to update, 0 to delete, 3 unchanged, 0 blocked`."""
    s = plan.summary
    return (
        f"{s.create} to create, {s.update} to update, {s.delete} to delete, "
        f"{s.noop} unchanged, {s.blocked} blocked"
    )
