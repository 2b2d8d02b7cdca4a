"""State `Report`: the run history, the lock, events and metrics; the run's status.

Receives the whole state (`run`, `load`, and `plan`/`apply` when the run got that far) and answers
the contract's output `{runId, environment, revision, status, summary}`.

The state machine runs Report again when it raises `TemporaryError`, so every step is safe to
repeat and none is done twice: the run is recorded first (the same item each time) and its lock
released (a no-op the second time); then the events are sent, skipping those an earlier attempt
delivered (the run's delivery ledger in the table); the metrics go last, once.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from reconciler.handlers.runtime import (
    Run,
    Runtime,
    elapsed_ms,
    finish_run,
    logger,
    now,
    retried_when_transient,
    traced,
)

metrics = Metrics(namespace="Reconciler", service="reconciler")


@retried_when_transient
@traced
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from reconciler import events
    from reconciler.errors import ManifestError, TemporaryError
    from reconciler.outcome import ChangeResult, Status, status_of
    from reconciler.plan import Plan

    rt = Runtime.from_environ()
    run = Run.model_validate(event["run"])
    logger.set_correlation_id(run.run_id)
    load = event["load"]
    revision = load.get("revision") or run.revision
    plan = Plan.from_json(event["plan"]["plan"]) if "plan" in event else None
    applied = event.get("apply") or {}
    results = [ChangeResult.from_json(r) for r in applied.get("results", [])]
    verified = Plan.from_json(applied["verified"]) if applied.get("verified") else None
    reason: str | None = None
    outgoing: list[events.Event] = []
    if load["status"] == "invalid":
        status = Status.INVALID
        errors = [ManifestError(**error) for error in load.get("errors", [])]
        outgoing.append(events.invalid(run.environment, revision, errors, run_id=run.run_id))
    elif load["status"] == "suspended" or plan is None:
        status, reason = Status.SUSPENDED, "the environment is suspended"
    else:
        status = status_of(plan, results, verified)
        reason = event["plan"].get("refusal") or load.get("superseded")
        if applied.get("error"):  # the changes were made but could not be verified
            status, reason = Status.FAILED, str(applied["error"])
        outgoing += events.drift_detected(plan, run.run_id)
        outgoing += events.corrections(results, plan, run.run_id)
    duration = elapsed_ms(run)
    if status is not Status.INVALID:
        outgoing.append(
            events.completed(
                run.environment,
                run.run_id,
                revision=revision,
                trigger=run.trigger,
                status=status.value,
                summary=plan.summary if plan else None,
                duration_ms=duration,
                reason=reason,
            )
        )
    output = finish_run(
        rt,
        run,
        revision=revision,
        status=status.value,
        duration_ms=duration,
        plan=plan,
        results=tuple(r.to_json() for r in results),
        error=reason,
    )
    table = rt.runs
    delivered = table.delivered_events(run.environment, run.run_id, now=now())
    try:
        events.send(rt.events, rt.settings.event_bus_name, outgoing, delivered=delivered)
    except TemporaryError:
        table.mark_events_delivered(run.environment, run.run_id, delivered, now=now())
        raise

    metrics.add_dimension(name="Environment", value=run.environment)
    drifted = 0 if plan is None else sum(1 for c in plan.changes if c.action != "noop")
    metrics.add_metric(name="DriftedResources", unit=MetricUnit.Count, value=drifted)
    metrics.add_metric(
        name="ChangesApplied", unit=MetricUnit.Count, value=sum(r.succeeded for r in results)
    )
    metrics.add_metric(
        name="ChangesFailed", unit=MetricUnit.Count, value=sum(not r.succeeded for r in results)
    )
    metrics.add_metric(name="RunDurationMs", unit=MetricUnit.Milliseconds, value=duration)
    metrics.flush_metrics()

    logger.info("run finished", extra={"status": status.value, "durationMs": duration})
    return output
