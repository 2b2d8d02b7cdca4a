"""Lambda provisioned concurrency as emulated by reconciler.emulator, driven by plain boto3.

Sources: the Lambda API reference for Put/Get/Delete/ListProvisionedConcurrencyConfig(s) and the
botocore model ``lambda/2015-03-31`` (shapes ``GetProvisionedConcurrencyConfigResponse``,
``ProvisionedConcurrencyStatusEnum``, errors of ``PutProvisionedConcurrencyConfig``); the weighted
alias rule from hashicorp/terraform#24957 and hashicorp/terraform-provider-aws#48116.
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.awslambda import urls

from reconciler.emulator import behaviour, emulated_aws, install
from reconciler.emulator.lambda_provisioned import fail_provisioning

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

REGION = "us-east-1"
FN = "knob-fn"


@pytest.fixture
def lam(offline: None) -> Iterator[LambdaClient]:
    with emulated_aws():
        yield boto3.client("lambda", region_name=REGION)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def _deploy(lam: LambdaClient, endpoint_url: str | None = None) -> str:
    """Function FN with versions 1 and 2 and alias ``live`` -> 1; returns the function ARN."""
    iam = boto3.client("iam", region_name=REGION, endpoint_url=endpoint_url)
    role = iam.create_role(
        RoleName="knob-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    arn = lam.create_function(
        FunctionName=FN,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip()},
    )["FunctionArn"]
    assert lam.publish_version(FunctionName=FN)["Version"] == "1"
    lam.update_function_configuration(FunctionName=FN, Description="second")
    _until_updated(lam)
    assert lam.publish_version(FunctionName=FN)["Version"] == "2"
    lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")
    return arn


def _until_updated(lam: LambdaClient) -> None:
    """Read $LATEST until its update is done, as a caller must before publishing."""
    for _ in range(10):
        if lam.get_function(FunctionName=FN)["Configuration"]["LastUpdateStatus"] == "Successful":
            return
    raise AssertionError("the update never finished")


@pytest.fixture
def fn_arn(lam: LambdaClient) -> str:
    return _deploy(lam)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err: Any = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def test_put_answers_202_in_progress_then_reads_report_ready(
    lam: LambdaClient, fn_arn: str
) -> None:
    """Allocation takes a read (``Behaviour.provisioning_reads``, 1 by default)."""
    put = lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=5
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert put["Status"] == "IN_PROGRESS"
    assert put["RequestedProvisionedConcurrentExecutions"] == 5
    assert put["AllocatedProvisionedConcurrentExecutions"] == 0
    assert put["AvailableProvisionedConcurrentExecutions"] == 0
    assert "StatusReason" not in put
    datetime.strptime(put["LastModified"], "%Y-%m-%dT%H:%M:%S%z")

    first = lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert first["Status"] == "IN_PROGRESS"
    assert first["AllocatedProvisionedConcurrentExecutions"] == 0
    got = lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Status"] == "READY"
    assert got["RequestedProvisionedConcurrentExecutions"] == 5
    assert got["AllocatedProvisionedConcurrentExecutions"] == 5
    assert got["AvailableProvisionedConcurrentExecutions"] == 5
    assert got["LastModified"] == put["LastModified"]


def test_put_again_replaces_the_requested_value(lam: LambdaClient, fn_arn: str) -> None:
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="2", ProvisionedConcurrentExecutions=3
    )
    again = lam.put_provisioned_concurrency_config(
        FunctionName=fn_arn, Qualifier="2", ProvisionedConcurrentExecutions=7
    )
    assert again["Status"] == "IN_PROGRESS"
    got = lam.get_provisioned_concurrency_config(FunctionName=f"{FN}:2", Qualifier="2")
    assert got["RequestedProvisionedConcurrentExecutions"] == 7


def test_list_returns_qualified_arns_and_paginates(lam: LambdaClient, fn_arn: str) -> None:
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=2
    )
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="2", ProvisionedConcurrentExecutions=1
    )
    lam.list_provisioned_concurrency_configs(FunctionName=FN)  # one read: still allocating
    listed = lam.list_provisioned_concurrency_configs(FunctionName=FN)
    assert "NextMarker" not in listed
    by_arn = {c["FunctionArn"]: c for c in listed["ProvisionedConcurrencyConfigs"]}
    assert set(by_arn) == {f"{fn_arn}:live", f"{fn_arn}:2"}
    assert by_arn[f"{fn_arn}:live"]["Status"] == "READY"
    assert by_arn[f"{fn_arn}:live"]["RequestedProvisionedConcurrentExecutions"] == 2

    first = lam.list_provisioned_concurrency_configs(FunctionName=FN, MaxItems=1)
    assert len(first["ProvisionedConcurrencyConfigs"]) == 1
    second = lam.list_provisioned_concurrency_configs(
        FunctionName=FN, MaxItems=1, Marker=first["NextMarker"]
    )
    assert "NextMarker" not in second
    pages = first["ProvisionedConcurrencyConfigs"] + second["ProvisionedConcurrencyConfigs"]
    assert {c["FunctionArn"] for c in pages} == set(by_arn)

    paginated = lam.get_paginator("list_provisioned_concurrency_configs")
    assert len(list(paginated.paginate(FunctionName=FN, PaginationConfig={"PageSize": 1}))) == 2


def test_delete_answers_204_and_is_idempotent(lam: LambdaClient, fn_arn: str) -> None:
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    deleted = lam.delete_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    again = lam.delete_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert (
        lam.list_provisioned_concurrency_configs(FunctionName=FN)["ProvisionedConcurrencyConfigs"]
        == []
    )


def test_get_without_config_is_config_not_found(lam: LambdaClient, fn_arn: str) -> None:
    with pytest.raises(ClientError) as exc:
        lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert _error(exc) == (
        "ProvisionedConcurrencyConfigNotFoundException",
        404,
        "No Provisioned Concurrency Config found for this function",
    )
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="1")


def test_latest_is_refused(lam: LambdaClient, fn_arn: str) -> None:
    with pytest.raises(ClientError) as exc:
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    assert _error(exc) == (
        "InvalidParameterValueException",
        400,
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
    )
    for call in (lam.get_provisioned_concurrency_config, lam.delete_provisioned_concurrency_config):
        with pytest.raises(ClientError) as exc:
            call(FunctionName=FN, Qualifier="$LATEST")
        assert _error(exc)[:2] == ("InvalidParameterValueException", 400)


def test_alias_on_latest_is_refused(lam: LambdaClient, fn_arn: str) -> None:
    lam.create_alias(FunctionName=FN, Name="head", FunctionVersion="$LATEST")
    with pytest.raises(ClientError) as exc:
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="head", ProvisionedConcurrentExecutions=1
        )
    assert _error(exc)[:2] == ("InvalidParameterValueException", 400)


@pytest.mark.parametrize(
    ("function_name", "qualifier", "message"),
    [
        (FN, "nope", "Cannot find alias arn: "),
        (FN, "9", "Function not found: "),
        ("missing-fn", "1", "Function not found: "),
    ],
)
def test_unknown_targets_are_resource_not_found(
    lam: LambdaClient, fn_arn: str, function_name: str, qualifier: str, message: str
) -> None:
    for call in (lam.get_provisioned_concurrency_config, lam.delete_provisioned_concurrency_config):
        with pytest.raises(ClientError) as exc:
            call(FunctionName=function_name, Qualifier=qualifier)
        code, status, text = _error(exc)
        assert (code, status) == ("ResourceNotFoundException", 404)
        assert text.startswith(message)
        assert text.endswith(f":{qualifier}")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.put_provisioned_concurrency_config(
            FunctionName=function_name, Qualifier=qualifier, ProvisionedConcurrentExecutions=1
        )


def test_list_of_unknown_function_is_resource_not_found(lam: LambdaClient) -> None:
    with pytest.raises(ClientError) as exc:
        lam.list_provisioned_concurrency_configs(FunctionName="missing-fn")
    assert _error(exc)[:2] == ("ResourceNotFoundException", 404)


def test_qualifier_in_name_must_match(lam: LambdaClient, fn_arn: str) -> None:
    with pytest.raises(ClientError) as exc:
        lam.put_provisioned_concurrency_config(
            FunctionName=f"{FN}:live", Qualifier="2", ProvisionedConcurrentExecutions=1
        )
    assert _error(exc)[:2] == ("InvalidParameterValueException", 400)


def test_less_than_one_is_a_validation_error(lam: LambdaClient, fn_arn: str) -> None:
    raw = boto3.client("lambda", region_name=REGION, config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as exc:
        raw.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=0
        )
    code, status, message = _error(exc)
    assert (code, status) == ("ValidationException", 400)
    assert "greater than or equal to 1" in message


def test_sum_over_qualifiers_must_fit_reserved_concurrency(lam: LambdaClient, fn_arn: str) -> None:
    lam.put_function_concurrency(FunctionName=FN, ReservedConcurrentExecutions=5)
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=3
    )
    with pytest.raises(ClientError) as exc:
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="2", ProvisionedConcurrentExecutions=3
        )
    assert _error(exc)[:2] == ("InvalidParameterValueException", 400)
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="2", ProvisionedConcurrentExecutions=2
    )
    # Replacing a qualifier's own value does not count it twice.
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="2", ProvisionedConcurrentExecutions=2
    )


def test_account_quota_leaves_100_unreserved(lam: LambdaClient, fn_arn: str) -> None:
    """AWS's default account concurrency is 1000 and 100 must stay unreserved (Lambda developer
    guide, "Configuring reserved concurrency"); moto checks it only with its quota variable."""
    with pytest.raises(ClientError) as exc:
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=901
        )
    code, status, message = _error(exc)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.endswith("below its minimum value of [100].")
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=900
    )
    # The provisioned 900 draws on the unreserved pool: no reservation fits beside it.
    with pytest.raises(ClientError) as exc:
        lam.put_function_concurrency(FunctionName=FN, ReservedConcurrentExecutions=1)
    assert _error(exc) == (
        "InvalidParameterValueException",
        400,
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    )


def test_reservation_alone_must_leave_100_unreserved(lam: LambdaClient, fn_arn: str) -> None:
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_function_concurrency(FunctionName=FN, ReservedConcurrentExecutions=901)
    lam.put_function_concurrency(FunctionName=FN, ReservedConcurrentExecutions=900)
    # Replacing the function's own reservation does not count it twice.
    lam.put_function_concurrency(FunctionName=FN, ReservedConcurrentExecutions=900)
    with behaviour(lambda_account_concurrency=None):
        lam.put_function_concurrency(FunctionName=FN, ReservedConcurrentExecutions=5000)


def test_account_quota_follows_moto_quota_when_set(
    lam: LambdaClient, fn_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "150")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=51
        )
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=50
    )


def test_alias_and_its_version_cannot_both_be_provisioned(lam: LambdaClient, fn_arn: str) -> None:
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    with pytest.raises(ClientError) as exc:
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="1", ProvisionedConcurrentExecutions=1
        )
    assert _error(exc)[:2] == ("ResourceConflictException", 409)

    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="2", ProvisionedConcurrentExecutions=1
    )
    lam.create_alias(FunctionName=FN, Name="next", FunctionVersion="2")
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="next", ProvisionedConcurrentExecutions=1
        )


def test_deleting_alias_or_function_drops_its_configs(lam: LambdaClient, fn_arn: str) -> None:
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="2", ProvisionedConcurrentExecutions=1
    )
    lam.delete_alias(FunctionName=FN, Name="live")
    lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")

    lam.delete_function(FunctionName=FN, Qualifier="2")
    listed = lam.list_provisioned_concurrency_configs(FunctionName=FN)
    assert listed["ProvisionedConcurrencyConfigs"] == []

    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    lam.delete_function(FunctionName=FN)
    iam = boto3.client("iam", region_name=REGION)
    iam.delete_role(RoleName="knob-role")
    _deploy(lam)
    assert (
        lam.list_provisioned_concurrency_configs(FunctionName=FN)["ProvisionedConcurrencyConfigs"]
        == []
    )


def test_fail_provisioning_reports_failed_with_reason(lam: LambdaClient, fn_arn: str) -> None:
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=4
    )
    fail_provisioning(FN, "live", "FUNCTION_ERROR_INIT_FAILURE")
    got = lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert got["Status"] == "FAILED"
    assert got["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE"
    assert got["AllocatedProvisionedConcurrentExecutions"] == 0


def test_install_is_idempotent(lam: LambdaClient, fn_arn: str) -> None:
    before = dict(urls.url_paths)
    install()
    install()
    assert urls.url_paths == before
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=1
    )


def test_server_mode_serves_lambda_and_budgets_extensions(offline: None) -> None:
    pytest.importorskip("flask", reason="moto's server mode needs moto[server] (flask, flask-cors)")
    from moto.server import ThreadedMotoServer

    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)
        _deploy(lam, endpoint_url=endpoint)
        lam.update_function_configuration(FunctionName=FN, Timeout=5)
        with pytest.raises(lam.exceptions.ResourceConflictException):  # the server's patched too
            lam.update_function_configuration(FunctionName=FN, Timeout=6)
        put = lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=2
        )
        assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
        assert put["Status"] == "IN_PROGRESS"
        lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
        got = lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
        assert got["Status"] == "READY"
        with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
            lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="2")

        budgets = boto3.client("budgets", region_name=REGION, endpoint_url=endpoint)
        account = "123456789012"
        budget: Any = {
            "BudgetName": "knobs",
            "BudgetLimit": {"Amount": "10", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        }
        budgets.create_budget(
            AccountId=account, Budget=budget, ResourceTags=[{"Key": "team", "Value": "ops"}]
        )
        raised: Any = {**budget, "BudgetLimit": {"Amount": "20", "Unit": "USD"}}
        budgets.update_budget(AccountId=account, NewBudget=raised)
        described = budgets.describe_budget(AccountId=account, BudgetName="knobs")["Budget"]
        assert described["BudgetLimit"]["Amount"] == "20"
        tags = budgets.list_tags_for_resource(
            ResourceARN=f"arn:aws:budgets::{account}:budget/knobs"
        )["ResourceTags"]
        assert tags == [{"Key": "team", "Value": "ops"}]
    finally:
        # The server shares moto's in-process state: leave none behind for other tests.
        request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
        server.stop()
