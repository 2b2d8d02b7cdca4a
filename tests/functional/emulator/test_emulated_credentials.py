"""Assumed-role credentials that expire, driven by boto3.

Sources: the STS API reference, AssumeRole (temporary credentials "expire after the duration you
specify"; ``DurationSeconds`` defaults to 3600) and the AWS error texts "(ExpiredToken) ... The
security token included in the request is expired" (query protocol) and ``ExpiredTokenException``
(JSON protocol) as the AWS CLI reports them.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from reconciler.emulator import behaviour

EXPIRED = "The security token included in the request is expired"


def _assumed(seconds: int = 3600) -> boto3.Session:
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/reconciler",
        RoleSessionName="reconciler",
        DurationSeconds=seconds,
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err: Any = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def test_credentials_work_until_their_request_budget_is_spent(emulated: None) -> None:
    with behaviour(credentials_ttl_requests=2):
        session = _assumed()
        session.client("lambda").list_functions()
        session.client("cloudwatch").describe_alarms()
        with pytest.raises(ClientError) as exc:
            session.client("lambda").list_functions()
        assert _error(exc) == ("ExpiredTokenException", 403, EXPIRED)


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("sts", lambda c: c.get_caller_identity(), "ExpiredToken"),
        ("rds", lambda c: c.describe_db_clusters(), "ExpiredToken"),
        ("cloudwatch", lambda c: c.describe_alarms(), "ExpiredToken"),
        ("lambda", lambda c: c.list_functions(), "ExpiredTokenException"),
        (
            "budgets",
            lambda c: c.describe_budgets(AccountId="123456789012"),
            "ExpiredTokenException",
        ),
        ("resourcegroupstaggingapi", lambda c: c.get_resources(), "ExpiredTokenException"),
    ],
)
def test_each_protocol_answers_its_code(emulated: None, service: str, call: Any, code: str) -> None:
    with behaviour(credentials_ttl_requests=0):
        client = _assumed().client(service)  # type: ignore[call-overload]
        with pytest.raises(ClientError) as exc:
            call(client)
        assert _error(exc) == (code, 403, EXPIRED)


def test_credentials_expire_in_wall_time(emulated: None) -> None:
    sts = _assumed().client("sts")
    sts.get_caller_identity()
    # The lifetime is read at each request: shortened now, the credentials are already too old.
    with behaviour(credentials_ttl_seconds=0.01):
        time.sleep(0.02)
        with pytest.raises(ClientError) as exc:
            sts.get_caller_identity()
        assert _error(exc)[0] == "ExpiredToken"


def test_by_default_credentials_last_their_duration(emulated: None) -> None:
    session = _assumed(900)
    for _ in range(5):
        session.client("sts").get_caller_identity()


def test_long_term_keys_never_expire(emulated: None) -> None:
    with behaviour(credentials_ttl_requests=0):
        boto3.client("sts", region_name="us-east-1").get_caller_identity()


def test_expiry_can_be_switched_off(emulated: None) -> None:
    with behaviour(credentials_ttl_requests=0, credentials_expire=False):
        _assumed().client("sts").get_caller_identity()
