"""The `LambdaFunction` manifest: the runtime knobs of an existing Lambda function.

Only the fields a manifest sets are managed: image, memory, timeout, environment variables,
X-Ray tracing mode, reserved concurrency, and, through an alias, published versions and
provisioned concurrency.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from reconciler.model import PATTERN_HINTS, ImageUri, Manifest, Metadata, Strict

FUNCTION_NAME = r"^[a-zA-Z0-9_-]{1,64}$"
ALIAS_NAME = r"^[a-zA-Z_-][a-zA-Z0-9_-]{0,127}$|^[0-9]+[a-zA-Z_-][a-zA-Z0-9_-]*$"
#: Lambda's `EnvironmentVariables` key pattern, `[a-zA-Z]([a-zA-Z0-9_])+`: two characters at least.
ENV_KEY = r"^[a-zA-Z][a-zA-Z0-9_]+$"
PATTERN_HINTS[FUNCTION_NAME] = "a Lambda function name (letters, digits, '-', '_'; up to 64)"
PATTERN_HINTS[ALIAS_NAME] = "an alias name (letters, digits, '-', '_'; not only digits)"
PATTERN_HINTS[ENV_KEY] = (
    "an environment variable name (a letter, then one or more letters, digits, '_')"
)
#: Lambda refuses variables whose JSON (`{"KEY":"value",…}`, compact) is over 4 KB: its error,
#: InvalidParameterValueException, says "exceeded the 4KB limit. String measured: {…}".
ENVIRONMENT_BYTES = 4096

#: Variables Lambda sets itself; AWS refuses them in `Environment.Variables`.
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
        "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip


class LambdaFunctionSpec(Strict):
    """`spec` of a LambdaFunction; every field is optional and only set fields are managed."""

    NULLABLE = frozenset({"reservedConcurrency"})

    image: ImageUri | None = Field(default=None, description="Container image: tag or digest.")
    memory_mb: int | None = Field(default=None, ge=128, le=10240, description="MemorySize (MB).")
    timeout_seconds: int | None = Field(default=None, ge=1, le=900, description="Timeout (s).")
    environment: (
        dict[
            Annotated[str, StringConstraints(pattern=ENV_KEY)],
            Annotated[str, StringConstraints(max_length=4096)],
        ]
        | None
    ) = Field(default=None, description="Environment variables; the whole map is managed.")
    reserved_concurrency: int | None = Field(
        default=None, ge=0, description="Reserved concurrency; null removes it."
    )
    alias: Annotated[str, StringConstraints(pattern=ALIAS_NAME)] | None = Field(
        default=None,
        description="Alias moved to a newly published version after each change.",
    )
    provisioned_concurrency: int | None = Field(
        default=None, ge=0, description="Provisioned concurrency on the alias; 0 removes it."
    )
    tracing: Literal["Active", "PassThrough"] | None = Field(
        default=None,
        description="X-Ray tracing mode (TracingConfig.Mode); AWS's default is PassThrough.",
    )


class LambdaFunctionMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=FUNCTION_NAME)] = Field(
        description="The function name."
    )


class LambdaFunction(Manifest):
    """An existing Lambda function whose runtime knobs are managed."""

    kind: Literal["LambdaFunction"]
    metadata: LambdaFunctionMetadata
    spec: LambdaFunctionSpec


def check(manifest: LambdaFunction) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Rules across fields: variables Lambda reserves or cannot hold; provisioned concurrency
    needs an alias and fits the reservation."""
    spec = manifest.spec
    for key in sorted(set(spec.environment or {}) & RESERVED_VARIABLES):
        yield ("spec", "environment", key), f"'{key}' is reserved by Lambda and cannot be set"
    if spec.environment:
        size = len(json.dumps(spec.environment, separators=(",", ":")).encode("utf-8"))
        if size > ENVIRONMENT_BYTES:
            yield (
                ("spec", "environment"),
                f"the variables take {size} bytes; Lambda allows {ENVIRONMENT_BYTES} in all "
                "(names and values, measured as JSON)",
            )
    if spec.provisioned_concurrency is None:
        return
    if spec.alias is None:
        yield (
            ("spec", "provisionedConcurrency"),
            "provisioned concurrency needs an alias (set spec.alias)",
        )
    reserved = spec.reserved_concurrency
    if reserved is not None and spec.provisioned_concurrency > reserved:
        yield (
            ("spec", "provisionedConcurrency"),
            f"{spec.provisioned_concurrency} is more than reservedConcurrency {reserved}",
        )
