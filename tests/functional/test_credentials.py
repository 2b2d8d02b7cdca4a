"""Assumed-role credentials expire after an hour; a run that outlives them must not fail.

AWS refuses a request signed with expired credentials (`ExpiredToken` / `ExpiredTokenException`,
the STS API reference, "AssumeRole"). The clients of an environment with `assumeRoleArn` hold
refreshable credentials: botocore assumes the role again before they expire.
"""

from __future__ import annotations

import datetime as dt

import pytest
from botocore import credentials as botocore_credentials

from reconciler.aws import Clients
from reconciler.emulator import behaviour, emulated_aws

ROLE = "arn:aws:iam::123456789012:role/reconciler-target"


@pytest.mark.usefixtures("credentials")
def test_assumed_role_credentials_are_refreshed_before_they_expire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with emulated_aws(), behaviour(credentials_expire=True, credentials_ttl_requests=2):
        clients = Clients("us-east-1", role_arn=ROLE, pacing=False)
        clients.lambda_.list_functions()
        clients.lambda_.list_functions()  # the credentials' last request: they expire now

        # 55 minutes later (botocore's clock), the credentials are 5 minutes from Expiration.
        later = botocore_credentials._local_now() + dt.timedelta(minutes=55)
        held = clients.session._session.get_credentials()
        monkeypatch.setattr(held, "_time_fetcher", lambda: later, raising=False)

        assert clients.lambda_.list_functions()["Functions"] == []


@pytest.mark.usefixtures("credentials")
def test_expired_credentials_are_refused_by_the_emulator() -> None:
    """The test above can fail: without a refresh, the third request is refused."""
    import boto3
    from botocore.exceptions import ClientError

    with emulated_aws(), behaviour(credentials_expire=True, credentials_ttl_requests=2):
        creds = boto3.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="test")["Credentials"]
        fixed = boto3.client(
            "lambda",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        fixed.list_functions()
        fixed.list_functions()
        with pytest.raises(ClientError, match="ExpiredToken"):
            fixed.list_functions()
