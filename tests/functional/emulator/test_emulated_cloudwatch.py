"""CloudWatch metric alarms as the emulator keeps them, driven by boto3.

Sources: the botocore model ``cloudwatch/2010-08-01`` (``ListTagsForResource`` errors,
``PutMetricAlarm`` member documentation for ``Period``, ``ExtendedStatistic``, ``Tags``, and the
operation's "the update completely overwrites the previous configuration" / "its state is left
unchanged"); the CloudWatch statistics definitions
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html);
AWS's error texts as quoted in awsdocs/aws-cloudformation-user-guide#777 (period) and
hashicorp/terraform#24070 (DatapointsToAlarm).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
BASE: Any = {
    "AlarmName": "errors",
    "Namespace": "AWS/Lambda",
    "MetricName": "Errors",
    "Statistic": "Sum",
    "Period": 60,
    "EvaluationPeriods": 3,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanThreshold",
}


@pytest.fixture
def cw(emulated: None) -> CloudWatchClient:
    return boto3.client("cloudwatch", region_name="us-east-1")


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err: Any = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def _alarm(cw: CloudWatchClient, name: str = "errors") -> dict[str, Any]:
    return dict(cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0])


def _put(cw: CloudWatchClient, **changes: Any) -> None:
    params = {**BASE, **changes}
    for key in [k for k, v in params.items() if v is None]:
        del params[key]
    cw.put_metric_alarm(**params)


# --- ListTagsForResource ------------------------------------------------------------------------


def test_tags_of_a_missing_alarm_are_resource_not_found(cw: CloudWatchClient) -> None:
    with pytest.raises(ClientError) as exc:
        cw.list_tags_for_resource(ResourceARN=ARN + "nope")
    code, status, _ = _error(exc)
    assert (code, status) == ("ResourceNotFoundException", 404)
    with pytest.raises(cw.exceptions.ResourceNotFoundException):
        cw.list_tags_for_resource(ResourceARN=ARN + "nope")


def test_tags_die_with_the_alarm(cw: CloudWatchClient) -> None:
    _put(cw, Tags=[{"Key": "owner", "Value": "dev"}])
    assert cw.list_tags_for_resource(ResourceARN=ARN + "errors")["Tags"] == [
        {"Key": "owner", "Value": "dev"}
    ]
    cw.delete_alarms(AlarmNames=["errors"])
    _put(cw)
    assert cw.list_tags_for_resource(ResourceARN=ARN + "errors")["Tags"] == []


def test_missing_alarm_tags_answer_empty_with_the_switch_off(cw: CloudWatchClient) -> None:
    with behaviour(cloudwatch_missing_alarm_error=False):
        assert cw.list_tags_for_resource(ResourceARN=ARN + "nope")["Tags"] == []


# --- PutMetricAlarm: periods and window ---------------------------------------------------------


@pytest.mark.parametrize("period", [10, 20, 30, 60, 120, 3600, 86400])
def test_valid_periods(cw: CloudWatchClient, period: int) -> None:
    _put(cw, Period=period, EvaluationPeriods=1)


@pytest.mark.parametrize("period", [1, 5, 15, 45, 90, 100])
def test_other_periods_are_refused(cw: CloudWatchClient, period: int) -> None:
    with pytest.raises(ClientError) as exc:
        _put(cw, Period=period, EvaluationPeriods=1)
    assert _error(exc) == ("ValidationError", 400, "Period must be 10, 20, 30 or a multiple of 60")


def test_a_day_at_most_for_periods_under_an_hour(cw: CloudWatchClient) -> None:
    _put(cw, Period=60, EvaluationPeriods=1440)
    with pytest.raises(ClientError) as exc:
        _put(cw, Period=60, EvaluationPeriods=1441)
    assert _error(exc) == (
        "ValidationError",
        400,
        "Metrics cannot be checked across more than a day "
        "(EvaluationPeriods * Period must be <= 86400)",
    )
    _put(cw, Period=3600, EvaluationPeriods=168, DatapointsToAlarm=1)
    with pytest.raises(ClientError) as exc:
        _put(cw, Period=3600, EvaluationPeriods=169)
    assert _error(exc)[2].startswith("Metrics cannot be checked across more than a week")


def test_metric_math_periods_and_window(cw: CloudWatchClient) -> None:
    metrics: Any = [
        {
            "Id": "m1",
            "MetricStat": {
                "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"},
                "Period": 5,
                "Stat": "Sum",
            },
            "ReturnData": False,
        },
        {"Id": "e1", "Expression": "m1 * 2", "ReturnData": True},
    ]
    params: Any = {
        "AlarmName": "math",
        "EvaluationPeriods": 2,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "Metrics": metrics,
    }
    cw.put_metric_alarm(**params)
    metrics[0]["MetricStat"]["Period"] = 7
    with pytest.raises(ClientError) as exc:
        cw.put_metric_alarm(**params)
    assert _error(exc)[:2] == ("ValidationError", 400)
    metrics[0]["MetricStat"]["Period"] = 60
    params["EvaluationPeriods"] = 1441
    with pytest.raises(ClientError) as exc:
        cw.put_metric_alarm(**params)
    assert "more than a day" in _error(exc)[2]


def test_datapoints_must_fit_the_evaluation_periods(cw: CloudWatchClient) -> None:
    with pytest.raises(ClientError) as exc:
        _put(cw, EvaluationPeriods=2, DatapointsToAlarm=3)
    assert _error(exc) == (
        "ValidationError",
        400,
        "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
    )


# --- PutMetricAlarm: extended statistics --------------------------------------------------------

ACCEPTED = [
    "p99", "p99.9", "p0", "p100", "p50.1234567891", "tm99", "tc90", "ts90", "wm99", "IQM",
    "PR(100:2000)", "PR(:300)", "PR(-5:5.5)", "TM(10%:90%)", "WM(25%:75%)", "TC(10%:20.5%)",
    "TS(40%:60%)",
]  # fmt: skip
REFUSED = [
    "p101", "P99", "pr99", "TM99", "tm", "p99.12345678901", "q99", "iqm", "PR(:)", "PR(5:1)",
    "TM(5%:95%)", "TM(90%:10%)", "TM(10:90)", "TM(:90%)", "tm(10%:90%)", "Average",
]  # fmt: skip


@pytest.mark.parametrize("statistic", ACCEPTED)
def test_extended_statistics_aws_accepts(cw: CloudWatchClient, statistic: str) -> None:
    _put(cw, Statistic=None, ExtendedStatistic=statistic)
    assert _alarm(cw)["ExtendedStatistic"] == statistic


@pytest.mark.parametrize("statistic", REFUSED)
def test_extended_statistics_aws_refuses(cw: CloudWatchClient, statistic: str) -> None:
    with pytest.raises(ClientError) as exc:
        _put(cw, Statistic=None, ExtendedStatistic=statistic)
    assert _error(exc) == (
        "InvalidParameterValue",
        400,
        f"The value {statistic} for parameter ExtendedStatistic is not supported.",
    )


def test_rules_can_be_switched_off(cw: CloudWatchClient) -> None:
    with behaviour(cloudwatch_alarm_rules=False):
        _put(cw, Period=45, EvaluationPeriods=5000)


# --- PutMetricAlarm: a whole replacement, tags and state kept -----------------------------------


def test_update_replaces_the_whole_alarm(cw: CloudWatchClient) -> None:
    _put(
        cw,
        Statistic=None,
        ExtendedStatistic="p99",
        Unit="Seconds",
        EvaluateLowSampleCountPercentile="ignore",
        AlarmDescription="slow",
        TreatMissingData="breaching",
    )
    before = _alarm(cw)
    assert (before["Unit"], before["EvaluateLowSampleCountPercentile"]) == ("Seconds", "ignore")
    assert before["ExtendedStatistic"] == "p99"
    _put(cw)
    after = _alarm(cw)
    for field in (
        "Unit",
        "EvaluateLowSampleCountPercentile",
        "ExtendedStatistic",
        "AlarmDescription",
        "TreatMissingData",
    ):
        assert field not in after, field
    assert after["Statistic"] == "Sum"


def test_metric_math_and_anomaly_alarms_round_trip(cw: CloudWatchClient) -> None:
    metrics: Any = [
        {
            "Id": "m1",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Duration",
                    "Dimensions": [{"Name": "FunctionName", "Value": "api"}],
                },
                "Period": 300,
                "Stat": "p90",
                "Unit": "Milliseconds",
            },
            "ReturnData": True,
        },
        {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "Label": "band"},
    ]
    cw.put_metric_alarm(
        AlarmName="anomaly",
        EvaluationPeriods=3,
        ComparisonOperator="GreaterThanUpperThreshold",
        ThresholdMetricId="ad1",
        Metrics=metrics,
    )
    alarm = _alarm(cw, "anomaly")
    assert alarm["ThresholdMetricId"] == "ad1"
    assert alarm["Metrics"][0]["MetricStat"] == metrics[0]["MetricStat"]
    assert alarm["Metrics"][1]["Expression"] == "ANOMALY_DETECTION_BAND(m1, 2)"
    assert alarm["Metrics"][1]["Label"] == "band"
    # An update with a plain metric drops the metric math entirely.
    cw.put_metric_alarm(**{**BASE, "AlarmName": "anomaly"})
    assert "ThresholdMetricId" not in _alarm(cw, "anomaly")
    assert not _alarm(cw, "anomaly").get("Metrics")


def test_tags_are_ignored_on_update(cw: CloudWatchClient) -> None:
    _put(cw, Tags=[{"Key": "owner", "Value": "dev"}])
    _put(cw, Threshold=2.0, Tags=[{"Key": "owner", "Value": "prod"}, {"Key": "x", "Value": "y"}])
    assert _alarm(cw)["Threshold"] == 2.0
    assert cw.list_tags_for_resource(ResourceARN=ARN + "errors")["Tags"] == [
        {"Key": "owner", "Value": "dev"}
    ]


def test_state_starts_insufficient_and_survives_updates(cw: CloudWatchClient) -> None:
    _put(cw)
    assert _alarm(cw)["StateValue"] == "INSUFFICIENT_DATA"
    cw.set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="test")
    _put(cw, Threshold=5.0)
    alarm = _alarm(cw)
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "test")
