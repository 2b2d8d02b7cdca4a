"""The command line end to end: a moto server on 127.0.0.1 stands in for AWS via AWS_ENDPOINT_URL,
and `reconciler` runs as a user would run it, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from reconciler.demo.stack import create_drifted_stack, write_manifests
from reconciler.emulator import install


@pytest.fixture
def endpoint(credentials: None) -> Iterator[str]:
    """A moto server (with the project's extension) on a free loopback port, stopped after."""
    from moto.server import ThreadedMotoServer

    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield url
    finally:
        request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request).close()  # the server shares moto's in-process state
        server.stop()


@pytest.fixture
def manifests(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    create_drifted_stack(boto3.Session(region_name="us-east-1"))
    return write_manifests(str(tmp_path))


def reconciler(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=300,
        check=False,
    )


def test_plan_apply_plan_through_an_endpoint(manifests: str) -> None:
    drift = reconciler("plan", "--env", "demo", "--manifests", manifests, "--detailed-exitcode")
    assert drift.returncode == 2, drift.stderr
    assert "~ LambdaFunction/flask-api will be updated in place" in drift.stdout
    assert "memoryMb" in drift.stdout

    applied = reconciler("apply", "--env", "demo", "--manifests", manifests, "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Status: corrected" in applied.stdout

    after = reconciler("plan", "--env", "demo", "--manifests", manifests, "--detailed-exitcode")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "No changes" in after.stdout


def test_plan_json_is_the_contract_shape(manifests: str) -> None:
    result = reconciler("plan", "--env", "demo", "--manifests", manifests, "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["apiVersion"] == "reconciler/v1"
    assert plan["environment"] == "demo"
    assert plan["account"] == "123456789012"
    assert plan["summary"] == {"create": 1, "update": 11, "delete": 1, "noop": 0, "blocked": 0}
    memory = next(c for c in plan["changes"] if c["name"] == "flask-api")["diffs"]
    assert {"field": "memoryMb", "desired": 512, "actual": 256} in memory


def test_markdown_plan_is_a_table(manifests: str) -> None:
    result = reconciler("plan", "--env", "demo", "--manifests", manifests, "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("### reconciler plan: `demo`")
    assert "| ~ | `LambdaFunction/flask-api` | `memoryMb` | `256` | `512` |" in result.stdout


def test_apply_without_yes_and_no_terminal_refuses(manifests: str) -> None:
    result = reconciler("apply", "--env", "demo", "--manifests", manifests, stdin="yes\n")
    assert result.returncode == 1
    assert "refusing to apply without --yes" in result.stderr
    again = reconciler("plan", "--env", "demo", "--manifests", manifests, "--detailed-exitcode")
    assert again.returncode == 2, "nothing may have been applied"


def test_wrong_account_is_one_line_and_exit_1(manifests: str) -> None:
    env_file = Path(manifests, "demo", "environment.yaml")
    env_file.write_text(env_file.read_text().replace("123456789012", "999999999999"))
    result = reconciler("plan", "--env", "demo", "--manifests", manifests)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "declares account 999999999999" in result.stderr


def test_invalid_manifests_stop_plan_with_the_errors(manifests: str) -> None:
    gateway = Path(manifests, "demo", "gateway.yaml")
    gateway.write_text(gateway.read_text().replace("memoryMb: 256", "memoryMb: 20000"))
    result = reconciler("plan", "--env", "demo", "--manifests", manifests)
    assert result.returncode == 1
    assert "gateway.yaml:" in result.stderr
    assert "spec.memoryMb: 20000 is greater than the maximum of 10240" in result.stderr


def test_a_refused_apply_still_shows_the_plan_it_refused(manifests: str) -> None:
    env_file = Path(manifests, "demo", "environment.yaml")
    env_file.write_text(env_file.read_text() + "  maxChangesPerRun: 2\n")
    result = reconciler("apply", "--env", "demo", "--manifests", manifests, "--yes")
    assert result.returncode == 1
    assert "~ LambdaFunction/flask-api will be updated in place" in result.stdout
    assert "Refused: the plan has 13 changes, more than maxChangesPerRun (2)" in result.stdout
