"""What every test that touches the AWS emulator starts from: fake credentials, no profile or
endpoint that could lead to a real account, and a fresh manifest cache."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "RECONCILER_CACHE_DIR": str(tmp_path / "cache"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


#: Whole folders that run for seconds each: the state machine, fault injection, the security
#: workloads and the fresh clone. `make check` (the edit loop) skips them; `make test` runs all.
SLOW_FOLDERS = frozenset({"e2e", "reliability", "security", "install"})


def pytest_configure(config: pytest.Config) -> None:
    """Every botocore session the tests make (theirs, moto's, the engines') reads service models
    through the process's one loader (`reconciler.aws.models`), as the engines' own sessions do:
    a test builds its clients in milliseconds instead of parsing each model again."""
    import botocore.session

    def register_shared_loader(session: botocore.session.Session) -> None:
        from reconciler.aws import models

        session._components.lazy_register_component(
            "data_loader", lambda: models(session.get_config_variable("data_path"))
        )

    botocore.session.Session._register_data_loader = register_shared_loader  # type: ignore[method-assign]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(tests).parts
        if parts and parts[0] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _engines_wait_without_sleeping(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emulator's slow operations (an update InProgress, a cluster modifying, provisioned
    concurrency allocating) end after a number of reads, not seconds: the engines' waits poll
    as on AWS, without sleeping between reads. Unit tests load no engine (a test holds that)."""
    parts = request.node.path.relative_to(Path(__file__).parent).parts
    if parts and parts[0] == "unit":
        return
    from reconciler.kinds import KINDS, engine

    for kind in KINDS.values():
        if kind.engine is not None:
            # Engines are frozen dataclasses: their `sleep` is swapped in their __dict__.
            monkeypatch.setitem(vars(engine(kind.name)), "sleep", lambda seconds: None)
