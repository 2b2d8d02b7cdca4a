"""Lambda provisioned concurrency for moto 5.2, which has none of it.

Adds ``PutProvisionedConcurrencyConfig`` (202), ``GetProvisionedConcurrencyConfig``,
``DeleteProvisionedConcurrencyConfig`` (204) and ``ListProvisionedConcurrencyConfigs``
(``?List=ALL``, paginated with ``Marker``/``MaxItems``) on the REST path
``/2019-09-30/functions/{FunctionName}/provisioned-concurrency``.

Rules kept from AWS (error codes and messages as AWS returns them):

- ``ProvisionedConcurrentExecutions`` below 1 -> ``ValidationException`` (boto3 already refuses
  it client-side unless parameter validation is off).
- ``$LATEST``, or an alias pointing at ``$LATEST`` -> ``InvalidParameterValueException``; a missing
  function, version or alias -> ``ResourceNotFoundException``; a ``FunctionName`` whose embedded
  qualifier differs from ``Qualifier`` -> ``InvalidParameterValueException``.
- An alias cannot get a config when the version it routes to has one, nor a version when an alias
  routing to it has one -> ``ResourceConflictException`` (409).
- With reserved concurrency, the sum over all qualifiers must not exceed it ->
  ``InvalidParameterValueException``. When ``MOTO_LAMBDA_CONCURRENCY_QUOTA`` is set (moto's own
  switch for the account quota), provisioned concurrency of functions without a reservation must
  leave 100 unreserved, as for reserved concurrency.
- Get of a qualifier without a config -> ``ProvisionedConcurrencyConfigNotFoundException`` (404);
  Delete of one is a no-op, as in AWS.

Put answers ``Status: IN_PROGRESS`` with nothing allocated; the next read (Get or List) finds the
config ``READY`` with everything allocated, so code that waits for READY runs its loop once.
:func:`fail_provisioning` turns a config ``FAILED`` for tests of the failure path (in-process only).
Deleting a function, a version or an alias drops its configs. State lives on moto's backend
instance, so moto's reset clears it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import unquote

from moto.awslambda import urls as lambda_urls
from moto.awslambda.exceptions import (
    InvalidParameterValueException,
    LambdaClientError,
    UnknownFunctionException,
    ValidationException,
)
from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.awslambda.utils import make_function_arn
from moto.awslambda_simple.models import lambda_simple_backends
from moto.core.common_types import TYPE_RESPONSE
from moto.core.models import DEFAULT_ACCOUNT_ID

_MARKER: Final = "_reconciler_emulator_provisioned_concurrency"
_STATE_ATTR: Final = "_reconciler_provisioned_concurrency"
_URL: Final = (
    r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/provisioned-concurrency/?$"
)
_UNPUBLISHED: Final = (
    "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
)
_NOT_ALIAS_OR_VERSION: Final = (
    "The function resource provided must be an alias or a published version."
)
_MAX_ITEMS: Final = 50
_MIN_UNRESERVED: Final = 100


class ResourceConflictException(LambdaClientError):
    """409 ``ResourceConflictException`` (moto's own ConflictException has another code)."""

    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceConflictException", message)


class ProvisionedConcurrencyConfigNotFoundException(LambdaClientError):
    """404 answered by Get for a qualifier that has no config."""

    code = 404

    def __init__(self) -> None:
        super().__init__(
            "ProvisionedConcurrencyConfigNotFoundException",
            "No Provisioned Concurrency Config found for this function",
        )


@dataclass
class ProvisionedConfig:
    """One qualifier's config and the state AWS would report for it."""

    requested: int
    last_modified: str
    status: str = "IN_PROGRESS"
    status_reason: str | None = None

    def observe(self) -> dict[str, Any]:
        """The response fields of a read; an IN_PROGRESS config completes here."""
        if self.status == "IN_PROGRESS":
            self.status = "READY"
        return self.view()

    def view(self) -> dict[str, Any]:
        """The response fields, with Allocated/Available as the status implies."""
        allocated = self.requested if self.status == "READY" else 0
        out: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": self.requested,
            "AvailableProvisionedConcurrentExecutions": allocated,
            "AllocatedProvisionedConcurrentExecutions": allocated,
            "Status": self.status,
            "LastModified": self.last_modified,
        }
        if self.status_reason is not None:
            out["StatusReason"] = self.status_reason
        return out


def _configs(backend: LambdaBackend) -> dict[str, dict[str, ProvisionedConfig]]:
    """function name -> qualifier -> config, in the backend's ``__dict__`` (reset clears it)."""
    store: dict[str, dict[str, ProvisionedConfig]] = vars(backend).setdefault(_STATE_ATTR, {})
    return store


def _split_name(function_name: str, qualifier: str | None) -> tuple[str, str | None]:
    """Bare function name and qualifier from a name, ``name:q``, a full or a partial ARN."""
    name = unquote(function_name)
    derived: str | None = None
    if ":function:" in name:
        name = name.split(":function:", 1)[1]
    if ":" in name:
        name, derived = name.split(":", 1)
    if derived is not None and qualifier is not None and derived != qualifier:
        raise InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return name, qualifier if qualifier is not None else derived


def _require_function(backend: LambdaBackend, name: str, qualifier: str | None = None) -> Any:
    """The function's $LATEST, else ResourceNotFoundException naming the (qualified) ARN."""
    # moto keeps functions in LambdaStorage._functions: {name: {"latest": fn, "versions": [...]}}.
    group = backend._lambdas._functions.get(name)
    if group is None:
        arn = make_function_arn(backend.region_name, backend.account_id, name)
        raise UnknownFunctionException(f"{arn}:{qualifier}" if qualifier else arn)
    return group["latest"]


def _target_version(
    backend: LambdaBackend, name: str, qualifier: str | None, latest_msg: str
) -> str:
    """The version a version number or alias resolves to; raises as AWS does when there is none."""
    if not qualifier or qualifier.upper() == "$LATEST":
        raise InvalidParameterValueException(latest_msg)
    _require_function(backend, name, qualifier)
    if qualifier.isdigit():
        if backend._lambdas._get_version(name, qualifier) is None:
            arn = make_function_arn(backend.region_name, backend.account_id, name)
            raise UnknownFunctionException(f"{arn}:{qualifier}")
        return qualifier
    version: str = backend.get_alias(qualifier, name).function_version  # 404 if missing
    return version


def _alias_versions(backend: LambdaBackend, name: str) -> dict[str, set[str]]:
    """alias name -> every version it routes to (main one and weighted additional ones)."""
    out: dict[str, set[str]] = {}
    for alias in backend.list_aliases(name):
        routing: Any = alias.routing_config or {}
        weights = routing.get("AdditionalVersionWeights", {}) if isinstance(routing, dict) else {}
        out[alias.name] = {str(alias.function_version), *map(str, weights)}
    return out


def _check_quota(backend: LambdaBackend, name: str, qualifier: str, requested: int) -> None:
    """Reserved-concurrency and (opt-in) account checks, before a config is stored."""
    fn = _require_function(backend, name)
    configs = _configs(backend)
    others = sum(c.requested for q, c in configs.get(name, {}).items() if q != qualifier)
    if fn.reserved_concurrency is not None:
        if others + requested > int(fn.reserved_concurrency):
            raise InvalidParameterValueException(
                "Requested Provisioned Concurrency should not be greater than the "
                "reservedConcurrentExecution for function"
            )
        return
    quota = os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA")
    if quota is None:
        return
    unreserved = int(quota)
    for other in backend._lambdas.latest():
        if other.reserved_concurrency is not None:
            unreserved -= int(other.reserved_concurrency)
        else:
            for q, c in configs.get(other.function_name, {}).items():
                if (other.function_name, q) != (name, qualifier):
                    unreserved -= c.requested
    if unreserved - requested < _MIN_UNRESERVED:
        raise InvalidParameterValueException(
            "Specified ConcurrentExecutions for function decreases account's "
            f"UnreservedConcurrentExecution below its minimum value of [{_MIN_UNRESERVED}]."
        )


def put_config(
    backend: LambdaBackend, function_name: str, qualifier: str | None, requested: Any
) -> dict[str, Any]:
    """Store a config for an alias or published version; returns the IN_PROGRESS response."""
    if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
        raise ValidationException(
            "null" if requested is None else str(requested),
            "provisionedConcurrentExecutions",
            "Member must have value greater than or equal to 1",
        )
    name, qualifier = _split_name(function_name, qualifier)
    target = _target_version(backend, name, qualifier, _UNPUBLISHED)
    assert qualifier is not None
    if target.upper() == "$LATEST":
        raise InvalidParameterValueException(_UNPUBLISHED)
    configs = _configs(backend).setdefault(name, {})
    aliases = _alias_versions(backend, name)
    if qualifier in aliases:
        if any(v in configs for v in aliases[qualifier]):
            raise ResourceConflictException(
                "Alias can't be used for Provisioned Concurrency configuration on an already "
                "Provisioned version"
            )
    elif any(qualifier in versions and a in configs for a, versions in aliases.items()):
        raise ResourceConflictException("Version is pointed by a Provisioned Concurrency alias")
    _check_quota(backend, name, qualifier, requested)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    configs[qualifier] = config = ProvisionedConfig(requested=requested, last_modified=now)
    return config.view()


def get_config(backend: LambdaBackend, function_name: str, qualifier: str | None) -> dict[str, Any]:
    """The config of an alias or published version (READY once observed)."""
    name, qualifier = _split_name(function_name, qualifier)
    _target_version(backend, name, qualifier, _NOT_ALIAS_OR_VERSION)
    assert qualifier is not None
    config = _configs(backend).get(name, {}).get(qualifier)
    if config is None:
        raise ProvisionedConcurrencyConfigNotFoundException()
    return config.observe()


def delete_config(backend: LambdaBackend, function_name: str, qualifier: str | None) -> None:
    """Drop a config; the qualifier must exist, the config need not."""
    name, qualifier = _split_name(function_name, qualifier)
    _target_version(backend, name, qualifier, _NOT_ALIAS_OR_VERSION)
    _configs(backend).get(name, {}).pop(qualifier or "", None)


def list_configs(
    backend: LambdaBackend, function_name: str, marker: str | None, max_items: int | None
) -> dict[str, Any]:
    """One page of a function's configs, each with its qualified ``FunctionArn``."""
    name, _ = _split_name(function_name, None)
    fn = _require_function(backend, name)
    start = 0
    if marker:
        if not marker.isdigit():
            raise InvalidParameterValueException(f"Invalid marker: {marker}")
        start = int(marker)
    size = max(1, min(max_items or _MAX_ITEMS, _MAX_ITEMS))
    items = list(_configs(backend).get(name, {}).items())
    page = [
        {"FunctionArn": f"{fn.function_arn}:{q}", **c.observe()}
        for q, c in items[start : start + size]
    ]
    out: dict[str, Any] = {"ProvisionedConcurrencyConfigs": page}
    if start + size < len(items):
        out["NextMarker"] = str(start + size)
    return out


def fail_provisioning(
    function_name: str,
    qualifier: str,
    reason: str,
    *,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = "us-east-1",
) -> None:
    """Test hook: make an existing config report ``FAILED`` with ``StatusReason`` (in-process)."""
    for backends in (lambda_backends, lambda_simple_backends):
        config = _configs(backends[account_id][region]).get(function_name, {}).get(qualifier)
        if config is not None:
            config.status, config.status_reason = "FAILED", reason


# --- moto response methods (bound onto LambdaResponse by install()) ---------------------------


def _path_function_name(response: LambdaResponse) -> str:
    return unquote(response.path.rstrip("/").rsplit("/", 2)[-2])


def _query(response: LambdaResponse, key: str) -> str | None:
    values = response.querystring.get(key)
    return str(values[0]) if values else None


def _put_provisioned_concurrency_config(self: LambdaResponse) -> TYPE_RESPONSE:
    body = json.loads(self.body) if self.body else {}
    requested = body.get("ProvisionedConcurrentExecutions")
    view = put_config(self.backend, _path_function_name(self), _query(self, "Qualifier"), requested)
    return 202, {"status": 202}, json.dumps(view)


def _get_provisioned_concurrency_config(self: LambdaResponse) -> TYPE_RESPONSE:
    view = get_config(self.backend, _path_function_name(self), _query(self, "Qualifier"))
    return 200, {"status": 200}, json.dumps(view)


def _delete_provisioned_concurrency_config(self: LambdaResponse) -> TYPE_RESPONSE:
    delete_config(self.backend, _path_function_name(self), _query(self, "Qualifier"))
    return 204, {"status": 204}, ""


def _list_provisioned_concurrency_configs(self: LambdaResponse) -> TYPE_RESPONSE:
    max_items = _query(self, "MaxItems")
    page = list_configs(
        self.backend,
        _path_function_name(self),
        _query(self, "Marker"),
        int(max_items) if max_items and max_items.isdigit() else None,
    )
    return 200, {"status": 200}, json.dumps(page)


def install() -> None:
    """Register the URL pattern, the four operations and the deletion hooks. Idempotent."""
    if getattr(LambdaResponse, _MARKER, False):
        return
    # moto builds its in-process URL map and the server's Flask routes from this very dict on
    # demand, so registering here covers mock_aws and (Threaded)MotoServer alike.
    lambda_urls.url_paths.setdefault(_URL, LambdaResponse.dispatch)
    # moto dispatches an operation to the response method named after it in snake case.
    for method in (
        _put_provisioned_concurrency_config,
        _get_provisioned_concurrency_config,
        _delete_provisioned_concurrency_config,
        _list_provisioned_concurrency_configs,
    ):
        setattr(LambdaResponse, method.__name__.lstrip("_"), method)

    # Deleting a function, version or alias drops its configs (after moto's own checks passed).
    original_delete_function = LambdaBackend.delete_function
    original_delete_alias = LambdaBackend.delete_alias

    def delete_function(
        self: LambdaBackend, function_name: str, qualifier: str | None = None
    ) -> None:
        original_delete_function(self, function_name, qualifier)
        name = unquote(function_name).split(":function:", 1)[-1]
        name, _, derived = name.partition(":")
        qualifier = qualifier or derived or None
        if qualifier is None:
            _configs(self).pop(name, None)
        else:
            _configs(self).get(name, {}).pop(qualifier, None)

    def delete_alias(self: LambdaBackend, name: str, function_name: str) -> None:
        original_delete_alias(self, name, function_name)
        fn_name = unquote(function_name).split(":function:", 1)[-1].partition(":")[0]
        _configs(self).get(fn_name, {}).pop(name, None)

    LambdaBackend.delete_function = delete_function  # type: ignore[method-assign]
    LambdaBackend.delete_alias = delete_alias  # type: ignore[method-assign]
    _report_zero_reservation()
    setattr(LambdaResponse, _MARKER, True)


def _report_zero_reservation() -> None:
    """moto drops `Concurrency` from GetFunction when the reservation is 0; AWS reports it
    (a function reserved at 0 is throttled, which is exactly why people set it)."""
    original_get_code = LambdaFunction.get_code

    def get_code(self: LambdaFunction) -> dict[str, Any]:
        response = original_get_code(self)
        if self.reserved_concurrency is not None and int(self.reserved_concurrency) == 0:
            response["Concurrency"] = {"ReservedConcurrentExecutions": 0}
        return response

    LambdaFunction.get_code = get_code  # type: ignore[method-assign]
