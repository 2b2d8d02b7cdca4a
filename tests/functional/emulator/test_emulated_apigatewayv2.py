"""API Gateway v2 stages as the emulator keeps them, driven by boto3.

Sources: the botocore model ``apigatewayv2/2018-11-29`` (``UpdateStage``: PATCH, 200,
``UpdateStageResponse``, NotFoundException 404; ``DeleteRouteSettings``: DELETE, 204;
``GetApis``' string ``MaxResults``/``NextToken``; ``RouteSettings`` ``DataTraceEnabled`` and
``LoggingLevel`` "Supported only for WebSocket APIs"), AWS's answers quoted in
terraform-aws-modules/terraform-aws-apigateway-v2#80 (a route key the API lacks) and
hashicorp/terraform-provider-aws#12893 (execution logs on HTTP), and #16133 (an update never
removes a route's settings).
"""

from __future__ import annotations

import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour

if TYPE_CHECKING:
    from mypy_boto3_apigatewayv2 import ApiGatewayV2Client


@pytest.fixture
def gw(emulated: None) -> ApiGatewayV2Client:
    return boto3.client("apigatewayv2", region_name="us-east-1")


@pytest.fixture
def api(gw: ApiGatewayV2Client) -> str:
    """An HTTP API with three routes and a `$default` stage."""
    api_id = gw.create_api(Name="gateway", ProtocolType="HTTP")["ApiId"]
    for key in ("GET /health", "ANY /{proxy+}", "$default"):
        gw.create_route(ApiId=api_id, RouteKey=key)
    gw.create_stage(ApiId=api_id, StageName="$default")
    return api_id


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err: Any = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def _arn(api_id: str, stage: str = "$default") -> str:
    return f"arn:aws:apigateway:us-east-1::/apis/{api_id}/stages/{stage}"


def test_update_stage_answers_the_stage_and_get_stage_reads_it_back(
    gw: ApiGatewayV2Client, api: str
) -> None:
    default = {"ThrottlingRateLimit": 100.0, "ThrottlingBurstLimit": 50}
    answer = gw.update_stage(
        ApiId=api, StageName="$default", DefaultRouteSettings=default, Description="edge"
    )

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["StageName"] == "$default"
    assert answer["DefaultRouteSettings"] == default
    assert answer["Description"] == "edge"
    assert answer["LastUpdatedDate"] >= answer["CreatedDate"]
    assert gw.get_stage(ApiId=api, StageName="$default")["DefaultRouteSettings"] == default


def test_route_settings_merge_by_route_key_and_each_key_is_replaced_whole(
    gw: ApiGatewayV2Client, api: str
) -> None:
    gw.update_stage(
        ApiId=api,
        StageName="$default",
        RouteSettings={
            "GET /health": {"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1},
            "ANY /{proxy+}": {"ThrottlingRateLimit": 2.0, "ThrottlingBurstLimit": 2},
        },
    )
    gw.update_stage(
        ApiId=api,
        StageName="$default",
        RouteSettings={"GET /health": {"ThrottlingRateLimit": 9.0}},
    )

    assert gw.get_stage(ApiId=api, StageName="$default")["RouteSettings"] == {
        "GET /health": {"ThrottlingRateLimit": 9.0},
        "ANY /{proxy+}": {"ThrottlingRateLimit": 2.0, "ThrottlingBurstLimit": 2},
    }


def test_delete_route_settings_removes_one_key_and_answers_204(
    gw: ApiGatewayV2Client, api: str
) -> None:
    settings = {"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1}
    gw.update_stage(
        ApiId=api,
        StageName="$default",
        RouteSettings={"ANY /{proxy+}": settings, "$default": settings},
    )

    answer = gw.delete_route_settings(ApiId=api, StageName="$default", RouteKey="ANY /{proxy+}")

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert gw.get_stage(ApiId=api, StageName="$default")["RouteSettings"] == {"$default": settings}
    with pytest.raises(ClientError) as raised:
        gw.delete_route_settings(ApiId=api, StageName="$default", RouteKey="ANY /{proxy+}")
    assert _error(raised)[:2] == ("NotFoundException", 404)


@pytest.mark.parametrize(
    ("api_id", "stage", "message"),
    [
        ("nope", "$default", "Invalid API identifier specified nope"),
        (None, "prod", "Invalid stage identifier specified"),
    ],
)
def test_a_missing_api_or_stage_is_not_found(
    gw: ApiGatewayV2Client, api: str, api_id: str | None, stage: str, message: str
) -> None:
    for call in (
        lambda: gw.update_stage(ApiId=api_id or api, StageName=stage, Description="x"),
        lambda: gw.delete_route_settings(
            ApiId=api_id or api, StageName=stage, RouteKey="GET /health"
        ),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert _error(raised) == ("NotFoundException", 404, message)


def test_route_settings_for_a_route_the_api_lacks_are_not_found(
    gw: ApiGatewayV2Client, api: str
) -> None:
    with pytest.raises(ClientError) as raised:
        gw.update_stage(
            ApiId=api,
            StageName="$default",
            RouteSettings={"GET /gone": {"ThrottlingRateLimit": 1.0}},
        )

    assert _error(raised) == (
        "NotFoundException",
        404,
        "Unable to find Route by key GET /gone within the provided RouteSettings",
    )
    assert gw.get_stage(ApiId=api, StageName="$default")["RouteSettings"] == {}
    with behaviour(apigateway_stage_rules=False):
        gw.update_stage(
            ApiId=api,
            StageName="$default",
            RouteSettings={"GET /gone": {"ThrottlingBurstLimit": 1}},
        )


@pytest.mark.parametrize(
    "settings",
    [
        {"DefaultRouteSettings": {"LoggingLevel": "INFO"}},
        {"RouteSettings": {"GET /health": {"DataTraceEnabled": False}}},
    ],
)
def test_execution_logs_are_refused_on_an_http_api(
    gw: ApiGatewayV2Client, api: str, settings: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as raised:
        gw.update_stage(ApiId=api, StageName="$default", **settings)

    assert _error(raised) == (
        "BadRequestException",
        400,
        "Execution logs are not supported on protocolType HTTP",
    )


def test_stage_tags_are_one_set_whichever_call_set_them(gw: ApiGatewayV2Client) -> None:
    api_id = gw.create_api(Name="gateway", ProtocolType="HTTP")["ApiId"]
    gw.create_stage(ApiId=api_id, StageName="prod", Tags={"team": "edge"})

    gw.tag_resource(ResourceArn=_arn(api_id, "prod"), Tags={"reconciler:environment": "dev"})

    both = {"team": "edge", "reconciler:environment": "dev"}
    assert gw.get_tags(ResourceArn=_arn(api_id, "prod"))["Tags"] == both
    assert gw.get_stage(ApiId=api_id, StageName="prod")["Tags"] == both
    assert gw.get_stages(ApiId=api_id)["Items"][0]["Tags"] == both
    gw.delete_stage(ApiId=api_id, StageName="prod")
    assert gw.get_tags(ResourceArn=_arn(api_id, "prod"))["Tags"] == {}


def test_get_apis_pages_with_string_max_results_and_next_token(gw: ApiGatewayV2Client) -> None:
    for index in range(30):
        gw.create_api(Name=f"api-{index}", ProtocolType="HTTP")

    first = gw.get_apis(MaxResults="20")
    second = gw.get_apis(MaxResults="20", NextToken=first["NextToken"])
    unasked = gw.get_apis()

    assert len(first["Items"]) == 20 and len(second["Items"]) == 10
    assert "NextToken" not in second
    names = {api["Name"] for api in first["Items"] + second["Items"]}
    assert names == {f"api-{index}" for index in range(30)}
    assert len(unasked["Items"]) == 25 and unasked["NextToken"]
    with pytest.raises(ClientError) as raised:
        gw.get_apis(MaxResults="zero")
    assert _error(raised)[:2] == ("BadRequestException", 400)


def test_server_mode_serves_stage_updates_route_settings_and_stage_tags(offline: None) -> None:
    """A server decodes `%2F` before routing: a stage's ARN in `/v2/tags/` still reaches GetTags
    and TagResource, and `ANY /{proxy+}` reaches DeleteRouteSettings."""
    pytest.importorskip("flask", reason="moto's server mode needs moto[server] (flask, flask-cors)")
    from moto.server import ThreadedMotoServer

    from reconciler.emulator import install

    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        gw = boto3.client("apigatewayv2", region_name="us-east-1", endpoint_url=endpoint)
        api_id = gw.create_api(Name="gateway", ProtocolType="HTTP")["ApiId"]
        gw.create_route(ApiId=api_id, RouteKey="ANY /{proxy+}")
        gw.create_stage(ApiId=api_id, StageName="$default", Tags={"team": "edge"})
        settings = {"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1}

        gw.update_stage(
            ApiId=api_id, StageName="$default", RouteSettings={"ANY /{proxy+}": settings}
        )
        gw.tag_resource(ResourceArn=_arn(api_id), Tags={"reconciler:environment": "dev"})
        tags = gw.get_tags(ResourceArn=_arn(api_id))["Tags"]
        gw.delete_route_settings(ApiId=api_id, StageName="$default", RouteKey="ANY /{proxy+}")

        assert tags == {"team": "edge", "reconciler:environment": "dev"}
        assert gw.get_stage(ApiId=api_id, StageName="$default")["RouteSettings"] == {}
    finally:
        # The server shares moto's in-process state: leave none behind for other tests.
        request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
        server.stop()
