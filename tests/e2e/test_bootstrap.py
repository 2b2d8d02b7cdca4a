"""What a user runs around `sam deploy`: bootstrap/deploy.sh and the example GitHub workflow.

deploy.sh runs against fake `aws`, `sam`, `openssl` and `python3.12` commands that record their
arguments, on a PATH holding nothing else, so the script's decisions are observable and nothing
reaches AWS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRET = "5e" * 32  # what the fake openssl "generates"
WEBHOOK_URL = "https://abc123.lambda-url.eu-west-1.on.aws/"

#: The system commands deploy.sh may use besides the fakes.
SYSTEM_TOOLS = ("bash", "sed", "tr", "mktemp", "chmod", "rm", "cat", "dirname", "tail")

FAKE_AWS = r"""#!/bin/bash
echo "aws $*" >> "$CALLS"
case "$1 $2" in
  "sts get-caller-identity") [[ -z "${FAKE_NO_CREDENTIALS:-}" ]] || exit 255; echo 111122223333 ;;
  "configure get") exit 1 ;;
  "secretsmanager describe-secret") [[ -n "${FAKE_SECRET_EXISTS:-}" ]] || exit 254 ;;
  "secretsmanager create-secret")
    for arg in "$@"; do
      if [[ "$arg" == file://* ]]; then cat "${arg#file://}" > "$CAPTURED_SECRET"; fi
    done
    echo arn:aws:secretsmanager:eu-west-1:111122223333:secret:reconciler/webhook-AbCdEf ;;
  "cloudformation describe-stacks")
    case "$*" in
      *WebhookUrl*) echo "FAKE_WEBHOOK_URL" ;;
      *StateMachineArn*) echo arn:aws:states:eu-west-1:111122223333:stateMachine:reconciler-reconcile ;;
    esac ;;
  *) echo "unexpected: aws $*" >&2; exit 2 ;;
esac
"""

FAKE_SAM = """#!/bin/bash
echo "sam $*" >> "$CALLS"
"""

FAKE_OPENSSL = f"""#!/bin/bash
echo "openssl $*" >> "$CALLS"
echo {SECRET}
"""

FAKE_DOCKER = """#!/bin/bash
echo "docker $*" >> "$CALLS"
"""


@dataclass
class Deployment:
    code: int
    output: str
    calls: list[str]
    secret: str | None


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of what deploy.sh reads: itself, samconfig.toml and requirements.txt."""
    repo = tmp_path / "repo"
    (repo / "bootstrap").mkdir(parents=True)
    shutil.copy(ROOT / "bootstrap" / "deploy.sh", repo / "bootstrap" / "deploy.sh")
    shutil.copy(ROOT / "samconfig.toml", repo / "samconfig.toml")
    (repo / "requirements.txt").write_text("pydantic>=2.9,<3\n")
    return repo


def tools(tmp_path: Path, *, python: bool = True, docker: bool = False) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fakes = {"aws": FAKE_AWS.replace("FAKE_WEBHOOK_URL", WEBHOOK_URL), "sam": FAKE_SAM}
    fakes["openssl"] = FAKE_OPENSSL
    if python:
        fakes["python3.12"] = "#!/bin/bash\nexit 0\n"
    if docker:
        fakes["docker"] = FAKE_DOCKER
    for name, script in fakes.items():
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    for name in SYSTEM_TOOLS:
        found = shutil.which(name)
        assert found, name
        (bin_dir / name).symlink_to(found)
    return bin_dir


def deploy(repo: Path, bin_dir: Path, **env: str) -> Deployment:
    calls = bin_dir.parent / "calls.log"
    captured = bin_dir.parent / "secret.txt"
    environment = {
        "PATH": str(bin_dir),
        "HOME": str(bin_dir.parent),
        "CALLS": str(calls),
        "CAPTURED_SECRET": str(captured),
        "AWS_REGION": "eu-west-1",
        **env,
    }
    result = subprocess.run(
        [str(bin_dir / "bash"), str(repo / "bootstrap" / "deploy.sh")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return Deployment(
        code=result.returncode,
        output=result.stdout + result.stderr,
        calls=calls.read_text().splitlines() if calls.exists() else [],
        secret=captured.read_text() if captured.exists() else None,
    )


def test_first_deploy_creates_the_secret_then_builds_and_deploys(
    checkout: Path, tmp_path: Path
) -> None:
    result = deploy(checkout, tools(tmp_path))
    assert result.code == 0, result.output
    creates = [c for c in result.calls if c.startswith("aws secretsmanager create-secret")]
    assert len(creates) == 1
    assert "--name reconciler/webhook" in creates[0]
    assert result.secret == SECRET  # exactly the random hex: no trailing newline
    assert SECRET not in result.output  # the secret is never printed
    assert SECRET not in " ".join(result.calls)  # nor passed on a command line
    sam = [c for c in result.calls if c.startswith("sam ")]
    assert sam == [
        "sam build",
        "sam deploy --guided --region eu-west-1 --parameter-overrides "
        "WebhookSecretName=reconciler/webhook",
    ]
    assert WEBHOOK_URL in result.output
    assert "application/json" in result.output
    assert "push" in result.output


def test_an_existing_secret_is_kept(checkout: Path, tmp_path: Path) -> None:
    result = deploy(checkout, tools(tmp_path), FAKE_SECRET_EXISTS="1")
    assert result.code == 0, result.output
    assert not [c for c in result.calls if "create-secret" in c]
    assert result.secret is None
    assert "sam build" in result.calls


def test_secret_name_can_be_chosen(checkout: Path, tmp_path: Path) -> None:
    result = deploy(checkout, tools(tmp_path), WEBHOOK_SECRET_NAME="team/hook")
    assert result.code == 0, result.output
    assert any("create-secret --name team/hook" in c for c in result.calls)
    assert any(c.endswith("WebhookSecretName=team/hook") for c in result.calls)


def test_without_credentials_nothing_is_created_or_deployed(checkout: Path, tmp_path: Path) -> None:
    result = deploy(checkout, tools(tmp_path), FAKE_NO_CREDENTIALS="1")
    assert result.code != 0
    assert "credentials" in result.output
    assert not [c for c in result.calls if c.startswith("sam") or "create-secret" in c]


def test_without_python312_it_builds_in_a_container(checkout: Path, tmp_path: Path) -> None:
    result = deploy(checkout, tools(tmp_path, python=False, docker=True))
    assert result.code == 0, result.output
    assert "sam build --use-container" in result.calls


def test_without_python312_or_docker_it_stops_before_anything(
    checkout: Path, tmp_path: Path
) -> None:
    result = deploy(checkout, tools(tmp_path, python=False))
    assert result.code != 0
    assert "python3.12" in result.output
    assert result.calls == []


def test_without_requirements_it_stops_before_anything(checkout: Path, tmp_path: Path) -> None:
    (checkout / "requirements.txt").unlink()
    result = deploy(checkout, tools(tmp_path))
    assert result.code != 0
    assert "requirements.txt" in result.output
    assert result.calls == []


def test_deploy_script_is_strict_bash() -> None:
    script = (ROOT / "bootstrap" / "deploy.sh").read_text()
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    assert os.access(ROOT / "bootstrap" / "deploy.sh", os.X_OK)


# --------------------------------------------------------------------------- GitHub workflow


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((ROOT / "bootstrap" / "github-workflow.yml").read_text())
    return data


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_workflow_triggers(workflow: dict[Any, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
    assert triggers["push"]["branches"] == ["main"]


def test_workflow_validates_pull_requests(workflow: dict[Any, Any]) -> None:
    job = workflow["jobs"]["validate"]
    assert "pull_request" in job["if"]
    assert "reconciler validate" in runs(job)


def test_workflow_plans_every_environment_with_oidc(workflow: dict[Any, Any]) -> None:
    job = workflow["jobs"]["plan"]
    assert job["needs"] == "validate"
    assert job["permissions"]["id-token"] == "write"
    assert job["permissions"]["pull-requests"] == "write"
    assert job["strategy"]["matrix"]["environment"] == ["dev", "staging", "prod"]
    uses = [step.get("uses", "") for step in job["steps"]]
    credentials = job["steps"][uses.index("aws-actions/configure-aws-credentials@v4")]
    assert "role-to-assume" in credentials["with"]
    assert "reconciler plan --env" in runs(job)
    assert "--format markdown" in runs(job)
    assert any(u.startswith("actions/github-script") for u in uses)  # the PR comment


def test_workflow_publishes_merges_to_main(workflow: dict[Any, Any]) -> None:
    job = workflow["jobs"]["publish"]
    assert "refs/heads/main" in job["if"]
    assert job["permissions"]["id-token"] == "write"
    command = runs(job)
    assert "reconciler publish --to" in command
    assert "--revision ${{ github.sha }}" in command
    assert workflow["permissions"] == {"contents": "read"}  # nothing more unless a job asks
