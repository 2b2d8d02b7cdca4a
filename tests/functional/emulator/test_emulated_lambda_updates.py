"""Lambda function updates that take time, environment rules and TagsError, driven by boto3.

Sources: https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html (LastUpdateStatus,
State Pending, "you can't modify the function" while an update is in progress); the botocore
model ``lambda/2015-03-31`` (``ResourceConflictException`` 409, ``EnvironmentVariableName``
pattern, ``GetFunctionResponse.TagsError``, ``TagsErrorMessage`` min 84); the error texts as AWS
answers them, quoted in serverless-secrets#39 / aws-amplify/amplify-backend#2290 (names) and
github-aws-runners/terraform-aws-github-runner#3594 (the 4 KB limit).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

FN = "knob-fn"
ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FN}"
BUSY = (
    "The operation cannot be performed at this time. An update is in progress for resource: " + ARN
)
BAD_NAME = (
    "1 validation error detected: Value at 'environment.variables' failed to satisfy "
    "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
    "pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
)


@pytest.fixture
def lam(emulated: None) -> LambdaClient:
    return boto3.client("lambda", region_name="us-east-1")


def _create(lam: LambdaClient, **extra: Any) -> dict[str, Any]:
    role = boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="knob-role", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    created: dict[str, Any] = dict(
        lam.create_function(
            FunctionName=FN,
            PackageType="Image",
            Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"},
            Role=role,
            Tags={"team": "ops"},
            **extra,
        )
    )
    return created


@pytest.fixture
def fn(lam: LambdaClient) -> None:
    _create(lam)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err: Any = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def _status(lam: LambdaClient, **args: Any) -> str:
    return str(lam.get_function(FunctionName=FN, **args)["Configuration"]["LastUpdateStatus"])


# --- updates in progress ------------------------------------------------------------------------


def test_update_is_in_progress_for_one_read_then_successful(lam: LambdaClient, fn: None) -> None:
    answer = lam.update_function_configuration(FunctionName=FN, MemorySize=512)
    assert answer["LastUpdateStatus"] == "InProgress"
    assert answer["MemorySize"] == 512
    assert _status(lam) == "InProgress"
    assert _status(lam) == "Successful"
    assert lam.get_function_configuration(FunctionName=FN)["LastUpdateStatus"] == "Successful"


def test_writes_while_updating_are_409_and_count_as_looks(lam: LambdaClient, fn: None) -> None:
    lam.update_function_code(
        FunctionName=FN, ImageUri="123456789012.dkr.ecr.us-east-1.amazonaws.com/app:2"
    )
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(FunctionName=FN, Timeout=9)
    assert _error(exc) == ("ResourceConflictException", 409, BUSY)
    # The refusal used up the update's one read: the retry goes through.
    lam.update_function_configuration(FunctionName=FN, Timeout=9)
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.publish_version(FunctionName=FN)
    assert _status(lam) == "Successful"
    assert lam.publish_version(FunctionName=FN)["Version"] == "1"


def test_code_update_is_in_progress_too(lam: LambdaClient, fn: None) -> None:
    answer = lam.update_function_code(
        FunctionName=FN, ImageUri="123456789012.dkr.ecr.us-east-1.amazonaws.com/app:2"
    )
    assert answer["LastUpdateStatus"] == "InProgress"
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.update_function_code(
            FunctionName=FN, ImageUri="123456789012.dkr.ecr.us-east-1.amazonaws.com/app:3"
        )


def test_reads_of_a_published_version_do_not_see_the_update(lam: LambdaClient, fn: None) -> None:
    lam.publish_version(FunctionName=FN)
    lam.update_function_configuration(FunctionName=FN, MemorySize=256)
    assert _status(lam, Qualifier="1") == "Successful"
    assert _status(lam, Qualifier="$LATEST") == "InProgress"
    assert _status(lam) == "Successful"


def test_update_reads_are_configurable(lam: LambdaClient, fn: None) -> None:
    with behaviour(lambda_update_reads=3):
        lam.update_function_configuration(FunctionName=FN, MemorySize=512)
        assert [_status(lam) for _ in range(4)] == ["InProgress"] * 3 + ["Successful"]
    with behaviour(lambda_update_reads=0):
        assert lam.update_function_configuration(FunctionName=FN, Timeout=7)[
            "LastUpdateStatus"
        ] == ("Successful")
        lam.update_function_configuration(FunctionName=FN, Timeout=8)


def test_pending_seconds_bounds_an_update_in_wall_time(lam: LambdaClient, fn: None) -> None:
    with behaviour(lambda_update_reads=1000, pending_seconds=0.05):
        lam.update_function_configuration(FunctionName=FN, MemorySize=512)
        assert _status(lam) == "InProgress"
        time.sleep(0.06)
        assert _status(lam) == "Successful"


def test_create_can_be_pending(lam: LambdaClient) -> None:
    with behaviour(lambda_create_reads=1):
        created = _create(lam)
        assert created["State"] == "Pending"
        assert created["StateReasonCode"] == "Creating"
        with pytest.raises(ClientError) as exc:
            lam.publish_version(FunctionName=FN)
        assert _error(exc) == (
            "ResourceConflictException",
            409,
            "The operation cannot be performed at this time. "
            "The function is currently in the following state: Pending",
        )
        assert lam.get_function(FunctionName=FN)["Configuration"]["State"] == "Active"


def test_create_is_active_at_once_by_default(lam: LambdaClient) -> None:
    assert _create(lam)["State"] == "Active"
    lam.publish_version(FunctionName=FN)


# --- environment variables ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["A", "1AB", "A-B", "_AB", "AB.C", "ÄB"])
def test_environment_names_follow_the_model_pattern(lam: LambdaClient, fn: None, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(FunctionName=FN, Environment={"Variables": {name: "x"}})
    assert _error(exc) == ("ValidationException", 400, BAD_NAME)
    lam.delete_function(FunctionName=FN)
    boto3.client("iam", region_name="us-east-1").delete_role(RoleName="knob-role")
    with pytest.raises(ClientError) as exc:
        _create(lam, Environment={"Variables": {name: "x"}})
    assert _error(exc)[:2] == ("ValidationException", 400)


def test_two_character_names_are_accepted(lam: LambdaClient, fn: None) -> None:
    lam.update_function_configuration(
        FunctionName=FN, Environment={"Variables": {"AB": "1", "a_1": "2", "Z9_": "3"}}
    )


def test_reserved_keys_are_refused(lam: LambdaClient, fn: None) -> None:
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(
            FunctionName=FN, Environment={"Variables": {"APP": "1", "AWS_REGION": "eu-west-1"}}
        )
    assert _error(exc) == (
        "InvalidParameterValueException",
        400,
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported "
        "for modification. Reserved keys used in this request: AWS_REGION",
    )


def test_all_variables_must_fit_in_4_kb_of_json(lam: LambdaClient, fn: None) -> None:
    # {"AB":"<value>"} is 9 bytes of JSON around the value.
    lam.update_function_configuration(
        FunctionName=FN, Environment={"Variables": {"AB": "x" * (4096 - 9)}}
    )
    assert _status(lam) == "InProgress"
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(
            FunctionName=FN, Environment={"Variables": {"AB": "x" * (4096 - 8)}}
        )
    code, status, message = _error(exc)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith(
        "Lambda was unable to configure your environment variables because the environment "
        'variables you have provided exceeded the 4KB limit. String measured: {"AB":"xxx'
    )
    # Bytes, not characters: 2-byte characters count twice.
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_configuration(
            FunctionName=FN, Environment={"Variables": {"AB": "é" * 2044}}
        )


def test_environment_rules_can_be_switched_off(lam: LambdaClient, fn: None) -> None:
    with behaviour(lambda_environment_rules=False):
        lam.update_function_configuration(
            FunctionName=FN, Environment={"Variables": {"A": "x" * 5000}}
        )


# --- TagsError ----------------------------------------------------------------------------------


def test_get_function_answers_tags_by_default(lam: LambdaClient, fn: None) -> None:
    got = lam.get_function(FunctionName=FN)
    assert got["Tags"] == {"team": "ops"}
    assert "TagsError" not in got


def test_without_list_tags_permission_get_function_answers_tags_error(
    lam: LambdaClient, fn: None
) -> None:
    with behaviour(lambda_tags_denied=True):
        got = lam.get_function(FunctionName=FN)
        assert "Tags" not in got
        error = got["TagsError"]
        assert error["ErrorCode"] == "AccessDeniedException"
        assert "lambda:ListTags" in error["Message"]
        assert len(error["Message"]) >= 84  # the model's TagsErrorMessage minimum
        assert got["Configuration"]["FunctionName"] == FN
        with pytest.raises(ClientError) as exc:
            lam.list_tags(Resource=ARN)
        assert _error(exc)[:2] == ("AccessDeniedException", 403)
