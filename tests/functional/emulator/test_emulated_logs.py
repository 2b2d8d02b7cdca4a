"""CloudWatch Logs log groups as the emulator keeps them, driven by boto3.

Sources: the botocore model ``logs/2014-03-28`` (``DescribeLogGroupsLogGroupIdentifiers`` 1 to 50
items and "the only other filter that you can choose to specify is includeLinkedAccounts";
``LogGroup.arn`` ends in ``:*``, ``LogGroup.logGroupArn`` does not and is the one for "the
resourceArn field in tagging APIs"; shape ``Days``; the tagging operations'
``ResourceNotFoundException``); AWS's ``ValidationException: Invalid resourceArn`` for the ``:*``
form as quoted in boto/boto3#4104 and open-telemetry/opentelemetry-collector-contrib#49419.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

ARN = "arn:aws:logs:us-east-1:123456789012:log-group:"


@pytest.fixture
def logs(emulated: None) -> CloudWatchLogsClient:
    client = boto3.client("logs", region_name="us-east-1")
    for name in ("/aws/lambda/api", "/aws/lambda/api-v2", "/aws/lambda/worker", "/ecs/web"):
        client.create_log_group(logGroupName=name)
    return client


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    err: Any = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def _names(answer: Any) -> list[str]:
    return [group["logGroupName"] for group in answer["logGroups"]]


# --- DescribeLogGroups(logGroupIdentifiers) -----------------------------------------------------


def test_identifiers_list_only_the_named_groups_sorted(logs: CloudWatchLogsClient) -> None:
    answer = logs.describe_log_groups(
        logGroupIdentifiers=["/ecs/web", "/aws/lambda/api", "/aws/lambda/missing"]
    )
    assert _names(answer) == ["/aws/lambda/api", "/ecs/web"]
    assert "nextToken" not in answer or answer["nextToken"] is None


def test_an_identifier_may_be_the_groups_arn(logs: CloudWatchLogsClient) -> None:
    answer = logs.describe_log_groups(logGroupIdentifiers=[ARN + "/aws/lambda/worker"])
    assert _names(answer) == ["/aws/lambda/worker"]


def test_identifiers_with_a_prefix_are_refused(logs: CloudWatchLogsClient) -> None:
    with pytest.raises(ClientError) as raised:
        logs.describe_log_groups(
            logGroupIdentifiers=["/ecs/web"], logGroupNamePrefix="/aws/lambda/"
        )
    assert _error(raised) == ("InvalidParameterException", 400)


def test_more_than_fifty_identifiers_are_refused(logs: CloudWatchLogsClient) -> None:
    with pytest.raises(ClientError) as raised:
        logs.describe_log_groups(logGroupIdentifiers=[f"/g/{n}" for n in range(51)])
    assert _error(raised) == ("InvalidParameterException", 400)


def test_a_prefix_alone_still_lists_every_group_under_it(logs: CloudWatchLogsClient) -> None:
    answer = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/api")
    assert _names(answer) == ["/aws/lambda/api", "/aws/lambda/api-v2"]


def test_moto_ignored_identifiers(logs: CloudWatchLogsClient) -> None:
    with behaviour(logs_rules=False):
        answer = logs.describe_log_groups(logGroupIdentifiers=["/ecs/web"])
    assert len(_names(answer)) == 4


# --- the ARN the tagging calls take --------------------------------------------------------------


def test_describe_answers_both_arns(logs: CloudWatchLogsClient) -> None:
    (group,) = logs.describe_log_groups(logGroupIdentifiers=["/ecs/web"])["logGroups"]
    assert group["arn"] == ARN + "/ecs/web:*"
    assert group["logGroupArn"] == ARN + "/ecs/web"


def test_tags_by_the_arn_without_the_star(logs: CloudWatchLogsClient) -> None:
    logs.tag_resource(resourceArn=ARN + "/ecs/web", tags={"team": "web"})
    assert logs.list_tags_for_resource(resourceArn=ARN + "/ecs/web")["tags"] == {"team": "web"}


@pytest.mark.parametrize(
    ("operation", "extra"),
    [
        ("list_tags_for_resource", {}),
        ("tag_resource", {"tags": {"team": "web"}}),
        ("untag_resource", {"tagKeys": ["team"]}),
    ],
)
def test_the_arn_with_the_star_is_invalid(
    logs: CloudWatchLogsClient, operation: str, extra: dict[str, Any]
) -> None:
    call = getattr(logs, operation)
    with pytest.raises(ClientError) as raised:
        call(resourceArn=ARN + "/ecs/web:*", **extra)
    assert _error(raised) == ("ValidationException", 400)
    assert raised.value.response["Error"]["Message"] == "Invalid resourceArn"


def test_a_missing_groups_tags_are_not_found(logs: CloudWatchLogsClient) -> None:
    for call in (
        lambda: logs.list_tags_for_resource(resourceArn=ARN + "/nope"),
        lambda: logs.tag_resource(resourceArn=ARN + "/nope", tags={"a": "b"}),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert _error(raised) == ("ResourceNotFoundException", 400)


def test_create_with_tags_tags_the_arn_without_the_star(logs: CloudWatchLogsClient) -> None:
    logs.create_log_group(logGroupName="/new", tags={"reconciler:environment": "dev"})
    tags = logs.list_tags_for_resource(resourceArn=ARN + "/new")["tags"]
    assert tags == {"reconciler:environment": "dev"}


def test_moto_answered_the_star_arn_with_no_tags(logs: CloudWatchLogsClient) -> None:
    logs.tag_resource(resourceArn=ARN + "/ecs/web", tags={"team": "web"})
    with behaviour(logs_rules=False):
        assert logs.list_tags_for_resource(resourceArn=ARN + "/ecs/web:*")["tags"] == {}


# --- retention -----------------------------------------------------------------------------------


def test_no_retention_is_never_expire_and_delete_removes_it(logs: CloudWatchLogsClient) -> None:
    def group() -> Any:
        return logs.describe_log_groups(logGroupIdentifiers=["/ecs/web"])["logGroups"][0]

    assert "retentionInDays" not in group()
    logs.put_retention_policy(logGroupName="/ecs/web", retentionInDays=14)
    assert group()["retentionInDays"] == 14
    logs.delete_retention_policy(logGroupName="/ecs/web")
    assert "retentionInDays" not in group()


@pytest.mark.parametrize("days", [0, 2, 8, 366, 3654])
def test_retention_outside_awss_values_is_refused(logs: CloudWatchLogsClient, days: int) -> None:
    with pytest.raises(ClientError) as raised:
        logs.put_retention_policy(logGroupName="/ecs/web", retentionInDays=days)
    assert _error(raised) == ("InvalidParameterException", 400)


def test_retention_of_a_missing_group_is_not_found(logs: CloudWatchLogsClient) -> None:
    with pytest.raises(ClientError) as raised:
        logs.put_retention_policy(logGroupName="/nope", retentionInDays=7)
    assert _error(raised) == ("ResourceNotFoundException", 400)
