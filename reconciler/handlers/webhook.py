"""The commit trigger: GitHub's push webhook, served by a Lambda function URL (payload format 2.0).

A delivery is trusted only after its `X-Hub-Signature-256` matches an HMAC-SHA256 of the raw
body under the secret in Secrets Manager (`WEBHOOK_SECRET_NAME`); nothing is parsed before that,
and a body over 1 MiB is refused before it is even checked. A verified push to `BRANCH` starts
one run per environment whose `manifests/<env>/` folder it changed, at the pushed commit
(`after`); the run reads the manifests itself, so the payload is only a trigger.

A redelivery (same `X-GitHub-Delivery`) starts nothing new, twice over: Powertools idempotency
remembers each delivery in the runs table for a week and answers with the first response, and
the executions are named `<delivery>-<env>`, which Step Functions will not start twice.

Answers: 200 `pong` to a ping; 202 with `{"started": [...]}` to a push (empty when it changed no
environment, with `ignored` when it is not for us, with `duplicate: true` when it repeats an
earlier delivery's answer); 401 unsigned or mis-signed; 413 too large;
400 unreadable; 503 when AWS failed and a redelivery may succeed. The secret and the signature
are never logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.errors import PermanentError, TemporaryError
from reconciler.handlers.runtime import Runtime
from reconciler.triggers import (
    MAX_BODY_BYTES,
    PushEvent,
    changed_environments,
    commit_runs,
    push_ignored_because,
    signature_is_valid,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_stepfunctions import SFNClient

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "reconciler"))

#: How long a delivery id is remembered: GitHub redelivers up to 3 days back.
DELIVERY_MEMORY_SECONDS = 7 * 24 * 3600
#: How long the webhook secret is cached: a rotated secret is in force within this time.
SECRET_MAX_AGE_SECONDS = 300
#: The longest base64 text that can decode to at most MAX_BODY_BYTES.
_MAX_BASE64_CHARS = 4 * -(-MAX_BODY_BYTES // 3)


class Webhook:
    """One container's settings and clients (a `Runtime`, all built now: a warm function has
    them), the cached secret and the once-per-delivery starter."""

    def __init__(self, runtime: Runtime) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        from reconciler.handlers.schedule import start_runs

        settings = self.settings = runtime.settings
        self.sfn: SFNClient = runtime.sfn
        self._secrets: SecretsProvider = SecretsProvider(boto3_client=runtime.secretsmanager)
        self.idempotency: IdempotencyConfig = IdempotencyConfig(
            event_key_jmespath="delivery",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=DELIVERY_MEMORY_SECONDS,
            response_hook=_replayed,
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=settings.runs_table,
            key_attr="pk",
            sort_key_attr="sk",
            static_pk_value="idempotency#webhook",
            expiry_attr="expiresAt",  # the table's TTL attribute: DynamoDB forgets old deliveries
            boto3_client=runtime.dynamodb,
        )

        def start_delivery(delivery: dict[str, Any]) -> dict[str, Any]:
            requests = commit_runs(
                delivery["delivery"], delivery["revision"], delivery["environments"]
            )
            return {"started": start_runs(self.sfn, settings.state_machine_arn, requests)}

        self.start_once: Callable[..., dict[str, Any]] = idempotent_function(
            start_delivery,
            data_keyword_argument="delivery",
            persistence_store=persistence,
            config=self.idempotency,
            key_prefix="webhook-delivery",  # stable across function renames
        )

    def secret(self) -> str:
        name = self.settings.webhook_secret_name
        value = self._secrets.get(name, max_age=SECRET_MAX_AGE_SECONDS)
        return value if isinstance(value, str) else ""


@cache
def runtime() -> Webhook:
    """The container's webhook, built at the first invocation (tests call `cache_clear()`)."""
    return Webhook(Runtime.from_environ("STATE_MACHINE_ARN", "RUNS_TABLE"))


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Mark the stored answer to a delivery seen before, so the sender sees it started nothing."""
    return {**response, "duplicate": True} if isinstance(response, dict) else response


class FunctionUrlRequest(BaseModel):
    """The parts of a function URL event (payload format 2.0) the webhook reads."""

    model_config = ConfigDict(extra="ignore")

    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    is_base64_encoded: bool = Field(default=False, alias="isBase64Encoded")

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


class Refused(Exception):
    """A request answered with an error status; `message` is safe to send back."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def raw_body(request: FunctionUrlRequest) -> bytes:
    """The body's bytes as GitHub signed them; Refused(413) past 1 MiB, checked before decoding."""
    text = request.body or ""
    if request.is_base64_encoded:
        if len(text) > _MAX_BASE64_CHARS:
            raise Refused(413, "payload too large")
        try:
            body = base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise Refused(400, "body is not valid base64") from exc
    else:
        if len(text) > MAX_BODY_BYTES:  # each character is at least one byte
            raise Refused(413, "payload too large")
        body = text.encode("utf-8")
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, "payload too large")
    return body


def push_payload(request: FunctionUrlRequest, body: bytes) -> PushEvent:
    """The push event in a verified body, sent as JSON or as a form's `payload` field."""
    content_type = (request.header("content-type") or "").lower()
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            from urllib.parse import parse_qs

            form = parse_qs(body.decode("utf-8"), max_num_fields=16)
            document = json.loads(form["payload"][0])
        else:
            document = json.loads(body)
        return PushEvent.model_validate(document)
    except (ValueError, KeyError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        raise Refused(400, "not a GitHub push payload") from exc


def respond(status: int, body: dict[str, Any] | str) -> dict[str, Any]:
    """A function URL response: JSON for a dict, plain text for a string."""
    if isinstance(body, str):
        return {"statusCode": status, "headers": {"content-type": "text/plain"}, "body": body}
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Verify a GitHub delivery and start the runs a push asks for (see the module's docstring)."""
    try:
        return handle(event, context, runtime())
    except Refused as refusal:
        logger.info("request refused", extra={"status": refusal.status, "reason": refusal.message})
        return respond(refusal.status, {"message": refusal.message})
    except PermanentError:
        logger.exception("webhook failed")
        return respond(500, {"message": "internal error"})


def handle(event: Any, context: Any, rt: Webhook) -> dict[str, Any]:
    """Answer one function URL request; raises Refused for every error answer but 500."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
    )
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        request = FunctionUrlRequest.model_validate(event)
    except ValidationError as exc:
        raise Refused(400, "not a function URL request") from exc
    delivery = (request.header("x-github-delivery") or "")[:128]
    github_event = (request.header("x-github-event") or "")[:64]
    logger.set_correlation_id(delivery or None)
    logger.append_keys(delivery=delivery, github_event=github_event)

    body = raw_body(request)
    signature = request.header("x-hub-signature-256")
    if signature is None:
        logger.warning("unsigned delivery refused")
        raise Refused(401, "signature required")
    try:
        secret = rt.secret()
    except GetParameterError as exc:
        logger.error("cannot read the webhook secret", extra={"error": type(exc).__name__})
        raise Refused(503, "cannot verify deliveries now") from exc
    if not secret:
        raise PermanentError(f"the secret {rt.settings.webhook_secret_name} holds no string")
    if not signature_is_valid(secret, body, signature):
        logger.warning("mis-signed delivery refused")
        raise Refused(401, "signature mismatch")

    if github_event == "ping":
        logger.info("ping")
        return respond(200, "pong")
    if github_event != "push":
        logger.info("event ignored")
        return respond(202, {"started": [], "ignored": f"event {github_event or 'unnamed'}"})
    if not delivery:
        raise Refused(400, "X-GitHub-Delivery is missing")

    push = push_payload(request, body)
    logger.append_keys(ref=push.ref, revision=push.after)
    reason = push_ignored_because(push, rt.settings.branch)
    if reason is not None:
        logger.info("push ignored", extra={"reason": reason})
        return respond(202, {"started": [], "ignored": reason})
    environments = changed_environments(push, rt.settings.environments)
    logger.info(
        "push received",
        extra={"environments": environments, "incomplete": push.commit_list_incomplete},
    )
    if not environments:
        return respond(202, {"started": []})

    rt.idempotency.register_lambda_context(context)
    try:
        result = rt.start_once(
            delivery={"delivery": delivery, "revision": push.after, "environments": environments}
        )
    except IdempotencyAlreadyInProgressError:
        logger.info("delivery already being handled")
        return respond(202, {"started": [], "inProgress": True})
    except (TemporaryError, IdempotencyPersistenceLayerError) as exc:
        logger.error("runs not started", extra={"error": str(exc)})
        raise Refused(503, "runs could not be started now; redeliver later") from exc
    return respond(202, result)
