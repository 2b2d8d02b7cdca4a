"""What every state-machine handler shares: settings, logging, metrics and the run's input.

Kept small and import-light: boto3, the engine and the manifest source are imported only by the
functions that need them, so each handler's cold start pays for what it uses.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from reconciler.loader import EnvironmentManifests

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "reconciler"))

Trigger = Literal["schedule", "commit", "manual"]
Mode = Literal["observe", "apply"]

#: How long a run may hold its environment's lock before it counts as dead (the state machine's
#: own timeout is 30 minutes, so a live run never outlasts its lock).
LOCK_SECONDS = 1800


class Settings(BaseModel):
    """The deployment's configuration, read from the function's environment variables."""

    manifest_source: str = Field(default="", alias="MANIFEST_SOURCE")
    runs_table: str = Field(default="", alias="RUNS_TABLE")
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME")
    branch: str = Field(default="main", alias="BRANCH")
    git_token_secret_name: str = Field(default="", alias="GIT_TOKEN_SECRET_NAME")
    cache_dir: str = Field(default="/tmp/reconciler", alias="RECONCILER_CACHE_DIR")  # noqa: S108

    @classmethod
    def from_environ(cls) -> Settings:
        return cls.model_validate(dict(os.environ))


class RunInput(BaseModel):
    """The state machine's input, as the contract fixes it."""

    model_config = ConfigDict(extra="ignore")

    environment: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    trigger: Trigger = "manual"
    revision: str | None = None
    mode: Mode | None = None


class Run(BaseModel):
    """The run as it travels between states: who, why, at which revision, and the lock."""

    run_id: str = Field(alias="runId")
    environment: str
    trigger: Trigger
    revision: str | None
    mode: Mode | None
    started_at: str = Field(alias="startedAt")
    locked: bool = False

    model_config = ConfigDict(populate_by_name=True)

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def now() -> datetime:
    return datetime.now(UTC)


def elapsed_ms(run: Run) -> int:
    started = datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
    return max(0, int((now() - started).total_seconds() * 1000))


@cache
def _tracer() -> Any:
    """Powertools' Tracer only when `RECONCILER_TRACING=true`: it pulls in the X-Ray SDK, which
    costs several hundred milliseconds of cold start."""
    if os.environ.get("RECONCILER_TRACING", "").lower() != "true":
        return None
    from aws_lambda_powertools import Tracer

    return Tracer()


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def traced(handler: Handler) -> Handler:
    """Trace the handler with X-Ray when tracing is enabled; otherwise call it as it is."""

    @wraps(handler)
    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        tracer = _tracer()
        if tracer is None:
            return handler(event, context)
        result: dict[str, Any] = tracer.capture_lambda_handler(handler)(event, context)
        return result

    return run


def runs_table(settings: Settings) -> Any:
    import boto3

    from reconciler.history import RunsTable

    return RunsTable(boto3.client("dynamodb"), settings.runs_table)


def load_manifests(
    settings: Settings, run: Run
) -> tuple[str | None, EnvironmentManifests | None, list[Any]]:
    """Check out the manifests at the run's revision and validate the run's environment.

    Returns the resolved revision, the validated manifests (None when invalid) and the errors.
    """
    import os.path

    from reconciler.loader import load_folder
    from reconciler.sources import source_from_uri

    token = _git_token(settings)
    source = source_from_uri(
        settings.manifest_source,
        branch=settings.branch,
        token=token,
        cache_dir=settings.cache_dir,
    )
    checkout = source.checkout(run.revision)
    folder = os.path.join(checkout.root, run.environment)
    if not os.path.isdir(folder):
        from reconciler.errors import ManifestError

        missing = ManifestError(
            f"manifests/{run.environment}", 1, 1, "", "no such environment folder at this revision"
        )
        return checkout.revision, None, [missing]
    manifests, errors = load_folder(folder)
    return checkout.revision, manifests, errors


@cache
def _git_token_cached(name: str) -> str:
    import boto3

    secret = boto3.client("secretsmanager").get_secret_value(SecretId=name)
    return str(secret["SecretString"])


def _git_token(settings: Settings) -> str | None:
    if not settings.git_token_secret_name or not settings.manifest_source.startswith("https://"):
        return None
    return _git_token_cached(settings.git_token_secret_name)
