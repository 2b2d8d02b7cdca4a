"""An alias with provisioned concurrency that moves to another version, as Lambda moves it.

moto points the alias at the new version at once. Lambda allocates provisioned concurrency for
the new version first, and meanwhile keeps the traffic on the old one by giving the alias routing
weights: ``RoutingConfig.AdditionalVersionWeights`` ``{"<old version>": 1.0}``
(hashicorp/terraform-provider-aws#48116: "AWS temporarily injects routing weights on the alias
during the version transition ... additional_version_weights = {"1": 1}"; the Lambda API
reference: allocated provisioned concurrency "fluctuates" while a weighted alias is used).

Rules kept:

- ``UpdateAlias`` to another ``FunctionVersion``, without a ``RoutingConfig`` of its own, on an
  alias that has a provisioned concurrency config: the config goes back to ``IN_PROGRESS`` with
  nothing allocated, the alias carries the weights above, for the next
  ``Behaviour.provisioning_reads`` looks; then the config is ``READY`` and the weights are gone.
- A look is a ``GetProvisionedConcurrencyConfig`` or ``ListProvisionedConcurrencyConfigs`` of the
  config, a ``GetAlias`` or ``GetFunction(Qualifier=alias)`` of the alias, or a
  ``PutProvisionedConcurrencyConfig`` refused because of the weights
  (:mod:`reconciler.emulator.lambda_provisioned`).
- With ``provisioning_reads`` 0 the move is immediate, as in moto.
"""

from __future__ import annotations

from typing import Any, Final

from moto.awslambda.models import LambdaBackend
from moto.awslambda.responses import LambdaResponse
from moto.core.common_types import TYPE_RESPONSE

from reconciler.emulator.lambda_common import split_name
from reconciler.emulator.lambda_provisioned import _configs, look
from reconciler.emulator.settings import Pending, current

_MARKER: Final = "_reconciler_emulator_alias_shift"


def _look_at_alias(backend: LambdaBackend, function_name: str, alias: str | None) -> None:
    """A request looked at the alias: the move under way (if any) advances."""
    name, alias = split_name(function_name, alias)
    if alias is None:
        return
    config = _configs(backend).get(name, {}).get(alias)
    if config is not None and config.shifting_from is not None:
        look(backend, name, alias, config)


def _start_shift(backend: LambdaBackend, name: str, alias: Any, old_version: str) -> None:
    """The alias just moved away from `old_version`: allocate again, route to the old meanwhile."""
    config = _configs(backend).get(name, {}).get(alias.name)
    allocation = Pending.start(current().provisioning_reads)
    if config is None or allocation is None:
        return
    config.status, config.status_reason, config.allocation = "IN_PROGRESS", None, allocation
    config.shifting_from = old_version
    alias.routing_config = {"AdditionalVersionWeights": {old_version: 1.0}}


def install() -> None:
    """Patch moto's UpdateAlias, GetAlias and GetFunction. Idempotent."""
    if getattr(LambdaResponse, _MARKER, False):
        return
    original_update_alias = LambdaBackend.update_alias
    original_get_alias = LambdaResponse.get_alias
    original_get_function = LambdaResponse.get_function

    def update_alias(
        self: LambdaBackend,
        *,
        name: str,
        function_name: str,
        function_version: str,
        description: str,
        routing_config: str,
    ) -> Any:
        before = str(self.get_alias(name, function_name).function_version)
        alias = original_update_alias(
            self,
            name=name,
            function_name=function_name,
            function_version=function_version,
            description=description,
            routing_config=routing_config,
        )
        moved = function_version is not None and str(function_version) != before
        if moved and routing_config is None:
            _start_shift(self, split_name(function_name)[0], alias, before)
        return alias

    def get_alias(self: LambdaResponse) -> TYPE_RESPONSE:
        function_name = self.path.rsplit("/")[-3]
        alias_name = self.path.rsplit("/", 2)[-1]
        _look_at_alias(self.backend, function_name, alias_name)
        result: TYPE_RESPONSE = original_get_alias(self)
        return result

    def get_function(self: LambdaResponse) -> str:
        function_name = self.path.rsplit("/", 1)[-1]
        _look_at_alias(self.backend, function_name, self._get_param("Qualifier", None))
        result: str = original_get_function(self)
        return result

    LambdaBackend.update_alias = update_alias  # type: ignore[method-assign,assignment]
    LambdaResponse.get_alias = get_alias  # type: ignore[method-assign]
    LambdaResponse.get_function = get_function  # type: ignore[method-assign]
    setattr(LambdaResponse, _MARKER, True)
