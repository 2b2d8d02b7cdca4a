"""What the Lambda extensions share: AWS's error shapes, name parsing, per-backend state.

State lives in the moto backend instance's ``__dict__`` (never in module globals), so moto's reset
(a new ``mock_aws()``) clears it with everything else.
"""

from __future__ import annotations

import os
from typing import Any, Final
from urllib.parse import unquote

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend

from reconciler.emulator.settings import current

#: AWS keeps at least this much concurrency unreserved in every account.
MIN_UNRESERVED: Final = 100


class ResourceConflictException(LambdaClientError):
    """409 ``ResourceConflictException`` (moto's own ConflictException has another code)."""

    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceConflictException", message)


class LambdaError(LambdaClientError):
    """Any other Lambda error, with its HTTP status."""

    def __init__(self, status: int, error: str, message: str) -> None:
        self.code = status
        super().__init__(error, message)


def split_name(function_name: str, qualifier: str | None = None) -> tuple[str, str | None]:
    """Bare function name and qualifier from a name, ``name:q``, a full or a partial ARN; an
    explicit `qualifier` wins over one embedded in the name."""
    name = unquote(function_name)
    if ":function:" in name:
        name = name.split(":function:", 1)[1]
    name, _, derived = name.partition(":")
    return name, qualifier or derived or None


def backend_state(backend: LambdaBackend, attribute: str) -> dict[str, Any]:
    """A dict kept on the backend instance under `attribute` (moto's reset drops it)."""
    state: dict[str, Any] = vars(backend).setdefault(attribute, {})
    return state


def function_arn(backend: LambdaBackend, name: str) -> str:
    return f"arn:aws:lambda:{backend.region_name}:{backend.account_id}:function:{name}"


def account_concurrency() -> int | None:
    """The account's concurrency quota: moto's ``MOTO_LAMBDA_CONCURRENCY_QUOTA`` when set, else
    the behaviour's (AWS's default 1000); None when neither applies."""
    quota = os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA")
    if quota is not None:
        return int(quota)
    return current().lambda_account_concurrency
