"""The emulator's own tests: plain boto3 clients on a fresh emulated account, nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.emulator import Behaviour, configure, emulated_aws


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, a fixed region, no profile, proxy or moto quota: nothing reaches AWS."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "NO_PROXY": "127.0.0.1,localhost",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", raising=False)


@pytest.fixture(autouse=True)
def default_behaviour() -> Iterator[None]:
    """Every emulator test starts from the default behaviour, even in a process started with
    ``RECONCILER_EMULATOR=moto``; whatever a test changes is undone."""
    old = configure(Behaviour())
    try:
        yield
    finally:
        configure(old)


@pytest.fixture
def emulated(offline: None) -> Iterator[None]:
    """A fresh, empty emulated account."""
    with emulated_aws():
        yield
