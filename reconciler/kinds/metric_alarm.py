"""`MetricAlarm`: a CloudWatch metric alarm, managed whole.

`PutMetricAlarm` replaces the whole alarm, so every field counts: a field the manifest leaves out
means AWS's default. Created when missing; deleted by prune when it carries this environment's tag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import ConfigDict, Field, StringConstraints, field_validator

from reconciler.context import Context
from reconciler.errors import PermanentError, TemporaryError
from reconciler.kinds.base import Pruned, Reading, batches, concurrently, tags_by_arn
from reconciler.kinds.compare import same
from reconciler.model import PATTERN_HINTS, Arn, Manifest, Metadata, Strict, tidy_schema
from reconciler.plan import OWNER_TAG, Action, Change, Diff, Observed

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import MetricAlarmTypeDef, TagTypeDef
    from mypy_boto3_resourcegroupstaggingapi.type_defs import (
        ResourceTagMappingTypeDef,
        TagFilterTypeDef,
    )

    from reconciler.aws import Clients

ALARM_NAME = r"^[^\x00-\x1f\x7f]{1,255}$"
EXTENDED_STATISTIC = r"^(p|tm|wm|tc|ts|pr|TM|WM|TC|TS|PR)(100|[0-9]{1,2}(\.[0-9]{1,10})?)$"
PATTERN_HINTS[ALARM_NAME] = "an alarm name (1 to 255 printable characters)"
PATTERN_HINTS[EXTENDED_STATISTIC] = "a percentile statistic such as p99 or tm90"

Statistic = Literal["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
ComparisonOperator = Literal[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]
TreatMissingData = Literal["breaching", "notBreaching", "ignore", "missing"]
Name255 = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Actions = Annotated[list[Arn], Field(max_length=5)]


def _one_statistic(schema: dict[str, Any], model: type[Any]) -> None:
    tidy_schema(schema, model)
    schema["oneOf"] = [{"required": ["statistic"]}, {"required": ["extendedStatistic"]}]


class MetricAlarmSpec(Strict):
    """`spec` of a MetricAlarm. Fields left out take AWS's defaults."""

    model_config = ConfigDict(json_schema_extra=_one_statistic)

    namespace: Name255
    metric_name: Name255
    dimensions: Annotated[
        dict[Name255, Annotated[str, StringConstraints(min_length=1, max_length=1024)]],
        Field(max_length=30),
    ] = Field(default_factory=dict)
    statistic: Statistic | None = None
    extended_statistic: Annotated[str, StringConstraints(pattern=EXTENDED_STATISTIC)] | None = None
    period: int = Field(
        json_schema_extra={"anyOf": [{"enum": [10, 30]}, {"minimum": 60, "multipleOf": 60}]},
        description="Seconds: 10, 30 or a multiple of 60.",
    )
    evaluation_periods: int = Field(ge=1)
    datapoints_to_alarm: int | None = Field(default=None, ge=1)
    threshold: float
    comparison_operator: ComparisonOperator
    treat_missing_data: TreatMissingData = "missing"
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None
    alarm_actions: Actions = Field(default_factory=list)
    ok_actions: Actions = Field(default_factory=list)
    insufficient_data_actions: Actions = Field(default_factory=list)
    actions_enabled: bool = True

    @field_validator("period")
    @classmethod
    def _period(cls, value: int) -> int:
        if value in (10, 30) or (value >= 60 and value % 60 == 0):
            return value
        raise ValueError(f"{value} is not a valid period: use 10, 30 or a multiple of 60")


class MetricAlarmMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=ALARM_NAME)] = Field(
        description="The alarm name."
    )


class MetricAlarm(Manifest):
    """A CloudWatch metric alarm, created when missing and managed whole."""

    kind: Literal["MetricAlarm"]
    metadata: MetricAlarmMetadata
    spec: MetricAlarmSpec


def check(manifest: MetricAlarm) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Rules across fields: one kind of statistic; datapoints fit the evaluation periods."""
    spec = manifest.spec
    if spec.statistic is None and spec.extended_statistic is None:
        yield ("spec",), "set either statistic or extendedStatistic"
    if spec.statistic is not None and spec.extended_statistic is not None:
        yield ("spec", "extendedStatistic"), "set either statistic or extendedStatistic, not both"
    points = spec.datapoints_to_alarm
    if points is not None and points > spec.evaluation_periods:
        yield (
            ("spec", "datapointsToAlarm"),
            f"{points} is greater than evaluationPeriods {spec.evaluation_periods}",
        )


# --- engine -----------------------------------------------------------------------------------

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
_RETRYABLE = frozenset({"Throttling", "ThrottlingException", "ConcurrentModificationException"})


@dataclass(frozen=True)
class MetricAlarmEngine(Pruned):
    """Reads alarms with one `DescribeAlarms` per 100 names and their tags with the tagging API,
    100 ARNs a call, all in parallel; with prune, one pass of the tagging API over the alarms
    tagged for the environment serves both the ownership of the declared alarms and the list of
    owned ones. Writes each alarm whole with one `PutMetricAlarm`.

    `desired` and `observe` both spell out AWS's defaults (treatMissingData `missing`,
    actionsEnabled true, empty action lists and dimensions, datapointsToAlarm equal to
    evaluationPeriods, no description for an empty one) and leave out what is unset (the unused
    one of statistic and extendedStatistic), so a default never shows as drift.
    """

    kind = "MetricAlarm"
    noun = "alarms"
    creatable = True
    prunable = True

    #: Calls in flight at once; the pacer, not this, holds them to the quotas.
    workers: int = 8

    def read(
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
        prefix = f"arn:{context.partition}:cloudwatch:{context.region}:{context.account}:alarm:"
        describe = [partial(_describe, aws, batch) for batch in batches(names, BATCH)]
        if not owned:
            tag = [
                partial(tags_by_arn, aws, [prefix + name for name in batch])
                for batch in batches(names, BATCH)
            ]
            alarms, tags = self._run(describe, tag)
            return _observed(alarms, tags), {}
        alarms, mine = self._run(describe, [partial(_tagged, aws, context.environment)])
        unknown = [alarm["AlarmArn"] for alarm in alarms.values() if alarm["AlarmArn"] not in mine]
        others = [name for name in map(_name, mine) if name not in alarms and name not in names]
        tags, more = self._run(
            [partial(tags_by_arn, aws, batch) for batch in batches(unknown, BATCH)],
            [partial(_describe, aws, batch) for batch in batches(others, BATCH)],
        )
        found = _observed(alarms, {**tags, **mine})
        return found, {
            name: Observed(name, _fields(alarm), mine[alarm["AlarmArn"]])
            for name, alarm in {**alarms, **more}.items()
            if alarm["AlarmArn"] in mine
        }

    def _run(
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
        """The whole alarm with AWS's defaults filled in, normalised as `observe` normalises."""
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
        want, have = self.desired(manifest), observed.fields
        return [
            Diff(field=key, desired=want.get(key), actual=have.get(key))
            for key in FIELDS
            if not same(want.get(key), have.get(key))
        ]

    def apply(self, aws: Clients, change: Change, context: Context) -> None:
        """Create or replace the alarm with one `PutMetricAlarm`, tagging it for this
        environment (on create with the call itself, on update with `TagResource` when the plan
        found the tag missing; an update that only adds the tag does not rewrite the alarm);
        delete it with `DeleteAlarms`.
        """
        arn = f"arn:{context.partition}:cloudwatch:{context.region}:{context.account}"
        arn = f"{arn}:alarm:{change.name}"
        try:
            owner = _owner_now(aws, arn)
            if owner is not None and owner != context.environment:
                raise PermanentError(
                    f"{change.ref} is now owned by environment '{owner}' ({OWNER_TAG}); not changed"
                )
            if change.action is Action.DELETE:
                if owner != context.environment:
                    return  # gone, or no longer tagged as ours: prune deletes only what we own
                try:
                    aws.cloudwatch.delete_alarms(AlarmNames=[change.name])
                except ClientError as exc:
                    # Gone already (say, botocore re-sent a delete whose answer was lost): the
                    # wanted outcome, not a failure.
                    if exc.response.get("Error", {}).get("Code") != "ResourceNotFound":
                        raise
                return
            if change.desired is None or change.action not in (Action.CREATE, Action.UPDATE):
                raise PermanentError(f"{change.ref}: nothing to apply for {change.action}")
            owner_tag: list[TagTypeDef] = [{"Key": OWNER_TAG, "Value": context.environment}]
            params = _put_params(change.name, change.desired)
            if change.action is Action.CREATE:
                aws.cloudwatch.put_metric_alarm(**params, Tags=owner_tag)
                return
            tag_missing = any(diff.field == f"tags.{OWNER_TAG}" for diff in change.diffs)
            if not tag_missing or len(change.diffs) > 1:
                aws.cloudwatch.put_metric_alarm(**params)
            if tag_missing:
                aws.cloudwatch.tag_resource(ResourceARN=arn, Tags=owner_tag)
        except ClientError as exc:
            raise _error(exc, change.ref) from exc


ENGINE = MetricAlarmEngine()


def _owner_now(aws: Clients, arn: str) -> str | None:
    """The alarm's ownership tag as it is now, read again just before a write (the plan may be
    minutes old); None when the alarm is untagged or does not exist."""
    try:
        tags = aws.cloudwatch.list_tags_for_resource(ResourceARN=arn).get("Tags", [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFound":
            return None
        raise
    return next((tag["Value"] for tag in tags if tag["Key"] == OWNER_TAG), None)


def _spec(manifest: Manifest) -> MetricAlarmSpec:
    if not isinstance(manifest, MetricAlarm):
        raise TypeError(f"expected a MetricAlarm, got {manifest.ref}")
    return manifest.spec


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


def _put_params(name: str, desired: dict[str, Any]) -> dict[str, Any]:
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


def _describe(aws: Clients, names: Sequence[str]) -> dict[str, MetricAlarmTypeDef]:
    """The metric alarms among `names` (at most 100), by name."""
    pages = aws.cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNames=list(names), AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": BATCH}
    )
    return {alarm["AlarmName"]: alarm for page in pages for alarm in page.get("MetricAlarms", [])}


def _tagged(aws: Clients, environment: str) -> dict[str, dict[str, str]]:
    """ARN → all tags, of every alarm in the region tagged for `environment`."""
    filters: list[TagFilterTypeDef] = [{"Key": OWNER_TAG, "Values": [environment]}]
    pages = aws.tagging.get_paginator("get_resources").paginate(
        TagFilters=filters,
        ResourceTypeFilters=["cloudwatch:alarm"],
        PaginationConfig={"PageSize": BATCH},
    )
    return {
        arn: tags
        for page in pages
        for arn, tags in _mapping(page.get("ResourceTagMappingList", [])).items()
    }


def _mapping(found: Iterable[ResourceTagMappingTypeDef]) -> dict[str, dict[str, str]]:
    return {
        mapping["ResourceARN"]: {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
        for mapping in found
        if "ResourceARN" in mapping
    }


def _observed(
    alarms: Mapping[str, MetricAlarmTypeDef], tags: Mapping[str, dict[str, str]]
) -> dict[str, Observed]:
    return {
        name: Observed(name, _fields(alarm), tags.get(alarm["AlarmArn"], {}))
        for name, alarm in alarms.items()
    }


def _name(arn: str) -> str:
    """`arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME` → NAME (which may itself hold colons)."""
    return arn.split(":", 6)[6]


def _error(exc: ClientError, ref: str) -> Exception:
    """A retryable or permanent reconciler error for a CloudWatch failure."""
    code = exc.response.get("Error", {}).get("Code", "")
    text = exc.response.get("Error", {}).get("Message", str(exc))
    if code in _RETRYABLE:
        return TemporaryError(f"{ref}: {text} ({code}); retry later")
    return PermanentError(f"{ref}: {text} ({code})")
