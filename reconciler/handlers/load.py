"""State `Load`: check out the manifests at the run's revision and validate the environment.

Answers `status`: `valid` (with the resolved revision), `invalid` (with every error, as
`reconciler validate --format json` lists them) or `suspended` (automatic runs of a suspended
environment do nothing but report it).

A commit-triggered run of a revision that is no longer the source's newest (a push delivered late
or out of order, or an old signed push replayed under a new delivery id, which GitHub does not
sign) only observes: it reports drift against that revision but never rolls the environment back.
"""

from __future__ import annotations

from typing import Any

from reconciler.handlers.runtime import (
    Run,
    Settings,
    load_manifests,
    logger,
    manifest_source,
    retried_when_transient,
    traced,
)


@retried_when_transient
@traced
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = Run.model_validate(event["run"])
    logger.set_correlation_id(run.run_id)
    settings = Settings.from_environ()
    source = manifest_source(settings)
    revision, manifests, errors = load_manifests(settings, run, source)
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
    superseded = None
    if run.trigger == "commit" and revision is not None:
        newest = source.newest()
        if newest is not None and newest != revision:
            mode = "observe"
            superseded = f"revision {revision[:12]} is not the newest ({newest[:12]}); observe only"
    logger.info("manifests valid", extra={"revision": revision, "mode": mode})
    return {"status": "valid", "revision": revision, "mode": mode, "superseded": superseded}
