"""Lambda's X-Ray tracing mode, kept by ``UpdateFunctionConfiguration`` as AWS keeps it.

moto reads ``TracingConfig`` on ``CreateFunction`` and answers it in ``GetFunction``, but
``UpdateFunctionConfiguration`` ignored it: the mode never changed. Here it is stored (botocore
model ``lambda/2015-03-31``: ``UpdateFunctionConfigurationRequest.TracingConfig``, shape
``TracingMode`` with the values ``Active`` and ``PassThrough``); any other mode ->
``ValidationException`` "1 validation error detected: Value '<mode>' at 'tracingConfig.mode'
failed to satisfy constraint: Member must satisfy enum value set: [Active, PassThrough]" (AWS's
wording for an enum member). A version published before the change keeps the mode it had: the
new mode is a new value, never an edit of the one a version shares.
"""

from __future__ import annotations

from typing import Any, Final

from moto.awslambda.models import LambdaFunction

from reconciler.emulator.lambda_common import LambdaError

_MARKER: Final = "_reconciler_emulator_lambda_tracing"
MODES: Final = ("Active", "PassThrough")


def install() -> None:
    """Patch moto's function model so configuration updates keep ``TracingConfig``. Idempotent."""
    if getattr(LambdaFunction, _MARKER, False):
        return
    original = LambdaFunction.update_configuration

    def update_configuration(self: LambdaFunction, config_updates: dict[str, Any]) -> Any:
        tracing = config_updates.get("TracingConfig")
        if tracing is not None:
            mode = tracing.get("Mode")
            if mode not in MODES:
                raise LambdaError(
                    400,
                    "ValidationException",
                    f"1 validation error detected: Value '{mode}' at 'tracingConfig.mode' failed "
                    "to satisfy constraint: Member must satisfy enum value set: "
                    f"[{', '.join(MODES)}]",
                )
            self.tracing_config = {"Mode": mode}
        return original(self, config_updates)

    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    setattr(LambdaFunction, _MARKER, True)
