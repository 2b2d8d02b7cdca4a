"""What the shipped templates allow: the IAM actions of every role, for given parameter values.

`template.yaml` is translated offline with aws-sam-translator (as CloudFormation's transform
would), its conditions are evaluated for the parameters, and each role's actions are gathered from
its inline policies and the stack's own managed policies it attaches. AWS managed policies (SAM's
logging and X-Ray ones) are reported apart: they serve the Lambda runtime, not the code.
`bootstrap/target-role.yaml` gives the target role's actions per inline policy.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
TARGET_ROLE = ROOT / "bootstrap" / "target-role.yaml"

_NO_VALUE = object()


class _NoManagedPolicies:
    """The translator asks IAM for managed policy names only when a template uses them by name."""

    def load(self) -> dict[str, str]:
        return {}


def parse(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    return template


def translate(**parameters: str) -> dict[str, Any]:
    """`template.yaml` as plain CloudFormation, as `sam package` + the transform leave it."""
    packaged: dict[str, Any] = json.loads(json.dumps(parse(TEMPLATE)))
    packaged["Globals"]["Function"]["CodeUri"] = "s3://artifacts/reconciler.zip"
    packaged["Resources"]["ReconcileStateMachine"]["Properties"]["DefinitionUri"] = (
        "s3://artifacts/reconcile.asl.json"
    )
    # The translator reads the region for its pseudo parameters from boto3's chain.
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": "us-east-1"}):
        translated: dict[str, Any] = transform(packaged, parameters, _NoManagedPolicies())  # type: ignore[arg-type]
    return translated


@dataclass
class Role:
    """One role: its actions (from the stack's own policies) and the AWS managed policies."""

    actions: set[str] = field(default_factory=set)
    aws_managed: set[str] = field(default_factory=set)
    statements: list[dict[str, Any]] = field(default_factory=list)


class Stack:
    """The roles of `template.yaml` deployed with `parameters` (defaults filled in)."""

    def __init__(self, **parameters: str) -> None:
        self.template = translate(**parameters)
        defaults = {
            name: str(spec.get("Default", ""))
            for name, spec in self.template.get("Parameters", {}).items()
        }
        self.parameters = {**defaults, **parameters}
        self.resources: dict[str, Any] = self.template["Resources"]
        self._conditions: dict[str, bool] = {}

    # --- CloudFormation's intrinsics, as far as the conditions and policies use them ----------

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.evaluate(self.template["Conditions"][name]))
        return self._conditions[name]

    def evaluate(self, node: Any) -> Any:
        """The value of a condition expression (Ref to parameters, Equals, Not, And, Or, …)."""
        if not isinstance(node, dict) or len(node) != 1:
            return node
        ((name, argument),) = node.items()
        if name == "Ref":
            return self.parameters.get(argument, {"AWS::Partition": "aws"}.get(argument, node))
        if name == "Condition":
            return self.condition(argument)
        if name == "Fn::Equals":
            return self.evaluate(argument[0]) == self.evaluate(argument[1])
        if name == "Fn::Not":
            return not self.evaluate(argument[0])
        if name == "Fn::And":
            return all(self.evaluate(item) for item in argument)
        if name == "Fn::Or":
            return any(self.evaluate(item) for item in argument)
        if name == "Fn::Split":
            return str(self.evaluate(argument[1])).split(argument[0])
        if name == "Fn::Select":
            return self.evaluate(argument[1])[int(argument[0])]
        return node

    def resolved(self, node: Any) -> Any:
        """`node` with every Fn::If decided and every AWS::NoValue removed."""
        if isinstance(node, list):
            items = [self.resolved(item) for item in node]
            return [item for item in items if item is not _NO_VALUE]
        if isinstance(node, dict):
            if node == {"Ref": "AWS::NoValue"}:
                return _NO_VALUE
            if set(node) == {"Fn::If"}:
                name, then, otherwise = node["Fn::If"]
                return self.resolved(then if self.condition(name) else otherwise)
            items = {key: self.resolved(value) for key, value in node.items()}
            return {key: value for key, value in items.items() if value is not _NO_VALUE}
        return node

    def exists(self, logical_id: str) -> bool:
        resource = self.resources.get(logical_id)
        return resource is not None and (
            "Condition" not in resource or self.condition(resource["Condition"])
        )

    # --- roles --------------------------------------------------------------------------------

    def role(self, logical_id: str) -> Role:
        """The role `logical_id` (`PlanFunctionRole`, `ReconcileStateMachineRole`, …)."""
        properties = self.resolved(self.resources[logical_id]["Properties"])
        role = Role()
        for policy in properties.get("Policies", []):
            role.statements += statements(policy["PolicyDocument"])
        for attached in properties.get("ManagedPolicyArns", []):
            if isinstance(attached, str):
                role.aws_managed.add(attached)
                continue
            managed = attached["Ref"]
            assert self.exists(managed), f"{logical_id} attaches {managed}, which is not created"
            document = self.resolved(self.resources[managed]["Properties"]["PolicyDocument"])
            role.statements += statements(document)
        role.actions = {action for statement in role.statements for action in actions(statement)}
        return role

    def roles(self) -> dict[str, Role]:
        """Every IAM role the stack creates, by logical id."""
        return {
            name: self.role(name)
            for name, resource in self.resources.items()
            if resource["Type"] == "AWS::IAM::Role" and self.exists(name)
        }

    def managed_policy_actions(self, logical_id: str) -> set[str]:
        document = self.resolved(self.resources[logical_id]["Properties"]["PolicyDocument"])
        return {action for statement in statements(document) for action in actions(statement)}


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def actions(statement: dict[str, Any]) -> set[str]:
    assert statement.get("Effect") == "Allow", statement
    assert "NotAction" not in statement, statement
    listed = statement.get("Action", [])
    return {listed} if isinstance(listed, str) else set(listed)


def target_role_policies() -> dict[str, set[str]]:
    """`bootstrap/target-role.yaml`'s inline policies: name → actions."""
    role = parse(TARGET_ROLE)["Resources"]["TargetRole"]["Properties"]
    return {
        policy["PolicyName"]: {
            action
            for statement in statements(policy["PolicyDocument"])
            for action in actions(statement)
        }
        for policy in role["Policies"]
    }
