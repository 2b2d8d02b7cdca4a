"""Lambda function updates that take time, environment variable rules, and ``TagsError``.

Rules kept from AWS (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html and the
botocore model ``lambda/2015-03-31``):

- After ``UpdateFunctionCode`` or ``UpdateFunctionConfiguration`` the function's
  ``LastUpdateStatus`` is ``InProgress`` (in that call's answer and in ``GetFunction`` /
  ``GetFunctionConfiguration`` of ``$LATEST``) for the next ``Behaviour.lambda_update_reads``
  looks, then ``Successful``. Meanwhile ``UpdateFunctionCode``, ``UpdateFunctionConfiguration`` and
  ``PublishVersion`` answer 409 ``ResourceConflictException`` "The operation cannot be performed
  at this time. An update is in progress for resource: <function ARN>"; each refusal is a look.
- After ``CreateFunction`` the function is ``State: Pending`` (``StateReasonCode: Creating``) for
  ``Behaviour.lambda_create_reads`` looks, and the same writes answer 409 "... The function is
  currently in the following state: Pending" (off by default, see :class:`Behaviour`).
- Environment variables (``CreateFunction``, ``UpdateFunctionConfiguration``), checked in AWS's
  order: a name not matching ``[a-zA-Z]([a-zA-Z0-9_])+`` (two characters at least) ->
  ``ValidationException`` "1 validation error detected: Value at 'environment.variables' failed
  to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression
  pattern: [a-zA-Z]([a-zA-Z0-9_])+]" (model shape ``EnvironmentVariableName``; the message as
  AWS answers it in serverless/serverless and aws-amplify/amplify-backend#2290); a key Lambda
  reserves -> ``InvalidParameterValueException`` "... contains reserved keys that are currently
  not supported for modification. Reserved keys used in this request: <keys>"; all variables,
  measured as their compact JSON, over 4 KB -> ``InvalidParameterValueException`` "Lambda was
  unable to configure your environment variables because the environment variables you have
  provided exceeded the 4KB limit. String measured: <JSON>"
  (github-aws-runners/terraform-aws-github-runner#3594).
- With ``Behaviour.lambda_tags_denied`` the caller lacks ``lambda:ListTags``: ``GetFunction``
  answers ``TagsError`` (``AccessDeniedException``) instead of ``Tags`` (model shape
  ``GetFunctionResponse``: "Lambda returns tag data only if you have explicit allow permissions
  for lambda:ListTags"), and ``ListTags`` answers 403 ``AccessDeniedException``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaBackend
from moto.awslambda.responses import LambdaResponse
from moto.core.common_types import TYPE_RESPONSE

from reconciler.emulator.lambda_common import (
    LambdaError,
    ResourceConflictException,
    backend_state,
    function_arn,
    split_name,
)
from reconciler.emulator.settings import Pending, current

_MARKER: Final = "_reconciler_emulator_lambda_updates"
_STATE_ATTR: Final = "_reconciler_function_changes"
_NAME = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_])+$")
_ENV_LIMIT: Final = 4096
#: The variables Lambda sets itself and refuses in `Environment.Variables` (Lambda developer
#: guide, "Defined runtime environment variables").
RESERVED_VARIABLES: Final = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
        "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip


@dataclass
class Change:
    """A create or an update of a function's $LATEST, still under way."""

    kind: str  # "create" or "update"
    pending: Pending


def _changes(backend: LambdaBackend) -> dict[str, Change]:
    return backend_state(backend, _STATE_ATTR)


def _busy(backend: LambdaBackend, name: str) -> Change | None:
    """The change under way for `name` as one request sees it (that request is a look)."""
    change = _changes(backend).get(name)
    if change is None:
        return None
    if change.pending.look():
        return change
    del _changes(backend)[name]
    return None


def _refuse_while_busy(backend: LambdaBackend, function_name: str) -> None:
    """409 for a write that arrives while the function is being created or updated."""
    name, _ = split_name(function_name)
    change = _busy(backend, name)
    if change is None:
        return
    prefix = "The operation cannot be performed at this time."
    if change.kind == "create":
        raise ResourceConflictException(
            f"{prefix} The function is currently in the following state: Pending"
        )
    raise ResourceConflictException(
        f"{prefix} An update is in progress for resource: {function_arn(backend, name)}"
    )


def _start(backend: LambdaBackend, name: str, kind: str, reads: int) -> None:
    pending = Pending.start(reads)
    if pending is not None:
        _changes(backend)[name] = Change(kind, pending)


def check_environment(variables: Mapping[str, Any] | None) -> None:
    """AWS's checks of ``Environment.Variables``, in its order (see the module doc)."""
    if not variables or not current().lambda_environment_rules:
        return
    if any(not isinstance(key, str) or not _NAME.match(key) for key in variables):
        raise LambdaError(
            400,
            "ValidationException",
            "1 validation error detected: Value at 'environment.variables' failed to satisfy "
            "constraint: Map keys must satisfy constraint: [Member must satisfy regular "
            "expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
        )
    reserved = [key for key in variables if key in RESERVED_VARIABLES]
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not "
            "supported for modification. Reserved keys used in this request: " + ", ".join(reserved)
        )
    measured = json.dumps(dict(variables), separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode("utf-8")) > _ENV_LIMIT:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit. String measured: " + measured
        )


def _variables(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    environment = body.get("Environment")
    return environment.get("Variables") if isinstance(environment, Mapping) else None


def _show(configuration: dict[str, Any], change: Change | None) -> None:
    """Rewrite a configuration document as AWS shows it while `change` is under way."""
    if change is None:
        return
    if change.kind == "create":
        configuration.pop("LastUpdateStatus", None)
        configuration.update(
            State="Pending",
            StateReason="The function is being created.",
            StateReasonCode="Creating",
        )
    else:
        configuration["LastUpdateStatus"] = "InProgress"


def _is_latest(response: LambdaResponse, function_name: str) -> bool:
    _, qualifier = split_name(function_name, response._get_param("Qualifier", None))
    return qualifier in (None, "$LATEST")


def _tags_error(backend: LambdaBackend, name: str) -> dict[str, str]:
    return {
        "ErrorCode": "AccessDeniedException",
        "Message": (
            f"User: arn:aws:sts::{backend.account_id}:assumed-role/reconciler/reconciler is not "
            f"authorized to perform: lambda:ListTags on resource: {function_arn(backend, name)} "
            "because no identity-based policy allows the lambda:ListTags action"
        ),
    }


#: moto's own response methods, kept by install() for the wrappers below.
_original: dict[str, Any] = {}


def _create_function(self: LambdaResponse) -> TYPE_RESPONSE:
    check_environment(_variables(self.json_body))
    status, headers, body = _original["create_function"](self)
    if status == 201:
        name = str(self.json_body["FunctionName"]).rsplit(":", 1)[-1]
        _start(self.backend, name, "create", current().lambda_create_reads)
        configuration = json.loads(body)
        _show(configuration, _changes(self.backend).get(name))
        body = json.dumps(configuration)
    return status, headers, body


def _updater(operation: str, environment: bool) -> Any:
    """UpdateFunctionCode or UpdateFunctionConfiguration (`environment`: check variables)."""

    def update(self: LambdaResponse) -> TYPE_RESPONSE:
        function_name = self.path.rsplit("/", 2)[-2]
        if environment:
            check_environment(_variables(self.json_body))
        _refuse_while_busy(self.backend, function_name)
        status, headers, body = _original[operation](self)
        if status == 200 and not self.json_body.get("DryRun"):
            name, _ = split_name(function_name)
            _start(self.backend, name, "update", current().lambda_update_reads)
            configuration = json.loads(body)
            _show(configuration, _changes(self.backend).get(name))
            body = json.dumps(configuration)
        return status, headers, body

    update.__name__ = operation
    return update


def _publish_version(self: LambdaResponse) -> TYPE_RESPONSE:
    _refuse_while_busy(self.backend, self.path.split("/")[-2])
    result: TYPE_RESPONSE = _original["publish_version"](self)
    return result


def _reader(operation: str, path_index: int, whole: bool) -> Any:
    """GetFunction (`whole`: configuration, code, tags) or GetFunctionConfiguration."""

    def read(self: LambdaResponse) -> str:
        function_name = self.path.rsplit("/", path_index)[-path_index]
        name, _ = split_name(function_name)
        change = _busy(self.backend, name) if _is_latest(self, function_name) else None
        answer = json.loads(_original[operation](self))
        _show(answer["Configuration"] if whole else answer, change)
        if whole and current().lambda_tags_denied:
            answer.pop("Tags", None)
            answer["TagsError"] = _tags_error(self.backend, name)
        return json.dumps(answer)

    read.__name__ = operation
    return read


def _list_tags(self: LambdaResponse) -> str:
    if current().lambda_tags_denied:
        name, _ = split_name(self.path.rsplit("/", 1)[-1])
        message = _tags_error(self.backend, name)["Message"]
        raise LambdaError(403, "AccessDeniedException", message)
    result: str = _original["list_tags"](self)
    return result


def install() -> None:
    """Wrap moto's Lambda response methods with the rules above. Idempotent."""
    if getattr(LambdaResponse, _MARKER, False):
        return
    replacements: dict[str, Any] = {
        "create_function": _create_function,
        "update_function_code": _updater("update_function_code", environment=False),
        "update_function_configuration": _updater("update_function_configuration", True),
        "publish_version": _publish_version,
        "get_function": _reader("get_function", 1, whole=True),
        "get_function_configuration": _reader("get_function_configuration", 2, whole=False),
        "list_tags": _list_tags,
    }
    for name, method in replacements.items():
        _original[name] = getattr(LambdaResponse, name)
        setattr(LambdaResponse, name, method)
    setattr(LambdaResponse, _MARKER, True)
