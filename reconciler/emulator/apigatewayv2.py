"""API Gateway v2 (HTTP APIs) stages as AWS keeps them, for moto 5.2.

moto has ``CreateStage`` and ``GetStage`` but raises NotImplementedError on ``UpdateStage`` and
answers 404 "Not yet implemented" to ``DeleteRouteSettings``. This module adds both, on the
REST paths of the botocore model ``apigatewayv2/2018-11-29``:

- ``UpdateStage``: ``PATCH /v2/apis/{apiId}/stages/{stageName}``, 200 with the stage as
  ``GetStage`` answers it (``UpdateStageResponse``). A missing API -> ``NotFoundException`` (404)
  "Invalid API identifier specified <id>", a missing stage -> ``NotFoundException`` "Invalid stage
  identifier specified" (moto's own messages for ``GetStage``). ``RouteSettings`` are merged by
  route key: each key sent replaces that key's settings, keys not sent keep theirs (removing one
  takes ``DeleteRouteSettings``: hashicorp/terraform-provider-aws#16133 had to add those calls
  because an update never removes a key). ``DefaultRouteSettings`` and each key's settings are
  replaced whole by what is sent: AWS documents neither a field-by-field merge nor a
  replacement, and this is the stricter reading (a caller that sends whole settings is right
  under both).
- ``DeleteRouteSettings``: ``DELETE /v2/apis/{apiId}/stages/{stageName}/routesettings/{routeKey}``,
  204. A missing API or stage, or a route key the stage has no settings for ->
  ``NotFoundException`` (the operation's only modelled error besides throttling; the wording for a
  key without settings is the emulator's).

Rules kept from AWS (switch ``Behaviour.apigateway_stage_rules``), on ``CreateStage`` and
``UpdateStage`` of an HTTP API:

- a route key in ``RouteSettings`` that is not a route of the API -> ``NotFoundException`` (404)
  "Unable to find Route by key <key> within the provided RouteSettings" (AWS's answer quoted in
  terraform-aws-modules/terraform-aws-apigateway-v2#80; moto stored anything);
- ``DataTraceEnabled`` or ``LoggingLevel`` in any route settings -> ``BadRequestException``
  "Execution logs are not supported on protocolType HTTP" (hashicorp/terraform-provider-aws#12893;
  the model documents both as "Supported only for WebSocket APIs").

Stage tags are one set, as in AWS: moto kept ``CreateStage``'s ``Tags`` on the stage (what
``GetStage`` answered) apart from ``TagResource``'s on the stage ARN
``arn:aws:apigateway:REGION::/apis/ID/stages/NAME`` (what ``GetTags`` answered). Here both go to
moto's tagger under the stage ARN, and ``GetStage``, ``GetStages`` and ``UpdateStage`` answer
those; deleting the stage drops them.

``GetApis`` pages (``maxResults`` and ``nextToken`` are strings in the model): at most
``maxResults`` APIs a page, or ``Behaviour.apigateway_page_size`` when the caller sends none
(assumed: AWS documents no default; moto answered everything in one page), with an opaque
``nextToken``; a ``maxResults`` that is not a positive integer -> ``BadRequestException``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final
from urllib.parse import unquote

from moto.apigatewayv2 import urls as apigatewayv2_urls
from moto.apigatewayv2.exceptions import APIGatewayV2Error, BadRequestException, StageNotFound
from moto.apigatewayv2.models import Api, ApiGatewayV2Backend, Stage
from moto.apigatewayv2.responses import ApiGatewayV2Response
from moto.core.common_types import TYPE_RESPONSE
from moto.utilities.utils import get_partition

from reconciler.emulator.settings import current

_MARKER: Final = "_reconciler_emulator_apigatewayv2"
_ROUTE_SETTINGS_URL: Final = (
    r"{0}/v2/apis/(?P<api_id>[^/]+)/stages/(?P<stage_name>[^/]+)"
    r"/routesettings/(?P<route_key>.+)$"
)
#: A stage's ARN in a tags path, as a server sees it once `%2F` is decoded (moto's own patterns
#: stop at an API's ARN).
_STAGE_TAGS_URL: Final = (
    r"{0}/v2/tags/(?P<resource_arn_pt1>[^/]+)/apis/(?P<resource_arn_pt2>[^/]+)"
    r"/stages/(?P<resource_arn_pt3>[^/]+)$"
)
_EXECUTION_LOGS: Final = ("dataTraceEnabled", "loggingLevel")

__all__ = ["install", "stage_arn"]


class NotFoundException(APIGatewayV2Error):
    """404 ``NotFoundException`` with the message given."""

    code = 404

    def __init__(self, message: str) -> None:
        super().__init__("NotFoundException", message)


def stage_arn(backend: ApiGatewayV2Backend, api_id: str, stage_name: str) -> str:
    """The stage's ARN as API Gateway names it (no account field)."""
    region = backend.region_name
    return f"arn:{get_partition(region)}:apigateway:{region}::/apis/{api_id}/stages/{stage_name}"


def _check_route_settings(api: Api, config: dict[str, Any]) -> None:
    """The rules above, for the route settings of a CreateStage or UpdateStage request."""
    if api.protocol_type != "HTTP" or not current().apigateway_stage_rules:
        return
    settings = [config.get("defaultRouteSettings") or {}]
    settings += list((config.get("routeSettings") or {}).values())
    if any(key in entry for entry in settings for key in _EXECUTION_LOGS):
        raise BadRequestException("Execution logs are not supported on protocolType HTTP")
    keys = {route.route_key for route in api.routes.values()}
    for key in config.get("routeSettings") or {}:
        if key not in keys:
            raise NotFoundException(
                f"Unable to find Route by key {key} within the provided RouteSettings"
            )


def _stage_json(backend: ApiGatewayV2Backend, api_id: str, stage: Stage) -> dict[str, Any]:
    answer: dict[str, Any] = stage.to_json()
    answer["tags"] = backend.get_tags(stage_arn(backend, api_id, stage.name))
    return answer


def _update_stage(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
    parts = self.path.split("/")
    api_id, stage_name = parts[-3], unquote(parts[-1])
    backend = self.apigatewayv2_backend
    api = backend.get_api(api_id)
    stage = api.get_stage(stage_name)
    body: dict[str, Any] = json.loads(self.body or "{}")
    _check_route_settings(api, body)
    if "defaultRouteSettings" in body:
        stage.default_route_settings = dict(body["defaultRouteSettings"])
    if "routeSettings" in body:
        merged = dict(stage.route_settings)
        merged.update({key: dict(value) for key, value in body["routeSettings"].items()})
        stage.route_settings = merged
    simple = {
        "accessLogSettings": "access_log_settings",
        "autoDeploy": "auto_deploy",
        "clientCertificateId": "client_certificate_id",
        "description": "description",
        "stageVariables": "stage_variables",
    }
    for key, attribute in simple.items():
        if key in body:
            setattr(stage, attribute, body[key])
    if "deploymentId" in body:
        stage.config["deploymentId"] = body["deploymentId"]
    stage.updated = datetime.now()
    return 200, {}, json.dumps(_stage_json(backend, api_id, stage))


def _delete_route_settings(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
    path = self.path.split("/v2/apis/", 1)[1]
    api_id, _, rest = path.partition("/stages/")
    stage_name, _, route_key = rest.partition("/routesettings/")
    stage_name, route_key = unquote(stage_name), unquote(route_key)
    stage = self.apigatewayv2_backend.get_api(api_id).get_stage(stage_name)
    if route_key not in stage.route_settings:
        raise NotFoundException(f"Unable to find RouteSettings for key {route_key}")
    settings = dict(stage.route_settings)
    del settings[route_key]
    stage.route_settings = settings
    stage.updated = datetime.now()
    return 204, {"status": 204}, ""


def _paged_apis(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
    apis = self.apigatewayv2_backend.get_apis()
    size_text = self._get_param("maxResults")
    size = current().apigateway_page_size
    if size_text is not None:
        if not str(size_text).isdigit() or int(size_text) < 1:
            raise BadRequestException(f"Invalid maxResults: {size_text}")
        size = int(size_text)
    start = int(self._get_param("nextToken") or 0)
    end = len(apis) if size is None else start + size
    answer: dict[str, Any] = {"items": [api.to_json() for api in apis[start:end]]}
    if end < len(apis):
        answer["nextToken"] = str(end)
    return 200, {}, json.dumps(answer)


def install() -> None:
    """Register the URL pattern, the two operations, paging and the single set of stage tags.
    Idempotent."""
    if getattr(ApiGatewayV2Response, _MARKER, False):
        return
    # moto builds its in-process URL map and the server's routes from this dict on demand.
    apigatewayv2_urls.url_paths.setdefault(_ROUTE_SETTINGS_URL, ApiGatewayV2Response.dispatch)
    apigatewayv2_urls.url_paths.setdefault(_STAGE_TAGS_URL, ApiGatewayV2Response.dispatch)
    # moto dispatches an operation to the response method named after it in snake case.
    ApiGatewayV2Response.update_stage = _update_stage  # type: ignore[attr-defined]
    ApiGatewayV2Response.delete_route_settings = _delete_route_settings  # type: ignore[attr-defined]
    ApiGatewayV2Response.get_apis = _paged_apis  # type: ignore[method-assign]

    def create_stage(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
        api_id = self.path.split("/")[-2]
        backend = self.apigatewayv2_backend
        api = backend.get_api(api_id)
        config: dict[str, Any] = json.loads(self.body or "{}")
        _check_route_settings(api, config)
        tags = config.pop("tags", None) or {}
        stage = backend.create_stage(api_id, config)
        if tags:
            backend.tag_resource(stage_arn(backend, api_id, stage.name), tags)
        return 200, {}, json.dumps(_stage_json(backend, api_id, stage))

    def get_stage(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
        parts = self.path.split("/")
        api_id, stage_name = parts[-3], unquote(parts[-1])
        backend = self.apigatewayv2_backend
        stage = backend.get_stage(api_id, stage_name)
        return 200, {}, json.dumps(_stage_json(backend, api_id, stage))

    def get_stages(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
        api_id = self.path.split("/")[-2]
        backend = self.apigatewayv2_backend
        items = [_stage_json(backend, api_id, stage) for stage in backend.get_stages(api_id)]
        return 200, {}, json.dumps({"items": items})

    original_delete_stage = Api.delete_stage

    def delete_stage(self: Api, stage_name: str) -> None:
        if stage_name not in self.stages:
            raise StageNotFound
        original_delete_stage(self, stage_name)
        arn = stage_arn(self.backend, self.api_id, stage_name)
        self.backend.tagger.delete_all_tags_for_resource(arn)

    ApiGatewayV2Response.create_stage = create_stage  # type: ignore[method-assign]
    ApiGatewayV2Response.get_stage = get_stage  # type: ignore[method-assign]
    ApiGatewayV2Response.get_stages = get_stages  # type: ignore[method-assign]
    Api.delete_stage = delete_stage  # type: ignore[method-assign]
    setattr(ApiGatewayV2Response, _MARKER, True)
