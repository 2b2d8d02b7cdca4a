"""Functional tests run the engine against moto, in process, with the project's moto extension."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from call_log import CallLog

from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.emulator import emulated_aws
from reconciler.pacing import Pacer

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


@pytest.fixture
def aws(credentials: None) -> Iterator[Clients]:
    """Clients on a fresh, empty emulated AWS account, paced at a thousand times AWS's quotas
    (the pacing code runs, the tests do not wait)."""
    with emulated_aws():
        yield Clients(REGION, pacing=Pacer(scale=1000))


@pytest.fixture
def context() -> Context:
    return Context(environment="dev", account=ACCOUNT, region=REGION)


@pytest.fixture
def calls(aws: Clients) -> CallLog:
    return CallLog(aws)
