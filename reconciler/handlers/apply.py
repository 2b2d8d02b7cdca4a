"""State `Apply`: carry out the plan's writes, then observe again to verify.

The plan arrives as the contract's JSON (with `desired` on each write), so apply acts on exactly
what was planned; the manifests are read again only to verify.

The writes done are always reported: when verifying cannot read AWS afterwards, the answer
carries the results, no `verified` plan and the `error` (Report then ends the run `failed`, with a
`Drift Corrected` event for each change made), instead of failing the state and losing them.

Before the first write the run takes its environment's lock again, for another `LOCK_SECONDS`
(longer than this function may run): a run whose lock expired and was taken over by another run
(a run stuck long enough) writes nothing, and a live Apply cannot be overtaken while it writes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reconciler.handlers.runtime import (
    LOCK_SECONDS,
    Runtime,
    loaded_run,
    logger,
    now,
    retried_when_transient,
    traced,
)


@retried_when_transient
@traced
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from reconciler import pipeline
    from reconciler.errors import PermanentError
    from reconciler.plan import Plan

    run, manifests = loaded_run(event)
    if not Runtime.from_environ().runs.acquire_lock(
        run.environment, run.run_id, now=now(), ttl=timedelta(seconds=LOCK_SECONDS)
    ):
        raise PermanentError(
            f"run {run.run_id} no longer holds the lock of environment '{run.environment}' "
            f"(another run took it over after it expired); nothing applied"
        )
    plan = Plan.from_json(event["plan"]["plan"])
    aws = pipeline.clients_for(manifests)
    pipeline.check_account(aws, manifests)
    results, verified, error = pipeline.apply_and_verify(
        aws, plan, manifests, revision=run.revision, progress=logger.info
    )
    failed = sum(1 for result in results if not result.succeeded)
    logger.info("applied", extra={"changes": len(results), "failed": failed, "error": error})
    answer: dict[str, Any] = {
        "results": [result.to_json() for result in results],
        "verified": verified.to_json() if verified else None,
    }
    return {**answer, "error": error} if error else answer
