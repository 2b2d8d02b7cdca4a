"""A reconciler deployment inside moto: table, bucket, functions, state machine, event capture.

The functions are the real handlers, run in process by `lambda_in_process`; the state machine is
`statemachine/reconcile.asl.json` with its substitutions filled, run by moto's ASL interpreter.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachine" / "reconcile.asl.json"
REGION = "us-east-1"
BUCKET = "reconciler-manifests"
TABLE = "reconciler-runs"
MACHINE = "reconciler"
STATE_FUNCTIONS = ("start", "load", "plan", "apply", "report", "fail")
ENTRY_FUNCTIONS = ("schedule", "webhook")
WEBHOOK_SECRET = "e2e-webhook-secret"


@dataclass
class Deployment:
    state_machine_arn: str
    queue_url: str
    environments: str

    def execute(self, name: str, run_input: dict[str, Any]) -> str:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        return sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(run_input)
        )["executionArn"]

    def wait(self, execution_arn: str, timeout: float = 120) -> dict[str, Any]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return dict(described)
            time.sleep(0.1)
        raise AssertionError(f"{execution_arn} still running after {timeout} s")

    def events(self) -> list[dict[str, Any]]:
        """Every event delivered to the capture queue so far, oldest first."""
        sqs = boto3.client("sqs", region_name=REGION)
        seen: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return seen
            for message in messages:
                seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# the real handlers run in process\n")
    return buffer.getvalue()


def deploy(environments: str = "demo") -> Deployment:
    """Create everything the template would, against the current moto account."""
    session = boto3.Session(region_name=REGION)
    dynamodb = session.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    dynamodb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
    )
    session.client("s3").create_bucket(Bucket=BUCKET)
    session.client("secretsmanager").create_secret(
        Name="reconciler/webhook", SecretString=WEBHOOK_SECRET
    )
    role = session.client("iam").create_role(
        RoleName="reconciler-e2e",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    sqs = session.client("sqs")
    queue_url = sqs.create_queue(QueueName="reconciler-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events = session.client("events")
    events.put_rule(Name="capture", EventPattern=json.dumps({"source": ["reconciler"]}))
    events.put_targets(Rule="capture", Targets=[{"Id": "queue", "Arn": queue_arn}])

    machine_arn = f"arn:aws:states:{REGION}:123456789012:stateMachine:{MACHINE}"
    variables = {
        "MANIFEST_SOURCE": f"s3://{BUCKET}/manifests",
        "RUNS_TABLE": TABLE,
        "EVENT_BUS_NAME": "default",
        "STATE_MACHINE_ARN": machine_arn,
        "ENVIRONMENTS": environments,
        "BRANCH": "main",
        "WEBHOOK_SECRET_NAME": "reconciler/webhook",
        "POWERTOOLS_SERVICE_NAME": "reconciler",
        "POWERTOOLS_METRICS_NAMESPACE": "Reconciler",
        "RECONCILER_CACHE_DIR": os.environ["RECONCILER_CACHE_DIR"],
    }
    lam = session.client("lambda")
    arns: dict[str, str] = {}
    for name in (*STATE_FUNCTIONS, *ENTRY_FUNCTIONS):
        arns[name] = lam.create_function(
            FunctionName=f"reconciler-{name}",
            Runtime="python3.12",
            Role=role,
            Handler=f"reconciler.handlers.{name}.handler",
            Code={"ZipFile": _zip()},
            Environment={"Variables": variables},
            Timeout=300,
        )["FunctionArn"]
    definition = ASL.read_text()
    for name in STATE_FUNCTIONS:
        definition = definition.replace(f"${{{name.capitalize()}FunctionArn}}", arns[name])
    assert "${" not in definition, "every substitution is filled"
    sfn = session.client("stepfunctions")
    created = sfn.create_state_machine(name=MACHINE, definition=definition, roleArn=role)
    assert created["stateMachineArn"] == machine_arn
    return Deployment(machine_arn, queue_url, environments)
