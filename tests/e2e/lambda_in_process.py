"""Run the project's real handlers inside moto's Lambda, so the real state machine runs them.

moto's Docker-free Lambda backend echoes payloads instead of running code. `handlers_in_process`
replaces its `invoke` with one that imports the function's handler (`module.function` from the
function's configuration), sets the function's environment variables, and calls it, answering
errors the way Lambda does (`x-amz-function-error: Unhandled`, `{"errorType", "errorMessage"}`),
which is what the state machine's Retry and Catch match on. Handlers run concurrently, as in
Lambda; the process environment is restored when the block ends.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_ENV_LOCK = threading.RLock()

#: moto's state machines really run, and its Lambda (Docker-free) runs the real handlers.
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@dataclass
class FakeContext:
    """The parts of the Lambda context object Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def _invoke(
    self: Any,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes:
    fn = self.get_function(function_name, qualifier)
    module_name, _, attribute = fn.handler.rpartition(".")
    event = json.loads(body) if body else {}
    with _ENV_LOCK:  # the functions of one deployment share their variables; set, never unset
        os.environ.update({key: str(value) for key, value in fn.environment_vars.items()})
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
        result = handler(event, FakeContext(fn.function_name, invoked_function_arn=fn.function_arn))
        payload = json.dumps(result).encode()
    except Exception as exc:
        response_headers["x-amz-function-error"] = "Unhandled"
        payload = json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
    response_headers["Content-Length"] = str(len(payload))
    return payload


@contextmanager
def handlers_in_process() -> Iterator[None]:
    """Within the block, moto's simple Lambda backend runs the real handlers."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.invoke
    saved = dict(os.environ)
    LambdaSimpleBackend.invoke = _invoke  # type: ignore[method-assign]
    try:
        yield
    finally:
        LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]
        os.environ.clear()
        os.environ.update(saved)
