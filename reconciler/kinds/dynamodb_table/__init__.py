"""`DynamoDBTable`: point-in-time recovery, deletion protection, Time to Live and billing mode of
an existing DynamoDB table. Never created or deleted (a missing table is `blocked`). The manifest
is in `model.py`, the engine in `engine.py` (loaded only when a run talks to AWS)."""

from __future__ import annotations

from reconciler.kinds.description import Kind, Service, quota
from reconciler.kinds.dynamodb_table.model import DynamoDBTable, check

DYNAMODB = Service(
    "dynamodb",
    "dynamodb",
    (
        quota(
            "dynamodb",
            "",
            2500,
            2500,
            "AWS: 'a control plane throttle limit of 2,500 requests per second' (DynamoDB "
            "developer guide, Best practices for managing the control plane); AWS publishes no "
            "figure per operation, and the burst of one second's worth is assumed",
        ),
    ),
    # DynamoDB's own answer beyond a control-plane quota (developer guide, "Error handling":
    # "Rate of requests exceeds the allowed throughput", for CreateTable, UpdateTable, ...).
    (400, "ThrottlingException"),
)

KIND = Kind(
    name="DynamoDBTable",
    model=DynamoDBTable,
    check=check,
    noun="tables",
    engine="reconciler.kinds.dynamodb_table.engine",
    services=(DYNAMODB,),
    phase=1,
    # One table at a time: DynamoDB has no batch read of tables, their backups, TTL or tags.
    observe=frozenset(
        {
            "dynamodb:DescribeTable",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:ListTagsOfResource",
        }
    ),
    apply=frozenset(
        {
            "dynamodb:UpdateTable",
            "dynamodb:UpdateContinuousBackups",
            "dynamodb:UpdateTimeToLive",
            "dynamodb:TagResource",
        }
    ),
    writes=frozenset(
        {
            "UpdateTable",
            "UpdateContinuousBackups",
            "UpdateTimeToLive",
            "TagResource",
            "UntagResource",
        }
    ),
    identifiers=("TableName", "ResourceArn"),
)
