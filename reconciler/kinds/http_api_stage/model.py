"""The `HttpApiStage` manifest: the throttling and metrics of a stage of an API Gateway HTTP API.

`metadata.name` is `API_NAME/STAGE_NAME`. API names are free text of 1 to 128 characters (the
botocore model, `CreateApi` `Name`), so the name splits at its last `/`: stage names are
alphanumerics, hyphens and underscores, up to 128, or `$default` (`CreateStage` `StageName`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from reconciler.model import PATTERN_HINTS, Manifest, Metadata, Strict

STAGE_NAME = r"(?:\$default|[A-Za-z0-9_-]{1,128})"
#: The API name (no control characters) and the stage name, split at the last `/`.
STAGE_REF = rf"^[^\x00-\x1f\x7f]{{1,128}}/{STAGE_NAME}$"
#: The route keys of an HTTP API (developer guide, "Working with routes for HTTP APIs"):
#: `$default`, or a method (or `ANY`) and a path starting with `/`, with `{param}` and a
#: greedy `{proxy+}` as the last segment.
ROUTE_KEY = r"^(?:\$default|(?:ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /[^\s]*)$"
PATTERN_HINTS[STAGE_REF] = (
    "API_NAME/STAGE_NAME: an HTTP API's name (1 to 128 characters), '/', and a stage name "
    "(letters, digits, '-' and '_', up to 128, or $default)"
)
PATTERN_HINTS[ROUTE_KEY] = (
    "a route key: $default, or a method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY), "
    "a space and a path starting with '/', such as 'GET /health' or 'ANY /{proxy+}'"
)


class Throttling(Strict):
    """Steady-state requests per second and burst (token bucket) for a stage or a route."""

    rate_limit: float = Field(ge=0, description="ThrottlingRateLimit: requests per second.")
    burst_limit: int = Field(ge=0, description="ThrottlingBurstLimit: requests at once.")


RouteKey = Annotated[str, StringConstraints(pattern=ROUTE_KEY)]


class HttpApiStageSpec(Strict):
    """`spec` of an HttpApiStage; only set fields are managed."""

    throttling: Throttling | None = Field(
        default=None, description="The stage's default route throttling (DefaultRouteSettings)."
    )
    detailed_metrics: bool | None = Field(
        default=None, description="DefaultRouteSettings.DetailedMetricsEnabled (AWS: false)."
    )
    routes: dict[RouteKey, Throttling] | None = Field(
        default=None,
        description=(
            "Throttling by route key (RouteSettings); the whole map is managed: settings of a "
            "route left out are removed."
        ),
    )


class HttpApiStageMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=STAGE_REF, max_length=257)] = Field(
        description="API_NAME/STAGE_NAME: the HTTP API's name and the stage's (gateway/$default)."
    )


class HttpApiStage(Manifest):
    """A stage of an existing API Gateway HTTP API whose throttling and metrics are managed."""

    kind: Literal["HttpApiStage"]
    metadata: HttpApiStageMetadata
    spec: HttpApiStageSpec


def split(name: str) -> tuple[str, str]:
    """`gateway/$default` → (`gateway`, `$default`): the API name may itself hold a `/`."""
    api, _, stage = name.rpartition("/")
    return api, stage


def check(manifest: HttpApiStage) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """No rules across fields: each field stands alone."""
    return iter(())
