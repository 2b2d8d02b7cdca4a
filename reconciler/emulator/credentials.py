"""Assumed-role credentials that expire, as AWS's do.

moto hands out credentials from ``AssumeRole`` with an ``Expiration`` and then honours them for
ever. AWS refuses a request signed with them once they have expired: "The security token included
in the request is expired", code ``ExpiredToken`` from query-protocol services (STS, RDS,
CloudWatch) and ``ExpiredTokenException`` from JSON ones (Lambda, Budgets, the tagging API), HTTP
403 (the STS API reference, "AssumeRole": the credentials "expire after the duration you
specify", ``DurationSeconds`` defaulting to 3600; the codes as the AWS CLI reports them).

Switch ``Behaviour.credentials_expire``: credentials from ``AssumeRole`` (and its web-identity and
SAML forms) expire after their ``DurationSeconds``, or after ``Behaviour.credentials_ttl_seconds``
seconds or ``Behaviour.credentials_ttl_requests`` signed requests when set (so a test can expire
them deterministically, after its n-th request). Long-term keys (``testing``) never expire.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, Final

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import get_service_model
from moto.sts.models import STSBackend, sts_backends
from moto.utilities.utils import get_partition

from reconciler.emulator.settings import current

_MARKER: Final = "_reconciler_emulator_credentials"
_ISSUED_ATTR: Final = "_reconciler_issued"
_MESSAGE: Final = "The security token included in the request is expired"
_QUERY_PROTOCOLS: Final = frozenset({"query", "ec2"})


class ExpiredTokenError(ServiceException):
    """An expired-credentials answer (defined here, not in moto, so moto's serializer looks for
    its shape in the called service's model only)."""


@dataclass
class Issued:
    """When a set of assumed-role credentials was issued, for how long, and how often used."""

    at: float
    duration: float
    requests: int = 0

    def expired(self) -> bool:
        """Whether one more request signed with them is refused (a request that passes counts)."""
        settings = current()
        limit = settings.credentials_ttl_requests
        lifetime = settings.credentials_ttl_seconds
        if limit is not None and self.requests >= limit:
            return True
        if time.monotonic() - self.at >= (self.duration if lifetime is None else lifetime):
            return True
        self.requests += 1
        return False


def _issued(response: BaseResponse) -> Issued | None:
    """The record of the assumed-role credentials `response`'s request is signed with."""
    key = getattr(response, "access_key", None)  # set by moto's setup_class for AWS requests
    if not isinstance(key, str) or not key.startswith("ASIA"):
        return None
    backend = sts_backends[response.current_account][get_partition(response.region)]
    role = backend.get_assumed_role_from_access_key(key)
    return None if role is None else vars(role).get(_ISSUED_ATTR)


def _expired_answer(response: BaseResponse) -> Any:
    """AWS's answer to a request with expired credentials, in the service's protocol."""
    model = get_service_model(response.boto3_service_name)
    query = model.protocol in _QUERY_PROTOCOLS or "awsQueryCompatible" in model.metadata
    code = "ExpiredToken" if query else "ExpiredTokenException"
    with warnings.catch_warnings():  # moto warns that no service models this code: none does
        warnings.simplefilter("ignore")
        _, headers, body = response.serialized(ActionResult(ExpiredTokenError(code, _MESSAGE)))
    headers["status"] = 403
    return 403, headers, body


def install() -> None:
    """Record AssumeRole's credentials; refuse requests signed with expired ones. Idempotent."""
    if getattr(BaseResponse, _MARKER, False):
        return
    original_assume = STSBackend.assume_role
    original_call = BaseResponse.call_action

    def assume_role(self: STSBackend, **kwargs: Any) -> Any:
        role = original_assume(self, **kwargs)
        duration = float(kwargs.get("duration") or 3600)
        vars(role)[_ISSUED_ATTR] = Issued(at=time.monotonic(), duration=duration)
        return role

    def call_action(self: BaseResponse) -> Any:
        if current().credentials_expire:
            issued = _issued(self)
            if issued is not None and issued.expired():
                return _expired_answer(self)
        return original_call(self)

    STSBackend.assume_role = assume_role  # type: ignore[method-assign,assignment]
    BaseResponse.call_action = call_action  # type: ignore[method-assign]
    setattr(BaseResponse, _MARKER, True)
