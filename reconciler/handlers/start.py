"""State `Start`: name the run after the execution and take the environment's lock.

A run that finds the lock held ends as `locked` and touches nothing; a dead run's lock frees
itself when its expiry passes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reconciler.handlers.runtime import (
    LOCK_SECONDS,
    Run,
    Runtime,
    logger,
    now,
    retried_when_transient,
    traced,
)


@retried_when_transient
@traced
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = Run.begin(event["input"], event["runId"], event.get("startedAt"))
    logger.set_correlation_id(run.run_id)
    acquired = Runtime.from_environ().runs.acquire_lock(
        run.environment, run.run_id, now=now(), ttl=timedelta(seconds=LOCK_SECONDS)
    )
    run = run.model_copy(update={"locked_out": not acquired})
    logger.info("run started", extra={"environment": run.environment, "locked": run.locked_out})
    return run.to_state()
