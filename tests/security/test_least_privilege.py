"""Least privilege, proven: every AWS call the code makes is allowed, and nothing else is.

`workload.live` runs a representative life of a deployment on the emulator (the real handlers,
the real state machine, the engine on every kind through create, update, tag, alias, provisioned
concurrency, budget notifications and prune, behind an assumed role). `CallRecorder` charges
each AWS call to the function that made it, and `iam_actions` names the IAM actions each needs.
Then, against `template.yaml` (translated for an S3 manifest source) and
`bootstrap/target-role.yaml`:

- no statement anywhere has a wildcard action;
- each function's calls are allowed by its own role, and its role allows nothing those calls
  do not need, except the few permissions listed in `UNCALLED` with the reason no call shows;
- the engine's policies (EngineObservePolicy, EngineApplyPolicy) and the target role hold
  exactly the engine's actions, split the same way (Plan only reads);
- the workload reaches every AWS operation the engine's source names, so "every call the code
  makes" is not limited to what this workload happened to do.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import boto3
import botocore.session
import moto
import pytest
import workload
from aws_calls import STATE_MACHINE, CallRecorder
from botocore import xform_name
from deployment import REGION, TABLE, deploy
from lambda_in_process import handlers_in_process
from policies import TARGET_ROLE, Stack, parse, statements, target_role_policies
from workload import FUNCTIONS

from reconciler.demo.stack import create_drifted_stack
from reconciler.emulator import install
from reconciler.kinds import services
from reconciler.kinds.lambda_function import engine as lambda_function

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

#: Permissions a role holds that no call in the workload needs, each with the reason it stays.
UNCALLED: dict[tuple[str, str], str] = {
    ("WebhookFunction", "dynamodb:GetItem"): (
        "Powertools idempotency reads the delivery's record when DynamoDB's conditional-check "
        "failure carries no item (ReturnValuesOnConditionCheckFailure unsupported or dropped); "
        "moto always returns the item"
    ),
}

#: The engine's services (every one a kind's description names); the rest of what Plan and
#: Apply call reads the manifests.
ENGINE_SERVICES = {service.name for service in services()}
ENGINE_SOURCES = [
    *sorted((ROOT / "reconciler" / "kinds").rglob("*.py")),
    ROOT / "reconciler" / "pipeline.py",
    ROOT / "reconciler" / "aws.py",
]


@pytest.fixture(scope="module")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> CallRecorder:
    """The workload, run once for the module; every AWS call it made."""
    from reconciler.handlers import runtime, schedule, webhook

    root = tmp_path_factory.mktemp("least-privilege")
    recorder = CallRecorder()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "RECONCILER_CACHE_DIR": str(root / "cache"),
        }.items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        install()
        for cached in (schedule.runtime, webhook.runtime, runtime._git_token_cached):
            cached.cache_clear()
        recorder.install(patch)
        # Two declared functions that manage only listed fields are enough to read them from
        # `ListFunctions` pages (production waits for 50), so the workload takes that path too.
        listing = dataclasses.replace(lambda_function.ENGINE, list_min=len(workload.WORKERS))
        patch.setattr(lambda_function, "ENGINE", listing)
        with moto.mock_aws(config=CONFIG), handlers_in_process():  # type: ignore[arg-type]
            with recorder.acting_as("test"):
                create_drifted_stack(boto3.Session(region_name=REGION))
                deployment = deploy()
                workload.own_cache_per_function(root / "cache")
                workload.publish(root, 1)
            workload.live(deployment, root)
        webhook.runtime.cache_clear()
    return recorder


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(ManifestSource=workload.SOURCE)


def called(recorder: CallRecorder, logical_id: str) -> set[str]:
    names = [name for name, logical in FUNCTIONS.items() if logical == logical_id]
    return {action for name in names for action in recorder.actions(name)}


def engine_actions(recorder: CallRecorder, *functions: str) -> set[str]:
    """What `functions` called of the engine's services; the deployment's own run-history table
    is DynamoDB too (the DynamoDBTable kind's service), but its items are not the engine's."""
    return {
        action
        for call in recorder.calls
        if call.actor in functions
        and call.service in ENGINE_SERVICES
        and call.parameters.get("TableName") != TABLE
        for action in call.actions
    }


# --------------------------------------------------------------------------- (a) no wildcards


@pytest.mark.parametrize(
    "parameters",
    [
        {"ManifestSource": "s3://manifests-bucket/team"},
        {"ManifestSource": "https://github.com/acme/platform.git", "GitTokenSecretName": "git"},
        {"ManifestSource": "https://github.com/acme/public.git", "AlertEmail": "ops@example.com"},
    ],
    ids=["s3", "git-with-token", "public-git-with-alerts"],
)
def test_no_statement_has_a_wildcard_action(parameters: dict[str, str]) -> None:
    stack = Stack(**parameters)
    roles = stack.roles()
    assert len(roles) == len(FUNCTIONS) + 1
    found = [s for role in roles.values() for s in role.statements]
    found += [
        s
        for name in ("AlertTopicPolicy",)
        if stack.exists(name)
        for s in statements(stack.resolved(stack.resources[name]["Properties"]["PolicyDocument"]))
    ]
    assert len(found) > 20
    for statement in found:
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        listed = statement["Action"]
        for action in [listed] if isinstance(listed, str) else listed:
            service, _, name = action.partition(":")
            assert service and name and "*" not in action and "?" not in action, statement


def test_the_target_role_has_no_wildcard_action() -> None:
    role = parse(TARGET_ROLE)["Resources"]["TargetRole"]["Properties"]
    documents = [policy["PolicyDocument"] for policy in role["Policies"]]
    documents.append(role["AssumeRolePolicyDocument"])
    for document in documents:
        for statement in statements(document):
            listed = statement["Action"]
            for action in [listed] if isinstance(listed, str) else listed:
                assert "*" not in action and "?" not in action, statement


# --------------------------------------------------------------------------- (b) exactly what is called


def test_the_workload_ran_every_function_and_the_engine_behind_the_target_role(
    recorder: CallRecorder,
) -> None:
    actors = set(recorder.by_actor())
    assert set(FUNCTIONS) <= actors
    assert STATE_MACHINE in actors
    assert ("sts", "AssumeRole") in recorder.operations("reconciler-plan", "reconciler-apply")


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS.values())))
def test_each_function_calls_only_what_its_role_allows(
    recorder: CallRecorder, stack: Stack, function: str
) -> None:
    allowed = stack.role(f"{function}Role").actions
    needed = called(recorder, function)
    assert needed, f"{function} made no AWS call in the workload"
    assert needed - allowed == set(), f"{function} calls what its role does not allow"


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS.values())))
def test_each_role_allows_only_what_its_function_calls(
    recorder: CallRecorder, stack: Stack, function: str
) -> None:
    allowed = stack.role(f"{function}Role").actions
    unused = allowed - called(recorder, function)
    excused = {action for (name, action) in UNCALLED if name == function}
    assert unused - excused == set(), f"{function}'s role allows what it never calls"
    assert excused <= allowed, "an UNCALLED entry names a permission the role no longer has"
    assert excused & called(recorder, function) == set(), "an UNCALLED entry is called after all"


def test_the_state_machine_only_invokes_its_functions(recorder: CallRecorder, stack: Stack) -> None:
    assert recorder.actions(STATE_MACHINE) == stack.role("ReconcileStateMachineRole").actions
    assert recorder.actions(STATE_MACHINE) == {"lambda:InvokeFunction"}


def test_the_engine_policies_hold_exactly_the_engine_actions(
    recorder: CallRecorder, stack: Stack
) -> None:
    observe = stack.managed_policy_actions("EngineObservePolicy")
    apply = stack.managed_policy_actions("EngineApplyPolicy")
    planned = engine_actions(recorder, "reconciler-plan")
    applied = engine_actions(recorder, "reconciler-apply")
    assert observe == planned, "EngineObservePolicy ≠ what Plan calls"
    assert observe | apply == planned | applied, "the engine policies ≠ what Plan and Apply call"
    assert observe & apply == set()


def test_the_target_role_holds_exactly_the_engine_actions_but_assuming(
    recorder: CallRecorder,
) -> None:
    policies = target_role_policies()
    engine = engine_actions(recorder, "reconciler-plan", "reconciler-apply")
    assert set(policies) == {"engine-observe", "engine-apply"}
    assert policies["engine-observe"] == engine_actions(recorder, "reconciler-plan") - {
        "sts:AssumeRole"
    }
    assert policies["engine-observe"] | policies["engine-apply"] == engine - {"sts:AssumeRole"}


# --------------------------------------------------------------------------- the workload is complete


def engine_operations_in_source() -> dict[str, set[str]]:
    """Every AWS operation the engine's source names (`x.get_function`, `get_paginator("…")`,
    `get_waiter("…")`), by botocore method name, with the files that name it."""
    session = botocore.session.get_session()
    methods: dict[str, str] = {}
    for service in ENGINE_SERVICES:
        model = session.get_service_model(service)
        methods |= {xform_name(op): op for op in model.operation_names}
    waiters = {"db_cluster_available": "describe_db_clusters"}
    found: dict[str, set[str]] = {}
    for path in ENGINE_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Attribute) and node.attr in methods:
                names.append(node.attr)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get_paginator", "get_waiter")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                name = str(node.args[0].value)
                names.append(waiters.get(name, name))
            for name in names:
                found.setdefault(name, set()).add(path.name)
    return found


def test_the_workload_reaches_every_operation_the_engine_names(recorder: CallRecorder) -> None:
    named = engine_operations_in_source()
    assert len(named) >= 25, sorted(named)  # the walk really finds the engine's calls
    made = {
        xform_name(operation)
        for service, operation in recorder.operations("reconciler-plan", "reconciler-apply")
    }
    missing = {name: sorted(files) for name, files in named.items() if name not in made}
    assert missing == {}, "extend workload.py so the engine makes these calls"
