"""The MetricAlarm engine against moto: the whole alarm managed, defaults normalised, ownership
through the tagging API, create, update, prune and batch reads."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.emulator import behaviour
from reconciler.errors import PermanentError
from reconciler.kinds.metric_alarm.engine import ENGINE
from reconciler.kinds.metric_alarm.model import MetricAlarm
from reconciler.plan import OWNER_TAG, Action, Change, Diff, Plan
from tests.builders import apply_each, document_of, plan_with

TOPIC = "arn:aws:sns:us-east-1:123456789012:"

#: The least a manifest can say; everything else is AWS's default.
BASE_SPEC: dict[str, Any] = {
    "namespace": "AWS/Lambda",
    "metricName": "Errors",
    "statistic": "Sum",
    "period": 60,
    "evaluationPeriods": 3,
    "threshold": 1,
    "comparisonOperator": "GreaterThanThreshold",
}
#: The same alarm as AWS is asked to make it, sending only what is required.
BASE_PUT: dict[str, Any] = {
    "Namespace": "AWS/Lambda",
    "MetricName": "Errors",
    "Statistic": "Sum",
    "Period": 60,
    "EvaluationPeriods": 3,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanThreshold",
}
#: Every field set, none of them to its default.
FULL_SPEC: dict[str, Any] = {
    **BASE_SPEC,
    "dimensions": {"FunctionName": "api", "Resource": "api:live"},
    "datapointsToAlarm": 2,
    "threshold": 2.5,
    "treatMissingData": "breaching",
    "description": "API errors",
    "alarmActions": [TOPIC + "b", TOPIC + "a"],
    "okActions": [TOPIC + "ok"],
    "insufficientDataActions": [TOPIC + "data"],
    "actionsEnabled": False,
}
FULL_PUT: dict[str, Any] = {
    **BASE_PUT,
    "Dimensions": [
        {"Name": "Resource", "Value": "api:live"},
        {"Name": "FunctionName", "Value": "api"},
    ],
    "DatapointsToAlarm": 2,
    "Threshold": 2.5,
    "TreatMissingData": "breaching",
    "AlarmDescription": "API errors",
    "AlarmActions": [TOPIC + "a", TOPIC + "b"],
    "OKActions": [TOPIC + "ok"],
    "InsufficientDataActions": [TOPIC + "data"],
    "ActionsEnabled": False,
}
WRITES = ("PutMetricAlarm", "TagResource", "UntagResource", "DeleteAlarms")


alarm_manifest = document_of(MetricAlarm)


def make_alarm(aws: Clients, name: str, put: dict[str, Any], owner: str | None = None) -> None:
    tags: list[Any] = [] if owner is None else [{"Key": OWNER_TAG, "Value": owner}]
    aws.cloudwatch.put_metric_alarm(AlarmName=name, **put, Tags=tags)


def aws_alarm(aws: Clients, name: str) -> dict[str, Any] | None:
    alarms = aws.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return dict(alarms[0]) if alarms else None


def aws_tags(aws: Clients, name: str) -> dict[str, str]:
    arn = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
    tags = aws.cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def plan_for(aws: Clients, context: Context, *manifests: MetricAlarm, prune: bool = False) -> Plan:
    return plan_with(ENGINE, aws, context, *manifests, prune=prune)


def apply_plan(aws: Clients, context: Context, plan: Plan) -> None:
    apply_each(ENGINE, aws, context, plan)


def count_calls(aws: Clients) -> Counter[str]:
    """Counts every later CloudWatch and tagging API call, by operation name, as AWS would need
    them: moto pages a `ResourceARNList` answer at 50 where AWS answers up to 100 ARNs at once,
    so a tagging call that only continues such a list is not counted."""
    counts: Counter[str] = Counter()

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        if set(params) != {"PaginationToken"}:
            counts[model.name] += 1

    aws.cloudwatch.meta.events.register("before-parameter-build.cloudwatch", count)
    aws.tagging.meta.events.register("before-parameter-build.resource-groups-tagging-api", count)
    return counts


def test_alarm_made_with_aws_defaults_matches_a_minimal_manifest(
    aws: Clients, context: Context
) -> None:
    make_alarm(aws, "errors", BASE_PUT, owner="dev")  # nothing optional sent
    manifest = alarm_manifest("errors", **BASE_SPEC)  # threshold 1, AWS reports 1.0

    observed = ENGINE.observe(aws, [manifest], context)["errors"]

    assert observed.fields == {
        "namespace": "AWS/Lambda",
        "metricName": "Errors",
        "dimensions": {},
        "statistic": "Sum",
        "period": 60,
        "evaluationPeriods": 3,
        "datapointsToAlarm": 3,
        "threshold": 1.0,
        "comparisonOperator": "GreaterThanThreshold",
        "treatMissingData": "missing",
        "alarmActions": [],
        "okActions": [],
        "insufficientDataActions": [],
        "actionsEnabled": True,
    }
    assert ENGINE.desired(manifest) == observed.fields
    assert ENGINE.diff(manifest, observed) == []
    assert plan_for(aws, context, manifest).in_sync


def test_fully_set_alarm_in_sync_despite_order_and_spelling(aws: Clients, context: Context) -> None:
    make_alarm(aws, "errors", FULL_PUT, owner="dev")
    manifest = alarm_manifest("errors", **FULL_SPEC)

    observed = ENGINE.observe(aws, [manifest], context)["errors"]

    assert ENGINE.diff(manifest, observed) == []
    assert plan_for(aws, context, manifest).in_sync


def test_defaults_written_out_in_the_manifest_match_an_alarm_made_without_them(
    aws: Clients, context: Context
) -> None:
    make_alarm(aws, "errors", {**BASE_PUT, "AlarmDescription": ""}, owner="dev")
    manifest = alarm_manifest(
        "errors",
        **BASE_SPEC,
        datapointsToAlarm=3,
        treatMissingData="missing",
        actionsEnabled=True,
        alarmActions=[],
        dimensions={},
    )

    assert plan_for(aws, context, manifest).in_sync


def test_extended_statistic_alarm_in_sync(aws: Clients, context: Context) -> None:
    put = {key: value for key, value in BASE_PUT.items() if key != "Statistic"}
    make_alarm(aws, "latency", {**put, "ExtendedStatistic": "p99"}, owner="dev")
    spec = {key: value for key, value in BASE_SPEC.items() if key != "statistic"}
    manifest = alarm_manifest("latency", **spec, extendedStatistic="p99")

    assert plan_for(aws, context, manifest).in_sync


@pytest.mark.parametrize(
    ("field", "value", "actual"),
    [
        ("namespace", "Custom", "AWS/Lambda"),
        ("metricName", "Throttles", "Errors"),
        ("dimensions", {"FunctionName": "web"}, {"FunctionName": "api", "Resource": "api:live"}),
        ("period", 300, 60),
        ("evaluationPeriods", 4, 3),
        ("datapointsToAlarm", 3, 2),
        ("threshold", 2.25, 2.5),
        ("comparisonOperator", "LessThanThreshold", "GreaterThanThreshold"),
        ("treatMissingData", "ignore", "breaching"),
        ("description", "other", "API errors"),
        ("alarmActions", [TOPIC + "a"], [TOPIC + "a", TOPIC + "b"]),
        ("okActions", [], [TOPIC + "ok"]),
        ("insufficientDataActions", [TOPIC + "x"], [TOPIC + "data"]),
        ("actionsEnabled", True, False),
    ],
)
def test_each_field_drift_is_detected(
    aws: Clients, context: Context, field: str, value: Any, actual: Any
) -> None:
    make_alarm(aws, "errors", FULL_PUT, owner="dev")
    manifest = alarm_manifest("errors", **{**FULL_SPEC, field: value})

    observed = ENGINE.observe(aws, [manifest], context)["errors"]

    assert ENGINE.diff(manifest, observed) == [Diff(field=field, desired=value, actual=actual)]


def test_switching_statistic_kinds_is_drift_on_both(aws: Clients, context: Context) -> None:
    make_alarm(aws, "errors", BASE_PUT, owner="dev")
    spec = {key: value for key, value in BASE_SPEC.items() if key != "statistic"}
    manifest = alarm_manifest("errors", **spec, extendedStatistic="p90")

    observed = ENGINE.observe(aws, [manifest], context)["errors"]

    assert ENGINE.diff(manifest, observed) == [
        Diff(field="statistic", desired=None, actual="Sum"),
        Diff(field="extendedStatistic", desired="p90", actual=None),
    ]


def test_fields_aws_has_but_the_manifest_leaves_out_are_drift(
    aws: Clients, context: Context
) -> None:
    make_alarm(aws, "errors", FULL_PUT, owner="dev")
    manifest = alarm_manifest("errors", **BASE_SPEC)

    observed = ENGINE.observe(aws, [manifest], context)["errors"]

    assert {diff.field: diff.desired for diff in ENGINE.diff(manifest, observed)} == {
        "dimensions": {},
        "datapointsToAlarm": 3,
        "threshold": 1.0,
        "treatMissingData": "missing",
        "description": None,
        "alarmActions": [],
        "okActions": [],
        "insufficientDataActions": [],
        "actionsEnabled": True,
    }


def test_missing_alarm_is_created_tagged_and_converges(aws: Clients, context: Context) -> None:
    manifest = alarm_manifest("errors", **FULL_SPEC)
    plan = plan_for(aws, context, manifest)
    (change,) = plan.changes
    assert change.action is Action.CREATE

    apply_plan(aws, context, plan)

    assert aws_tags(aws, "errors") == {OWNER_TAG: "dev"}
    assert plan_for(aws, context, manifest).in_sync


def test_drifted_alarm_is_rewritten_whole_and_converges(aws: Clients, context: Context) -> None:
    make_alarm(aws, "errors", FULL_PUT, owner="dev")
    aws.cloudwatch.tag_resource(
        ResourceARN="arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors",
        Tags=[{"Key": "team", "Value": "api"}],
    )
    manifest = alarm_manifest("errors", **BASE_SPEC)
    plan = plan_for(aws, context, manifest)
    assert plan.summary.update == 1

    apply_plan(aws, context, plan)

    assert plan_for(aws, context, manifest).in_sync
    alarm = aws_alarm(aws, "errors")
    assert alarm is not None
    assert "AlarmDescription" not in alarm
    assert alarm["Dimensions"] == []
    assert aws_tags(aws, "errors") == {OWNER_TAG: "dev", "team": "api"}


def test_untagged_alarm_gets_the_tag_without_being_rewritten(
    aws: Clients, context: Context
) -> None:
    make_alarm(aws, "errors", BASE_PUT)
    manifest = alarm_manifest("errors", **BASE_SPEC)
    plan = plan_for(aws, context, manifest)
    (change,) = plan.writes
    assert change.diffs == (Diff(field=f"tags.{OWNER_TAG}", desired="dev", actual=None),)
    calls = count_calls(aws)

    apply_plan(aws, context, plan)

    assert (calls["PutMetricAlarm"], calls["TagResource"]) == (0, 1)
    assert aws_tags(aws, "errors") == {OWNER_TAG: "dev"}
    assert plan_for(aws, context, manifest).in_sync


def test_drifted_untagged_alarm_is_rewritten_and_tagged(aws: Clients, context: Context) -> None:
    make_alarm(aws, "errors", BASE_PUT)
    manifest = alarm_manifest("errors", **FULL_SPEC)

    apply_plan(aws, context, plan_for(aws, context, manifest))

    assert aws_tags(aws, "errors") == {OWNER_TAG: "dev"}
    assert plan_for(aws, context, manifest).in_sync


def test_alarm_owned_by_another_environment_is_a_visible_conflict(
    aws: Clients, context: Context
) -> None:
    make_alarm(aws, "errors", BASE_PUT, owner="prod")
    manifest = alarm_manifest("errors", **FULL_SPEC)

    observed = ENGINE.observe(aws, [manifest], context)["errors"]
    (change,) = plan_for(aws, context, manifest).changes

    assert observed.tags == {OWNER_TAG: "prod"}
    assert change.action is Action.BLOCKED


def test_owned_returns_only_this_environments_alarms(aws: Clients, context: Context) -> None:
    make_alarm(aws, "mine:1", BASE_PUT, owner="dev")
    make_alarm(aws, "mine:2", FULL_PUT, owner="dev")
    make_alarm(aws, "theirs", BASE_PUT, owner="prod")
    make_alarm(aws, "nobodys", BASE_PUT)

    owned = ENGINE.owned(aws, context)

    assert sorted(owned) == ["mine:1", "mine:2"]
    assert owned["mine:2"].fields["description"] == "API errors"
    assert owned["mine:1"].tags == {OWNER_TAG: "dev"}


def test_prune_deletes_only_owned_undeclared_alarms(aws: Clients, context: Context) -> None:
    make_alarm(aws, "kept", BASE_PUT, owner="dev")
    make_alarm(aws, "stale", BASE_PUT, owner="dev")
    make_alarm(aws, "theirs", BASE_PUT, owner="prod")
    make_alarm(aws, "nobodys", BASE_PUT)
    plan = plan_for(aws, context, alarm_manifest("kept", **BASE_SPEC), prune=True)
    assert [(c.name, c.action) for c in plan.writes] == [("stale", Action.DELETE)]

    apply_plan(aws, context, plan)

    assert aws_alarm(aws, "stale") is None
    assert all(aws_alarm(aws, name) for name in ("kept", "theirs", "nobodys"))
    assert plan_for(aws, context, alarm_manifest("kept", **BASE_SPEC), prune=True).in_sync


def test_150_alarms_are_read_in_two_describe_calls(aws: Clients, context: Context) -> None:
    names = [f"alarm-{i:03}" for i in range(150)]
    for name in names:
        make_alarm(aws, name, BASE_PUT, owner="dev")
    manifests = [alarm_manifest(name, **BASE_SPEC) for name in names]
    calls = count_calls(aws)

    found = ENGINE.observe(aws, manifests, context)

    assert sorted(found) == names
    assert all(observed.tags == {OWNER_TAG: "dev"} for observed in found.values())
    assert calls == {"DescribeAlarms": 2, "GetResources": 2}


def test_second_apply_makes_no_writes(aws: Clients, context: Context) -> None:
    make_alarm(aws, "drifted", BASE_PUT, owner="dev")
    make_alarm(aws, "untagged", BASE_PUT)
    make_alarm(aws, "stale", BASE_PUT, owner="dev")
    manifests = [
        alarm_manifest("drifted", **FULL_SPEC),
        alarm_manifest("untagged", **BASE_SPEC),
        alarm_manifest("new", **BASE_SPEC),
    ]
    first = plan_for(aws, context, *manifests, prune=True)
    assert first.summary.model_dump() == {
        "create": 1,
        "update": 2,
        "delete": 1,
        "noop": 0,
        "blocked": 0,
    }
    apply_plan(aws, context, first)
    calls = count_calls(aws)

    second = plan_for(aws, context, *manifests, prune=True)
    apply_plan(aws, context, second)

    assert second.in_sync
    assert not any(calls[operation] for operation in WRITES)


def test_a_prune_read_makes_one_tag_pass_when_every_declared_alarm_is_owned(
    aws: Clients, context: Context
) -> None:
    names = [f"alarm-{i:03}" for i in range(120)]
    for name in names:
        make_alarm(aws, name, BASE_PUT, owner="dev")
    calls = count_calls(aws)

    found, owned = ENGINE.read(
        aws, [alarm_manifest(name, **BASE_SPEC) for name in names], context, owned=True
    )

    assert sorted(found) == sorted(owned) == names
    assert all(observed.tags == {OWNER_TAG: "dev"} for observed in found.values())
    assert calls == {"DescribeAlarms": 2, "GetResources": 2}  # 2 pages of one tag-filtered pass


def test_a_prune_read_reads_only_what_the_tag_pass_leaves_open(
    aws: Clients, context: Context
) -> None:
    make_alarm(aws, "kept", BASE_PUT, owner="dev")
    make_alarm(aws, "untagged", BASE_PUT)
    make_alarm(aws, "theirs", BASE_PUT, owner="prod")
    make_alarm(aws, "stale", BASE_PUT, owner="dev")
    declared = [alarm_manifest(n, **BASE_SPEC) for n in ("kept", "untagged", "theirs", "new")]
    calls = count_calls(aws)

    found, owned = ENGINE.read(aws, declared, context, owned=True)

    assert {name: observed.tags for name, observed in found.items()} == {
        "kept": {OWNER_TAG: "dev"},
        "untagged": {},
        "theirs": {OWNER_TAG: "prod"},
    }
    assert sorted(owned) == ["kept", "stale"]
    assert owned["stale"].fields == ENGINE.desired(alarm_manifest("stale", **BASE_SPEC))
    # declared names, the tag pass, the tags of the two it did not list, then "stale" confirmed
    assert calls == {"DescribeAlarms": 2, "GetResources": 2}


def test_an_alarm_retagged_for_another_environment_after_the_plan_is_not_changed(
    aws: Clients, context: Context
) -> None:
    make_alarm(aws, "errors", FULL_PUT, owner="dev")
    manifest = alarm_manifest("errors", **BASE_SPEC)
    plan = plan_for(aws, context, manifest)
    assert plan.summary.update == 1
    aws.cloudwatch.tag_resource(
        ResourceARN="arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors",
        Tags=[{"Key": OWNER_TAG, "Value": "prod"}],
    )
    before = aws_alarm(aws, "errors")

    with pytest.raises(PermanentError, match="owned by environment 'prod'"):
        apply_plan(aws, context, plan)
    assert aws_alarm(aws, "errors") == before


def test_a_create_never_overwrites_an_alarm_another_environment_made_since_the_plan(
    aws: Clients, context: Context
) -> None:
    manifest = alarm_manifest("errors", **BASE_SPEC)
    plan = plan_for(aws, context, manifest)
    assert plan.summary.create == 1
    make_alarm(aws, "errors", FULL_PUT, owner="prod")

    with pytest.raises(PermanentError, match="owned by environment 'prod'"):
        apply_plan(aws, context, plan)
    assert aws_tags(aws, "errors") == {OWNER_TAG: "prod"}


# --- as real AWS behaves (reconciler.emulator's CloudWatch rules) ----------------------------


def test_a_missing_alarm_is_created_although_aws_refuses_to_list_its_tags(
    aws: Clients, context: Context
) -> None:
    """AWS answers ListTagsForResource of a missing alarm with ResourceNotFoundException (moto
    answered no tags): the owner read before a create must take that as "no alarm, no owner"."""
    with behaviour(cloudwatch_missing_alarm_error=True, cloudwatch_alarm_rules=True):
        with pytest.raises(ClientError, match="ResourceNotFoundException"):
            aws_tags(aws, "errors")
        manifest = alarm_manifest("errors", **FULL_SPEC)
        plan = plan_for(aws, context, manifest)
        assert [change.action for change in plan.changes] == [Action.CREATE]

        apply_plan(aws, context, plan)

        assert aws_tags(aws, "errors") == {OWNER_TAG: "dev"}
        assert plan_for(aws, context, manifest).in_sync


def test_an_alarm_deleted_between_its_two_reads_is_reported_missing_in_one_sentence(
    aws: Clients, context: Context
) -> None:
    """DescribeAlarms finds it, ListTagsForResource then answers ResourceNotFoundException."""
    make_alarm(aws, "errors", FULL_PUT, owner="dev")
    manifest = alarm_manifest("errors", **BASE_SPEC)
    plan = plan_for(aws, context, manifest)
    assert plan.summary.update == 1
    deleted: list[str] = []

    def delete_once(**_: Any) -> None:
        if not deleted:
            deleted.append("errors")
            aws.cloudwatch.delete_alarms(AlarmNames=["errors"])

    aws.cloudwatch.meta.events.register("after-call.cloudwatch.DescribeAlarms", delete_once)
    with pytest.raises(PermanentError, match="does not exist; plan again to create it"):
        apply_plan(aws, context, plan)
    assert deleted == ["errors"]


def test_a_create_whose_alarm_appeared_untagged_since_the_plan_still_gets_the_tag(
    aws: Clients, context: Context
) -> None:
    """PutMetricAlarm ignores Tags on an existing alarm: the tag must come from TagResource."""
    manifest = alarm_manifest("errors", **FULL_SPEC)
    plan = plan_for(aws, context, manifest)
    assert plan.summary.create == 1
    make_alarm(aws, "errors", BASE_PUT)  # made by someone else, untagged, after the plan
    calls = count_calls(aws)

    apply_plan(aws, context, plan)

    assert calls["TagResource"] == 1
    assert aws_tags(aws, "errors") == {OWNER_TAG: "dev"}
    assert plan_for(aws, context, manifest).in_sync


PERCENTILE_PUT: dict[str, Any] = {
    **{key: value for key, value in BASE_PUT.items() if key != "Statistic"},
    "ExtendedStatistic": "p99",
    "Unit": "Milliseconds",
    "EvaluateLowSampleCountPercentile": "ignore",
}
PERCENTILE_SPEC: dict[str, Any] = {
    **{key: value for key, value in BASE_SPEC.items() if key != "statistic"},
    "extendedStatistic": "p99",
}


def test_unit_and_low_sample_count_handling_are_no_drift_and_survive_an_update(
    aws: Clients, context: Context
) -> None:
    """Neither is in the manifest; PutMetricAlarm resets what it is not sent."""
    make_alarm(aws, "latency", PERCENTILE_PUT, owner="dev")
    assert plan_for(aws, context, alarm_manifest("latency", **PERCENTILE_SPEC)).in_sync
    manifest = alarm_manifest("latency", **{**PERCENTILE_SPEC, "threshold": 500})
    plan = plan_for(aws, context, manifest)
    (change,) = plan.changes
    assert [diff.field for diff in change.diffs] == ["threshold"]

    apply_plan(aws, context, plan)

    alarm = aws_alarm(aws, "latency")
    assert alarm is not None
    assert alarm["Threshold"] == 500
    assert alarm["Unit"] == "Milliseconds"
    assert alarm["EvaluateLowSampleCountPercentile"] == "ignore"
    assert plan_for(aws, context, manifest).in_sync


METRIC_MATH_PUT: dict[str, Any] = {
    "EvaluationPeriods": 3,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanThreshold",
    "Metrics": [
        {"Id": "e1", "Expression": "m1 + m2", "ReturnData": True},
        *(
            {
                "Id": f"m{i}",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/Lambda", "MetricName": metric},
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            }
            for i, metric in ((1, "Errors"), (2, "Throttles"))
        ),
    ],
}
ANOMALY_PUT: dict[str, Any] = {
    "EvaluationPeriods": 3,
    "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold",
    "ThresholdMetricId": "band",
    "Metrics": [
        {"Id": "band", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "ReturnData": True},
        {
            "Id": "m1",
            "MetricStat": {
                "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"},
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": True,
        },
    ],
}


@pytest.mark.parametrize(
    ("put", "uses"),
    [(METRIC_MATH_PUT, "uses metric math"), (ANOMALY_PUT, "uses anomaly detection")],
    ids=["metric-math", "anomaly-detection"],
)
def test_an_alarm_a_manifest_cannot_express_is_blocked_and_never_overwritten(
    aws: Clients, context: Context, put: dict[str, Any], uses: str
) -> None:
    make_alarm(aws, "errors", put, owner="dev")
    before = aws_alarm(aws, "errors")
    manifest = alarm_manifest("errors", **BASE_SPEC)

    plan = plan_for(aws, context, manifest)
    (change,) = plan.changes
    assert change.action is Action.BLOCKED
    assert change.reason is not None
    assert change.reason.startswith(uses)
    assert "a MetricAlarm manifest cannot express it, so it is never overwritten" in change.reason
    apply_plan(aws, context, plan)
    assert aws_alarm(aws, "errors") == before

    # A plan made before the alarm became one: apply reads it again and refuses.
    stale = Change(
        kind="MetricAlarm",
        name="errors",
        action=Action.UPDATE,
        diffs=(Diff(field="threshold", desired=1.0, actual=2.0),),
        desired=ENGINE.desired(manifest),
    )
    with pytest.raises(PermanentError, match=uses):
        ENGINE.apply(aws, stale, context)
    assert aws_alarm(aws, "errors") == before
