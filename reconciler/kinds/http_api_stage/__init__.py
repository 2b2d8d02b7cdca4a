"""`HttpApiStage`: the throttling and detailed metrics of a stage of an API Gateway HTTP API,
named `API_NAME/STAGE_NAME`. Never created or deleted; changes go out with `UpdateStage` (and
`DeleteRouteSettings` for a route the manifest no longer throttles). API names are not unique in
AWS: a name no HTTP API has, or that several have, is refused with the reason. The manifest is in
`model.py`, the engine in `engine.py` (loaded only when a run talks to AWS)."""

from __future__ import annotations

from reconciler.kinds.description import Kind, Service, quota
from reconciler.kinds.http_api_stage.model import HttpApiStage, check

#: "Amazon API Gateway quotas", "API Gateway quotas for creating, deploying and managing an API"
#: (developer guide, limits.html): fixed per-account figures for a list of operations (none of
#: GetApis, GetStage, GetTags, UpdateStage, DeleteRouteSettings or TagResource among them: "Other
#: operations: no quota up to the total account quota"), and "Total operations: 10 requests per
#: second with a burst quota of 40 requests per second". API Gateway answers 429
#: `TooManyRequestsException` beyond it (the botocore model's error shape for every operation).
APIGATEWAYV2 = Service(
    "apigatewayv2",
    "apigateway",
    (
        quota(
            "apigatewayv2",
            "",
            10,
            40,
            "AWS: API Gateway control plane, total operations 10 a second, burst 40, per account "
            "and region (shared with REST API management calls)",
        ),
    ),
    (429, "TooManyRequestsException"),
)

KIND = Kind(
    name="HttpApiStage",
    model=HttpApiStage,
    check=check,
    noun="stages",
    engine="reconciler.kinds.http_api_stage.engine",
    services=(APIGATEWAYV2,),
    phase=2,
    # API Gateway's IAM actions are the HTTP verbs of its REST paths (Service Authorization
    # Reference, "Amazon API Gateway Management V2"): GetApis, GetStage and GetTags are
    # apigateway:GET; UpdateStage apigateway:PATCH; DeleteRouteSettings apigateway:DELETE;
    # TagResource (POST /v2/tags/{arn}) apigateway:POST.
    observe=frozenset({"apigateway:GET"}),
    apply=frozenset({"apigateway:PATCH", "apigateway:DELETE", "apigateway:POST"}),
    writes=frozenset(
        {"UpdateStage", "DeleteRouteSettings", "DeleteStage", "TagResource", "UntagResource"}
    ),
    # StageName first: API ids are random, so the tests' fault injection names a stage by it.
    identifiers=("StageName", "ApiId"),
)
