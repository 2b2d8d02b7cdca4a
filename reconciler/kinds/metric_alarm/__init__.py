"""`MetricAlarm`: a CloudWatch metric alarm, managed whole; created when missing, deleted by
prune when it carries this environment's tag. The manifest is in `model.py`, the engine in
`engine.py` (loaded only when a run talks to AWS)."""

from __future__ import annotations

from reconciler.kinds.description import TAGGING, Kind, Service, quota
from reconciler.kinds.metric_alarm.model import MetricAlarm, check

CLOUDWATCH = Service(
    "cloudwatch",
    "cloudwatch",
    (
        quota("cloudwatch", "DescribeAlarms", 9, 9, "AWS; burst assumed"),
        quota("cloudwatch", "PutMetricAlarm", 3, 3, "AWS; burst assumed"),
        quota("cloudwatch", "DeleteAlarms", 3, 3, "AWS; burst assumed"),
        quota("cloudwatch", "", 3, 3, "assumed: AWS's smallest figure for alarm operations"),
    ),
    (400, "Throttling"),
)

KIND = Kind(
    name="MetricAlarm",
    model=MetricAlarm,
    check=check,
    noun="alarms",
    engine="reconciler.kinds.metric_alarm.engine",
    services=(CLOUDWATCH, TAGGING),
    creatable=True,
    prunable=True,
    phase=3,
    # Declared alarms by name, and their tags (or the environment's alarms) by the tagging API.
    observe=frozenset({"cloudwatch:DescribeAlarms", "tag:GetResources"}),
    # The owner read again before a write is ListTagsForResource: only Apply needs it.
    apply=frozenset(
        {
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:TagResource",
            "cloudwatch:ListTagsForResource",
        }
    ),
    writes=frozenset({"PutMetricAlarm", "DeleteAlarms", "TagResource", "UntagResource"}),
    identifiers=("AlarmName", "AlarmNames"),
)
