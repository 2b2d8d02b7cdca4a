"""The `HttpApiStage` engine: HTTP APIs found by name in one paged pass, their stages read in
parallel, changed with one `UpdateStage` (and a `DeleteRouteSettings` per route no longer
throttled)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.aws_errors import Failure, describe, failure
from reconciler.errors import PermanentError
from reconciler.kinds.base import Current, Engine, Reading
from reconciler.kinds.compare import compare, same
from reconciler.kinds.http_api_stage import KIND
from reconciler.kinds.http_api_stage.model import HttpApiStage, HttpApiStageSpec, split
from reconciler.kinds.reading import concurrently
from reconciler.plan import Diff, Observed

if TYPE_CHECKING:
    from mypy_boto3_apigatewayv2 import ApiGatewayV2Client

    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.model import Manifest

#: What an HTTP API refuses in its route settings ("Execution logs are not supported on
#: protocolType HTTP"; the model: "Supported only for WebSocket APIs"): never sent back.
WEBSOCKET_ONLY = ("DataTraceEnabled", "LoggingLevel")


@dataclass(frozen=True)
class Stage:
    """A stage as read just before a write: its API's id and `GetStage`'s answer."""

    api_id: str
    stage: Mapping[str, Any]


@dataclass(frozen=True)
class HttpApiStageEngine(Engine[Stage]):
    """Finds the declared APIs with one `GetApis` pass (paged by `NextToken`; AWS has no lookup
    by name), then reads each declared stage with `GetStage` and its tags with `GetTags` on the
    stage's ARN, all stages in parallel. Changes a stage with one `UpdateStage` carrying only the
    groups that differ (the default route settings; every declared route when one differs), each
    written whole with the stage's other settings as AWS has them, and removes the settings of a
    route the manifest leaves out of `routes` with `DeleteRouteSettings` (an update never removes
    a route's settings).

    API names are not unique: a name no HTTP API has, or several have, is refused
    (`Observed.refusal`, naming the ids). So is a stage API Gateway manages itself (an API made
    by quick create), which AWS does not let be modified.

    AWS's defaults are spelt out: `DetailedMetricsEnabled` absent is false; a stage without
    throttling has none (`throttling` actual null), so any declared throttling is drift.
    """

    description = KIND

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """The declared stages: one `GetApis` pass, then `GetStage` and `GetTags` per stage."""
        names = list(dict.fromkeys(manifest.name for manifest in manifests))
        apis = _http_apis(aws)
        found: dict[str, Observed] = {}
        readable: list[tuple[str, str]] = []
        for name in names:
            api_name, _ = split(name)
            api_id, refused = _unique(api_name, apis)
            if refused is not None:
                found[name] = Observed(name, {}, {}, refused)
            else:
                readable.append((name, api_id))
        answers = concurrently(
            lambda item: self._stage(aws, item[0], item[1], context), readable, self.workers
        )
        for (name, _), current in zip(readable, answers, strict=True):
            if current is not None:
                fields = _fields(current.state.stage)
                found[name] = Observed(name, fields, current.tags, current.refusal)
        return found, {}

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """Exactly the fields the manifest sets."""
        return _spec(manifest).to_manifest()

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        """`throttling.rateLimit`, `throttling.burstLimit`, `detailedMetrics`, and one diff per
        route key that differs (`routes.GET /health`), extra routes in AWS included."""
        return _differences(self.desired(manifest), observed.fields)

    # --- the primitives of a write --------------------------------------------------------------

    def read_one(self, aws: Clients, name: str, context: Context) -> Current[Stage] | None:
        """The stage and its tags, found by the API's name again (it may have changed)."""
        api_id, refused = _unique(split(name)[0], _http_apis(aws))
        if refused is not None:
            return Current(name, {}, Stage("", {}), refused)
        return self._stage(aws, name, api_id, context)

    def update(
        self, aws: Clients, current: Current[Stage], desired: dict[str, Any], context: Context
    ) -> bool:
        """One `UpdateStage` with the groups that differ from the stage read just before, then
        `DeleteRouteSettings` for each route with settings the manifest's `routes` leaves out."""
        client: ApiGatewayV2Client = self.client(aws)
        state = current.state
        params, extra = _changes(desired, state.stage)
        ref = f"{self.kind}/{current.name}"
        where = {"ApiId": state.api_id, "StageName": state.stage["StageName"]}
        if params:
            try:
                self.call(client.update_stage, **where, **params)
            except Exception as exc:
                if failure(exc) is not Failure.MISSING or "RouteSettings" not in params:
                    raise
                keys = ", ".join(sorted(params["RouteSettings"]))
                raise PermanentError(
                    f"{ref}: AWS refused the route settings ({describe(exc)}); every key of "
                    f"spec.routes ({keys}) must be a route key the API has"
                ) from exc
        for key in extra:
            self.call(client.delete_route_settings, missing_ok=True, **where, RouteKey=key)
        return bool(params or extra)

    def tag(
        self, aws: Clients, current: Current[Stage], context: Context, tags: Mapping[str, str]
    ) -> None:
        client: ApiGatewayV2Client = self.client(aws)
        arn = _arn(context, current.state.api_id, current.state.stage["StageName"])
        self.call(client.tag_resource, ResourceArn=arn, Tags=dict(tags))

    def _stage(
        self, aws: Clients, name: str, api_id: str, context: Context
    ) -> Current[Stage] | None:
        """`GetStage` and `GetTags` of one stage; None when the API has no such stage."""
        client: ApiGatewayV2Client = self.client(aws)
        stage_name = split(name)[1]
        got = self.call(client.get_stage, missing_ok=True, ApiId=api_id, StageName=stage_name)
        if got is None:
            return None
        listed = self.call(
            client.get_tags, missing_ok=True, ResourceArn=_arn(context, api_id, stage_name)
        )
        if listed is None:
            return None  # deleted between the two reads
        # GetStage answers the stage's tags as well; AWS keeps one set, read both all the same.
        tags = {**(got.get("Tags") or {}), **(listed.get("Tags") or {})}
        stage = {key: value for key, value in got.items() if key != "ResponseMetadata"}
        return Current(name, tags, Stage(api_id, stage), _refusal(stage))


ENGINE = HttpApiStageEngine()


def _spec(manifest: Manifest) -> HttpApiStageSpec:
    if not isinstance(manifest, HttpApiStage):
        raise TypeError(f"expected an HttpApiStage, got {manifest.ref}")
    return manifest.spec


def _http_apis(aws: Clients) -> dict[str, list[str]]:
    """API name → ids of every HTTP API in the region (WebSocket APIs are left out), following
    `NextToken` across pages."""
    found: dict[str, list[str]] = {}
    for page in aws.service("apigatewayv2").get_paginator("get_apis").paginate():
        for api in page.get("Items", []):
            if api.get("ProtocolType") == "HTTP":
                found.setdefault(api["Name"], []).append(api["ApiId"])
    return found


def _unique(api_name: str, apis: Mapping[str, list[str]]) -> tuple[str, str | None]:
    """The id of the one HTTP API named `api_name`, or why there is not exactly one."""
    ids = sorted(apis.get(api_name, []))
    if len(ids) == 1:
        return ids[0], None
    if not ids:
        return "", f"no HTTP API is named '{api_name}' in this region"
    return "", (
        f"{len(ids)} HTTP APIs are named '{api_name}' ({', '.join(ids)}); API names are not "
        "unique in AWS, so the reconciler changes none of them: rename all but one"
    )


def _refusal(stage: Mapping[str, Any]) -> str | None:
    """A stage API Gateway manages (the `$default` stage of a quick-created API): the model says
    "You can't modify the $default stage"."""
    if stage.get("ApiGatewayManaged"):
        return (
            "the stage is managed by API Gateway (its API was made by quick create), "
            "and AWS does not let it be modified"
        )
    return None


def _arn(context: Context, api_id: str, stage_name: str) -> str:
    """`arn:aws:apigateway:REGION::/apis/ID/stages/NAME`: API Gateway's ARNs have no account."""
    return (
        f"arn:{context.partition}:apigateway:{context.region}::/apis/{api_id}/stages/{stage_name}"
    )


def _throttling(settings: Mapping[str, Any]) -> dict[str, Any]:
    """`{rateLimit, burstLimit}` of AWS's route settings, leaving out what is not set."""
    found = {
        "rateLimit": settings.get("ThrottlingRateLimit"),
        "burstLimit": settings.get("ThrottlingBurstLimit"),
    }
    return {key: value for key, value in found.items() if value is not None}


def _fields(stage: Mapping[str, Any]) -> dict[str, Any]:
    """The managed settings in manifest spelling, AWS's defaults spelt out."""
    default = stage.get("DefaultRouteSettings") or {}
    routes = stage.get("RouteSettings") or {}
    return {
        "throttling": _throttling(default) or None,
        "detailedMetrics": bool(default.get("DetailedMetricsEnabled", False)),
        "routes": {key: _throttling(settings) for key, settings in sorted(routes.items())},
    }


def _differences(want: Mapping[str, Any], have: Mapping[str, Any]) -> list[Diff]:
    found: list[Diff] = []
    if "throttling" in want:
        found += compare(want["throttling"], have.get("throttling") or {}, prefix="throttling.")
    if "detailedMetrics" in want:
        found += compare({"detailedMetrics": want["detailedMetrics"]}, have)
    if "routes" in want:
        wanted, actual = want["routes"], have.get("routes") or {}
        for key in sorted(set(wanted) | set(actual)):
            if not same(wanted.get(key), actual.get(key)):
                found.append(
                    Diff(field=f"routes.{key}", desired=wanted.get(key), actual=actual.get(key))
                )
    return found


def _settings(settings: Mapping[str, Any], throttling: Mapping[str, Any]) -> dict[str, Any]:
    """Route settings as AWS has them with `throttling` written in, sent whole."""
    written = {key: value for key, value in settings.items() if key not in WEBSOCKET_ONLY}
    written["ThrottlingRateLimit"] = float(throttling["rateLimit"])
    written["ThrottlingBurstLimit"] = int(throttling["burstLimit"])
    return written


def _changes(
    desired: Mapping[str, Any], stage: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """`UpdateStage` arguments for the declared settings that differ from `stage`, and the route
    keys whose settings to delete."""
    have = _fields(stage)
    params: dict[str, Any] = {}
    default = {
        key: value
        for key, value in (stage.get("DefaultRouteSettings") or {}).items()
        if key not in WEBSOCKET_ONLY
    }
    new_default = dict(default)
    if "throttling" in desired and compare(desired["throttling"], have["throttling"] or {}):
        new_default = _settings(new_default, desired["throttling"])
    if "detailedMetrics" in desired and not same(
        desired["detailedMetrics"], have["detailedMetrics"]
    ):
        new_default["DetailedMetricsEnabled"] = bool(desired["detailedMetrics"])
    if new_default != default:
        params["DefaultRouteSettings"] = new_default
    extra: list[str] = []
    if "routes" in desired:
        routes = stage.get("RouteSettings") or {}
        wanted = desired["routes"]
        if any(not same(wanted[key], have["routes"].get(key)) for key in wanted):
            # Every declared route, not only those that differ: AWS merges by route key, so the
            # rest are rewritten as they are, and a route's settings never depend on the merge.
            params["RouteSettings"] = {
                key: _settings(routes.get(key) or {}, throttling)
                for key, throttling in wanted.items()
            }
        extra = sorted(key for key in routes if key not in desired["routes"])
    return params, extra
