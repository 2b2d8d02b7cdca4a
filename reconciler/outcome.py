"""What a run ends with, as values: its status, each change's result, and the whole outcome.

A leaf module: it knows plans and nothing that talks to AWS, so the modules that only report
(`render`, `events`, `history`, the Report state) read these types without loading the pipeline
or a single kind's engine. `status_of` is here too, because it is a rule over these values alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.plan import Change, Plan


class Status(StrEnum):
    """How a run ended, as the contract spells it (state machine output, events, run history)."""

    IN_SYNC = "in-sync"
    CORRECTED = "corrected"
    DRIFTED = "drifted"
    BLOCKED = "blocked"
    INVALID = "invalid"
    FAILED = "failed"
    LOCKED = "locked"
    SUSPENDED = "suspended"


#: The statuses a `Reconcile Completed` event carries: all but `invalid`, whose runs send
#: `Manifests Invalid` instead.
COMPLETED = frozenset(Status) - {Status.INVALID}


class Decision(StrEnum):
    """What a run does with its plan."""

    IN_SYNC = "in-sync"
    OBSERVE = "observe"
    REFUSED = "refused"
    APPLY = "apply"


@dataclass(frozen=True)
class ChangeResult:
    """What became of one change that apply attempted."""

    change: Change
    succeeded: bool
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """`{kind, name, action, diffs, result, error}`: how results travel and are recorded."""
        change = self.change.model_dump(mode="json", exclude={"desired", "reason"})
        return {
            **change,
            "result": "succeeded" if self.succeeded else "failed",
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeResult:
        change = Change.model_validate(
            {key: data[key] for key in ("kind", "name", "action", "diffs") if key in data}
        )
        return cls(change, data.get("result") == "succeeded", data.get("error"))


@dataclass(frozen=True)
class Outcome:
    """Everything a run found and did, for the CLI, the events and the run history."""

    plan: Plan
    status: Status
    refusal: str | None = None
    results: tuple[ChangeResult, ...] = ()
    verified: Plan | None = None
    #: Set when the changes were applied but could not be verified.
    error: str | None = None


def status_of(plan: Plan, results: Sequence[ChangeResult], verified: Plan | None) -> Status:
    """The contract's run status from what was planned, done and seen afterwards."""
    if any(not result.succeeded for result in results):
        return Status.FAILED
    final = verified or plan
    if final.in_sync:
        return Status.CORRECTED if results else Status.IN_SYNC
    if final.writes:
        return Status.DRIFTED
    return Status.BLOCKED
