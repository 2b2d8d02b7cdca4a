"""State `Load`: check out the manifests at the run's revision and validate the environment.

Answers `status`: `valid` (with the resolved revision), `invalid` (with every error, as
`reconciler validate --format json` lists them) or `suspended` (automatic runs of a suspended
environment do nothing but report it).
"""

from __future__ import annotations

from typing import Any

from reconciler.handlers.runtime import (
    Run,
    Settings,
    load_manifests,
    logger,
    retried_when_transient,
    traced,
)


@retried_when_transient
@traced
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = Run.model_validate(event["run"])
    logger.set_correlation_id(run.run_id)
    revision, manifests, errors = load_manifests(Settings.from_environ(), run)
    if manifests is None:
        logger.warning("manifests invalid", extra={"errors": len(errors), "revision": revision})
        return {
            "status": "invalid",
            "revision": revision,
            "errors": [error.as_json() for error in sorted(errors)],
        }
    spec = manifests.environment.spec
    if spec.suspended and run.trigger != "manual":
        return {"status": "suspended", "revision": revision}
    mode = run.mode or spec.mode
    logger.info("manifests valid", extra={"revision": revision, "mode": mode})
    return {"status": "valid", "revision": revision, "mode": mode}
