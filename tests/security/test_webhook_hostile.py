"""The commit webhook under attack: what `tests/functional/test_webhook.py` does not already try.

The function URL is public (`AuthType: NONE`); only the HMAC signature separates GitHub from
anyone. Already covered there: unsigned, mis-signed (other secret, other body, malformed, no
`sha256=`, empty), signature checked before parsing, oversized (text and base64), signed garbage,
non-push events, other branches, tags, deleted branches, redelivery (same delivery id, also after
the record is forgotten). Here, each case must again end in 401, 400 or an ignored 202, with no
execution started and no idempotency record written:

- the legacy SHA-1 header alone, two signatures folded into one header, non-ASCII signatures;
- a body flagged base64 that is not, and a signed push without a delivery id;
- file paths that try to step out of `manifests/<env>/`;
- an unsigned or oversized request costs no AWS call at all (no secret read, no table write),
  so flooding the public URL costs Lambda time only.

And the replay the signature cannot stop: a captured, validly signed push of an older commit,
sent again under a fresh delivery id, must not roll the environment back (end to end, on the
state machine).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
import test_webhook
from botocore.client import BaseClient
from test_webhook import DEV_AND_PROD, SECRET, Deployment, LambdaContext, answer, deliver, push_body

from reconciler.cli import main as cli
from reconciler.demo.stack import MANIFESTS
from reconciler.handlers import webhook
from reconciler.triggers import sign

deployment = test_webhook.deployment  # the functional tests' fixture: secret, table, machine


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS operation made from now on."""
    made: list[str] = []
    original = BaseClient._make_api_call

    def counted(client: BaseClient, operation: str, parameters: dict[str, Any]) -> Any:
        made.append(f"{client.meta.service_model.service_name}:{operation}")
        return original(client, operation, parameters)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return made


def nothing_started(deployment: Deployment) -> None:
    assert deployment.executions() == {}
    assert deployment.idempotency_records() == []


def sha1_signature(body: bytes) -> str:
    return "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()


@pytest.mark.parametrize(
    ("headers", "signature"),
    [
        pytest.param(lambda body: {"x-hub-signature": sha1_signature(body)}, None, id="sha1-only"),
        pytest.param(
            lambda body: {}, lambda body: f"{sign('guess', body)},{sign(SECRET, body)}", id="folded"
        ),
        pytest.param(
            lambda body: {}, lambda body: f"{sign(SECRET, body)} {sign(SECRET, body)}", id="twice"
        ),
        pytest.param(lambda body: {}, lambda body: "sha256=" + "é" * 64, id="non-ascii"),
        pytest.param(lambda body: {}, lambda body: sign(SECRET, body) + "00", id="too-long"),
        pytest.param(lambda body: {}, lambda body: sign(SECRET, body)[:-2], id="truncated"),
        pytest.param(lambda body: {}, lambda body: "SHA256=" + sign(SECRET, body)[7:], id="case"),
    ],
)
def test_signatures_that_are_not_exactly_githubs_get_401(
    deployment: Deployment, headers: Any, signature: Any
) -> None:
    body = push_body(*DEV_AND_PROD)
    request = {
        "headers": {
            "x-github-event": "push",
            "x-github-delivery": "delivery-hostile",
            **headers(body),
            **({"x-hub-signature-256": signature(body)} if signature else {}),
        },
        "body": body.decode(),
        "isBase64Encoded": False,
    }
    response = webhook.handler(request, LambdaContext())
    assert response["statusCode"] == 401, response
    nothing_started(deployment)


def test_a_plain_body_flagged_base64_is_refused(deployment: Deployment) -> None:
    body = push_body(*DEV_AND_PROD)
    request = {
        "headers": {
            "x-github-event": "push",
            "x-github-delivery": "delivery-b64",
            "x-hub-signature-256": sign(SECRET, body),
        },
        "body": body.decode(),
        "isBase64Encoded": True,
    }
    response = webhook.handler(request, LambdaContext())
    assert response["statusCode"] in (400, 401), response
    nothing_started(deployment)


def test_a_signed_push_without_a_delivery_id_is_refused(deployment: Deployment) -> None:
    response = deliver(push_body(*DEV_AND_PROD), delivery="")
    assert response["statusCode"] == 400
    nothing_started(deployment)


@pytest.mark.parametrize(
    "path",
    [
        "manifests/../prod/api.yaml",
        "manifests/qa/../prod/api.yaml",
        "manifests//prod/api.yaml",
        "./manifests/prod/api.yaml",
        "/manifests/prod/api.yaml",
        "manifests\\prod\\api.yaml",
        "manifests/prod",
        "manifests/prod/",
    ],
)
def test_paths_that_step_out_of_an_environment_folder_start_nothing(
    deployment: Deployment, path: str
) -> None:
    response = deliver(push_body(path))
    assert (response["statusCode"], answer(response)) == (202, {"started": []})
    assert deployment.executions() == {}


@pytest.mark.parametrize(
    ("signature", "size", "status"),
    [(None, 100, 401), (None, 2 << 20, 413), ("sign", 2 << 20, 413)],
    ids=["unsigned", "unsigned-oversized", "signed-oversized"],
)
def test_refusing_a_request_costs_no_aws_call(
    deployment: Deployment, aws_calls: list[str], signature: str | None, size: int, status: int
) -> None:
    webhook.runtime()  # the container's clients exist already (a warm function)
    aws_calls.clear()
    response = deliver(push_body(*DEV_AND_PROD, pad="x" * size), signature=signature)
    assert response["statusCode"] == status
    assert aws_calls == []
    nothing_started(deployment)


def test_the_aws_call_counter_counts(deployment: Deployment, aws_calls: list[str]) -> None:
    """The control for the test above: a mis-signed request does read the secret."""
    webhook.runtime.cache_clear()
    assert deliver(push_body(*DEV_AND_PROD), signature=sign("guess", b"x"))["statusCode"] == 401
    assert "secretsmanager:GetSecretValue" in aws_calls


# --------------------------------------------------------------------------- replay, end to end

CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@pytest.fixture
def state_machine(credentials: None, tmp_path: Path) -> Iterator[Any]:
    """The e2e deployment (real handlers, real state machine) with the demo environment."""
    import workload
    from deployment import REGION, deploy
    from lambda_in_process import handlers_in_process

    from reconciler.demo.stack import create_drifted_stack
    from reconciler.emulator import install
    from reconciler.handlers import runtime, schedule

    install()
    for cached in (schedule.runtime, webhook.runtime, runtime._git_token_cached):
        cached.cache_clear()
    with moto.mock_aws(config=CONFIG), handlers_in_process():  # type: ignore[arg-type]
        create_drifted_stack(boto3.Session(region_name=REGION))
        deployed = deploy()
        workload.own_cache_per_function(tmp_path / "cache")
        yield deployed
    webhook.runtime.cache_clear()


def memory_of(function: str) -> int:
    lam = boto3.client("lambda", region_name="us-east-1")
    return int(lam.get_function(FunctionName=function)["Configuration"]["MemorySize"])


def test_a_replayed_old_push_does_not_roll_the_environment_back(
    state_machine: Any, tmp_path: Path
) -> None:
    import workload

    def publish(revision: str, memory: int) -> None:
        files = {**MANIFESTS, "gateway.yaml": MANIFESTS["gateway.yaml"].replace("256", str(memory))}
        folder = tmp_path / revision / "demo"
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        published = cli(
            ["publish", "--to", workload.SOURCE, "--revision", revision, str(folder.parent)]
        )
        assert published == 0

    def wait(response: dict[str, Any]) -> str:
        assert response["statusCode"] == 202, response
        (started,) = json.loads(response["body"])["started"]
        return str(json.loads(state_machine.wait(started["executionArn"])["output"])["status"])

    old, new = "a" * 40, "b" * 40
    publish(old, 256)
    assert wait(workload.push(old, "delivery-old")) == "corrected"
    publish(new, 1024)
    assert wait(workload.push(new, "delivery-new")) == "corrected"
    assert memory_of("gateway") == 1024

    wait(workload.push(old, "delivery-replayed"))  # the old body, signed by GitHub, again

    assert memory_of("gateway") == 1024, "the replay rolled gateway back to the old commit"


def test_replay_fixture_is_sound(state_machine: Any) -> None:
    """The control for the replay test: the fixture's webhook does start and finish runs."""
    import workload

    response = workload.push("f" * 40, "delivery-unpublished")
    assert response["statusCode"] == 202
    (started,) = json.loads(response["body"])["started"]
    output = json.loads(state_machine.wait(started["executionArn"])["output"])
    assert output["status"] == "failed"  # nothing was published as that revision
