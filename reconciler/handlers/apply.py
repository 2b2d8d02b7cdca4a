"""State `Apply`: carry out the plan's writes, then observe again to verify.

The plan arrives as the contract's JSON (with `desired` on each write), so apply acts on exactly
what was planned; the manifests are read again only to verify.
"""

from __future__ import annotations

from typing import Any

from reconciler.handlers.runtime import loaded_run, logger, traced


@traced
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from reconciler import pipeline
    from reconciler.plan import Plan

    run, manifests = loaded_run(event)
    plan = Plan.from_json(event["plan"]["plan"])
    aws = pipeline.clients_for(manifests)
    pipeline.check_account(aws, manifests)
    results = pipeline.apply(aws, plan, pipeline.context_for(manifests), progress=logger.info)
    verified = pipeline.plan(aws, manifests, revision=run.revision)
    failed = sum(1 for result in results if not result.succeeded)
    logger.info("applied", extra={"changes": len(results), "failed": failed})
    return {
        "results": [result.to_json() for result in results],
        "verified": verified.to_json(),
    }
