"""The handlers' pure parts: stage inference, tracing on demand, and cold-start hygiene."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from reconciler.handlers import runtime
from reconciler.handlers.fail import stage_of


@pytest.mark.parametrize(
    ("state", "stage"),
    [
        ({"environment": "dev"}, "start"),
        ({"run": {}}, "load"),
        ({"run": {}, "load": {}}, "plan"),
        ({"run": {}, "load": {}, "plan": {"decision": "apply"}}, "apply"),
        ({"run": {}, "load": {}, "plan": {"decision": "observe"}}, "report"),
        ({"run": {}, "load": {}, "plan": {"decision": "apply"}, "apply": {}}, "report"),
    ],
)
def test_the_failed_stage_is_told_by_how_far_the_state_got(
    state: dict[str, Any], stage: str
) -> None:
    assert stage_of(state) == stage


class FakeTracer:
    def __init__(self) -> None:
        self.captured: list[str] = []

    def capture_lambda_handler(self, handler: Any) -> Any:
        self.captured.append(handler.__name__)
        return handler


def test_tracing_wraps_the_handler_only_when_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    tracer = FakeTracer()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"seen": event["x"]}

    wrapped = runtime.traced(handler)
    monkeypatch.setattr(runtime, "_tracer", lambda: None)
    assert wrapped({"x": 1}, None) == {"seen": 1}
    assert tracer.captured == []
    monkeypatch.setattr(runtime, "_tracer", lambda: tracer)
    assert wrapped({"x": 2}, None) == {"seen": 2}
    assert tracer.captured == ["handler"]


@pytest.mark.parametrize(
    "name", ["start", "load", "plan", "apply", "report", "fail", "schedule", "webhook"]
)
def test_importing_a_handler_does_not_load_the_xray_sdk_or_moto(name: str) -> None:
    code = (
        f"import sys, reconciler.handlers.{name}; "
        "bad = [m for m in ('aws_xray_sdk', 'moto') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_aws_sdks_never_log_bodies_even_at_debug() -> None:
    code = (
        "import logging; logging.basicConfig(level=logging.DEBUG); "
        "import reconciler.handlers.runtime; "
        "levels = [logging.getLogger(n).getEffectiveLevel() for n in ('botocore', 'boto3', 'urllib3')]; "
        "raise SystemExit(0 if min(levels) >= logging.INFO else 1)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
