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
- An alias with routing weights (``RoutingConfig.AdditionalVersionWeights``, set by the caller or
  by Lambda while the alias moves to a new version) -> ``InvalidParameterValueException`` "Alias
  with weights can not be used with Provisioned Concurrency" (hashicorp/terraform#24957,
  hashicorp/terraform-provider-aws#48116). Switch: ``Behaviour.weighted_alias_rule``.
- An alias cannot get a config when the version it routes to has one, nor a version when an alias
  routing to it has one -> ``ResourceConflictException`` (409).
- With reserved concurrency, the sum over all qualifiers must not exceed it ->
  ``InvalidParameterValueException``. Without, provisioned concurrency draws on the account's
  unreserved concurrency, which must keep 100 (``Behaviour.lambda_account_concurrency``, AWS's
  default 1000, or moto's ``MOTO_LAMBDA_CONCURRENCY_QUOTA``). ``PutFunctionConcurrency`` obeys
  the same account rule (moto checks it only when its variable is set).
- Get of a qualifier without a config -> ``ProvisionedConcurrencyConfigNotFoundException`` (404);
  Delete of one is a no-op, as in AWS.

Allocation takes time: Put answers ``Status: IN_PROGRESS`` with nothing allocated, and the config
stays ``IN_PROGRESS`` for the next ``Behaviour.provisioning_reads`` reads (Get, List, or a refused
Put), then reads ``READY`` with everything allocated. Moving the alias to another version starts
allocation again (:mod:`reconciler.emulator.lambda_alias`): a read never reports ``READY`` for the
new version before it is allocated. :func:`fail_provisioning` turns a config ``FAILED`` for tests
of the failure path (in-process only). Deleting a function, a version or an alias drops its
configs. State lives on moto's backend instance, so moto's reset clears it.
"""

from __future__ import annotations

import json
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

from reconciler.emulator.lambda_common import (
    MIN_UNRESERVED,
    ResourceConflictException,
    account_concurrency,
)
from reconciler.emulator.settings import Pending, current

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
_WEIGHTED: Final = "Alias with weights can not be used with Provisioned Concurrency"
_MAX_ITEMS: Final = 50

__all__ = [
    "ProvisionedConfig",
    "ResourceConflictException",
    "fail_provisioning",
    "install",
]


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
    #: Allocation still under way (None: it completes at the next look).
    allocation: Pending | None = None
    #: While the alias moves: the version it came from, which Lambda keeps routing to with
    #: weights until the new version is allocated (see lambda_alias).
    shifting_from: str | None = None

    def look(self) -> bool:
        """One request looks at the config: True while allocation is still under way.

        An ``IN_PROGRESS`` config whose allocation has run its course becomes ``READY`` here.
        """
        if self.status != "IN_PROGRESS":
            return False
        if self.allocation is not None and self.allocation.look():
            return True
        self.status, self.allocation = "READY", None
        return False

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


def unreserved(backend: LambdaBackend, quota: int, skip: tuple[str, str | None]) -> int:
    """The account's unreserved concurrency, leaving out `skip` (a function's reservation when
    the qualifier is None, else one config of an unreserved function).

    Reservations count whole; an unreserved function's provisioned concurrency draws on the
    unreserved pool too (AWS: "Provisioned concurrency counts towards a function's reserved
    concurrency and Regional quotas").
    """
    left = quota
    configs = _configs(backend)
    for fn in backend._lambdas.latest():
        name = fn.function_name
        if fn.reserved_concurrency is not None:
            if skip != (name, None):
                left -= int(fn.reserved_concurrency)
            continue
        left -= sum(c.requested for q, c in configs.get(name, {}).items() if skip != (name, q))
    return left


def _below_minimum(field: str) -> InvalidParameterValueException:
    return InvalidParameterValueException(
        f"Specified {field} for function decreases account's UnreservedConcurrentExecution "
        f"below its minimum value of [{MIN_UNRESERVED}]."
    )


def _check_quota(backend: LambdaBackend, name: str, qualifier: str, requested: int) -> None:
    """Reserved-concurrency and account checks, before a config is stored."""
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
    quota = account_concurrency()
    if quota is not None and unreserved(backend, quota, (name, qualifier)) - requested < (
        MIN_UNRESERVED
    ):
        raise _below_minimum("ConcurrentExecutions")


def check_reservation(backend: LambdaBackend, name: str, reserved: int) -> None:
    """PutFunctionConcurrency's account rule: what stays unreserved must be 100 or more."""
    quota = account_concurrency()
    if quota is not None and unreserved(backend, quota, (name, None)) - reserved < MIN_UNRESERVED:
        raise _below_minimum("ReservedConcurrentExecutions")


def look(backend: LambdaBackend, name: str, qualifier: str, config: ProvisionedConfig) -> bool:
    """One request looks at the config of `name:qualifier`: True while allocation is under way.

    When allocation completes after the alias moved, Lambda stops routing to the old version:
    the weights it added to the alias go.
    """
    busy = config.look()
    if not busy and config.shifting_from is not None:
        injected = {"AdditionalVersionWeights": {config.shifting_from: 1.0}}
        config.shifting_from = None
        alias: Any = backend._lambdas._aliases.get(
            make_function_arn(backend.region_name, backend.account_id, name), {}
        ).get(qualifier)
        if alias is not None and alias.routing_config == injected:
            alias.routing_config = None
    return busy


def _weighted(backend: LambdaBackend, name: str, alias: str) -> bool:
    routing: Any = backend.get_alias(alias, name).routing_config or {}
    return bool(isinstance(routing, dict) and routing.get("AdditionalVersionWeights"))


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
    if qualifier in aliases and current().weighted_alias_rule:
        existing = configs.get(qualifier)
        if existing is not None:
            look(backend, name, qualifier, existing)  # the refused put is a look too
        if _weighted(backend, name, qualifier):
            raise InvalidParameterValueException(_WEIGHTED)
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
    configs[qualifier] = config = ProvisionedConfig(
        requested=requested,
        last_modified=now,
        allocation=Pending.start(current().provisioning_reads),
    )
    return config.view()


def get_config(backend: LambdaBackend, function_name: str, qualifier: str | None) -> dict[str, Any]:
    """The config of an alias or published version (READY once observed)."""
    name, qualifier = _split_name(function_name, qualifier)
    _target_version(backend, name, qualifier, _NOT_ALIAS_OR_VERSION)
    assert qualifier is not None
    config = _configs(backend).get(name, {}).get(qualifier)
    if config is None:
        raise ProvisionedConcurrencyConfigNotFoundException()
    look(backend, name, qualifier, config)
    return config.view()


def delete_config(backend: LambdaBackend, function_name: str, qualifier: str | None) -> None:
    """Drop a config; the qualifier must exist, the config need not."""
    name, qualifier = _split_name(function_name, qualifier)
    _target_version(backend, name, qualifier, _NOT_ALIAS_OR_VERSION)
    config = _configs(backend).get(name, {}).get(qualifier or "")
    if config is not None:  # a move under way ends with the config: no more weights
        config.status, config.allocation = "READY", None
        look(backend, name, qualifier or "", config)
        _configs(backend)[name].pop(qualifier or "", None)


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
    for q, c in items[start : start + size]:
        look(backend, name, q, c)
    page = [
        {"FunctionArn": f"{fn.function_arn}:{q}", **c.view()}
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

    original_put_concurrency = LambdaBackend.put_function_concurrency

    def put_function_concurrency(
        self: LambdaBackend, function_name: str, reserved_concurrency: str
    ) -> str:
        name = unquote(function_name).split(":function:", 1)[-1].partition(":")[0]
        _require_function(self, name)
        check_reservation(self, name, int(reserved_concurrency))
        result: str = original_put_concurrency(self, function_name, reserved_concurrency)
        return result

    LambdaBackend.delete_function = delete_function  # type: ignore[method-assign]
    LambdaBackend.delete_alias = delete_alias  # type: ignore[method-assign]
    LambdaBackend.put_function_concurrency = put_function_concurrency  # type: ignore[method-assign]
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
