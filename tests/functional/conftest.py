"""Functional tests run the engine against moto, in process, with the project's moto extension."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.aws import Clients
from reconciler.emulator import emulated_aws
from reconciler.kinds.base import Context

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, and no profile or endpoint that could lead to a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def aws(credentials: None) -> Iterator[Clients]:
    """Clients on a fresh, empty emulated AWS account."""
    with emulated_aws():
        yield Clients(REGION)


@pytest.fixture
def context() -> Context:
    return Context(environment="dev", account=ACCOUNT, region=REGION)


class CallLog:
    """Every AWS operation the engine's clients make, in order: `("lambda", "GetFunction")`."""

    READ_PREFIXES = ("Get", "Describe", "List")

    def __init__(self, aws: Clients) -> None:
        self.calls: list[tuple[str, str]] = []
        for name in ("lambda_", "rds", "cloudwatch", "budgets", "tagging", "sts"):
            client = getattr(aws, name)
            client.meta.events.register("before-call.*.*", self._record)

    def _record(self, model: object, **_: object) -> None:
        operation = model.name  # type: ignore[attr-defined]
        service = model.service_model.service_name  # type: ignore[attr-defined]
        self.calls.append((service, operation))

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [call for call in self.calls if not call[1].startswith(self.READ_PREFIXES)]

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture
def calls(aws: Clients) -> CallLog:
    return CallLog(aws)
