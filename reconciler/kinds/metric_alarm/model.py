"""The `MetricAlarm` manifest: a CloudWatch metric alarm, managed whole.

`PutMetricAlarm` replaces the whole alarm, so every field counts: a field the manifest leaves out
means AWS's default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from reconciler.model import PATTERN_HINTS, Arn, Manifest, Metadata, Strict, tidy_schema

ALARM_NAME = r"^[^\x00-\x1f\x7f]{1,255}$"
_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
_PERCENT = r"[0-9]{1,2}(?:\.[0-9]+)?%"
#: The extended statistics `PutMetricAlarm` takes (the botocore model's documentation of
#: `ExtendedStatistic`): p90, tm90, tc90, ts90, wm90, IQM, PR(n:m) with n and m values of the
#: metric (one may be left out), and TC/TM/TS/WM(X%:X%) with X from 10 to 90 (`check`).
EXTENDED_STATISTIC = (
    r"^(?:(?:p|tm|tc|ts|wm)(?:100|[0-9]{1,2}(?:\.[0-9]{1,10})?)"
    rf"|(?:TC|TM|TS|WM)\({_PERCENT}:{_PERCENT}\)"
    rf"|PR\((?:{_NUMBER})?:(?:{_NUMBER})?\)"
    r"|IQM)$"
)
_RANGE = re.compile(r"^(?:TC|TM|TS|WM)\(([0-9.]+)%:([0-9.]+)%\)$")
#: How much data an alarm may evaluate (botocore's documentation of `Period`): period times
#: evaluationPeriods at most seven days, and at most one day when the period is under an hour.
ONE_DAY, ONE_WEEK, ONE_HOUR = 86_400, 604_800, 3_600
PATTERN_HINTS[ALARM_NAME] = "an alarm name (1 to 255 printable characters)"
PATTERN_HINTS[EXTENDED_STATISTIC] = (
    "a percentile statistic such as p99, tm90, TM(10%:90%), PR(:300) or IQM"
)

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
        json_schema_extra={"anyOf": [{"enum": [10, 20, 30]}, {"minimum": 60, "multipleOf": 60}]},
        description="Seconds: 10, 20, 30 or a multiple of 60.",
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
        if value in (10, 20, 30) or (value >= 60 and value % 60 == 0):
            return value
        raise ValueError(f"{value} is not a valid period: use 10, 20, 30 or a multiple of 60")


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
    """Rules across fields: one kind of statistic; at most a day of periods; datapoints fit the
    evaluation periods."""
    spec = manifest.spec
    if spec.statistic is None and spec.extended_statistic is None:
        yield ("spec",), "set either statistic or extendedStatistic"
    if spec.statistic is not None and spec.extended_statistic is not None:
        yield ("spec", "extendedStatistic"), "set either statistic or extendedStatistic, not both"
    statistic = spec.extended_statistic or ""
    ranged = _RANGE.match(statistic)
    if ranged and not all(10 <= float(bound) <= 90 for bound in ranged.groups()):
        yield ("spec", "extendedStatistic"), f"{statistic}: each bound is from 10% to 90%"
    if statistic == "PR(:)":
        yield ("spec", "extendedStatistic"), f"{statistic} needs at least one bound"
    window, limit = spec.period * spec.evaluation_periods, ONE_DAY
    if spec.period >= ONE_HOUR:
        limit = ONE_WEEK
    if window > limit:
        span = "one day" if limit == ONE_DAY else "seven days"
        hourly = "" if limit == ONE_WEEK else " with a period under an hour"
        yield (
            ("spec", "evaluationPeriods"),
            f"{spec.evaluation_periods} periods of {spec.period} s is more than {span} "
            f"({limit} s), the most an alarm{hourly} can evaluate",
        )
    points = spec.datapoints_to_alarm
    if points is not None and points > spec.evaluation_periods:
        yield (
            ("spec", "datapointsToAlarm"),
            f"{points} is greater than evaluationPeriods {spec.evaluation_periods}",
        )
