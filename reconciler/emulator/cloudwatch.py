"""CloudWatch metric alarms as AWS keeps them: validation, tags, state, missing alarms.

moto already replaces the whole alarm on ``PutMetricAlarm`` (an update that leaves out ``Unit``,
``EvaluateLowSampleCountPercentile``, ``Metrics`` or ``ThresholdMetricId`` drops them) and stores
and returns those fields faithfully; the rules it does not keep are added here, from the botocore
model ``cloudwatch/2010-08-01`` (documentation of ``PutMetricAlarm`` and its members):

- ``ListTagsForResource`` of an alarm that does not exist -> 404 ``ResourceNotFoundException``
  (the operation's modelled error; moto answers an empty tag list). Switch:
  ``Behaviour.cloudwatch_missing_alarm_error``.

Switch ``Behaviour.cloudwatch_alarm_rules``:

- ``Period`` "Valid values are 10, 20, 30, and any multiple of 60" -> ``ValidationError`` "Period
  must be 10, 20, 30 or a multiple of 60" (the wording AWS answered before 20 was allowed, quoted
  in awsdocs/aws-cloudformation-user-guide#777); a ``Metrics`` item's ``MetricStat.Period`` may be
  1, 5, 10, 20, 30 or a multiple of 60 (model: ``MetricStat.Period``).
- ``Period`` x ``EvaluationPeriods`` at most 86,400 s when the period is under an hour, at most
  604,800 s otherwise -> ``ValidationError`` "Metrics cannot be checked across more than a day
  (EvaluationPeriods * Period must be <= 86400)" / "... more than a week (EvaluationPeriods *
  Period must be <= 604800) for alarms using period >= 3600" (AWS's texts as users quote them).
- ``DatapointsToAlarm`` above ``EvaluationPeriods`` -> ``ValidationError`` "DatapointsToAlarm must
  be less than or equal to EvaluationPeriods" (hashicorp/terraform#24070).
- ``ExtendedStatistic`` takes the forms of the model's list: ``p90``, ``tm90``, ``tc90``,
  ``ts90``, ``wm90`` (a number from 0 to 100, up to 10 decimals, per the CloudWatch statistics
  definitions), ``IQM``, ``PR(n:m)`` (metric values, one may be left out), and ``TM``/``TC``/
  ``TS``/``WM(X%:X%)`` with X from 10 to 90; anything else -> ``InvalidParameterValue`` "The value
  <x> for parameter ExtendedStatistic is not supported." (moto's wording; moto accepted only
  ``p...``).
- ``Tags`` on an update are ignored ("If you are using this operation to update an existing alarm,
  any tags you specify in this parameter are ignored"); moto merged them.
- A new alarm starts ``INSUFFICIENT_DATA``; an update leaves the state unchanged ("When you
  update an existing alarm, its state is left unchanged"); moto reset it to ``OK``.

``DeleteAlarms`` also drops the alarm's tags (moto kept them for a later alarm of the same name).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from moto.cloudwatch.exceptions import (
    InvalidParameterValue,
    ResourceNotFoundException,
    ValidationError,
)
from moto.cloudwatch.models import Alarm, CloudWatchBackend

from reconciler.emulator.settings import current

_MARKER: Final = "_reconciler_emulator_cloudwatch"
_DAY: Final = 86_400
_WEEK: Final = 604_800
_HOUR: Final = 3_600
_NUMBER = r"-?\d+(?:\.\d+)?"
_SHORT = re.compile(r"^(p|tm|wm|tc|ts)(\d{1,3}(?:\.\d{1,10})?)$")
_TRIMMED = re.compile(r"^(TM|WM|TC|TS)\((\d{1,2}(?:\.\d{1,10})?)%:(\d{1,2}(?:\.\d{1,10})?)%\)$")
_RANK = re.compile(rf"^PR\(({_NUMBER})?:({_NUMBER})?\)$")


def valid_extended_statistic(statistic: str) -> bool:
    """Whether AWS accepts `statistic` as an alarm's ``ExtendedStatistic`` (see module doc)."""
    if statistic == "IQM":
        return True
    short = _SHORT.match(statistic)
    if short:
        return Decimal(short.group(2)) <= 100
    trimmed = _TRIMMED.match(statistic)
    if trimmed:
        low, high = Decimal(trimmed.group(2)), Decimal(trimmed.group(3))
        return 10 <= low < high <= 90
    rank = _RANK.match(statistic)
    if rank:
        low_text, high_text = rank.group(1), rank.group(2)
        if low_text is None or high_text is None:
            return low_text is not None or high_text is not None
        return Decimal(low_text) < Decimal(high_text)
    return False


def _number(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _query_periods(queries: list[Any] | None) -> list[int]:
    periods: list[int] = []
    for query in queries or []:
        stat = getattr(query, "metric_stat", None)
        for value in (getattr(stat, "period", None), getattr(query, "period", None)):
            number = _number(value)
            if number is not None:
                periods.append(int(number))
    return periods


def check_alarm(
    period: Any,
    evaluation_periods: Any,
    datapoints_to_alarm: Any,
    extended_statistic: str | None,
    queries: list[Any] | None,
) -> None:
    """``PutMetricAlarm``'s rules (module doc), in the order the parameters are documented."""
    top = _number(period)
    if top is not None and not (top in (10, 20, 30) or (top >= 60 and top % 60 == 0)):
        raise ValidationError("Period must be 10, 20, 30 or a multiple of 60")
    inner = _query_periods(queries)
    if any(not (p in (1, 5, 10, 20, 30) or (p >= 60 and p % 60 == 0)) for p in inner):
        raise ValidationError("Period must be 1, 5, 10, 20, 30 or a multiple of 60")
    evaluations = _number(evaluation_periods)
    longest = top if top is not None else (Decimal(max(inner)) if inner else None)
    if longest is not None and evaluations is not None:
        window = longest * evaluations
        if longest < _HOUR and window > _DAY:
            raise ValidationError(
                "Metrics cannot be checked across more than a day "
                "(EvaluationPeriods * Period must be <= 86400)"
            )
        if longest >= _HOUR and window > _WEEK:
            raise ValidationError(
                "Metrics cannot be checked across more than a week "
                "(EvaluationPeriods * Period must be <= 604800) for alarms using period >= 3600"
            )
    points = _number(datapoints_to_alarm)
    if points is not None and evaluations is not None and points > evaluations:
        raise ValidationError("DatapointsToAlarm must be less than or equal to EvaluationPeriods")
    if extended_statistic is not None and not valid_extended_statistic(extended_statistic):
        raise InvalidParameterValue(
            f"The value {extended_statistic} for parameter ExtendedStatistic is not supported."
        )


def _alarm_name(arn: str) -> str | None:
    """The alarm name of an alarm ARN (``arn:aws:cloudwatch:<region>:<account>:alarm:<name>``)."""
    parts = arn.split(":", 6)
    return parts[6] if len(parts) == 7 and parts[5] == "alarm" else None


def install() -> None:
    """Patch moto's CloudWatch backend with the rules above. Idempotent."""
    if getattr(CloudWatchBackend, _MARKER, False):
        return
    original_put = CloudWatchBackend.put_metric_alarm
    original_list_tags = CloudWatchBackend.list_tags_for_resource
    original_delete = CloudWatchBackend.delete_alarms

    def put_metric_alarm(self: CloudWatchBackend, **kwargs: Any) -> Alarm:
        if not current().cloudwatch_alarm_rules or kwargs.get("rule") is not None:
            alarm: Alarm = original_put(self, **kwargs)
            return alarm
        statistic = kwargs.get("extended_statistic")
        check_alarm(
            kwargs.get("period"),
            kwargs.get("evaluation_periods"),
            kwargs.get("datapoints_to_alarm"),
            statistic,
            kwargs.get("metric_data_queries"),
        )
        before = self.alarms.get(kwargs["name"])
        if before is not None:
            kwargs["tags"] = None  # AWS ignores Tags on an update
        # moto refuses every ExtendedStatistic but p...: checked above, stored after.
        alarm = original_put(self, **{**kwargs, "extended_statistic": None})
        alarm.extended_statistic = statistic
        if before is None:
            alarm.state_value = "INSUFFICIENT_DATA"
        else:
            for attribute in ("state_value", "state_reason", "state_reason_data", "history"):
                setattr(alarm, attribute, getattr(before, attribute))
            alarm.state_updated_timestamp = before.state_updated_timestamp
        return alarm

    def list_tags_for_resource(self: CloudWatchBackend, arn: str) -> dict[str, str]:
        name = _alarm_name(arn)
        missing = name is not None and name not in self.alarms
        if missing and current().cloudwatch_missing_alarm_error:
            raise ResourceNotFoundException(f"Alarm {name} does not exist.")
        tags: dict[str, str] = original_list_tags(self, arn)
        return tags

    def delete_alarms(self: CloudWatchBackend, alarm_names: list[str]) -> None:
        arns = [self.alarms[name].alarm_arn for name in alarm_names if name in self.alarms]
        original_delete(self, alarm_names)
        for arn in arns:
            self.tagger.delete_all_tags_for_resource(arn)

    CloudWatchBackend.put_metric_alarm = put_metric_alarm  # type: ignore[method-assign,assignment]
    CloudWatchBackend.list_tags_for_resource = list_tags_for_resource  # type: ignore[method-assign]
    CloudWatchBackend.delete_alarms = delete_alarms  # type: ignore[method-assign]
    setattr(CloudWatchBackend, _MARKER, True)
