"""`LogGroup`: a CloudWatch Logs log group's retention. Created when missing, never deleted, not
even by prune (deleting a log group deletes its logs). The manifest is in `model.py`, the engine
in `engine.py` (loaded only when a run talks to AWS)."""

from __future__ import annotations

from reconciler.kinds.description import Kind, Service, quota
from reconciler.kinds.log_group.model import LogGroup, check

#: The figures: AWS's "CloudWatch Logs quotas" page
#: (docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html, as stored in
#: awsdocs/amazon-cloudwatch-logs-user-guide and its current translations) gives DescribeLogGroups
#: and CreateLogGroup 5 transactions per second per account and Region, each its own quota. It
#: publishes no figure for PutRetentionPolicy, DeleteRetentionPolicy, ListTagsForResource or
#: TagResource: 5/s each is assumed, the page's figure for every log-group control-plane call it
#: lists (CreateLogGroup, DeleteLogGroup, DescribeLogGroups). Each operation is paced on its own,
#: as AWS counts them. Bursts are assumed one second's worth.
_PAGE = "AWS CloudWatch Logs quotas page (cloudwatch_limits_cwl): 5 TPS; burst assumed"
_ASSUMED = (
    "assumed: the CloudWatch Logs quotas page names no figure; 5 TPS is its figure for the "
    "log-group calls it lists (CreateLogGroup, DeleteLogGroup, DescribeLogGroups)"
)
LOGS = Service(
    "logs",
    "logs",
    (
        quota("logs", "DescribeLogGroups", 5, 5, _PAGE),
        quota("logs", "CreateLogGroup", 5, 5, _PAGE),
        quota("logs", "ListTagsForResource", 5, 5, _ASSUMED),
        quota("logs", "PutRetentionPolicy", 5, 5, _ASSUMED),
        quota("logs", "DeleteRetentionPolicy", 5, 5, _ASSUMED),
        quota("logs", "TagResource", 5, 5, _ASSUMED),
        quota("logs", "", 5, 5, _ASSUMED + " (every other call)"),
    ),
    (400, "ThrottlingException"),
)

KIND = Kind(
    name="LogGroup",
    model=LogGroup,
    check=check,
    noun="log groups",
    engine="reconciler.kinds.log_group.engine",
    services=(LOGS,),
    creatable=True,
    prunable=False,
    phase=1,
    # Declared groups by name, 50 a DescribeLogGroups call; the tags of each by its ARN.
    observe=frozenset({"logs:DescribeLogGroups", "logs:ListTagsForResource"}),
    # CreateLogGroup with `tags` also needs logs:TagResource ("To assign tags when you create a
    # log group, you must have either the logs:TagResource or logs:TagLogGroup permission":
    # botocore logs/2014-03-28, CreateLogGroupRequest.tags), which tagging an existing group
    # needs anyway.
    apply=frozenset(
        {
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DeleteRetentionPolicy",
            "logs:TagResource",
        }
    ),
    writes=frozenset(
        {
            "CreateLogGroup",
            "DeleteLogGroup",
            "PutRetentionPolicy",
            "DeleteRetentionPolicy",
            "TagResource",
            "UntagResource",
            "TagLogGroup",
            "UntagLogGroup",
        }
    ),
    identifiers=("logGroupName",),
)
