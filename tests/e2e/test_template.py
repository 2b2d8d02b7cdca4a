"""The deployment as shipped: `template.yaml` lints clean, translates offline, and grants least privilege.

The SAM template is translated with aws-sam-translator exactly as CloudFormation's transform would
(CodeUri and DefinitionUri replaced by S3 locations, as `sam package` does), with a stub managed
policy loader: nothing here reaches the network.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from reconciler.kinds import iam_actions

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
TARGET_ROLE = ROOT / "bootstrap" / "target-role.yaml"
ASL = ROOT / "statemachine" / "reconcile.asl.json"

#: The contract's parameter table (section 6), plus the optional git token secret.
CONTRACT_PARAMETERS: dict[str, str | None] = {
    "ManifestSource": None,  # required: no default
    "Environments": "dev,staging,prod",
    "ScheduleExpression": "rate(15 minutes)",
    "EventBusName": "default",
    "AlertEmail": "",
    "Branch": "main",
    "WebhookSecretName": "reconciler/webhook",
    "GitTokenSecretName": "",
}

HANDLERS = {
    "StartFunction": "start",
    "LoadFunction": "load",
    "PlanFunction": "plan",
    "ApplyFunction": "apply",
    "ReportFunction": "report",
    "FailFunction": "fail",
    "ScheduleFunction": "schedule",
    "WebhookFunction": "webhook",
}
STATE_FUNCTIONS = [
    "StartFunction",
    "LoadFunction",
    "PlanFunction",
    "ApplyFunction",
    "ReportFunction",
    "FailFunction",
]

#: The engine's AWS actions, as the kinds describe them: what observing reads (and assuming the
#: target role, which is the deployment's own) and what applying writes.
ENGINE_OBSERVE = set(iam_actions()[0] | {"sts:AssumeRole"})
ENGINE_APPLY = set(iam_actions()[1])

#: Actions AWS offers no resource-level permission for: the only ones allowed on `Resource: "*"`.
#: ssm:DescribeParameters has no resource types in the Service Authorization Reference ("you must
#: specify all resources"); the Parameter Store guide's own policies grant it on "*".
UNSCOPABLE = {
    "tag:GetResources",
    "lambda:ListFunctions",
    "ssm:DescribeParameters",
    "sts:GetCallerIdentity",
    # The Service Authorization Reference lists no resource type for these (as the
    # amazon-ecs-deploy-task-definition action's documented policy shows, on "*").
    "ecs:DescribeTaskDefinition",
    "ecs:RegisterTaskDefinition",
    "application-autoscaling:DescribeScalableTargets",
}

#: AWS managed policies SAM attaches (logs; X-Ray when tracing is on), and nothing else.
AWS_MANAGED = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


class StubPolicyLoader:
    """Stands in for ManagedPolicyLoader: the template names no managed policy by name."""

    def __init__(self) -> None:
        self.calls = 0

    def load(self) -> dict[str, str]:
        self.calls += 1
        return {}


def parse(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml_parse(path.read_text())
    return template


def translate(template: dict[str, Any], **parameters: str) -> dict[str, Any]:
    """Translate like `sam package` + CloudFormation's transform, offline."""
    packaged = json.loads(json.dumps(template))
    packaged["Globals"]["Function"]["CodeUri"] = "s3://artifacts/reconciler.zip"
    machine = packaged["Resources"]["ReconcileStateMachine"]["Properties"]
    assert machine.pop("DefinitionUri") == "statemachine/reconcile.asl.json"
    machine["DefinitionUri"] = "s3://artifacts/reconcile.asl.json"
    values = {"ManifestSource": "s3://manifests-bucket/team/reconciler", **parameters}
    loader = StubPolicyLoader()
    translated: dict[str, Any] = transform(packaged, values, loader)  # type: ignore[arg-type]
    return translated


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The translator reads the region from boto3's chain; give it one, and no real account."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return parse(TEMPLATE)


@pytest.fixture(scope="module")
def translated(template: dict[str, Any]) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        return translate(template)


# --------------------------------------------------------------------------- IAM helpers


def statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every IAM statement anywhere under `node`, including both branches of an Fn::If."""
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            yield node
            return
        for value in node.values():
            yield from statements(value)
    elif isinstance(node, list):
        for item in node:
            yield from statements(item)


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)


def actions(statement: dict[str, Any]) -> set[str]:
    return set(strings(statement.get("Action", [])))


def role_statements(resources: dict[str, Any], role: str) -> tuple[list[dict[str, Any]], set[str]]:
    """A role's statements (inline and from the stack's own managed policies) and AWS managed ARNs."""
    properties = resources[role]["Properties"]
    found = list(statements(properties.get("Policies", [])))
    aws_managed: set[str] = set()
    for attached in properties.get("ManagedPolicyArns", []):
        arn = attached
        if isinstance(attached, dict) and "Fn::If" in attached:
            arn = attached["Fn::If"][1]  # the branch that attaches it
        if isinstance(arn, dict):
            found.extend(statements(resources[arn["Ref"]]["Properties"]["PolicyDocument"]))
        else:
            aws_managed.add(arn)
    return found, aws_managed


def granted(resources: dict[str, Any], role: str) -> set[str]:
    found, _ = role_statements(resources, role)
    return {action for statement in found for action in actions(statement)}


# --------------------------------------------------------------------------- lint and translate


@pytest.mark.parametrize("path", [TEMPLATE, TARGET_ROLE], ids=lambda p: p.name)
def test_cfn_lint_reports_nothing(path: Path) -> None:
    matches = lint_file(path)
    assert [str(match) for match in matches] == []


def test_cfn_lint_does_check_the_sam_resources(tmp_path: Path) -> None:
    """The clean result above means something: a misspelt function property is reported."""
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text().replace("MemorySize: 1024", "MemorySise: 1024", 1))
    rules = {match.rule.id for match in lint_file(broken)}
    assert "E3002" in rules


def test_template_translates_offline(template: dict[str, Any]) -> None:
    loader = StubPolicyLoader()
    packaged = json.loads(json.dumps(template))
    packaged["Globals"]["Function"]["CodeUri"] = "s3://artifacts/reconciler.zip"
    packaged["Resources"]["ReconcileStateMachine"]["Properties"]["DefinitionUri"] = "s3://a/b.json"
    translated = transform(packaged, {"ManifestSource": "https://git.example/m.git"}, loader)  # type: ignore[arg-type]
    resources = translated["Resources"]
    assert "Transform" not in translated
    assert {k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"} == set(
        HANDLERS
    )
    assert resources["ReconcileStateMachine"]["Type"] == "AWS::StepFunctions::StateMachine"
    assert resources["WebhookFunctionUrl"]["Type"] == "AWS::Lambda::Url"
    assert loader.calls == 0  # no managed policy had to be looked up in IAM


# --------------------------------------------------------------------------- least privilege


def test_no_policy_statement_has_a_wildcard_action(translated: dict[str, Any]) -> None:
    found = list(statements(translated["Resources"]))
    assert len(found) > 20  # the walk really finds the policies
    for statement in found:
        assert "NotAction" not in statement, statement
        assert "NotResource" not in statement, statement
        wild = {action for action in actions(statement) if "*" in action}
        assert not wild, statement


def test_target_role_has_no_wildcard_action() -> None:
    found = list(statements(parse(TARGET_ROLE)["Resources"]))
    assert found
    for statement in found:
        assert "NotAction" not in statement
        assert not {action for action in actions(statement) if "*" in action}, statement


def test_resource_star_only_where_aws_cannot_scope(translated: dict[str, Any]) -> None:
    for statement in statements(translated["Resources"]):
        if statement.get("Resource") == "*" or statement.get("Resource") == ["*"]:
            assert actions(statement) <= UNSCOPABLE, statement


def test_roles_attach_no_unexpected_aws_managed_policy(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    roles = [name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == len(HANDLERS) + 1
    for role in roles:
        _, aws_managed = role_statements(resources, role)
        assert aws_managed <= AWS_MANAGED, role


def test_disabled_tracing_drops_xray(template: dict[str, Any]) -> None:
    resources = translate(template, Tracing="Disabled")["Resources"]
    _, aws_managed = role_statements(resources, "PlanFunctionRole")
    assert aws_managed == {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
    assert "TracingConfig" not in resources["PlanFunction"]["Properties"]


def test_engine_policies_hold_exactly_the_engine_actions(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    observe = resources["EngineObservePolicy"]["Properties"]["PolicyDocument"]
    apply = resources["EngineApplyPolicy"]["Properties"]["PolicyDocument"]
    assert {a for s in statements(observe) for a in actions(s)} == ENGINE_OBSERVE
    assert {a for s in statements(apply) for a in actions(s)} == ENGINE_APPLY


def test_only_apply_can_change_the_target_resources(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    assert granted(resources, "ApplyFunctionRole") >= ENGINE_OBSERVE | ENGINE_APPLY
    assert granted(resources, "PlanFunctionRole") >= ENGINE_OBSERVE
    for function in HANDLERS:
        if function != "ApplyFunction":
            assert not granted(resources, f"{function}Role") & ENGINE_APPLY, function
        if function not in {"PlanFunction", "ApplyFunction"}:
            assert not granted(resources, f"{function}Role") & ENGINE_OBSERVE, function


def test_target_role_grants_the_engine_actions_scoped_alike(template: dict[str, Any]) -> None:
    role = parse(TARGET_ROLE)["Resources"]["TargetRole"]["Properties"]
    in_role = {s["Sid"]: s for s in statements(role["Policies"])}
    resources = template["Resources"]
    in_template = {
        s["Sid"]: s
        for name in ("EngineObservePolicy", "EngineApplyPolicy")
        for s in statements(resources[name]["Properties"]["PolicyDocument"])
    }
    # The target role has no use for sts:AssumeRole: only the reconciler's account assumes.
    assert set(in_template) - set(in_role) == {"AssumeTargetRole"}
    for sid, statement in in_role.items():
        assert actions(statement) == actions(in_template[sid]), sid
        assert statement["Resource"] == in_template[sid]["Resource"], sid
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Action"] for s in trust] == ["sts:AssumeRole"]
    assert "${ReconcilerAccountId}" in trust[0]["Principal"]["AWS"]["Fn::Sub"]
    assert role["RoleName"] == "reconciler-target"


def test_engine_may_assume_only_the_target_roles(template: dict[str, Any]) -> None:
    document = template["Resources"]["EngineObservePolicy"]["Properties"]["PolicyDocument"]
    (assume,) = [s for s in statements(document) if "sts:AssumeRole" in actions(s)]
    assert assume["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/reconciler-target*"}


def test_state_machine_may_only_invoke_its_six_functions(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    found, aws_managed = role_statements(resources, "ReconcileStateMachineRole")
    assert aws_managed == set()
    assert {a for s in found for a in actions(s)} == {"lambda:InvokeFunction"}
    targets = {s["Resource"]["Fn::Sub"][1]["functionName"]["Ref"] for s in found}
    assert targets == set(STATE_FUNCTIONS)


def test_trigger_functions_start_only_this_state_machine(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    name = resources["ReconcileStateMachine"]["Properties"]["StateMachineName"]
    assert name == {"Fn::Sub": "${AWS::StackName}-reconcile"}
    for function in ("ScheduleFunction", "WebhookFunction"):
        found, _ = role_statements(resources, f"{function}Role")
        (start,) = [s for s in found if "states:StartExecution" in actions(s)]
        assert start["Resource"]["Fn::Sub"].endswith(":stateMachine:${AWS::StackName}-reconcile")


def test_secrets_are_read_by_name_only(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    webhook = resources["WebhookFunction"]["Properties"]["Policies"]
    (secret,) = [s for s in statements(webhook) if "secretsmanager:GetSecretValue" in actions(s)]
    assert secret["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
        ":secret:${WebhookSecretName}-*"
    }


# --------------------------------------------------------------------------- the manifest source


def evaluate(expression: Any, parameters: dict[str, str]) -> Any:
    """Just enough of CloudFormation's intrinsics to check how ManifestSource is taken apart."""
    if isinstance(expression, dict):
        ((name, argument),) = expression.items()
        if name == "Ref":
            return {"AWS::Partition": "aws", **parameters}[argument]
        if name == "Fn::Split":
            return evaluate(argument[1], parameters).split(argument[0])
        if name == "Fn::Select":
            return evaluate(argument[1], parameters)[argument[0]]
        if name == "Fn::Equals":
            return evaluate(argument[0], parameters) == evaluate(argument[1], parameters)
        if name == "Fn::Sub":
            text, variables = argument
            values = {k: evaluate(v, parameters) for k, v in variables.items()}
            return re.sub(
                r"\$\{([^}]+)\}",
                lambda m: values.get(m[1]) or evaluate({"Ref": m[1]}, parameters),
                text,
            )
        raise AssertionError(f"unexpected intrinsic {name}")
    return expression


@pytest.mark.parametrize(
    ("source", "objects", "bucket"),
    [
        (
            "s3://team-manifests/reconciler",
            "arn:aws:s3:::team-manifests/reconciler/*",
            "arn:aws:s3:::team-manifests",
        ),
        (
            "s3://team-manifests/a/b",
            "arn:aws:s3:::team-manifests/a/b/*",
            "arn:aws:s3:::team-manifests",
        ),
        ("s3://team-manifests", "arn:aws:s3:::team-manifests/*", "arn:aws:s3:::team-manifests"),
    ],
)
def test_s3_source_grants_read_of_its_prefix_only(
    template: dict[str, Any], source: str, objects: str, bucket: str
) -> None:
    parameters = {"ManifestSource": source}
    assert evaluate(template["Conditions"]["ManifestsInS3"], parameters) is True
    policy = template["Resources"]["ManifestReadPolicy"]["Properties"]["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in statements(policy)}
    assert evaluate(by_sid["ManifestBundles"]["Resource"], parameters) == objects
    assert actions(by_sid["ManifestBundles"]) == {"s3:GetObject"}
    assert evaluate(by_sid["ManifestBundleListing"]["Resource"], parameters) == bucket


def test_git_source_grants_no_bucket(template: dict[str, Any]) -> None:
    parameters = {"ManifestSource": "https://github.com/acme/manifests.git"}
    assert evaluate(template["Conditions"]["ManifestsInS3"], parameters) is False


@pytest.mark.parametrize(
    ("source", "accepted"),
    [
        ("s3://team-manifests/reconciler", True),
        ("s3://team-manifests", True),
        ("https://github.com/acme/manifests.git", True),
        ("s3://team-manifests/reconciler/", False),  # the trailing slash would break the ARN
        ("s3://Team_Manifests/x", False),
        ("git@github.com:acme/manifests.git", False),
        ("", False),
    ],
)
def test_manifest_source_pattern(template: dict[str, Any], source: str, accepted: bool) -> None:
    pattern = template["Parameters"]["ManifestSource"]["AllowedPattern"]
    assert (re.fullmatch(pattern, source) is not None) is accepted


# --------------------------------------------------------------------------- the contract's shape


def test_contract_parameters_and_defaults(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    for name, default in CONTRACT_PARAMETERS.items():
        assert name in parameters, name
        assert parameters[name].get("Default") == default, name
        if default is not None:
            pattern = parameters[name].get("AllowedPattern")
            assert pattern is None or re.fullmatch(pattern, default), name


def test_outputs(template: dict[str, Any], translated: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["StateMachineArn"]["Value"] == {"Ref": "ReconcileStateMachine"}
    assert outputs["WebhookUrl"]["Value"] == {"Fn::GetAtt": ["WebhookFunctionUrl", "FunctionUrl"]}
    assert outputs["RunsTableName"]["Value"] == {"Ref": "RunsTable"}
    assert "WebhookFunctionUrl" in translated["Resources"]  # what the WebhookUrl output reads


def test_functions_run_the_project_handlers(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    functions = {k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert functions == set(HANDLERS)
    for function, module in HANDLERS.items():
        handler = resources[function]["Properties"]["Handler"]
        assert handler == f"reconciler.handlers.{module}.handler"
        source = ROOT / "reconciler" / "handlers" / f"{module}.py"
        assert source.exists(), f"{function}: {source} is missing"
        names = {
            node.name if isinstance(node, ast.FunctionDef) else getattr(node.targets[0], "id", "")
            for node in ast.parse(source.read_text()).body
            if isinstance(node, ast.FunctionDef | ast.Assign)
        }
        assert "handler" in names, f"{source} defines no module-level handler"


def test_globals(template: dict[str, Any]) -> None:
    function = template["Globals"]["Function"]
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["arm64"]
    assert function["CodeUri"] == "."
    assert set(function["Environment"]["Variables"]) == {
        "MANIFEST_SOURCE",
        "RUNS_TABLE",
        "EVENT_BUS_NAME",
        "ENVIRONMENTS",
        "BRANCH",
        "WEBHOOK_SECRET_NAME",
        "GIT_TOKEN_SECRET_NAME",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "RECONCILER_TRACING",
    }
    resources = template["Resources"]
    for trigger in ("ScheduleFunction", "WebhookFunction"):
        variables = resources[trigger]["Properties"]["Environment"]["Variables"]
        assert variables == {"STATE_MACHINE_ARN": {"Ref": "ReconcileStateMachine"}}


def test_every_function_outlives_its_state_machine_retries(template: dict[str, Any]) -> None:
    """A Lambda timeout must fit in the run's own timeout, and apply gets the most time."""
    machine_timeout = json.loads(ASL.read_text())["TimeoutSeconds"]
    resources = template["Resources"]
    timeouts = {
        f: resources[f]["Properties"].get("Timeout", template["Globals"]["Function"]["Timeout"])
        for f in HANDLERS
    }
    assert max(timeouts.values()) == timeouts["ApplyFunction"] < machine_timeout
    assert timeouts["WebhookFunction"] <= 10  # GitHub abandons a delivery after 10 s


def test_state_machine_substitutions_match_the_definition(template: dict[str, Any]) -> None:
    machine = template["Resources"]["ReconcileStateMachine"]["Properties"]
    placeholders = set(re.findall(r"\$\{(\w+)\}", ASL.read_text()))
    substitutions = machine["DefinitionSubstitutions"]
    assert placeholders == set(substitutions)
    assert substitutions == {f"{f}Arn": {"Fn::GetAtt": [f, "Arn"]} for f in STATE_FUNCTIONS}


def test_webhook_is_a_public_function_url(template: dict[str, Any]) -> None:
    webhook = template["Resources"]["WebhookFunction"]["Properties"]
    assert webhook["FunctionUrlConfig"] == {"AuthType": "NONE"}


def test_one_schedule_runs_every_environment(
    template: dict[str, Any], translated: dict[str, Any]
) -> None:
    rules = [r for r in translated["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    scheduled = [r["Properties"] for r in rules if "ScheduleExpression" in r["Properties"]]
    assert len(scheduled) == 1
    assert scheduled[0]["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert scheduled[0]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ScheduleFunction", "Arn"]}


def test_runs_table(template: dict[str, Any]) -> None:
    table = template["Resources"]["RunsTable"]["Properties"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("sk", "S"),
    }
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_alert_email_is_optional_and_mails_drift_and_failures(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    alerting = {k: v for k, v in resources.items() if k.startswith("Alert")}
    assert {v["Type"] for v in alerting.values()} == {
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
        "AWS::Events::Rule",
        "AWS::SNS::TopicPolicy",
    }
    assert all(v.get("Condition") == "HasAlertEmail" for v in alerting.values())
    assert template["Conditions"]["HasAlertEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]
    }
    rule = resources["AlertRule"]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["reconciler"],
        "detail-type": ["Drift Detected", "Reconcile Failed"],
    }
    assert rule["EventBusName"] == {"Ref": "EventBusName"}
    assert rule["Targets"][0]["Arn"] == {"Ref": "AlertTopic"}
    (publish,) = statements(resources["AlertTopicPolicy"]["Properties"]["PolicyDocument"])
    assert publish["Principal"] == {"Service": "events.amazonaws.com"}
    assert publish["Condition"]["ArnEquals"]["aws:SourceArn"] == {
        "Fn::GetAtt": ["AlertRule", "Arn"]
    }
    subscription = resources["AlertSubscription"]["Properties"]
    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"] == {"Ref": "AlertEmail"}


def test_samconfig_deploys_the_reconciler_stack() -> None:
    deploy = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]["deploy"]["parameters"]
    assert deploy["stack_name"] == "reconciler"
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is True
