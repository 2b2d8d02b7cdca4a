"""The commit webhook against moto: Secrets Manager, the runs table and a (non-running) state machine."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import boto3
import moto
import pytest

from reconciler.handlers import webhook
from reconciler.triggers import ZERO_SHA, sign

SECRET = "s3cr3t-webhook-value"
SECRET_NAME = "reconciler/webhook"
TABLE = "reconciler-runs"
DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
AFTER = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"


@dataclass
class LambdaContext:
    function_name: str = "reconciler-webhook"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:reconciler-webhook"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class Deployment:
    sfn: Any
    dynamodb: Any
    secrets: Any
    state_machine_arn: str

    def executions(self) -> dict[str, dict[str, Any]]:
        """Every execution started so far, by name, with its parsed input."""
        listed = self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]
        return {
            e["name"]: json.loads(
                self.sfn.describe_execution(executionArn=e["executionArn"])["input"]
            )
            for e in listed
        }

    def finish_all(self) -> None:
        for execution in self.sfn.list_executions(stateMachineArn=self.state_machine_arn)[
            "executions"
        ]:
            self.sfn.stop_execution(executionArn=execution["executionArn"])

    def idempotency_records(self) -> list[dict[str, Any]]:
        items = self.dynamodb.scan(TableName=TABLE)["Items"]
        return [item for item in items if item["pk"]["S"] == "idempotency#webhook"]


@pytest.fixture
def deployment(credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    with moto.mock_aws():
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(Name=SECRET_NAME, SecretString=SECRET)
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        sfn = boto3.client("stepfunctions")
        arn = sfn.create_state_machine(
            name="reconcile",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/reconciler-state-machine",
        )["stateMachineArn"]
        for name, value in {
            "STATE_MACHINE_ARN": arn,
            "ENVIRONMENTS": "dev,staging,prod",
            "BRANCH": "main",
            "WEBHOOK_SECRET_NAME": SECRET_NAME,
            "RUNS_TABLE": TABLE,
        }.items():
            monkeypatch.setenv(name, value)
        webhook.runtime.cache_clear()
        yield Deployment(sfn, dynamodb, secrets, arn)
        webhook.runtime.cache_clear()


def push_body(
    *paths: str, ref: str = "refs/heads/main", after: str = AFTER, **fields: Any
) -> bytes:
    payload = {
        "ref": ref,
        "before": "1" * 40,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "repository": {"full_name": "acme/platform"},
        "commits": [{"id": after, "added": [], "modified": list(paths), "removed": []}],
        "head_commit": {"id": after, "added": [], "modified": list(paths), "removed": []},
        **fields,
    }
    return json.dumps(payload).encode()


def deliver(
    body: bytes,
    *,
    event: str = "push",
    delivery: str = DELIVERY,
    signature: str | None = "sign",
    encode: bool = False,
    content_type: str = "application/json",
) -> dict[str, Any]:
    headers = {
        "content-type": content_type,
        "user-agent": "GitHub-Hookshot/abc",
        "x-github-event": event,
        "x-github-delivery": delivery,
    }
    if signature == "sign":
        headers["x-hub-signature-256"] = sign(SECRET, body)
    elif signature is not None:
        headers["x-hub-signature-256"] = signature
    request = {
        "version": "2.0",
        "rawPath": "/",
        "headers": headers,
        "body": base64.b64encode(body).decode() if encode else body.decode(),
        "isBase64Encoded": encode,
        "requestContext": {"http": {"method": "POST"}},
    }
    response: dict[str, Any] = webhook.handler(request, LambdaContext())
    return response


def answer(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


DEV_AND_PROD = ("manifests/dev/api.yaml", "manifests/prod/alarms.yaml", "README.md")


# --- refusals -------------------------------------------------------------------------------


def test_unsigned_delivery_is_refused_and_starts_nothing(deployment: Deployment) -> None:
    response = deliver(push_body(*DEV_AND_PROD), signature=None)
    assert response["statusCode"] == 401
    assert deployment.executions() == {}


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(sign("not-the-secret", push_body(*DEV_AND_PROD)), id="other-secret"),
        pytest.param(sign(SECRET, push_body("manifests/dev/x.yaml")), id="other-body"),
        pytest.param("sha256=xyz", id="malformed"),
        pytest.param(sign(SECRET, push_body(*DEV_AND_PROD))[7:], id="no-prefix"),
        pytest.param("", id="empty"),
    ],
)
def test_mis_signed_delivery_is_refused_and_starts_nothing(
    deployment: Deployment, signature: str
) -> None:
    response = deliver(push_body(*DEV_AND_PROD), signature=signature)
    assert response["statusCode"] == 401
    assert deployment.executions() == {}
    assert deployment.idempotency_records() == []


def test_signature_is_checked_before_the_body_is_parsed(deployment: Deployment) -> None:
    # Not JSON at all: a parse-first handler would answer 400; this one refuses the sender.
    response = deliver(b"{not json", signature=sign("wrong", b"{not json"))
    assert response["statusCode"] == 401


@pytest.mark.parametrize("encode", [False, True], ids=["text", "base64"])
def test_oversized_body_is_refused(deployment: Deployment, *, encode: bool) -> None:
    padding = "x" * (1024 * 1024)
    response = deliver(push_body(*DEV_AND_PROD, padding=padding), encode=encode)
    assert response["statusCode"] == 413
    assert deployment.executions() == {}


def test_a_body_of_exactly_one_mib_is_accepted(deployment: Deployment) -> None:
    prefix = push_body("manifests/dev/a.yaml")[:-1] + b', "pad": "'
    body = prefix + b"x" * (1024 * 1024 - len(prefix) - 2) + b'"}'
    assert len(body) == 1024 * 1024
    assert deliver(body, encode=True)["statusCode"] == 202
    assert list(deployment.executions()) == [f"{DELIVERY}-dev"]


def test_signed_garbage_is_a_bad_request(deployment: Deployment) -> None:
    assert deliver(b"{not json")["statusCode"] == 400
    assert deliver(b'{"zen": "no ref"}')["statusCode"] == 400
    assert deployment.executions() == {}


def test_unreadable_secret_answers_503(deployment: Deployment) -> None:
    deployment.secrets.delete_secret(SecretId=SECRET_NAME, ForceDeleteWithoutRecovery=True)
    response = deliver(push_body(*DEV_AND_PROD))
    assert response["statusCode"] == 503
    assert deployment.executions() == {}


# --- what is ignored ------------------------------------------------------------------------


def test_ping_answers_pong(deployment: Deployment) -> None:
    response = deliver(b'{"zen": "Keep it logically awesome.", "hook_id": 1}', event="ping")
    assert (response["statusCode"], response["body"]) == (200, "pong")


@pytest.mark.parametrize("event", ["issues", "pull_request", "create", ""])
def test_events_other_than_push_start_nothing(deployment: Deployment, event: str) -> None:
    response = deliver(push_body(*DEV_AND_PROD), event=event)
    assert response["statusCode"] == 202
    assert answer(response)["started"] == []
    assert deployment.executions() == {}


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"ref": "refs/heads/feature"}, id="other-branch"),
        pytest.param({"ref": "refs/tags/main"}, id="tag"),
        pytest.param({"deleted": True, "after": ZERO_SHA}, id="branch-deleted"),
    ],
)
def test_pushes_not_updating_the_branch_start_nothing(
    deployment: Deployment, fields: dict[str, Any]
) -> None:
    response = deliver(push_body(*DEV_AND_PROD, **fields))
    assert response["statusCode"] == 202
    assert answer(response)["started"] == []
    assert "ignored" in answer(response)
    assert deployment.executions() == {}


def test_push_changing_no_environment_starts_nothing(deployment: Deployment) -> None:
    response = deliver(push_body("README.md", "manifests/qa/api.yaml"))
    assert (response["statusCode"], answer(response)) == (202, {"started": []})
    assert deployment.executions() == {}


# --- starting runs --------------------------------------------------------------------------


def test_push_starts_one_run_per_changed_environment(deployment: Deployment) -> None:
    response = deliver(push_body(*DEV_AND_PROD))
    assert response["statusCode"] == 202
    started = answer(response)["started"]
    assert [(run["environment"], run["name"]) for run in started] == [
        ("dev", f"{DELIVERY}-dev"),
        ("prod", f"{DELIVERY}-prod"),
    ]
    assert deployment.executions() == {
        f"{DELIVERY}-{env}": {
            "environment": env,
            "trigger": "commit",
            "revision": AFTER,
            "mode": None,
        }
        for env in ("dev", "prod")
    }


def test_base64_and_form_encoded_deliveries_are_understood(deployment: Deployment) -> None:
    deliver(push_body("manifests/dev/a.yaml"), delivery="d-base64", encode=True)
    form = urlencode({"payload": push_body("manifests/prod/a.yaml").decode()}).encode()
    deliver(form, delivery="d-form", content_type="application/x-www-form-urlencoded")
    assert sorted(deployment.executions()) == ["d-base64-dev", "d-form-prod"]


def test_redelivery_starts_nothing_new(deployment: Deployment) -> None:
    first = answer(deliver(push_body(*DEV_AND_PROD)))
    again = deliver(push_body(*DEV_AND_PROD))
    assert again["statusCode"] == 202
    assert answer(again) == {**first, "duplicate": True}
    assert len(deployment.executions()) == 2
    [record] = deployment.idempotency_records()
    assert "expiresAt" in record  # the table's TTL forgets old deliveries


def test_redelivery_after_the_delivery_is_forgotten_still_starts_nothing(
    deployment: Deployment,
) -> None:
    deliver(push_body(*DEV_AND_PROD))
    for item in deployment.idempotency_records():
        deployment.dynamodb.delete_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]})
    deployment.finish_all()  # finished runs: Step Functions refuses their names

    again = answer(deliver(push_body(*DEV_AND_PROD)))
    assert [run["alreadyStarted"] for run in again["started"]] == [True, True]
    assert len(deployment.executions()) == 2


def test_another_delivery_of_the_same_commit_starts_its_own_runs(deployment: Deployment) -> None:
    deliver(push_body("manifests/dev/a.yaml"))
    deliver(push_body("manifests/dev/a.yaml"), delivery="second-delivery")
    assert sorted(deployment.executions()) == [f"{DELIVERY}-dev", "second-delivery-dev"]


def test_failed_delivery_can_be_redelivered(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATE_MACHINE_ARN", deployment.state_machine_arn + "-gone")
    webhook.runtime.cache_clear()
    assert deliver(push_body(*DEV_AND_PROD))["statusCode"] == 500
    assert deployment.idempotency_records() == []

    monkeypatch.setenv("STATE_MACHINE_ARN", deployment.state_machine_arn)
    webhook.runtime.cache_clear()
    assert deliver(push_body(*DEV_AND_PROD))["statusCode"] == 202
    assert len(deployment.executions()) == 2


def test_truncated_push_starts_every_environment(deployment: Deployment) -> None:
    commits = [{"id": str(i), "added": [], "modified": [], "removed": []} for i in range(21)]
    deliver(push_body(commits=commits))
    assert sorted(deployment.executions()) == sorted(
        f"{DELIVERY}-{env}" for env in ("dev", "staging", "prod")
    )


def test_neither_secret_nor_signature_is_logged(deployment: Deployment) -> None:
    handler = webhook.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    output = io.StringIO()
    previous = handler.setStream(output)
    try:
        body = push_body(*DEV_AND_PROD)
        deliver(body)
        deliver(body, signature=sign("wrong", body))
    finally:
        handler.setStream(previous)
    text = output.getvalue()
    assert DELIVERY in text  # the logs do name the delivery
    assert "mis-signed" in text
    for secret_text in (SECRET, sign(SECRET, body)[7:], sign("wrong", body)[7:]):
        assert secret_text not in text
