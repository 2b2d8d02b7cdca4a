"""The shipped `template.yaml`, deployed into moto's CloudFormation the way `sam deploy` would.

`sam deploy` cannot target moto (moto has no SAM transform), so the steps it takes are taken here,
offline: package (upload the code and the state machine definition to S3 and point `CodeUri` and
`DefinitionUri` at them), translate with aws-sam-translator, then `CreateStack` with the plain
CloudFormation that results. Where moto's CloudFormation falls short of AWS's, the gap is closed
here and named (see /work/shared/AWS-EMULATION.md, "The template"):

- it ignores `DefinitionS3Location` and `DefinitionSubstitutions`, so `resolve_definition` does
  what CloudFormation does: reads the definition from S3 and fills each `${Name}` placeholder with
  its substitution, left as an intrinsic (`Fn::GetAtt`) for the stack to resolve;
- it cannot create some resource types (the function URL, and the alert e-mail's subscription and
  topic policy), so `without_unsupported` leaves them out, with whatever refers to them;
- state machines it creates cannot execute, so `executable_state_machine` re-creates the stack's
  machine, same name and definition, where executions run;
- it keeps `Ref: AWS::NoValue` in a list as a null (a policy statement list then fails with
  MalformedPolicyDocument) where CloudFormation removes the item, so `no_value_removes_list_items`
  makes it remove the item;
- it lets a scheduled rule match every `PutEvents`, which AWS never does, so
  `schedules_match_no_events` stops that for the duration of a test.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ASL = ROOT / "statemachine" / "reconcile.asl.json"
CODE_KEY = "artifacts/reconciler.zip"
DEFINITION_KEY = "artifacts/reconcile.asl.json"


class NoManagedPolicies:
    """Stands in for ManagedPolicyLoader: the template names no AWS managed policy by name."""

    def load(self) -> dict[str, str]:
        return {}


def placeholder_zip() -> bytes:
    """The functions' code package; the real handlers run in process (`lambda_in_process`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# the real handlers run in process\n")
    return buffer.getvalue()


def package(s3: Any, bucket: str) -> dict[str, Any]:
    """What `sam package` does: upload the code and the definition, and point the template at them."""
    from samtranslator.yaml_helper import yaml_parse

    template: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    s3.put_object(Bucket=bucket, Key=CODE_KEY, Body=placeholder_zip())
    s3.put_object(Bucket=bucket, Key=DEFINITION_KEY, Body=ASL.read_bytes())
    code_uri = f"s3://{bucket}/{CODE_KEY}"
    template["Globals"]["Function"]["CodeUri"] = code_uri
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in resource["Properties"]:
            resource["Properties"]["CodeUri"] = code_uri
        if resource["Type"] == "AWS::Serverless::StateMachine":
            assert resource["Properties"]["DefinitionUri"] == "statemachine/reconcile.asl.json"
            resource["Properties"]["DefinitionUri"] = f"s3://{bucket}/{DEFINITION_KEY}"
    return template


def translate(packaged: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """CloudFormation's `AWS::Serverless-2016-10-31` transform, run offline."""
    from samtranslator.translator.transform import transform

    translated: dict[str, Any] = transform(copy.deepcopy(packaged), parameters, NoManagedPolicies())
    return translated


def resolve_definition(translated: dict[str, Any], s3: Any) -> None:
    """Inline each state machine's S3 definition with its substitutions, as CloudFormation would.

    Each `${Name}` becomes the substitution's own intrinsic inside an `Fn::Join`, so the stack
    resolves it (the function ARNs exist only once the stack creates the functions).
    """
    for resource in translated["Resources"].values():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        properties = resource["Properties"]
        location = properties.pop("DefinitionS3Location")
        text = s3.get_object(Bucket=location["Bucket"], Key=location["Key"])["Body"].read().decode()
        substitutions = properties.pop("DefinitionSubstitutions", {})
        pieces: list[Any] = []
        for index, piece in enumerate(re.split(r"\$\{(\w+)\}", text)):
            # re.split with one group alternates literal text and placeholder names
            pieces.append(substitutions[piece] if index % 2 else piece)
        properties["DefinitionString"] = {"Fn::Join": ["", pieces]}


def _refers_to(node: Any, names: set[str]) -> bool:
    """Whether `node` mentions any of `names` by Ref, GetAtt, Sub or DependsOn."""
    if isinstance(node, dict):
        if node.get("Ref") in names:
            return True
        attribute = node.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute[0] in names:
            return True
        depends = node.get("DependsOn")
        if depends in names or (isinstance(depends, list) and names.intersection(depends)):
            return True
        return any(_refers_to(value, names) for value in node.values())
    if isinstance(node, list):
        return any(_refers_to(item, names) for item in node)
    if isinstance(node, str):
        return any(f"${{{name}}}" in node or f"${{{name}." in node for name in names)
    return False


def without_unsupported(translated: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The template less the resources moto's CloudFormation cannot create, and what refers to them.

    Returns the reduced template and the logical ids left out, with their types.
    """
    from moto.cloudformation.parsing import get_model_map

    supported = get_model_map()
    template = copy.deepcopy(translated)
    resources: dict[str, Any] = template["Resources"]
    dropped = {k: v["Type"] for k, v in resources.items() if v["Type"] not in supported}
    while True:
        referring = {
            k: v["Type"]
            for k, v in resources.items()
            if k not in dropped and _refers_to(v, set(dropped))
        }
        if not referring:
            break
        dropped.update(referring)
    for logical_id in dropped:
        del resources[logical_id]
    outputs: dict[str, Any] = template.get("Outputs", {})
    for name in [k for k, v in outputs.items() if _refers_to(v, set(dropped))]:
        del outputs[name]
    return template, dropped


@dataclass
class Stack:
    """A created stack: its outputs and its resources' physical ids by logical id and type."""

    name: str
    outputs: dict[str, str]
    physical_ids: dict[str, str]
    types: dict[str, str]
    left_out: dict[str, str]

    def of_type(self, resource_type: str) -> dict[str, str]:
        return {k: self.physical_ids[k] for k, t in self.types.items() if t == resource_type}


def create_stack(
    session: Any, name: str, bucket: str, parameters: dict[str, str]
) -> tuple[Stack, str]:
    """Package, translate and create the template; returns the stack and its final status."""
    s3 = session.client("s3")
    translated = translate(package(s3, bucket), parameters)
    resolve_definition(translated, s3)
    template, left_out = without_unsupported(translated)
    cloudformation = session.client("cloudformation")
    with no_value_removes_list_items():
        cloudformation.create_stack(
            StackName=name,
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
    (described,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    summaries = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
    stack = Stack(
        name=name,
        outputs={o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        physical_ids={s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries},
        types={s["LogicalResourceId"]: s["ResourceType"] for s in summaries},
        left_out=left_out,
    )
    return stack, str(described["StackStatus"])


def executable_state_machine(session: Any, arn: str, account: str, region: str) -> str:
    """Re-create the stack's state machine where moto executes it; returns the new ARN.

    moto's CloudFormation stores state machines in its plain backend, while the Step Functions API
    (with `execute_state_machine` on) serves a separate, executing one; the machine as the stack
    created it (definition with the ARNs resolved, name, role) is read from the former.
    """
    from moto.stepfunctions.models import stepfunctions_backends

    created = stepfunctions_backends[account][region].describe_state_machine(arn)
    sfn = session.client("stepfunctions")
    if any(m["stateMachineArn"] == arn for m in sfn.list_state_machines()["stateMachines"]):
        sfn.delete_state_machine(stateMachineArn=arn)
    return str(
        sfn.create_state_machine(
            name=created.name,
            definition=created.definition,
            roleArn=created.roleArn,
            type=created.type or "STANDARD",
        )["stateMachineArn"]
    )


@contextmanager
def schedules_match_no_events() -> Iterator[None]:
    """Within the block, moto's EventBridge delivers no event to a scheduled rule's targets.

    moto treats a rule without an event pattern as matching every `PutEvents`, so the template's
    drift-check schedule would receive each reconciler event, and moto then raises
    NotImplementedError on its Lambda target. In AWS a schedule never matches events.
    """
    from moto.events.models import Rule

    original = Rule.send_to_targets

    def send_to_targets(self: Rule, event: Any, transform_input: bool = True) -> None:
        if self.scheduled_expression:
            return
        original(self, event, transform_input)

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Rule.send_to_targets = original  # type: ignore[method-assign]


@contextmanager
def no_value_removes_list_items() -> Iterator[None]:
    """Within the block, moto's CloudFormation removes a list item that is `Ref: AWS::NoValue`.

    CloudFormation does ("removes the corresponding resource property" or list item), and the
    template relies on it: ManifestReadPolicy's statements are each `!If [condition, statement,
    !Ref AWS::NoValue]`. moto resolves AWS::NoValue to None, leaves it in the list, and IAM then
    rejects the policy document.
    """
    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(node: Any, resources_map: Any) -> Any:
        if isinstance(node, list):
            # `original` recurses through the module's name, so nested lists come back here
            cleaned = (clean_json(item, resources_map) for item in node)
            return [item for item in cleaned if item is not None]
        return original(node, resources_map)

    parsing.clean_json = clean_json  # type: ignore[assignment]
    try:
        yield
    finally:
        parsing.clean_json = original
