"""Lambda's tracing mode through UpdateFunctionConfiguration, driven by boto3.

Source: the botocore model ``lambda/2015-03-31`` (``UpdateFunctionConfigurationRequest``
``TracingConfig``, shape ``TracingMode``: ``Active``, ``PassThrough``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

FN = "traced"


@pytest.fixture
def lam(emulated: None) -> LambdaClient:
    client = boto3.client("lambda", region_name="us-east-1")
    role = boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="traced-role", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    client.create_function(
        FunctionName=FN,
        PackageType="Image",
        Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"},
        Role=role,
    )
    return client


def _mode(lam: LambdaClient, qualifier: str | None = None) -> Any:
    args = {"Qualifier": qualifier} if qualifier else {}
    return lam.get_function(FunctionName=FN, **args)["Configuration"]["TracingConfig"]["Mode"]


def test_a_new_function_passes_through(lam: LambdaClient) -> None:
    assert _mode(lam) == "PassThrough"


def test_update_configuration_sets_the_mode_and_answers_it(lam: LambdaClient) -> None:
    with behaviour(lambda_update_reads=0):
        answer = lam.update_function_configuration(
            FunctionName=FN, TracingConfig={"Mode": "Active"}
        )
        assert answer["TracingConfig"] == {"Mode": "Active"}
        assert _mode(lam) == "Active"
        lam.update_function_configuration(FunctionName=FN, TracingConfig={"Mode": "PassThrough"})
        assert _mode(lam) == "PassThrough"


def test_a_published_version_keeps_its_mode(lam: LambdaClient) -> None:
    with behaviour(lambda_update_reads=0):
        version = lam.publish_version(FunctionName=FN)["Version"]
        lam.update_function_configuration(FunctionName=FN, TracingConfig={"Mode": "Active"})
        assert (_mode(lam, version), _mode(lam)) == ("PassThrough", "Active")


def test_an_unknown_mode_is_refused(lam: LambdaClient) -> None:
    with pytest.raises(ClientError) as raised:
        lam.update_function_configuration(FunctionName=FN, TracingConfig={"Mode": "Sampled"})
    error: Any = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ValidationException",
        400,
    )
    assert _mode(lam) == "PassThrough"
