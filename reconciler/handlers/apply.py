"""State `Apply`: carry out the plan's writes, then observe again to verify.

The plan arrives as the contract's JSON (with `desired` on each write), so apply acts on exactly
what was planned; the manifests are read again only to verify.
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import PermanentError
from reconciler.handlers.runtime import Run, Settings, load_manifests, logger, traced


@traced
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from reconciler import pipeline
    from reconciler.plan import Plan

    run = Run.model_validate(event["run"]).model_copy(
        update={"revision": event["load"]["revision"]}
    )
    logger.set_correlation_id(run.run_id)
    _, manifests, errors = load_manifests(Settings.from_environ(), run)
    if manifests is None:
        raise PermanentError(f"the manifests changed under the run: {errors[0] if errors else ''}")
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
