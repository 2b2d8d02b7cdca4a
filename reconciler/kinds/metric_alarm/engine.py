"""The `MetricAlarm` engine: CloudWatch alarms read in batches and written whole."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from reconciler.kinds.base import Current, Engine, Reading
from reconciler.kinds.compare import same
from reconciler.kinds.metric_alarm import KIND
from reconciler.kinds.metric_alarm.model import MetricAlarm, MetricAlarmSpec
from reconciler.kinds.reading import batches, concurrently, tagged_for, tags_by_arn
from reconciler.plan import Diff, Observed

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricAlarmTypeDef

    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.model import Manifest

#: `DescribeAlarms` takes at most 100 alarm names; `GetResources` returns at most 100 a page.
BATCH = 100
#: The alarm's fields in manifest spelling, in the order diffs are reported.
FIELDS = (
    "namespace",
    "metricName",
    "dimensions",
    "statistic",
    "extendedStatistic",
    "period",
    "evaluationPeriods",
    "datapointsToAlarm",
    "threshold",
    "comparisonOperator",
    "treatMissingData",
    "description",
    "alarmActions",
    "okActions",
    "insufficientDataActions",
    "actionsEnabled",
)
#: What AWS keeps of an alarm that no manifest field sets: read, never compared, and sent back
#: unchanged with every `PutMetricAlarm` that rewrites the alarm (it resets what it is not sent).
KEPT = ("Unit", "EvaluateLowSampleCountPercentile")


@dataclass(frozen=True)
class MetricAlarmEngine(Engine["MetricAlarmTypeDef"]):
    """Reads alarms with one `DescribeAlarms` per 100 names and their tags with the tagging API,
    100 ARNs a call, all in parallel; with prune, one pass of the tagging API over the alarms
    tagged for the environment serves both the ownership of the declared alarms and the list of
    owned ones. Writes each alarm whole with one `PutMetricAlarm`, and only when it differs from
    the alarm read just before.

    `desired` and `fetch` both spell out AWS's defaults (treatMissingData `missing`,
    actionsEnabled true, empty action lists and dimensions, datapointsToAlarm equal to
    evaluationPeriods, no description for an empty one) and leave out what is unset (the unused
    one of statistic and extendedStatistic), so a default never shows as drift. `Unit` and
    `EvaluateLowSampleCountPercentile`, which no manifest sets, are never compared and are sent
    back as AWS has them. An alarm on metric math or anomaly detection, which a manifest cannot
    express, is refused (`Observed.refusal`, `Current.refusal`): never overwritten.
    """

    description = KIND

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """Declared alarms (fields and tags) and, with `owned`, the environment's own alarms.

        Without `owned`: `DescribeAlarms` and `GetResources(ResourceARNList)` per 100 names, all
        at once. With it: `DescribeAlarms` per 100 names alongside one tag-filtered
        `GetResources` pass; then only what that pass leaves open is read: the tags of declared
        alarms it did not list (untagged, or another environment's) and the existence of owned
        alarms that are not declared.
        """
        names = list(dict.fromkeys(manifest.name for manifest in manifests))
        prefix = context.arn("cloudwatch", "alarm:")
        describe = [partial(_describe, aws, batch) for batch in batches(names, BATCH)]
        if not owned:
            tag = [
                partial(tags_by_arn, aws, [prefix + name for name in batch])
                for batch in batches(names, BATCH)
            ]
            alarms, tags = self._both(describe, tag)
            return _observed(alarms, tags), {}
        alarms, mine = self._both(
            describe, [partial(tagged_for, aws, context.environment, "cloudwatch:alarm")]
        )
        unknown = [alarm["AlarmArn"] for alarm in alarms.values() if alarm["AlarmArn"] not in mine]
        others = [name for name in map(_name, mine) if name not in alarms and name not in names]
        tags, more = self._both(
            [partial(tags_by_arn, aws, batch) for batch in batches(unknown, BATCH)],
            [partial(_describe, aws, batch) for batch in batches(others, BATCH)],
        )
        found = _observed(alarms, {**tags, **mine})
        return found, {
            name: Observed(name, _fields(alarm), mine[alarm["AlarmArn"]], _refusal(alarm))
            for name, alarm in {**alarms, **more}.items()
            if alarm["AlarmArn"] in mine
        }

    def _both(
        self,
        first: Sequence[Callable[[], dict[str, Any]]],
        second: Sequence[Callable[[], dict[str, Any]]],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Both lists of reads at once; each list's answers merged into one dict."""
        answers = concurrently(lambda read: read(), [*first, *second], self.workers)
        merged: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
        for index, answer in enumerate(answers):
            merged[index >= len(first)].update(answer)
        return merged

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """The whole alarm with AWS's defaults filled in, normalised as `fetch` normalises."""
        spec = _spec(manifest)
        return _normal(
            {
                "namespace": spec.namespace,
                "metricName": spec.metric_name,
                "dimensions": dict(spec.dimensions),
                "statistic": spec.statistic,
                "extendedStatistic": spec.extended_statistic,
                "period": spec.period,
                "evaluationPeriods": spec.evaluation_periods,
                "datapointsToAlarm": spec.datapoints_to_alarm,
                "threshold": spec.threshold,
                "comparisonOperator": spec.comparison_operator,
                "treatMissingData": spec.treat_missing_data,
                "description": spec.description,
                "alarmActions": spec.alarm_actions,
                "okActions": spec.ok_actions,
                "insufficientDataActions": spec.insufficient_data_actions,
                "actionsEnabled": spec.actions_enabled,
            }
        )

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        """Every field that differs, including one AWS has that the manifest leaves unset."""
        return _differences(self.desired(manifest), observed.fields)

    # --- the primitives of a write --------------------------------------------------------------

    def read_one(
        self, aws: Clients, name: str, context: Context
    ) -> Current[MetricAlarmTypeDef] | None:
        """The alarm (`DescribeAlarms`) and its tags (`ListTagsForResource`)."""
        alarm = _describe(aws, [name]).get(name)
        if alarm is None:
            return None
        cloudwatch: CloudWatchClient = self.client(aws)
        listed = self.call(
            cloudwatch.list_tags_for_resource, missing_ok=True, ResourceARN=alarm["AlarmArn"]
        )
        if listed is None:
            return None  # deleted between the two reads
        tags = {tag["Key"]: tag["Value"] for tag in listed.get("Tags", [])}
        return Current(name, tags, alarm, _refusal(alarm))

    def create(
        self,
        aws: Clients,
        name: str,
        desired: dict[str, Any],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        """One `PutMetricAlarm`, tagged (AWS takes `Tags` only when it creates the alarm)."""
        cloudwatch: CloudWatchClient = self.client(aws)
        self.call(cloudwatch.put_metric_alarm, **_put_params(name, desired), Tags=_tag_list(tags))

    def update(
        self,
        aws: Clients,
        current: Current[MetricAlarmTypeDef],
        desired: dict[str, Any],
        context: Context,
    ) -> bool:
        """The whole alarm again with `PutMetricAlarm`, when any field differs, with `KEPT` as
        AWS has it."""
        if not _differences(desired, _fields(current.state)):
            return False
        cloudwatch: CloudWatchClient = self.client(aws)
        params = _put_params(current.name, desired)
        params.update({key: value for key, value in current.state.items() if key in KEPT})
        self.call(cloudwatch.put_metric_alarm, **params)
        return True

    def tag(
        self,
        aws: Clients,
        current: Current[MetricAlarmTypeDef],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        cloudwatch: CloudWatchClient = self.client(aws)
        self.call(
            cloudwatch.tag_resource, ResourceARN=current.state["AlarmArn"], Tags=_tag_list(tags)
        )

    def delete(self, aws: Clients, current: Current[MetricAlarmTypeDef], context: Context) -> None:
        cloudwatch: CloudWatchClient = self.client(aws)
        self.call(cloudwatch.delete_alarms, AlarmNames=[current.name])


ENGINE = MetricAlarmEngine()


def _spec(manifest: Manifest) -> MetricAlarmSpec:
    if not isinstance(manifest, MetricAlarm):
        raise TypeError(f"expected a MetricAlarm, got {manifest.ref}")
    return manifest.spec


def _differences(want: Mapping[str, Any], have: Mapping[str, Any]) -> list[Diff]:
    return [
        Diff(field=key, desired=want.get(key), actual=have.get(key))
        for key in FIELDS
        if not same(want.get(key), have.get(key))
    ]


def _normal(fields: dict[str, Any]) -> dict[str, Any]:
    """Defaults spelt out, action lists as sorted sets, unset fields (None) left out."""
    fields = dict(fields)
    if fields.get("datapointsToAlarm") is None:
        fields["datapointsToAlarm"] = fields.get("evaluationPeriods")
    if not fields.get("description"):
        fields["description"] = None
    if fields.get("treatMissingData") is None:
        fields["treatMissingData"] = "missing"
    if fields.get("actionsEnabled") is None:
        fields["actionsEnabled"] = True
    for key in ("alarmActions", "okActions", "insufficientDataActions"):
        fields[key] = sorted(set(fields.get(key) or ()))
    fields["dimensions"] = dict(fields.get("dimensions") or {})
    return {key: fields[key] for key in FIELDS if fields.get(key) is not None}


def _refusal(alarm: MetricAlarmTypeDef) -> str | None:
    """Why the alarm must be left alone: a manifest cannot express metric math (`Metrics`) or an
    anomaly detection band (`ThresholdMetricId`), and `PutMetricAlarm` would replace either."""
    if alarm.get("ThresholdMetricId"):
        what = "anomaly detection"
    elif alarm.get("Metrics"):
        what = "metric math"
    else:
        return None
    return f"uses {what}; a MetricAlarm manifest cannot express it, so it is never overwritten"


def _fields(alarm: MetricAlarmTypeDef) -> dict[str, Any]:
    """AWS's alarm in manifest spelling, normalised as `desired` normalises a manifest."""
    return _normal(
        {
            "namespace": alarm.get("Namespace"),
            "metricName": alarm.get("MetricName"),
            "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
            "statistic": alarm.get("Statistic"),
            "extendedStatistic": alarm.get("ExtendedStatistic"),
            "period": alarm.get("Period"),
            "evaluationPeriods": alarm.get("EvaluationPeriods"),
            "datapointsToAlarm": alarm.get("DatapointsToAlarm"),
            "threshold": alarm.get("Threshold"),
            "comparisonOperator": alarm.get("ComparisonOperator"),
            "treatMissingData": alarm.get("TreatMissingData"),
            "description": alarm.get("AlarmDescription"),
            "alarmActions": alarm.get("AlarmActions"),
            "okActions": alarm.get("OKActions"),
            "insufficientDataActions": alarm.get("InsufficientDataActions"),
            "actionsEnabled": alarm.get("ActionsEnabled"),
        }
    )


def _put_params(name: str, desired: Mapping[str, Any]) -> dict[str, Any]:
    """`PutMetricAlarm` arguments for the whole alarm (what is left out, AWS resets)."""
    params: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": desired["namespace"],
        "MetricName": desired["metricName"],
        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(desired["dimensions"].items())],
        "Period": desired["period"],
        "EvaluationPeriods": desired["evaluationPeriods"],
        "DatapointsToAlarm": desired["datapointsToAlarm"],
        "Threshold": float(desired["threshold"]),
        "ComparisonOperator": desired["comparisonOperator"],
        "TreatMissingData": desired["treatMissingData"],
        "AlarmActions": desired["alarmActions"],
        "OKActions": desired["okActions"],
        "InsufficientDataActions": desired["insufficientDataActions"],
        "ActionsEnabled": desired["actionsEnabled"],
    }
    if "statistic" in desired:
        params["Statistic"] = desired["statistic"]
    if "extendedStatistic" in desired:
        params["ExtendedStatistic"] = desired["extendedStatistic"]
    if "description" in desired:
        params["AlarmDescription"] = desired["description"]
    return params


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _describe(aws: Clients, names: Sequence[str]) -> dict[str, MetricAlarmTypeDef]:
    """The metric alarms among `names` (at most 100), by name."""
    pages = aws.cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNames=list(names), AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": BATCH}
    )
    return {alarm["AlarmName"]: alarm for page in pages for alarm in page.get("MetricAlarms", [])}


def _observed(
    alarms: Mapping[str, MetricAlarmTypeDef], tags: Mapping[str, dict[str, str]]
) -> dict[str, Observed]:
    return {
        name: Observed(name, _fields(alarm), tags.get(alarm["AlarmArn"], {}), _refusal(alarm))
        for name, alarm in alarms.items()
    }


def _name(arn: str) -> str:
    """`arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME` → NAME (which may itself hold colons)."""
    return arn.split(":", 6)[6]
