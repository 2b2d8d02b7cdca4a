"""`SsmParameter`: a Systems Manager Parameter Store parameter (`String` or `StringList`);
created when missing, deleted by prune when it carries this environment's tag. A `SecureString`
is never read, written or deleted. The manifest is in `model.py`, the engine in `engine.py`
(loaded only when a run talks to AWS).

Request rates (requests per second; burst assumed equal to the rate, as AWS publishes none):

- GetParameters (and GetParameter, GetParametersByPath): 40, shared: "Max throughput
  (transactions per second), Default throughput: 40 (Shared by the following API actions:
  GetParameter, GetParameters, GetParametersByPath)", AWS Systems Manager endpoints and quotas
  (docs.aws.amazon.com/general/latest/gr/ssm.html).
- PutParameter: 3. Not published; AWS Support's figure for the standard throughput (10 with
  higher throughput), quoted in github-aws-runners/terraform-aws-github-runner#2944.
- DescribeParameters: 2, assumed. Not published; users report it "very low"
  (segmentio/chamber#392) and throttled after about 20 quick calls (segmentio/chamber#34).
- Every other call (ListTagsForResource, AddTagsToResource, DeleteParameter): 5, assumed; AWS
  publishes no figure.

Beyond a quota SSM answers 400 `ThrottlingException` ("Rate exceeded").
"""

from __future__ import annotations

from reconciler.kinds.description import TAGGING, Kind, Service, quota
from reconciler.kinds.ssm_parameter.model import SsmParameter, check

SSM = Service(
    "ssm",
    "ssm",
    (
        quota(
            "ssm",
            "GetParameters GetParameter GetParametersByPath",
            40,
            40,
            "AWS: Systems Manager endpoints and quotas, Parameter Store default throughput "
            "(shared); burst assumed",
        ),
        quota(
            "ssm",
            "PutParameter",
            3,
            3,
            "AWS Support, quoted in terraform-aws-github-runner#2944 (unpublished); burst assumed",
        ),
        quota(
            "ssm",
            "DescribeParameters",
            2,
            2,
            "assumed: AWS publishes no figure; reported very low (segmentio/chamber#392)",
        ),
        quota("ssm", "", 5, 5, "assumed: AWS publishes no figure (every other call)"),
    ),
    (400, "ThrottlingException"),
)

KIND = Kind(
    name="SsmParameter",
    model=SsmParameter,
    check=check,
    noun="parameters",
    engine="reconciler.kinds.ssm_parameter.engine",
    services=(SSM, TAGGING),
    creatable=True,
    prunable=True,
    phase=2,
    # Type and description from DescribeParameters, values from GetParameters (never of a
    # SecureString), tags from ListTagsForResource, the environment's own from the tagging API.
    observe=frozenset(
        {
            "ssm:DescribeParameters",
            "ssm:GetParameters",
            "ssm:ListTagsForResource",
            "tag:GetResources",
        }
    ),
    # PutParameter with Tags (a create) also needs ssm:AddTagsToResource, which tags an existing
    # parameter too.
    apply=frozenset({"ssm:PutParameter", "ssm:AddTagsToResource", "ssm:DeleteParameter"}),
    writes=frozenset(
        {
            "PutParameter",
            "DeleteParameter",
            "DeleteParameters",
            "AddTagsToResource",
            "RemoveTagsFromResource",
            "LabelParameterVersion",
            "UnlabelParameterVersion",
        }
    ),
    identifiers=("Name", "Names", "ResourceId"),
)
