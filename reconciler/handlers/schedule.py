"""The schedule fan-out: every tick starts one reconcile run per deployed environment.

An EventBridge schedule invokes :func:`handler` with any event. Each run's execution is named
after the environment and the tick's time (the event's `time`, else now), so a tick delivered or
retried twice starts each environment once: Step Functions refuses a second execution of a name,
and :func:`start_runs` counts that refusal as already started.

:func:`start_runs` is also how the commit webhook starts its runs.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from reconciler.errors import PermanentError, TemporaryError
from reconciler.handlers.runtime import Runtime
from reconciler.triggers import RunRequest, scheduled_runs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mypy_boto3_stepfunctions import SFNClient

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "reconciler"))


class _Tick(BaseModel):
    """The part of a scheduled event read here: when it fired."""

    model_config = ConfigDict(extra="ignore")

    time: AwareDatetime | None = None


@cache
def runtime() -> Runtime:
    """The container's settings and Step Functions client, built at the first invocation (tests
    call `cache_clear()`)."""
    return Runtime.from_environ("STATE_MACHINE_ARN")


def tick_time(event: object) -> datetime:
    """The scheduled event's `time`, or now when the event carries none."""
    try:
        when = _Tick.model_validate(event).time
    except ValidationError:
        when = None
    return when or datetime.now(UTC)


def start_runs(
    sfn: SFNClient, state_machine_arn: str, requests: Sequence[RunRequest]
) -> list[dict[str, Any]]:
    """Start every request's execution; report each as `{environment, name, executionArn}`.

    A name that already ran or runs counts as started, with `alreadyStarted: true`. Every
    request is tried; when some fail, the failure is raised afterwards (`TemporaryError` if any
    is worth retrying, else `PermanentError`), and a retry starts only the missing ones.
    """
    import json

    from reconciler import aws_errors
    from reconciler.aws_errors import Failure

    started: list[dict[str, Any]] = []
    failures: list[tuple[str, bool]] = []
    for request in requests:
        entry: dict[str, Any] = {"environment": request.environment, "name": request.name}
        where = {"environment": request.environment, "execution": request.name}
        try:
            response = sfn.start_execution(
                stateMachineArn=state_machine_arn,
                name=request.name,
                input=json.dumps(request.input()),
            )
            entry |= {"executionArn": response["executionArn"], "alreadyStarted": False}
        except Exception as exc:
            failure = aws_errors.failure(exc)
            if failure is None:
                raise
            if failure is not Failure.EXISTS:
                error = aws_errors.code(exc) or type(exc).__name__
                logger.error("could not start run", extra={**where, "error": error})
                temporary = failure in aws_errors.TRANSIENT
                failures.append((f"{request.environment}: {error}", temporary))
                continue
            arn = _execution_arn(state_machine_arn, request.name)
            entry |= {"executionArn": arn, "alreadyStarted": True}
        started.append(entry)
    if started:
        logger.info("runs started", extra={"runs": started})
    if failures:
        message = "could not start runs for " + ", ".join(text for text, _ in failures)
        if any(temporary for _, temporary in failures):
            raise TemporaryError(message)
        raise PermanentError(message)
    return started


def _execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN Step Functions gives execution `name` of the state machine."""
    return f"{state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: Any, context: Any) -> list[dict[str, Any]]:
    """Start one run per environment in `ENVIRONMENTS`; return what was started."""
    rt = runtime()
    when = tick_time(event)
    logger.info(
        "schedule tick",
        extra={"tick": when.isoformat(), "environments": list(rt.settings.environments)},
    )
    requests = scheduled_runs(rt.settings.environments, when)
    return start_runs(rt.sfn, rt.settings.state_machine_arn, requests)
