"""An alias with provisioned concurrency moving to a new version, driven by boto3.

Sources: hashicorp/terraform-provider-aws#48116 ("AWS temporarily injects routing weights on the
alias during the version transition ... additional_version_weights = {"1": 1}";
``PutProvisionedConcurrencyConfig`` "can fail (Alias with weights can not be used with Provisioned
Concurrency)"); hashicorp/terraform#24957 (the error is ``InvalidParameterValueException``); the
botocore model ``lambda/2015-03-31`` (``AllocatedProvisionedConcurrentExecutions`` "fluctuates"
while a weighted alias is used).
"""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

FN = "knob-fn"
WEIGHTED = "Alias with weights can not be used with Provisioned Concurrency"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


@pytest.fixture
def lam(emulated: None) -> LambdaClient:
    """FN with versions 1 and 2; alias ``live`` -> 1 with 5 provisioned, allocated."""
    client = boto3.client("lambda", region_name="us-east-1")
    role = boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="r", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    client.create_function(
        FunctionName=FN, Runtime="python3.11", Role=role, Handler="app.handler",
        Code={"ZipFile": _zip()},
    )  # fmt: skip
    client.publish_version(FunctionName=FN)
    with behaviour(lambda_update_reads=0, provisioning_reads=0):
        client.update_function_configuration(FunctionName=FN, Timeout=9)
        client.publish_version(FunctionName=FN)
        client.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")
        client.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=5
        )
        assert _pc(client)["Status"] == "READY"
    return client


def _pc(lam: LambdaClient) -> dict[str, Any]:
    return dict(lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live"))


def _routing(lam: LambdaClient) -> Any:
    return lam.get_alias(FunctionName=FN, Name="live").get("RoutingConfig")


def test_moving_the_alias_weights_it_until_the_new_version_is_allocated(lam: LambdaClient) -> None:
    moved = lam.update_alias(FunctionName=FN, Name="live", FunctionVersion="2")
    assert moved["FunctionVersion"] == "2"
    assert moved["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 1.0}}
    during = _pc(lam)
    assert during["Status"] == "IN_PROGRESS"  # never READY for version 2 before allocation
    assert during["RequestedProvisionedConcurrentExecutions"] == 5
    assert during["AllocatedProvisionedConcurrentExecutions"] == 0
    after = _pc(lam)
    assert after["Status"] == "READY"
    assert after["AllocatedProvisionedConcurrentExecutions"] == 5
    assert _routing(lam) is None


def test_put_on_a_weighted_alias_is_refused(lam: LambdaClient) -> None:
    lam.update_alias(FunctionName=FN, Name="live", FunctionVersion="2")
    with pytest.raises(ClientError) as exc:
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=7
        )
    err: Any = exc.value.response
    assert err["Error"] == {"Code": "InvalidParameterValueException", "Message": WEIGHTED}
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    # The refusal was a look: allocation is now done, the weights gone, the put accepted.
    put = lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=7
    )
    assert put["Status"] == "IN_PROGRESS"
    assert _routing(lam) is None


def test_get_alias_and_get_function_are_looks_too(lam: LambdaClient) -> None:
    with behaviour(provisioning_reads=2):
        lam.update_alias(FunctionName=FN, Name="live", FunctionVersion="2")
        assert _routing(lam) == {"AdditionalVersionWeights": {"1": 1.0}}
        assert lam.get_function(FunctionName=FN, Qualifier="live")["Configuration"]["Version"] == (
            "2"
        )
        assert _routing(lam) is None
        assert _pc(lam)["Status"] == "READY"


def test_weights_set_by_the_caller_refuse_a_put_as_well(lam: LambdaClient) -> None:
    lam.delete_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    lam.update_alias(
        FunctionName=FN,
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}},
    )
    assert _routing(lam) == {"AdditionalVersionWeights": {"1": 0.1}}
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=1
        )
    assert _routing(lam) == {"AdditionalVersionWeights": {"1": 0.1}}  # the caller's stay


def test_an_alias_without_provisioned_concurrency_moves_at_once(lam: LambdaClient) -> None:
    lam.create_alias(FunctionName=FN, Name="plain", FunctionVersion="1")
    moved = lam.update_alias(FunctionName=FN, Name="plain", FunctionVersion="2")
    assert moved.get("RoutingConfig") is None


def test_deleting_the_config_mid_move_drops_the_weights(lam: LambdaClient) -> None:
    lam.update_alias(FunctionName=FN, Name="live", FunctionVersion="2")
    lam.delete_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert _routing(lam) is None


def test_moto_behaviour_moves_at_once(lam: LambdaClient) -> None:
    with behaviour(provisioning_reads=0, weighted_alias_rule=False):
        moved = lam.update_alias(FunctionName=FN, Name="live", FunctionVersion="2")
        assert moved.get("RoutingConfig") is None
        assert _pc(lam)["Status"] == "READY"
