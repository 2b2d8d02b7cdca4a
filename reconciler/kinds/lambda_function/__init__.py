"""`LambdaFunction`: the runtime knobs of an existing Lambda function. Never created or deleted;
only the fields a manifest sets are managed. The manifest is in `model.py`, the engine in
`engine.py` (loaded only when a run talks to AWS), what a function's versions and alias look like
in `versions.py`."""

from __future__ import annotations

from reconciler.kinds.description import TAGGING, Kind, Service, quota
from reconciler.kinds.lambda_function.model import LambdaFunction, check

LAMBDA = Service(
    "lambda",
    "lambda",
    (
        quota("lambda", "GetFunction", 100, 100, "AWS; burst assumed one second's worth"),
        quota("lambda", "", 15, 15, "AWS, all other control-plane calls; burst assumed"),
    ),
    (429, "TooManyRequestsException"),
)

KIND = Kind(
    name="LambdaFunction",
    model=LambdaFunction,
    check=check,
    noun="functions",
    engine="reconciler.kinds.lambda_function.engine",
    services=(LAMBDA, TAGGING),
    phase=2,
    observe=frozenset(
        {
            "lambda:GetFunction",
            # GetFunction returns the function's tags only with this.
            "lambda:ListTags",
            "lambda:GetProvisionedConcurrencyConfig",
            # Many declared functions are read from ListFunctions pages, their tags by the
            # tagging API.
            "lambda:ListFunctions",
            "tag:GetResources",
        }
    ),
    apply=frozenset(
        {
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:PublishVersion",
            "lambda:CreateAlias",
            "lambda:UpdateAlias",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
            "lambda:PutProvisionedConcurrencyConfig",
            "lambda:DeleteProvisionedConcurrencyConfig",
            "lambda:TagResource",
        }
    ),
    writes=frozenset(
        {
            "UpdateFunctionCode",
            "UpdateFunctionConfiguration",
            "PublishVersion",
            "CreateAlias",
            "UpdateAlias",
            "DeleteAlias",
            "PutFunctionConcurrency",
            "DeleteFunctionConcurrency",
            "PutProvisionedConcurrencyConfig",
            "DeleteProvisionedConcurrencyConfig",
            "TagResource",
            "UntagResource",
        }
    ),
    identifiers=("FunctionName",),
)
