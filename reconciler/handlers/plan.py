"""State `Plan`: check the account, observe, plan, and decide what this run does with drift.

`decision` is `in-sync` (nothing to do), `observe` (the mode says report only), `refused` (a
freeze window or the change budget; `refusal` says which) or `apply`.
"""

from __future__ import annotations

from typing import Any

from reconciler.handlers.runtime import loaded_run, logger, now, retried_when_transient, traced


@retried_when_transient
@traced
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from reconciler import pipeline

    run, manifests = loaded_run(event)
    aws = pipeline.clients_for(manifests)
    pipeline.check_account(aws, manifests)
    plan = pipeline.observe_and_plan(aws, manifests, revision=run.revision, progress=logger.info)
    decision, refusal = pipeline.decide(
        plan, manifests, mode=event["load"].get("mode") or "observe", now=now()
    )
    logger.info("planned", extra={"summary": plan.summary.model_dump(), "decision": decision.value})
    return {"plan": plan.to_json(), "decision": decision.value, "refusal": refusal}
