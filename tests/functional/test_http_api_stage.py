"""The HttpApiStage engine against the emulator: APIs found by name, AWS's defaults, the routes
map managed whole, ownership on the stage's ARN, and the refusals of names AWS does not keep
unique."""

from __future__ import annotations

from typing import Any

import pytest
from call_log import CallLog

from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.errors import PermanentError
from reconciler.kinds.http_api_stage.engine import ENGINE
from reconciler.kinds.http_api_stage.model import HttpApiStage
from reconciler.plan import OWNER_TAG, Action, Diff, Plan
from tests.builders import apply_each, document_of, plan_with

stage_manifest = document_of(HttpApiStage)
ROUTES = ("GET /health", "ANY /{proxy+}", "$default")


def make_api(
    aws: Clients,
    name: str = "gateway",
    *,
    stage: str = "$default",
    routes: tuple[str, ...] = ROUTES,
    default: dict[str, Any] | None = None,
    route_settings: dict[str, Any] | None = None,
    owner: str | None = "dev",
    protocol: str = "HTTP",
) -> str:
    """An API with `routes` and one stage made as its owner left it; returns the API's id."""
    client = aws.service("apigatewayv2")
    api_id: str = client.create_api(Name=name, ProtocolType=protocol)["ApiId"]
    for key in routes:
        client.create_route(ApiId=api_id, RouteKey=key)
    params: dict[str, Any] = {"ApiId": api_id, "StageName": stage, "Tags": {"team": "edge"}}
    if default is not None:
        params["DefaultRouteSettings"] = default
    if route_settings is not None:
        params["RouteSettings"] = route_settings
    if owner is not None:
        params["Tags"][OWNER_TAG] = owner
    client.create_stage(**params)
    return api_id


def aws_stage(aws: Clients, api_id: str, stage: str = "$default") -> dict[str, Any]:
    found: dict[str, Any] = aws.service("apigatewayv2").get_stage(ApiId=api_id, StageName=stage)
    return found


def stage_arn(api_id: str, stage: str = "$default") -> str:
    return f"arn:aws:apigateway:us-east-1::/apis/{api_id}/stages/{stage}"


def plan_for(aws: Clients, context: Context, *manifests: HttpApiStage) -> Plan:
    return plan_with(ENGINE, aws, context, *manifests)


FULL_SPEC: dict[str, Any] = {
    "throttling": {"rateLimit": 100, "burstLimit": 50},
    "detailedMetrics": True,
    "routes": {
        "GET /health": {"rateLimit": 5, "burstLimit": 2},
        "ANY /{proxy+}": {"rateLimit": 20.5, "burstLimit": 10},
    },
}
FULL_DEFAULT = {
    "ThrottlingRateLimit": 100.0,
    "ThrottlingBurstLimit": 50,
    "DetailedMetricsEnabled": True,
}
FULL_ROUTES = {
    "GET /health": {"ThrottlingRateLimit": 5.0, "ThrottlingBurstLimit": 2},
    "ANY /{proxy+}": {"ThrottlingRateLimit": 20.5, "ThrottlingBurstLimit": 10},
}


def test_a_stage_as_aws_makes_it_matches_a_manifest_of_aws_defaults(
    aws: Clients, context: Context
) -> None:
    """No throttling, DetailedMetricsEnabled left out (false), no route settings."""
    make_api(aws)
    manifest = stage_manifest("gateway/$default", detailedMetrics=False, routes={})

    observed = ENGINE.observe(aws, [manifest], context)["gateway/$default"]

    assert observed.fields == {"throttling": None, "detailedMetrics": False, "routes": {}}
    assert plan_for(aws, context, manifest).in_sync


def test_detailed_metrics_absent_in_aws_counts_as_false(aws: Clients, context: Context) -> None:
    api_id = make_api(aws, default={"ThrottlingRateLimit": 10.0, "ThrottlingBurstLimit": 5})
    assert "DetailedMetricsEnabled" not in aws_stage(aws, api_id)["DefaultRouteSettings"]

    manifest = stage_manifest("gateway/$default", detailedMetrics=False)

    assert plan_for(aws, context, manifest).in_sync


def test_a_fully_set_stage_is_in_sync(aws: Clients, context: Context) -> None:
    make_api(aws, default=FULL_DEFAULT, route_settings=FULL_ROUTES)
    manifest = stage_manifest("gateway/$default", **FULL_SPEC)

    assert ENGINE.diff(manifest, ENGINE.observe(aws, [manifest], context)["gateway/$default"]) == []
    assert plan_for(aws, context, manifest).in_sync


def test_throttling_declared_on_a_stage_without_any_is_drift_on_both_limits(
    aws: Clients, context: Context
) -> None:
    make_api(aws)
    manifest = stage_manifest("gateway/$default", throttling={"rateLimit": 100, "burstLimit": 50})

    (change,) = plan_for(aws, context, manifest).changes

    assert change.action is Action.UPDATE
    assert list(change.diffs) == [
        Diff(field="throttling.rateLimit", desired=100, actual=None),
        Diff(field="throttling.burstLimit", desired=50, actual=None),
    ]


@pytest.mark.parametrize(
    ("spec", "diff"),
    [
        (
            {"throttling": {"rateLimit": 200, "burstLimit": 50}},
            Diff(field="throttling.rateLimit", desired=200, actual=100.0),
        ),
        (
            {"throttling": {"rateLimit": 100, "burstLimit": 80}},
            Diff(field="throttling.burstLimit", desired=80, actual=50),
        ),
        ({"detailedMetrics": False}, Diff(field="detailedMetrics", desired=False, actual=True)),
        (
            {"routes": {**FULL_SPEC["routes"], "GET /health": {"rateLimit": 1, "burstLimit": 2}}},
            Diff(
                field="routes.GET /health",
                desired={"rateLimit": 1, "burstLimit": 2},
                actual={"rateLimit": 5.0, "burstLimit": 2},
            ),
        ),
        (
            {"routes": {"GET /health": {"rateLimit": 5, "burstLimit": 2}}},
            Diff(
                field="routes.ANY /{proxy+}",
                desired=None,
                actual={"rateLimit": 20.5, "burstLimit": 10},
            ),
        ),
        (
            {"routes": {**FULL_SPEC["routes"], "$default": {"rateLimit": 1, "burstLimit": 1}}},
            Diff(field="routes.$default", desired={"rateLimit": 1, "burstLimit": 1}, actual=None),
        ),
    ],
    ids=["rate", "burst", "metrics", "route-changed", "route-extra-in-aws", "route-missing"],
)
def test_each_field_drift_is_one_diff(
    aws: Clients, context: Context, spec: dict[str, Any], diff: Diff
) -> None:
    make_api(aws, default=FULL_DEFAULT, route_settings=FULL_ROUTES)
    manifest = stage_manifest("gateway/$default", **spec)

    observed = ENGINE.observe(aws, [manifest], context)["gateway/$default"]

    assert ENGINE.diff(manifest, observed) == [diff]


def test_fields_the_manifest_leaves_out_are_not_compared(aws: Clients, context: Context) -> None:
    make_api(aws, default=FULL_DEFAULT, route_settings=FULL_ROUTES)
    manifest = stage_manifest("gateway/$default", detailedMetrics=True)

    assert ENGINE.desired(manifest) == {"detailedMetrics": True}
    assert plan_for(aws, context, manifest).in_sync


def test_apply_converges_removes_extra_route_settings_and_adds_the_tag(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    api_id = make_api(
        aws,
        route_settings={"$default": {"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1}},
        owner=None,
    )
    manifest = stage_manifest("gateway/$default", **FULL_SPEC)
    plan = plan_for(aws, context, manifest)
    assert {diff.field for diff in plan.changes[0].diffs} == {
        "throttling.rateLimit",
        "throttling.burstLimit",
        "detailedMetrics",
        "routes.$default",
        "routes.ANY /{proxy+}",
        "routes.GET /health",
        f"tags.{OWNER_TAG}",
    }
    calls.clear()

    apply_each(ENGINE, aws, context, plan)

    assert [op for _, op in calls.writes] == ["UpdateStage", "DeleteRouteSettings", "TagResource"]
    stage = aws_stage(aws, api_id)
    assert stage["DefaultRouteSettings"] == FULL_DEFAULT
    assert stage["RouteSettings"] == FULL_ROUTES
    tags = aws.service("apigatewayv2").get_tags(ResourceArn=stage_arn(api_id))["Tags"]
    assert tags == {"team": "edge", OWNER_TAG: "dev"}
    again = plan_for(aws, context, manifest)
    assert again.in_sync
    calls.clear()
    apply_each(ENGINE, aws, context, again)
    assert calls.writes == []


def test_an_update_keeps_the_settings_the_manifest_does_not_manage(
    aws: Clients, context: Context
) -> None:
    """Each route's settings are sent whole: a route's detailed metrics and the stage's default
    throttling survive a change to the routes alone."""
    api_id = make_api(
        aws,
        default={
            "ThrottlingRateLimit": 7.0,
            "ThrottlingBurstLimit": 3,
            "DetailedMetricsEnabled": True,
        },
        route_settings={
            "GET /health": {
                "ThrottlingRateLimit": 1.0,
                "ThrottlingBurstLimit": 1,
                "DetailedMetricsEnabled": True,
            }
        },
    )
    manifest = stage_manifest(
        "gateway/$default", routes={"GET /health": {"rateLimit": 9, "burstLimit": 4}}
    )

    apply_each(ENGINE, aws, context, plan_for(aws, context, manifest))

    stage = aws_stage(aws, api_id)
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": 7.0,
        "ThrottlingBurstLimit": 3,
        "DetailedMetricsEnabled": True,
    }
    assert stage["RouteSettings"] == {
        "GET /health": {
            "ThrottlingRateLimit": 9.0,
            "ThrottlingBurstLimit": 4,
            "DetailedMetricsEnabled": True,
        }
    }


def test_a_named_stage_beside_default_is_the_one_changed(aws: Clients, context: Context) -> None:
    api_id = make_api(aws, stage="prod")
    aws.service("apigatewayv2").create_stage(ApiId=api_id, StageName="$default")
    manifest = stage_manifest("gateway/prod", detailedMetrics=True)

    apply_each(ENGINE, aws, context, plan_for(aws, context, manifest))

    assert aws_stage(aws, api_id, "prod")["DefaultRouteSettings"]["DetailedMetricsEnabled"]
    assert not aws_stage(aws, api_id, "$default")["DefaultRouteSettings"]["DetailedMetricsEnabled"]


def test_no_http_api_with_the_name_is_blocked_with_the_reason(
    aws: Clients, context: Context
) -> None:
    make_api(aws, "sockets", protocol="WEBSOCKET", routes=())
    manifests = [
        stage_manifest("gateway/$default", detailedMetrics=True),
        stage_manifest("sockets/$default", detailedMetrics=True),
    ]

    changes = plan_for(aws, context, *manifests).changes

    assert [change.action for change in changes] == [Action.BLOCKED, Action.BLOCKED]
    assert changes[0].reason == "no HTTP API is named 'gateway' in this region"
    assert changes[1].reason == "no HTTP API is named 'sockets' in this region"


def test_several_http_apis_with_the_name_are_blocked_naming_their_ids(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    first, second = make_api(aws), make_api(aws)
    manifest = stage_manifest("gateway/$default", detailedMetrics=True)

    (change,) = plan_for(aws, context, manifest).changes

    assert change.action is Action.BLOCKED
    assert change.reason is not None
    assert "2 HTTP APIs are named 'gateway'" in change.reason
    assert first in change.reason and second in change.reason
    assert ("apigatewayv2", "GetStage") not in calls.calls


def test_a_second_api_made_after_the_plan_stops_the_apply(aws: Clients, context: Context) -> None:
    api_id = make_api(aws)
    manifest = stage_manifest("gateway/$default", detailedMetrics=True)
    (change,) = plan_for(aws, context, manifest).writes
    make_api(aws)

    with pytest.raises(PermanentError, match="2 HTTP APIs are named 'gateway'"):
        ENGINE.apply(aws, change, context)
    assert not aws_stage(aws, api_id)["DefaultRouteSettings"]["DetailedMetricsEnabled"]


def test_a_missing_stage_is_blocked(aws: Clients, context: Context) -> None:
    make_api(aws, stage="prod")
    manifest = stage_manifest("gateway/$default", detailedMetrics=True)

    (change,) = plan_for(aws, context, manifest).changes

    assert change.action is Action.BLOCKED
    assert "does not exist" in (change.reason or "")


def test_apis_are_found_in_one_paged_pass_for_every_declared_stage(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    """GetApis answers 25 APIs a page here (AWS pages too); the declared APIs are on the last."""
    client = aws.service("apigatewayv2")
    for index in range(55):
        client.create_api(Name=f"filler-{index}", ProtocolType="HTTP")
    names = [f"api-{index}" for index in range(3)]
    for name in names:
        make_api(aws, name)
    manifests = [stage_manifest(f"{name}/$default", detailedMetrics=False) for name in names]
    calls.clear()

    found = ENGINE.observe(aws, manifests, context)

    assert sorted(found) == [f"{name}/$default" for name in names]
    assert all(observed.refusal is None for observed in found.values())
    assert calls.calls.count(("apigatewayv2", "GetApis")) == 3  # 58 APIs, pages of 25
    assert calls.calls.count(("apigatewayv2", "GetStage")) == 3


def test_a_stage_owned_by_another_environment_is_a_visible_conflict(
    aws: Clients, context: Context
) -> None:
    make_api(aws, owner="prod")
    manifest = stage_manifest("gateway/$default", detailedMetrics=True)

    (change,) = plan_for(aws, context, manifest).changes

    assert change.action is Action.BLOCKED
    assert "prod" in (change.reason or "")


def test_a_stage_retagged_for_another_environment_after_the_plan_is_not_changed(
    aws: Clients, context: Context, calls: CallLog
) -> None:
    api_id = make_api(aws)
    manifest = stage_manifest("gateway/$default", detailedMetrics=True)
    (change,) = plan_for(aws, context, manifest).writes
    aws.service("apigatewayv2").tag_resource(
        ResourceArn=stage_arn(api_id), Tags={OWNER_TAG: "prod"}
    )
    calls.clear()

    with pytest.raises(PermanentError, match="owned by environment 'prod'"):
        ENGINE.apply(aws, change, context)
    assert calls.writes == []


def test_a_route_the_api_lacks_fails_with_a_sentence_naming_spec_routes(
    aws: Clients, context: Context
) -> None:
    make_api(aws, routes=("GET /health",))
    manifest = stage_manifest(
        "gateway/$default", routes={"GET /gone": {"rateLimit": 1, "burstLimit": 1}}
    )
    (change,) = plan_for(aws, context, manifest).writes

    with pytest.raises(PermanentError, match=r"spec\.routes \(GET /gone\) must be a route key"):
        ENGINE.apply(aws, change, context)


def test_a_stage_api_gateway_manages_is_blocked(
    aws: Clients, context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `$default` stage of a quick-created API: "You can't modify the $default stage" (the
    model's `ApiGatewayManaged`). The emulator cannot quick-create, so the stage says it is."""
    from moto.apigatewayv2.models import Stage

    to_json = Stage.to_json
    monkeypatch.setattr(Stage, "to_json", lambda self: {**to_json(self), "apiGatewayManaged": True})
    make_api(aws)
    manifest = stage_manifest("gateway/$default", detailedMetrics=True)

    (change,) = plan_for(aws, context, manifest).changes

    assert change.action is Action.BLOCKED
    assert "managed by API Gateway" in (change.reason or "")


def test_a_route_change_sends_every_declared_route_whole(aws: Clients, context: Context) -> None:
    """Whether AWS merges route settings by key or replaces them, the declared map lands whole."""
    make_api(aws, route_settings=FULL_ROUTES)
    sent: list[dict[str, Any]] = []
    aws.service("apigatewayv2").meta.events.register(
        "provide-client-params.apigatewayv2.UpdateStage",
        lambda params, **_: sent.append(dict(params)),
    )
    routes = {**FULL_SPEC["routes"], "GET /health": {"rateLimit": 6, "burstLimit": 3}}
    manifest = stage_manifest("gateway/$default", routes=routes)

    apply_each(ENGINE, aws, context, plan_for(aws, context, manifest))

    (update,) = sent
    assert set(update) == {"ApiId", "StageName", "RouteSettings"}
    assert update["RouteSettings"] == {
        "GET /health": {"ThrottlingRateLimit": 6.0, "ThrottlingBurstLimit": 3},
        "ANY /{proxy+}": {"ThrottlingRateLimit": 20.5, "ThrottlingBurstLimit": 10},
    }
