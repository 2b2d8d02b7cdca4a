"""The shipped `template.yaml`, deployed into moto's CloudFormation, converges a drifted demo.

Unlike `test_state_machine.py`, which builds the deployment by hand, nothing here names a function,
a table or an environment variable: the stack creates them from the template (translated offline
with aws-sam-translator, as CloudFormation's transform would), and the run goes through the state
machine the stack created, whose Task states invoke the stack's functions with the environment
the template gives them. `stack.py` lists each gap of moto's CloudFormation closed on the way.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
from lambda_in_process import MOTO_CONFIG, handlers_in_process
from stack import create_stack, executable_state_machine, schedules_match_no_events

from reconciler.cli import main as cli
from reconciler.demo.stack import ACCOUNT, create_drifted_stack, write_manifests
from reconciler.emulator import install
from reconciler.history import RunsTable

REGION = "us-east-1"
STACK = "reconciler"
BUCKET = "reconciler-deploy"
REVISION = "e" * 40
RUN = {"environment": "demo", "trigger": "manual", "revision": None, "mode": "apply"}


@pytest.fixture
def aws(credentials: None) -> Iterator[boto3.Session]:
    from reconciler.handlers import runtime

    install()
    runtime._tracer.cache_clear()  # built once per process, from the first caller's environment
    with (
        moto.mock_aws(config=MOTO_CONFIG),  # type: ignore[call-overload]
        handlers_in_process(),
        schedules_match_no_events(),
    ):
        yield boto3.Session(region_name=REGION)


def capture_events(session: boto3.Session) -> str:
    """Route the reconciler's events on the default bus to a new queue; returns its URL."""
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="reconciler-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = session.client("events")
    events.put_rule(Name="capture", EventPattern=json.dumps({"source": ["reconciler"]}))
    events.put_targets(Rule="capture", Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


def delivered(session: boto3.Session, url: str) -> list[dict[str, Any]]:
    sqs = session.client("sqs")
    seen: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return seen


def execute(session: boto3.Session, machine: str, name: str) -> dict[str, Any]:
    """Start an execution and wait for its end; returns `DescribeExecution`."""
    sfn = session.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(RUN))[
        "executionArn"
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.05)
    raise AssertionError(f"{name} still running after 60 s")


def test_the_deployed_template_converges_a_drifted_environment(
    aws: boto3.Session, tmp_path: Path
) -> None:
    aws.client("s3").create_bucket(Bucket=BUCKET)
    parameters = {
        "ManifestSource": f"s3://{BUCKET}/manifests",
        "Environments": "demo",
        "AlertEmail": "",  # Tracing stays at its default, Active: the handlers build the Tracer
    }
    stack, status = create_stack(aws, STACK, BUCKET, parameters)
    assert status == "CREATE_COMPLETE"
    # What moto could not create: the function URL (AWS::Lambda::Url, with the WebhookUrl output)
    # and the alert e-mail's resources, which AlertEmail="" leaves out of a real stack anyway.
    assert stack.left_out == {
        "WebhookFunctionUrl": "AWS::Lambda::Url",
        "AlertSubscription": "AWS::SNS::Subscription",
        "AlertTopicPolicy": "AWS::SNS::TopicPolicy",
    }
    assert "AlertTopic" not in stack.types  # the HasAlertEmail condition held
    functions = stack.of_type("AWS::Lambda::Function")
    assert set(functions) == {
        f"{name}Function"
        for name in ("Start", "Load", "Plan", "Apply", "Report", "Fail", "Schedule", "Webhook")
    }
    (table,) = stack.of_type("AWS::DynamoDB::Table").values()
    (created_machine,) = stack.of_type("AWS::StepFunctions::StateMachine").values()
    assert created_machine.endswith(f":stateMachine:{STACK}-reconcile")
    assert stack.outputs == {"StateMachineArn": created_machine, "RunsTableName": table}

    machine = executable_state_machine(aws, created_machine, ACCOUNT, REGION)
    assert machine == created_machine  # so the triggers' STATE_MACHINE_ARN names it
    definition = json.loads(
        aws.client("stepfunctions").describe_state_machine(stateMachineArn=machine)["definition"]
    )
    lam = aws.client("lambda")
    arns = {
        logical: lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        for logical, name in functions.items()
    }
    assert definition["States"]["Start"]["Resource"] == arns["StartFunction"]
    assert definition["States"]["Failed"]["Resource"] == arns["FailFunction"]
    variables = lam.get_function_configuration(FunctionName=functions["ReportFunction"])[
        "Environment"
    ]["Variables"]
    assert variables["RUNS_TABLE"] == table
    assert variables["MANIFEST_SOURCE"] == parameters["ManifestSource"]
    assert variables["RECONCILER_TRACING"] == "true"  # the default, Tracing: Active

    root = write_manifests(str(tmp_path / "repo"))
    publish = ["publish", "--to", parameters["ManifestSource"], "--revision", REVISION, root]
    assert cli(publish) == 0
    create_drifted_stack(aws)
    queue = capture_events(aws)

    execution = execute(aws, machine, "deployed-1")
    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["status"] == "corrected", output
    assert output["revision"] == REVISION
    assert output["summary"] == {"create": 1, "update": 11, "delete": 1, "noop": 0, "blocked": 0}
    kinds = Counter(event["detail-type"] for event in delivered(aws, queue))
    assert kinds == {"Drift Detected": 13, "Drift Corrected": 13, "Reconcile Completed": 1}
    runs = RunsTable(aws.client("dynamodb"), table)
    (record,) = (r.to_json() for r in runs.runs("demo"))
    assert record["status"] == "corrected"
    assert record["runId"] == "deployed-1"
    assert runs.lock_holder("demo") is None

    again = execute(aws, machine, "deployed-2")
    assert json.loads(again["output"])["status"] == "in-sync", again
    kinds = Counter(event["detail-type"] for event in delivered(aws, queue))
    assert kinds == {"Reconcile Completed": 1}


def test_stack_keeps_track_of_left_out_resources() -> None:
    """`without_unsupported` also drops what refers to a left-out resource."""
    from stack import without_unsupported

    template = {
        "Resources": {
            "Url": {"Type": "AWS::Lambda::Url", "Properties": {}},
            "Uses": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${Url.FunctionUrl}"}}},
            "Kept": {"Type": "AWS::SQS::Queue", "Properties": {}},
        },
        "Outputs": {"U": {"Value": {"Fn::GetAtt": ["Url", "FunctionUrl"]}}, "K": {"Value": {"Ref": "Kept"}}},
    }  # fmt: skip
    reduced, left_out = without_unsupported(template)
    assert left_out == {"Url": "AWS::Lambda::Url", "Uses": "AWS::SQS::Queue"}
    assert set(reduced["Resources"]) == {"Kept"}
    assert set(reduced["Outputs"]) == {"K"}
