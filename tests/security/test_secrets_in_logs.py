"""Secrets never leave their store: not in logs, events, the run history or the executions.

A deployment reads its manifests from a git repository over HTTPS (a dulwich server on
127.0.0.1 behind a throwaway certificate, demanding the token as basic auth), with the git token and the webhook secret in Secrets
Manager. Everything the functions could write is captured while a full life runs: a signed push
that corrects the environment, a mis-signed one, a scheduled run, and a run whose token the
server refuses (errors are where secrets usually leak). Then every byte is searched for the
webhook secret, the git token, and the token as it travels (base64 basic auth):

- the log records of every logger, the reconciler's at DEBUG and the libraries' at INFO (what a
  deployed function writes at Powertools' and Lambda's default levels), and stdout/stderr
  (metrics, prints);
- the events delivered to EventBridge, the runs table (run records, plans, the lock, the
  webhook's idempotency records), and every execution's input, output and state history.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
from aws_calls import CallRecorder
from deployment import REGION, TABLE, Deployment, deploy
from dulwich.repo import Repo
from lambda_in_process import handlers_in_process
from policies import Stack
from test_sources import GitServer, commit_files
from tls import TlsServer, self_signed
from workload import FUNCTIONS

from reconciler.demo.stack import MANIFESTS, create_drifted_stack
from reconciler.emulator import install
from reconciler.triggers import sign

WEBHOOK_SECRET = "whsec-Zq8v3Lw0Xk2Tn7Rb"
GIT_TOKEN = "ghs_9TqL2mVx7Rk4Wp1Zc8Yd3Nf6"
GIT_TOKEN_NAME = "reconciler/git-token"
CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def secret_forms() -> dict[str, str]:
    basic = base64.b64encode(f"x-access-token:{GIT_TOKEN}".encode()).decode()
    return {"webhook secret": WEBHOOK_SECRET, "git token": GIT_TOKEN, "basic auth": basic}


@dataclass
class Life:
    """What a deployment wrote while it lived, beside its logs, gathered for the search."""

    events: list[dict[str, Any]]
    table: list[Any]
    executions: list[Any]
    responses: list[Any]
    statuses: list[str]


def configure_git_source(url: str, cache: Path) -> None:
    """Point every function at the git repository, with the token read from Secrets Manager."""
    lam = boto3.client("lambda", region_name=REGION)
    for function in lam.list_functions()["Functions"]:
        name = function["FunctionName"]
        if not name.startswith("reconciler-"):
            continue
        variables = dict(function["Environment"]["Variables"])
        variables |= {
            "MANIFEST_SOURCE": url,
            "GIT_TOKEN_SECRET_NAME": GIT_TOKEN_NAME,
            "RECONCILER_CACHE_DIR": str(cache / name),
        }
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})


def repository(path: Path) -> tuple[Repo, str]:
    repo = Repo.init_bare(str(path), mkdir=True)
    repo.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")
    files = {f"manifests/demo/{name}": text.encode() for name, text in MANIFESTS.items()}
    return repo, commit_files(repo, {"README.md": b"# platform\n", **files}, None).decode()


def deliver(body: bytes, signature: str, delivery: str) -> dict[str, Any]:
    request = {
        "headers": {
            "x-hub-signature-256": signature,
            "x-github-event": "push",
            "x-github-delivery": delivery,
        },
        "body": body.decode(),
        "isBase64Encoded": False,
    }
    lam = boto3.client("lambda", region_name=REGION)
    answer = lam.invoke(FunctionName="reconciler-webhook", Payload=json.dumps(request))
    response: dict[str, Any] = json.loads(answer["Payload"].read())
    return response


def push_body(revision: str) -> bytes:
    changed = {"added": [], "removed": [], "modified": ["manifests/demo/gateway.yaml"]}
    return json.dumps({
        "ref": "refs/heads/main", "after": revision, "before": "1" * 40, "deleted": False,
        "commits": [{"id": revision, **changed}], "head_commit": {"id": revision, **changed},
    }).encode()  # fmt: skip


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log record: the reconciler's loggers at DEBUG, everything else at INFO."""
    from reconciler.handlers import runtime, schedule, webhook  # their Loggers, set up

    stream = io.StringIO()
    reconciler = logging.getLogger(runtime.logger.name)
    assert webhook.logger.name == schedule.logger.name == reconciler.name
    handlers = [h for h in reconciler.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "Powertools' Logger has its stream handler on the `reconciler` logger"
    everything = logging.StreamHandler(stream)
    root = logging.getLogger()
    saved = (reconciler.level, root.level, [h.setStream(stream) for h in handlers])
    reconciler.setLevel(logging.DEBUG)
    root.setLevel(logging.INFO)
    root.addHandler(everything)
    try:
        yield stream
    finally:
        root.removeHandler(everything)
        reconciler.setLevel(saved[0])
        root.setLevel(saved[1])
        for handler, previous in zip(handlers, saved[2], strict=True):
            handler.setStream(previous)


def run_and_gather(deployment: Deployment, revision: str) -> Life:
    from reconciler.handlers import runtime

    sfn = boto3.client("stepfunctions", region_name=REGION)
    lam = boto3.client("lambda", region_name=REGION)
    responses: list[Any] = []
    statuses: list[str] = []

    def finished(arn: str) -> None:
        statuses.append(json.loads(deployment.wait(arn)["output"])["status"])

    body = push_body(revision)
    signed = deliver(body, sign(WEBHOOK_SECRET, body), "delivery-signed")
    forged = deliver(body, sign("not-" + WEBHOOK_SECRET, body), "delivery-forged")
    responses += [signed, forged]
    assert (signed["statusCode"], forged["statusCode"]) == (202, 401)
    finished(json.loads(signed["body"])["started"][0]["executionArn"])

    tick = lam.invoke(
        FunctionName="reconciler-schedule", Payload=b'{"time": "2026-11-21T12:00:00Z"}'
    )
    started = json.loads(tick["Payload"].read())
    responses.append(started)
    finished(started[0]["executionArn"])

    # The token is rotated in Secrets Manager but not yet on the server: the server refuses it.
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.put_secret_value(SecretId=GIT_TOKEN_NAME, SecretString=GIT_TOKEN + "-rotated")
    runtime._git_token_cached.cache_clear()
    finished(deployment.execute("refused", {"environment": "demo", "trigger": "manual", "revision": None, "mode": None}))  # fmt: skip

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    items = dynamodb.scan(TableName=TABLE)["Items"]
    for item in items:  # plans are stored gzipped: search them as text too
        if "plan" in item:
            item["plan"] = {"S": gzip.decompress(item["plan"]["B"]).decode()}
    machine = deployment.state_machine_arn
    executions = []
    for execution in sfn.list_executions(stateMachineArn=machine)["executions"]:
        arn = execution["executionArn"]
        executions.append(sfn.describe_execution(executionArn=arn))
        executions.append(sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])
    return Life(
        events=deployment.events(),
        table=items,
        executions=executions,
        responses=responses,
        statuses=statuses,
    )


def test_no_secret_is_written_anywhere_during_a_full_life(
    credentials: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    captured_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from reconciler.handlers import runtime, schedule, webhook

    install()
    for cached in (schedule.runtime, webhook.runtime, runtime._git_token_cached):
        cached.cache_clear()
    repo, revision = repository(tmp_path / "remote.git")
    recorder = CallRecorder()
    recorder.install(monkeypatch)
    certificate, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    server = GitServer(repo.path, token=GIT_TOKEN, reachable_shas=True)
    front = TlsServer(server._app, certificate, key)  # the token goes over https only
    url = f"{front.origin}/org/manifests.git"
    try:
        with moto.mock_aws(config=CONFIG), handlers_in_process():  # type: ignore[arg-type]
            create_drifted_stack(boto3.Session(region_name=REGION))
            deployment = deploy()
            secrets = boto3.client("secretsmanager", region_name=REGION)
            secrets.put_secret_value(SecretId="reconciler/webhook", SecretString=WEBHOOK_SECRET)
            secrets.create_secret(Name=GIT_TOKEN_NAME, SecretString=GIT_TOKEN)
            configure_git_source(url, tmp_path / "cache")
            life = run_and_gather(deployment, revision)
    finally:
        front.stop()
        server.stop()
        repo.close()
        webhook.runtime.cache_clear()
        runtime._git_token_cached.cache_clear()
    out = capsys.readouterr()
    logs = captured_logs.getvalue()

    # The life went as planned, and the capture saw it: the search below is not vacuous.
    assert life.statuses == ["corrected", "in-sync", "failed"], json.dumps(life.events)[:3000]
    for expected in ("push received", "mis-signed delivery refused", "run started", "run failed"):
        assert expected in logs, expected
    assert "refused the credentials" in json.dumps(life.events)
    assert any(auth and auth.startswith("Basic ") for auth in server.authorizations)

    written = {
        "logs": logs,
        "stdout and stderr": out.out + out.err,
        "events": json.dumps(life.events),
        "runs table": json.dumps(life.table, default=str),
        "executions": json.dumps(life.executions, default=str),
        "webhook and schedule answers": json.dumps(life.responses),
    }
    for where, text in written.items():
        assert len(text) > 100, where
        for name, secret in secret_forms().items():
            assert secret not in text, f"the {name} is in the {where}"
        assert GIT_TOKEN[:12] not in text, f"part of the git token is in the {where}"

    # A git source with a token changes what Load, Plan and Apply call: still all allowed.
    stack = Stack(
        ManifestSource="https://github.com/acme/platform.git", GitTokenSecretName=GIT_TOKEN_NAME
    )
    for name, logical in FUNCTIONS.items():
        assert recorder.actions(name) <= stack.role(f"{logical}Role").actions, name
    assert "secretsmanager:GetSecretValue" in recorder.actions("reconciler-load")
