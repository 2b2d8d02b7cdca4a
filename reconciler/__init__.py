"""reconciler: an event-driven GitOps reconciler for the runtime knobs of a serverless AWS stack.

The public surface is small: load and validate manifests, plan, and run the whole loop. Every
name is imported on first use, so importing one module of the package (a Lambda handler, say)
never pays for the rest: cold start matters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.aws import Clients
    from reconciler.errors import ManifestError, ManifestsInvalid, PermanentError, TemporaryError
    from reconciler.loader import EnvironmentManifests, load_environment, validate
    from reconciler.outcome import Outcome, Status
    from reconciler.pipeline import reconcile
    from reconciler.plan import Action, Change, Diff, Plan
    from reconciler.planner import Observation, build_plan

__all__ = [
    "Action",
    "Change",
    "Clients",
    "Diff",
    "EnvironmentManifests",
    "ManifestError",
    "ManifestsInvalid",
    "Observation",
    "Outcome",
    "PermanentError",
    "Plan",
    "Status",
    "TemporaryError",
    "build_plan",
    "load_environment",
    "reconcile",
    "validate",
]

_LAZY = {
    "Clients": "reconciler.aws",
    "ManifestError": "reconciler.errors",
    "ManifestsInvalid": "reconciler.errors",
    "PermanentError": "reconciler.errors",
    "TemporaryError": "reconciler.errors",
    "EnvironmentManifests": "reconciler.loader",
    "load_environment": "reconciler.loader",
    "validate": "reconciler.loader",
    "Outcome": "reconciler.outcome",
    "Status": "reconciler.outcome",
    "reconcile": "reconciler.pipeline",
    "Action": "reconciler.plan",
    "Change": "reconciler.plan",
    "Diff": "reconciler.plan",
    "Plan": "reconciler.plan",
    "Observation": "reconciler.planner",
    "build_plan": "reconciler.planner",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'reconciler' has no attribute {name!r}")
