"""State `Failed`: a run that could not finish. Record the run as failed, release the lock (if
this run held it), send `Reconcile Failed`, and answer the contract's output with status `failed`.

The state machine retries this state on any error, so the event goes last: an attempt that fails
before it has sent nothing, and the attempt that sends it ends the state.

The stage is told by how far the state got: no `run` means Start failed, no `load` means Load
failed, and so on.
"""

from __future__ import annotations

from typing import Any

from reconciler.handlers.runtime import (
    Run,
    Runtime,
    elapsed_ms,
    finish_run,
    logger,
    retried_when_transient,
    traced,
)


def stage_of(state: dict[str, Any]) -> str:
    """Which state failed, from what the state carried when it was caught."""
    if "run" not in state:
        return "start"
    if "load" not in state:
        return "load"
    if "plan" not in state:
        return "plan"
    if "apply" not in state and state["plan"].get("decision") == "apply":
        return "apply"
    return "report"


def _error_text(error: dict[str, Any] | None) -> str:
    if not error:
        return "unknown error"
    import json

    cause = error.get("Cause") or ""
    try:  # Lambda errors arrive as {"errorType", "errorMessage", …} inside Cause
        message = json.loads(cause).get("errorMessage", cause)
    except (ValueError, AttributeError):
        message = cause
    return f"{error.get('Error', 'Error')}: {message}".strip()


@retried_when_transient
@traced
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from reconciler import events

    rt = Runtime.from_environ()
    state: dict[str, Any] = event["state"]
    run_id: str = event["runId"]
    logger.set_correlation_id(run_id)
    stage = stage_of(state)
    error = _error_text(state.get("error"))
    if "run" in state:
        run = Run.model_validate(state["run"])
    else:  # Start failed, perhaps on the input itself: record what was given
        given = {key: value for key, value in state.items() if key != "error"}
        run = Run.salvage(given, run_id, event.get("startedAt"))
    revision = (state.get("load") or {}).get("revision") or run.revision
    logger.error("run failed", extra={"stage": stage, "error": error})
    output = finish_run(
        rt,
        run,
        revision=revision,
        status="failed",
        duration_ms=elapsed_ms(run),
        error=f"{stage}: {error}",
    )
    events.send(
        rt.events,
        rt.settings.event_bus_name,
        [events.failed(run.environment, run.run_id, stage=stage, error=error, revision=revision)],
    )
    return output
