"""What every handler shares: the deployment's settings and clients, logging, and the run's input.

`Settings` is the deployment's configuration (the functions' environment variables, one set for
every function); `Runtime` holds it with the deployment's own AWS clients, which it has
`reconciler.aws` build on first use. The state handlers make one per invocation, the triggers
(webhook, schedule) one per container.

Kept small and import-light: boto3, the engine and the manifest source are imported only by the
functions that need them, so each handler's cold start pays for what it uses.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, cached_property, wraps
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from reconciler.triggers import Trigger, parse_environments

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_stepfunctions import SFNClient

    from reconciler.history import RunsTable
    from reconciler.loader import EnvironmentManifests
    from reconciler.plan import Plan
    from reconciler.sources import ManifestSource

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "reconciler"))

# botocore logs whole request and response bodies at DEBUG, secret values among them (the
# webhook secret, the git token): whatever level the function runs at, it never logs below INFO.
for _noisy in ("botocore", "boto3", "urllib3"):
    if logging.getLogger(_noisy).getEffectiveLevel() < logging.INFO:
        logging.getLogger(_noisy).setLevel(logging.INFO)

Mode = Literal["observe", "apply"]

#: How long a run may hold its environment's lock before it counts as dead (the state machine's
#: own timeout is 30 minutes, so a live run never outlasts its lock).
LOCK_SECONDS = 1800


class Settings(BaseModel):
    """The deployment's configuration, read from the function's environment variables (the
    template gives every function the same ones). A variable set but empty counts as unset."""

    model_config = ConfigDict(frozen=True)

    manifest_source: str = Field(default="", alias="MANIFEST_SOURCE")
    runs_table: str = Field(default="", alias="RUNS_TABLE")
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME")
    branch: str = Field(default="main", alias="BRANCH")
    git_token_secret_name: str = Field(default="", alias="GIT_TOKEN_SECRET_NAME")
    cache_dir: str = Field(default="/tmp/reconciler", alias="RECONCILER_CACHE_DIR")  # noqa: S108
    state_machine_arn: str = Field(default="", alias="STATE_MACHINE_ARN")
    environment_list: str = Field(default="", alias="ENVIRONMENTS")
    webhook_secret_name: str = Field(default="reconciler/webhook", alias="WEBHOOK_SECRET_NAME")

    @classmethod
    def from_environ(cls, *required: str) -> Settings:
        """The settings in the environment; `PermanentError` naming every `required` variable
        (`RUNS_TABLE`) that is not set, and an `ENVIRONMENTS` that names no environments."""
        from reconciler.errors import PermanentError

        settings = cls.model_validate({k: v for k, v in os.environ.items() if v})
        missing = [name for name in required if not os.environ.get(name)]
        if missing:
            raise PermanentError(f"not set: {', '.join(missing)}")
        settings.environments  # noqa: B018 - refused here, before any work, when malformed
        return settings

    @property
    def environments(self) -> tuple[str, ...]:
        """`ENVIRONMENTS`, in order, without blanks or repeats (the triggers' environments)."""
        from reconciler.errors import PermanentError

        try:
            return parse_environments(self.environment_list)
        except ValueError as exc:
            raise PermanentError(str(exc)) from exc


class Runtime:
    """The settings and the deployment's own AWS clients (the run-history table, EventBridge,
    Step Functions, Secrets Manager), each built by `reconciler.aws` when first used."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def from_environ(cls, *required: str) -> Runtime:
        return cls(Settings.from_environ(*required))

    @cached_property
    def runs(self) -> RunsTable:
        from reconciler.history import RunsTable

        return RunsTable(self.dynamodb, self.settings.runs_table)

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return _client("dynamodb")  # type: ignore[no-any-return]

    @cached_property
    def events(self) -> EventBridgeClient:
        return _client("events")  # type: ignore[no-any-return]

    @cached_property
    def sfn(self) -> SFNClient:
        return _client("stepfunctions")  # type: ignore[no-any-return]

    @cached_property
    def secretsmanager(self) -> SecretsManagerClient:
        return _client("secretsmanager")  # type: ignore[no-any-return]


def _client(service: str) -> Any:
    from reconciler import aws

    return aws.client(service)


class RunInput(BaseModel):
    """The state machine's input, as the contract fixes it."""

    model_config = ConfigDict(extra="ignore")

    environment: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    trigger: Trigger = "manual"
    revision: str | None = None
    mode: Mode | None = None


def run_input(raw: Any) -> RunInput:
    """The execution's input, or a `PermanentError` saying in a sentence what is wrong with it."""
    from pydantic import ValidationError

    from reconciler.errors import PermanentError

    try:
        return RunInput.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'input'}: {error['msg']}"
            for error in exc.errors()
        )
        raise PermanentError(f"the run's input is invalid: {problems}") from exc


class Run(BaseModel):
    """The run as it travels between states: who, why, at which revision, and the lock.

    `locked_out` is true when the run does not hold its environment's lock: another run held it
    when this one started (the run ends as `locked` and touches nothing), or the run failed
    before it could take it. It travels as `locked`, the key the state machine's Choice reads.
    """

    run_id: str = Field(alias="runId")
    environment: str
    trigger: Trigger
    revision: str | None
    mode: Mode | None
    started_at: str = Field(alias="startedAt")
    locked_out: bool = Field(default=False, alias="locked")

    model_config = ConfigDict(populate_by_name=True)

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def begin(cls, raw_input: Any, run_id: str, started_at: str | None) -> Run:
        """A new run from the execution's input (`run_input` explains bad input)."""
        request = run_input(raw_input)
        return cls(
            run_id=run_id,
            environment=request.environment,
            trigger=request.trigger,
            revision=request.revision,
            mode=request.mode,
            started_at=started_at or now().isoformat(),
        )

    @classmethod
    def salvage(cls, raw_input: Any, run_id: str, started_at: str | None) -> Run:
        """The run as well as its input allows, for recording a run that failed in Start: its
        input may be the very thing that was wrong. It never holds the lock (`locked_out`)."""
        try:
            run = cls.begin(raw_input, run_id, started_at)
        except Exception:
            given = raw_input if isinstance(raw_input, dict) else {}
            run = cls(
                run_id=run_id,
                environment=str(given.get("environment") or "unknown")[:64],
                trigger="manual",
                revision=None,
                mode=None,
                started_at=started_at or now().isoformat(),
            )
        return run.model_copy(update={"locked_out": True})


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


def retried_when_transient(handler: Handler) -> Handler:
    """A state's failure that may pass by itself leaves as `TemporaryError`, the error name the
    state machine's `Retry` matches, whichever layer raised or wrapped it (a bare botocore error,
    an engine's `PermanentError` around a throttled read); any other failure leaves as it is."""

    @wraps(handler)
    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from reconciler.errors import TemporaryError

        try:
            return handler(event, context)
        except TemporaryError:
            raise
        except Exception as exc:
            from reconciler.aws_errors import transient

            if not transient(exc):
                raise
            raise TemporaryError(" ".join(str(exc).split()) or type(exc).__name__) from exc

    return run


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


def manifest_source(settings: Settings) -> ManifestSource:
    """The deployment's manifest source (`MANIFEST_SOURCE`), with the git token if one is set."""
    from reconciler.sources import source_from_uri

    return source_from_uri(
        settings.manifest_source,
        branch=settings.branch,
        token=_git_token(settings),
        cache_dir=settings.cache_dir,
    )


def load_manifests(
    settings: Settings, run: Run, source: ManifestSource | None = None
) -> tuple[str | None, EnvironmentManifests | None, list[Any]]:
    """Check out the manifests at the run's revision and validate the run's environment.

    Returns the resolved revision, the validated manifests (None when invalid) and the errors.
    """
    import os.path

    from reconciler.loader import load_folder

    checkout = (source or manifest_source(settings)).checkout(run.revision)
    folder = os.path.join(checkout.root, run.environment)
    if not os.path.isdir(folder):
        from reconciler.errors import ManifestError

        missing = ManifestError(
            f"manifests/{run.environment}", 1, 1, "", "no such environment folder at this revision"
        )
        return checkout.revision, None, [missing]
    manifests, errors = load_folder(folder)
    return checkout.revision, manifests, errors


def loaded_run(event: dict[str, Any]) -> tuple[Run, EnvironmentManifests]:
    """The run at the revision Load resolved, and its manifests checked out again here (state
    functions do not share /tmp). Manifests that no longer validate at that revision are a
    permanent error: the source changed under the run."""
    from reconciler.errors import PermanentError

    run = Run.model_validate(event["run"]).model_copy(
        update={"revision": event["load"]["revision"]}
    )
    logger.set_correlation_id(run.run_id)
    _, manifests, errors = load_manifests(Settings.from_environ(), run)
    if manifests is None:
        first = errors[0] if errors else "no manifests"
        raise PermanentError(f"the manifests changed under the run: {first}")
    return run, manifests


def finish_run(
    runtime: Runtime,
    run: Run,
    *,
    revision: str | None,
    status: str,
    duration_ms: int,
    plan: Plan | None = None,
    results: tuple[dict[str, Any], ...] = (),
    error: str | None = None,
) -> dict[str, Any]:
    """Record the run in the history, release its lock (when it holds it) and answer the
    contract's output `{runId, environment, revision, status, summary}`."""
    from reconciler.history import RunRecord
    from reconciler.plan import Summary

    table = runtime.runs
    table.record(
        RunRecord(
            run_id=run.run_id,
            environment=run.environment,
            trigger=run.trigger,
            revision=revision,
            status=status,
            started_at=run.started_at,
            finished_at=now(),
            duration_ms=duration_ms,
            summary=plan.summary if plan else Summary(),
            plan=plan.to_json() if plan else None,
            results=results,
            error=error,
        )
    )
    if not run.locked_out:
        table.release_lock(run.environment, run.run_id)
    return {
        "runId": run.run_id,
        "environment": run.environment,
        "revision": revision,
        "status": status,
        "summary": plan.summary.model_dump(mode="json") if plan else None,
    }


@cache
def _git_token_cached(name: str) -> str:
    secret = _client("secretsmanager").get_secret_value(SecretId=name)
    return str(secret["SecretString"])


def _git_token(settings: Settings) -> str | None:
    if not settings.git_token_secret_name or not settings.manifest_source.startswith("https://"):
        return None
    return _git_token_cached(settings.git_token_secret_name)
