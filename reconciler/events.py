"""Events on EventBridge: what a run found and did, for rules, alerts and dashboards.

The builders are pure functions from what the pipeline produced to `Event` values, one
detail-type per fact (contract section 3); `send` is the only function that talks to AWS. Every
detail has a JSON Schema in `schemas/events/` (`SCHEMA_FILES`), and the tests hold the builders to
them.

Events stay small whatever the plan holds: a change's `desired` body (what apply sends) is never
included, a diff value longer than `MAX_VALUE_BYTES` of JSON is replaced by a short note, at most
`MAX_DIFFS` diffs and `MAX_ERRORS` manifest errors are listed (the rest are counted), and error
texts are cut at `MAX_ERROR_CHARS`. So one detail stays far below EventBridge's 256 KB.

This module imports neither boto3 nor the pipeline at run time, so a handler that only reports
pays little for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, get_args

from reconciler.errors import ManifestError, PermanentError, TemporaryError
from reconciler.outcome import COMPLETED, ChangeResult
from reconciler.plan import Action, Change, Plan, Summary
from reconciler.triggers import Trigger

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef


SOURCE = "reconciler"


class DetailType(StrEnum):
    """The contract's detail-types, spelled exactly as rules match them."""

    DRIFT_DETECTED = "Drift Detected"
    DRIFT_CORRECTED = "Drift Corrected"
    CORRECTION_FAILED = "Correction Failed"
    RECONCILE_COMPLETED = "Reconcile Completed"
    RECONCILE_FAILED = "Reconcile Failed"
    MANIFESTS_INVALID = "Manifests Invalid"


#: The schema of each detail-type, as a file name under `schemas/events/`.
SCHEMA_FILES = {kind: f"{kind.value.lower().replace(' ', '-')}.schema.json" for kind in DetailType}

#: The statuses a `Reconcile Completed` event can carry: the contract's four, plus `failed` (a
#: change failed; the run still finished), `suspended` and `locked`. `invalid` runs send
#: `Manifests Invalid` instead, and runs that could not finish send `Reconcile Failed`.
COMPLETED_STATUSES = frozenset(status.value for status in COMPLETED)
TRIGGERS = frozenset(get_args(Trigger))

MAX_VALUE_BYTES = 1024
MAX_DIFFS = 40
MAX_ERRORS = 100
MAX_ERROR_CHARS = 2000

MAX_ENTRIES = 10  # PutEvents: at most 10 entries per call
MAX_REQUEST_BYTES = 256 * 1024  # and at most 256 KB of entries per call


class Event(NamedTuple):
    """One event to send: its detail-type and its detail (a JSON object)."""

    detail_type: DetailType
    detail: dict[str, Any]


# --- builders (pure) ---------------------------------------------------------------------------


def drift_detected(plan: Plan, run_id: str) -> list[Event]:
    """One `Drift Detected` per resource that is not in sync (to create, update, delete or
    blocked), in plan order; none for an in-sync plan."""
    return [
        Event(DetailType.DRIFT_DETECTED, _change_detail(plan, run_id, change))
        for change in plan.changes
        if change.action is not Action.NOOP
    ]


def corrections(results: Sequence[ChangeResult], plan: Plan, run_id: str) -> list[Event]:
    """One `Drift Corrected` per change apply carried out and one `Correction Failed` per change
    that failed, in the order apply attempted them."""
    events: list[Event] = []
    for result in results:
        detail = _change_detail(plan, run_id, result.change)
        if result.succeeded:
            events.append(Event(DetailType.DRIFT_CORRECTED, {**detail, "result": "succeeded"}))
        else:
            error = _clip(result.error or "the change failed for an unknown reason")
            events.append(
                Event(DetailType.CORRECTION_FAILED, {**detail, "result": "failed", "error": error})
            )
    return events


def completed(
    environment: str,
    run_id: str,
    *,
    revision: str | None,
    trigger: str,
    status: str,
    summary: Summary | None,
    duration_ms: int,
    reason: str | None = None,
) -> Event:
    """The one `Reconcile Completed` of a run that finished. `summary` is the plan's (None, for a
    run that made no plan, counts zero everywhere); `reason` says why drift was left alone (a
    refused plan, a suspended environment) and is null otherwise.

    Raises ValueError for a trigger or status the contract does not know.
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}; expected one of {sorted(TRIGGERS)}")
    if status not in COMPLETED_STATUSES:
        raise ValueError(
            f"a run with status {status!r} does not send Reconcile Completed; "
            f"expected one of {sorted(COMPLETED_STATUSES)}"
        )
    return Event(
        DetailType.RECONCILE_COMPLETED,
        {
            "environment": environment,
            "revision": revision,
            "runId": run_id,
            "trigger": trigger,
            "status": str(status),
            "summary": (summary or Summary()).model_dump(mode="json"),
            "durationMs": max(0, int(duration_ms)),
            "reason": None if reason is None else _clip(reason),
        },
    )


def failed(
    environment: str,
    run_id: str,
    *,
    stage: str,
    error: str | BaseException,
    revision: str | None = None,
) -> Event:
    """The `Reconcile Failed` of a run that could not finish: which stage stopped it and why."""
    text = str(error).strip() or (
        type(error).__name__ if isinstance(error, BaseException) else "unknown error"
    )
    return Event(
        DetailType.RECONCILE_FAILED,
        {
            "environment": environment,
            "revision": revision,
            "runId": run_id,
            "stage": stage,
            "error": _clip(text),
        },
    )


def invalid(
    environment: str,
    revision: str | None,
    errors: Sequence[ManifestError],
    *,
    run_id: str | None = None,
) -> Event:
    """The `Manifests Invalid` of a run stopped by validation: the first `MAX_ERRORS` errors in
    file order (as `reconciler validate --format json` prints them) and how many there were."""
    ordered = sorted(errors)
    return Event(
        DetailType.MANIFESTS_INVALID,
        {
            "environment": environment,
            "revision": revision,
            "runId": run_id,
            "errors": [error.as_json() for error in ordered[:MAX_ERRORS]],
            "errorCount": len(ordered),
        },
    )


def _change_detail(plan: Plan, run_id: str, change: Change) -> dict[str, Any]:
    diffs = [diff.model_dump(mode="json") for diff in change.diffs]
    detail: dict[str, Any] = {
        "environment": plan.environment,
        "revision": plan.revision,
        "runId": run_id,
        "kind": change.kind,
        "name": change.name,
        "action": change.action.value,
        "diffs": [
            {
                "field": d["field"],
                "desired": _bounded(d["desired"]),
                "actual": _bounded(d["actual"]),
            }
            for d in diffs[:MAX_DIFFS]
        ],
        "reason": change.reason,
    }
    if len(diffs) > MAX_DIFFS:
        detail["diffsOmitted"] = len(diffs) - MAX_DIFFS
    return detail


def _bounded(value: Any) -> Any:
    """`value`, or a note in its place when its JSON is longer than `MAX_VALUE_BYTES`."""
    size = len(json.dumps(value, separators=(",", ":"), default=str).encode())
    if size <= MAX_VALUE_BYTES:
        return value
    return f"<{size} bytes of JSON, left out of the event; see the run history>"


def _clip(text: str) -> str:
    line = " ".join(text.split())
    if len(line) <= MAX_ERROR_CHARS:
        return line
    return line[: MAX_ERROR_CHARS - 1] + "…"


# --- delivery ----------------------------------------------------------------------------------


def entry_size(entry: PutEventsRequestEntryTypeDef) -> int:
    """An entry's size as EventBridge counts it against the 256 KB of a PutEvents call."""
    size = 14 if "Time" in entry else 0
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key, "")).encode())
    return size + sum(len(resource.encode()) for resource in entry.get("Resources", []))


def batches(
    entries: Sequence[PutEventsRequestEntryTypeDef],
) -> Iterator[list[PutEventsRequestEntryTypeDef]]:
    """Consecutive runs of `entries` that each fit one PutEvents call (≤ 10, ≤ 256 KB)."""
    batch: list[PutEventsRequestEntryTypeDef] = []
    size = 0
    for entry in entries:
        this = entry_size(entry)
        if batch and (len(batch) == MAX_ENTRIES or size + this > MAX_REQUEST_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += this
    if batch:
        yield batch


def send(
    client: EventBridgeClient,
    bus_name: str,
    events: Sequence[Event],
    *,
    delivered: set[int] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = 5,
    base_delay: float = 0.2,
) -> None:
    """Put every event on `bus_name`, in as few calls as the limits allow.

    Entries EventBridge reports as failed (per-entry `ErrorCode`), and whole calls that were
    throttled or hit a transient error, are sent again, only those, after `base_delay`, then
    twice as long each time, for at most `attempts` tries in all. Entries already accepted are
    never sent twice by this function.

    `delivered`, when given, holds the positions (in `events`) of the events an earlier attempt
    already delivered: those are not sent again, and the position of every event EventBridge
    accepts now is added to it, also when this function then raises. A caller that is retried
    (the Report state) keeps it between attempts, so a retry sends only what is missing.

    Raises TemporaryError naming how many events were lost when some are still failing after the
    last attempt, and PermanentError when the call itself is refused (no such bus, no permission)
    or an event is too large to send at all.
    """
    from reconciler import aws_errors

    entries: list[PutEventsRequestEntryTypeDef] = [
        {
            "Source": SOURCE,
            "DetailType": event.detail_type.value,
            "Detail": json.dumps(event.detail, separators=(",", ":"), default=str),
            "EventBusName": bus_name,
        }
        for event in events
    ]
    for entry in entries:
        if entry_size(entry) > MAX_REQUEST_BYTES:
            raise PermanentError(
                f"a {entry['DetailType']} event is {entry_size(entry)} bytes, more than "
                f"EventBridge accepts ({MAX_REQUEST_BYTES}); no events were sent"
            )
    done = delivered if delivered is not None else set()
    pending = [position for position in range(len(entries)) if position not in done]
    last_error = "none"
    for attempt in range(attempts):
        if not pending:
            return
        if attempt:
            sleep(base_delay * 2 ** (attempt - 1))
        still_failing: list[int] = []
        for batch in _position_batches(entries, pending):
            try:
                answer = client.put_events(Entries=[entries[position] for position in batch])
            except Exception as exc:
                failure = aws_errors.failure(exc)
                if failure is None:
                    raise
                if failure not in aws_errors.TRANSIENT:
                    raise PermanentError(
                        f"EventBridge refused events for bus {bus_name!r}: {_clip(str(exc))}"
                    ) from exc
                still_failing.extend(batch)
                last_error = aws_errors.code(exc) or _clip(str(exc))
                continue
            for position, outcome in zip(batch, answer["Entries"], strict=True):
                if "ErrorCode" in outcome:
                    still_failing.append(position)
                    last_error = f"{outcome['ErrorCode']}: {outcome.get('ErrorMessage', '')}"
                else:
                    done.add(position)
        pending = still_failing
    if not pending:
        return
    raise TemporaryError(
        f"{len(pending)} of {len(entries)} events were not delivered to event bus "
        f"{bus_name!r} after {attempts} attempts (last error: {last_error})"
    )


def _position_batches(
    entries: Sequence[PutEventsRequestEntryTypeDef], positions: Sequence[int]
) -> Iterator[list[int]]:
    """`batches` over the entries at `positions`, as lists of those positions."""
    start = 0
    for batch in batches([entries[position] for position in positions]):
        yield list(positions[start : start + len(batch)])
        start += len(batch)
