"""The LambdaFunction engine against moto: observe, diff and apply of existing image functions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.stub import Stubber

from reconciler import pipeline
from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.emulator import behaviour, current
from reconciler.emulator.lambda_provisioned import fail_provisioning
from reconciler.errors import PermanentError, TemporaryError
from reconciler.kinds.lambda_function.engine import ENGINE, LambdaFunctionEngine
from reconciler.kinds.lambda_function.model import LambdaFunction
from reconciler.loader import EnvironmentManifests
from reconciler.plan import OWNER_TAG, Action, Change, Diff, Observed, Plan
from reconciler.planner import Observation, build_plan
from tests.builders import apply_each, document, environment_of, plan_with

ACCOUNT = "123456789012"
REPO = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app"
V1, V2 = f"{REPO}:v1", f"{REPO}:v2"
PINNED = f"{REPO}@sha256:{'ab' * 32}"
FN = "api"
FN_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FN}"
READS = ("Get", "List")


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def engine(sleeps: list[float]) -> LambdaFunctionEngine:
    """The engine with a recording sleep, so waits and retries cost no time and can be seen."""
    return LambdaFunctionEngine(sleep=sleeps.append)


@pytest.fixture
def instant_updates() -> Iterator[None]:
    """For tests that play AWS's delays themselves (InProgress reads, 409s) and count the
    engine's sleeps: the emulator's own InProgress after each update would add its sleeps."""
    with behaviour(lambda_update_reads=0):
        yield


@pytest.fixture
def role(aws: Clients) -> str:
    """moto refuses a role that does not exist ("cannot be assumed by Lambda")."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = aws.client("iam")
    arn: str = iam.create_role(RoleName="lambda", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    return arn


@pytest.fixture
def deploy(aws: Clients, role: str) -> Callable[..., None]:
    """Create an image function as an operator would have, outside the reconciler."""

    def make(
        name: str = FN,
        *,
        image: str = V1,
        memory: int = 256,
        timeout: int = 30,
        env: dict[str, str] | None = None,
        reserved: int | None = None,
        tags: dict[str, str] | None = None,
        alias: str | None = None,
        provisioned: int | None = None,
        tracing: str | None = None,
    ) -> None:
        lam = aws.lambda_
        extra: dict[str, Any] = {"Environment": {"Variables": env}} if env is not None else {}
        if tracing is not None:
            extra["TracingConfig"] = {"Mode": tracing}
        lam.create_function(
            FunctionName=name,
            PackageType="Image",
            Code={"ImageUri": image},
            Role=role,
            MemorySize=memory,
            Timeout=timeout,
            Tags={OWNER_TAG: "dev"} if tags is None else tags,
            **extra,
        )
        if reserved is not None:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
        if alias is not None:
            version = lam.publish_version(FunctionName=name)["Version"]
            lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
        if provisioned:
            assert alias is not None
            lam.put_provisioned_concurrency_config(
                FunctionName=name, Qualifier=alias, ProvisionedConcurrentExecutions=provisioned
            )

    return make


def manifest(name: str = FN, **spec: Any) -> LambdaFunction:
    return document(LambdaFunction, name, spec)


class Calls:
    """Every Lambda operation the client sends, with its parameters, in order."""

    def __init__(self, aws: Clients) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        aws.lambda_.meta.events.register("before-parameter-build.lambda.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.sent.append((model.name, dict(params)))

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.sent]

    @property
    def writes(self) -> list[str]:
        return [name for name in self.names if not name.startswith(READS)]

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.sent if name == operation]


def refuse(aws: Clients, operation: str, code: str, times: int, status: int = 409) -> list[int]:
    """Make `operation` answer `code` the next `times` calls (botocore's before-call hook)."""
    refused: list[int] = []

    def answer(**_: Any) -> Any:
        if len(refused) >= times:
            return None
        refused.append(1)
        http = SimpleNamespace(status_code=status, headers={})
        return http, {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {}}

    aws.lambda_.meta.events.register(f"before-call.lambda.{operation}", answer)
    return refused


def rewrite(aws: Clients, operation: str, edit: Callable[[dict[str, Any]], bool]) -> None:
    """Let `edit` change `operation`'s parsed answers while it returns True."""
    active = [True]

    def after(parsed: dict[str, Any], **_: Any) -> None:
        if active[0]:
            active[0] = edit(parsed)

    aws.lambda_.meta.events.register(f"after-call.lambda.{operation}", after)


def observe_one(aws: Clients, context: Context, doc: LambdaFunction) -> Observed:
    return ENGINE.observe(aws, [doc], context)[doc.name]


def environment(*docs: LambdaFunction) -> EnvironmentManifests:
    return environment_of(*docs)


def plan_for(aws: Clients, context: Context, *docs: LambdaFunction) -> Plan:
    return plan_with(ENGINE, aws, context, *docs)


def apply_plan(engine: LambdaFunctionEngine, aws: Clients, context: Context, plan: Plan) -> None:
    """Apply as Step Functions would: from the plan's JSON."""
    apply_each(engine, aws, context, plan)


def config(aws: Clients, qualifier: str | None = None) -> dict[str, Any]:
    args = {"Qualifier": qualifier} if qualifier else {}
    got: Any = aws.lambda_.get_function(FunctionName=FN, **args)
    return dict(got)


#: A function deployed with every managed knob set, and the manifest that matches it exactly.
DEPLOYED: dict[str, Any] = {
    "image": V1,
    "memory": 256,
    "timeout": 30,
    "env": {"AA": "1", "BB": "2"},
    "reserved": 5,
    "alias": "live",
    "provisioned": 2,
}
IN_SYNC: dict[str, Any] = {
    "image": V1,
    "memoryMb": 256,
    "timeoutSeconds": 30,
    "environment": {"AA": "1", "BB": "2"},
    "reservedConcurrency": 5,
    "alias": "live",
    "provisionedConcurrency": 2,
}


# --- the engine's place in the registry -------------------------------------------------------


def test_engine_is_never_creating_or_pruning_and_owns_nothing(
    aws: Clients, context: Context
) -> None:
    calls = Calls(aws)
    assert (ENGINE.kind, ENGINE.creatable, ENGINE.prunable) == ("LambdaFunction", False, False)
    assert ENGINE.owned(aws, context) == {}
    assert calls.names == []


# --- observe and diff -------------------------------------------------------------------------


def test_in_sync_function_has_no_diff(
    aws: Clients, context: Context, deploy: Callable[..., None]
) -> None:
    deploy(**DEPLOYED)
    doc = manifest(**IN_SYNC)
    observed = observe_one(aws, context, doc)
    assert {key: observed.fields[key] for key in IN_SYNC} == IN_SYNC
    assert ENGINE.diff(doc, observed) == []
    assert plan_for(aws, context, doc).in_sync


@pytest.mark.parametrize(
    "fields",
    [{key: value} for key, value in IN_SYNC.items() if key != "provisionedConcurrency"]
    + [{"alias": "live", "provisionedConcurrency": 2}],
    ids="+".join,
)
def test_each_field_in_sync_alone_has_no_diff(
    aws: Clients, context: Context, deploy: Callable[..., None], fields: dict[str, Any]
) -> None:
    deploy(**DEPLOYED)
    doc = manifest(**fields)
    assert ENGINE.diff(doc, observe_one(aws, context, doc)) == []


def test_absent_environment_and_reservation_read_as_empty_and_null(
    aws: Clients, context: Context, deploy: Callable[..., None]
) -> None:
    deploy(env=None, reserved=None)
    synced = manifest(environment={}, reservedConcurrency=None)
    assert ENGINE.diff(synced, observe_one(aws, context, synced)) == []
    drifted = manifest(environment={"AA": "1"}, reservedConcurrency=3)
    assert ENGINE.diff(drifted, observe_one(aws, context, drifted)) == [
        Diff(field="environment", desired={"AA": "1"}, actual={}),
        Diff(field="reservedConcurrency", desired=3, actual=None),
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"image": V2}, Diff(field="image", desired=V2, actual=V1)),
        ({"image": PINNED}, Diff(field="image", desired=PINNED, actual=V1)),
        ({"memoryMb": 512}, Diff(field="memoryMb", desired=512, actual=256)),
        ({"timeoutSeconds": 60}, Diff(field="timeoutSeconds", desired=60, actual=30)),
        (
            {"environment": {"AA": "1"}},
            Diff(field="environment", desired={"AA": "1"}, actual={"AA": "1", "BB": "2"}),
        ),
        (
            {"environment": {"AA": "9", "BB": "2"}},
            Diff(
                field="environment", desired={"AA": "9", "BB": "2"}, actual={"AA": "1", "BB": "2"}
            ),
        ),
        ({"reservedConcurrency": 10}, Diff(field="reservedConcurrency", desired=10, actual=5)),
        (
            {"reservedConcurrency": None},
            Diff(field="reservedConcurrency", desired=None, actual=5),
        ),
        ({"alias": "canary"}, Diff(field="alias", desired="canary", actual=None)),
        (
            {"alias": "live", "provisionedConcurrency": 4},
            Diff(field="provisionedConcurrency", desired=4, actual=2),
        ),
        (
            {"alias": "live", "provisionedConcurrency": 0},
            Diff(field="provisionedConcurrency", desired=0, actual=2),
        ),
    ],
    ids=lambda value: value.field if isinstance(value, Diff) else None,
)
def test_each_kind_of_drift_is_one_diff(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    fields: dict[str, Any],
    expected: Diff,
) -> None:
    deploy(**DEPLOYED)
    doc = manifest(**fields)
    assert ENGINE.diff(doc, observe_one(aws, context, doc)) == [expected]


def test_fields_the_manifest_leaves_out_are_not_compared(
    aws: Clients, context: Context, deploy: Callable[..., None]
) -> None:
    deploy(**DEPLOYED)
    doc = manifest(memoryMb=512)  # image, timeout, environment, … all differ from nothing
    assert ENGINE.diff(doc, observe_one(aws, context, doc)) == [
        Diff(field="memoryMb", desired=512, actual=256)
    ]


@pytest.mark.parametrize(
    ("change_latest", "declared", "behind"),
    [
        ({"MemorySize": 512}, {"memoryMb": 512}, "memoryMb"),
        ({"Timeout": 90}, {"timeoutSeconds": 90}, "timeoutSeconds"),
        ({"Environment": {"Variables": {"AA": "2"}}}, {"environment": {"AA": "2"}}, "environment"),
        ({"ImageUri": V2}, {"image": V2}, "image"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_alias_behind_latest_on_a_declared_field_is_drift(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    change_latest: dict[str, Any],
    declared: dict[str, Any],
    behind: str,
) -> None:
    """$LATEST already has the value (no field diff) but the alias still serves the old one.

    The image case also guards against moto's published versions sharing $LATEST's `Code`
    (their `ImageUri` follows later updates); the engine compares `CodeSha256` instead.
    """
    deploy(**DEPLOYED)
    if "ImageUri" in change_latest:
        aws.lambda_.update_function_code(FunctionName=FN, **change_latest)
    else:
        aws.lambda_.update_function_configuration(FunctionName=FN, **change_latest)
    doc = manifest(alias="live", **declared)
    assert ENGINE.diff(doc, observe_one(aws, context, doc)) == [
        Diff(field="alias", desired="live", actual=f"live -> version 1 (behind $LATEST: {behind})")
    ]


def test_alias_behind_only_on_unmanaged_fields_is_in_sync(
    aws: Clients, context: Context, deploy: Callable[..., None]
) -> None:
    deploy(**DEPLOYED)
    aws.lambda_.update_function_configuration(FunctionName=FN, Timeout=90)
    doc = manifest(memoryMb=256, alias="live")
    assert ENGINE.diff(doc, observe_one(aws, context, doc)) == []


def test_alias_on_latest_is_drift(
    aws: Clients, context: Context, deploy: Callable[..., None]
) -> None:
    deploy()
    aws.lambda_.create_alias(FunctionName=FN, Name="live", FunctionVersion="$LATEST")
    doc = manifest(alias="live")
    assert ENGINE.diff(doc, observe_one(aws, context, doc)) == [
        Diff(field="alias", desired="live", actual="live -> $LATEST (not a published version)")
    ]


def test_failed_provisioned_concurrency_is_drift_and_apply_requests_it_again(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy(**DEPLOYED)
    fail_provisioning(FN, "live", "FUNCTION_ERROR_INIT_FAILURE")
    doc = manifest(alias="live", provisionedConcurrency=2)
    assert ENGINE.diff(doc, observe_one(aws, context, doc)) == [
        Diff(
            field="provisionedConcurrency",
            desired=2,
            actual="2 (FAILED: FUNCTION_ERROR_INIT_FAILURE)",
        )
    ]
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan_for(aws, context, doc))
    assert calls.writes == ["PutProvisionedConcurrencyConfig"]
    assert plan_for(aws, context, doc).in_sync


def test_reserved_concurrency_zero_is_in_sync(
    aws: Clients, context: Context, deploy: Callable[..., None]
) -> None:
    deploy(reserved=0)
    doc = manifest(reservedConcurrency=0)
    assert ENGINE.diff(doc, observe_one(aws, context, doc)) == []


def test_missing_function_is_not_observed_and_is_blocked(
    aws: Clients, context: Context, deploy: Callable[..., None]
) -> None:
    deploy()
    ghost, present = manifest("ghost", memoryMb=512, alias="live"), manifest(memoryMb=256)
    assert set(ENGINE.observe(aws, [ghost, present], context)) == {FN}
    plan = plan_for(aws, context, ghost, present)
    assert [(c.name, c.action) for c in plan.changes] == [
        ("ghost", Action.BLOCKED),
        (FN, Action.NOOP),
    ]


def test_observe_reads_alias_and_provisioned_only_where_declared(
    aws: Clients, context: Context, deploy: Callable[..., None]
) -> None:
    deploy("plain")
    deploy("aliased", alias="live")
    deploy(FN, alias="live", provisioned=1)
    calls = Calls(aws)
    ENGINE.observe(
        aws,
        [
            manifest("plain", memoryMb=256),
            manifest("aliased", alias="live"),
            manifest(FN, alias="live", provisionedConcurrency=1),
        ],
        context,
    )
    by_function: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, params in calls.sent:  # functions are read in parallel: compare each one's calls
        by_function.setdefault(params["FunctionName"], []).append((name, params))
    assert by_function == {
        "plain": [("GetFunction", {"FunctionName": "plain"})],
        "aliased": [
            ("GetFunction", {"FunctionName": "aliased"}),
            ("GetFunction", {"FunctionName": "aliased", "Qualifier": "live"}),
        ],
        FN: [
            ("GetFunction", {"FunctionName": FN}),
            ("GetFunction", {"FunctionName": FN, "Qualifier": "live"}),
            ("GetProvisionedConcurrencyConfig", {"FunctionName": FN, "Qualifier": "live"}),
        ],
    }


# --- ownership --------------------------------------------------------------------------------


def test_missing_ownership_tag_is_planned_and_added_on_the_function_arn(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy(tags={"team": "orders"})
    doc = manifest(memoryMb=256)
    plan = plan_for(aws, context, doc)
    assert plan.changes[0].diffs == (Diff(field=f"tags.{OWNER_TAG}", desired="dev", actual=None),)
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan)
    assert calls.writes == ["TagResource"]
    assert calls.params("TagResource") == [{"Resource": FN_ARN, "Tags": {OWNER_TAG: "dev"}}]
    assert config(aws)["Tags"] == {"team": "orders", OWNER_TAG: "dev"}
    assert plan_for(aws, context, doc).in_sync


def test_function_tagged_for_another_environment_is_visible_and_never_changed(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy(tags={OWNER_TAG: "prod"})
    doc = manifest(memoryMb=512)
    assert observe_one(aws, context, doc).tags == {OWNER_TAG: "prod"}
    (change,) = plan_for(aws, context, doc).changes
    assert change.action is Action.BLOCKED
    assert "prod" in (change.reason or "")
    forged = Change(kind="LambdaFunction", name=FN, action=Action.UPDATE, desired={"memoryMb": 512})
    calls = Calls(aws)
    with pytest.raises(PermanentError, match="owned by environment 'prod'"):
        engine.apply(aws, forged, context)
    assert calls.writes == []
    assert config(aws)["Configuration"]["MemorySize"] == 256


TAGS_DENIED = (
    r"LambdaFunction/api: cannot read its tags \(AccessDeniedException: .*lambda:ListTags.*\): "
    r"the reconciler's role needs lambda:ListTags"
)


@pytest.mark.parametrize("tags", [{}, {OWNER_TAG: "prod"}], ids=["untagged", "theirs"])
def test_unreadable_tags_stop_the_function_and_nothing_is_written(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    engine: LambdaFunctionEngine,
    tags: dict[str, str],
) -> None:
    """Without lambda:ListTags, GetFunction answers TagsError: the function must not look
    unowned (the run would tag it as dev's and change it, whoever owns it)."""
    deploy(tags=tags)
    doc = manifest(memoryMb=512)
    calls = Calls(aws)
    with behaviour(lambda_tags_denied=True):
        (change,) = plan_for(aws, context, doc).changes
        assert change.action is Action.BLOCKED
        assert re.fullmatch(TAGS_DENIED.removeprefix("LambdaFunction/api: "), change.reason or "")
        forged = Change(
            kind="LambdaFunction", name=FN, action=Action.UPDATE, desired={"memoryMb": 512}
        )
        with pytest.raises(PermanentError, match=TAGS_DENIED):
            engine.apply(aws, forged, context)
    assert calls.writes == []
    assert config(aws)["Configuration"]["MemorySize"] == 256
    assert config(aws).get("Tags", {}) == tags


# --- apply ------------------------------------------------------------------------------------


def test_apply_converges_in_a_safe_order_and_a_second_apply_writes_nothing(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy(**{**DEPLOYED, "tags": {}})
    wanted: dict[str, Any] = {
        "image": V2,
        "memoryMb": 512,
        "timeoutSeconds": 60,
        "environment": {"AA": "2", "CC": "3"},
        "reservedConcurrency": 10,
        "alias": "live",
        "provisionedConcurrency": 4,
    }
    doc = manifest(**wanted)
    plan = plan_for(aws, context, doc)
    assert [d.field for d in plan.changes[0].diffs] == [
        "image",
        "memoryMb",
        "timeoutSeconds",
        "environment",
        "reservedConcurrency",
        "provisionedConcurrency",  # no `alias` diff: the alias serves what $LATEST has
        f"tags.{OWNER_TAG}",
    ]
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan)
    assert calls.writes == [
        "UpdateFunctionCode",
        "UpdateFunctionConfiguration",
        "PublishVersion",
        "UpdateAlias",
        "PutFunctionConcurrency",
        "PutProvisionedConcurrencyConfig",
        "TagResource",
    ]
    assert calls.params("UpdateFunctionConfiguration") == [
        {
            "FunctionName": FN,
            "MemorySize": 512,
            "Timeout": 60,
            "Environment": {"Variables": {"AA": "2", "CC": "3"}},
        }
    ]
    latest, live = config(aws), config(aws, "live")
    assert latest["Code"]["ImageUri"] == V2
    assert live["Configuration"]["Version"] == "2"
    assert live["Configuration"]["CodeSha256"] == latest["Configuration"]["CodeSha256"]
    assert live["Configuration"]["MemorySize"] == 512
    observed = observe_one(aws, context, doc)
    assert {key: observed.fields[key] for key in wanted} == wanted
    assert plan_for(aws, context, doc).in_sync

    again = Calls(aws)
    for change in plan.writes:
        engine.apply(aws, change, context)
    assert again.writes == []


def test_apply_changes_only_the_differing_configuration_and_leaves_the_image(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy()
    doc = manifest(memoryMb=512, timeoutSeconds=30)
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan_for(aws, context, doc))
    assert calls.writes == ["UpdateFunctionConfiguration"]
    assert calls.params("UpdateFunctionConfiguration") == [{"FunctionName": FN, "MemorySize": 512}]
    assert config(aws)["Code"]["ImageUri"] == V1
    assert plan_for(aws, context, doc).in_sync


def test_apply_pins_an_image_by_digest(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy()
    doc = manifest(image=PINNED)
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan_for(aws, context, doc))
    assert calls.params("UpdateFunctionCode") == [{"FunctionName": FN, "ImageUri": PINNED}]
    assert calls.writes == ["UpdateFunctionCode"]
    assert plan_for(aws, context, doc).in_sync


def test_apply_creates_a_missing_alias_then_provisions_it(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy()
    doc = manifest(memoryMb=256, alias="live", provisionedConcurrency=3)
    plan = plan_for(aws, context, doc)
    assert plan.changes[0].diffs == (
        Diff(field="alias", desired="live", actual=None),
        Diff(field="provisionedConcurrency", desired=3, actual=0),
    )
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan)
    assert calls.writes == ["PublishVersion", "CreateAlias", "PutProvisionedConcurrencyConfig"]
    assert calls.params("CreateAlias") == [
        {"FunctionName": FN, "Name": "live", "FunctionVersion": "1"}
    ]
    assert plan_for(aws, context, doc).in_sync


def test_publish_is_guarded_by_the_revision_just_written(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    """moto sends no RevisionId, so one is added to its $LATEST answers to see the guard used.

    AWS shows the update InProgress for a while: the guard is the revision of the read that saw
    it finished, not of one taken while it was still under way.
    """
    deploy(alias="live")
    handed: list[str] = []
    seen: list[str] = []

    def revised(parsed: dict[str, Any]) -> bool:
        if parsed["Configuration"]["Version"] == "$LATEST":
            handed.append(f"rev-{len(handed)}")
            parsed["Configuration"]["RevisionId"] = handed[-1]
            seen.append(parsed["Configuration"].get("LastUpdateStatus", ""))
        return True

    doc = manifest(memoryMb=512, alias="live")
    change = plan_for(aws, context, doc).changes[0]
    rewrite(aws, "GetFunction", revised)
    calls = Calls(aws)
    engine.apply(aws, change, context)
    # The read before the update, one while it is under way, the read once it finished.
    assert seen == ["Successful", "InProgress", "Successful"]
    assert calls.params("PublishVersion") == [{"FunctionName": FN, "RevisionId": "rev-2"}]


@pytest.mark.parametrize("move", ["behind", "on-latest"])
def test_apply_moves_a_stale_alias_without_touching_the_function(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    engine: LambdaFunctionEngine,
    move: str,
) -> None:
    deploy(alias="live")
    if move == "behind":
        aws.lambda_.update_function_configuration(FunctionName=FN, MemorySize=1024)
    else:
        aws.lambda_.update_alias(FunctionName=FN, Name="live", FunctionVersion="$LATEST")
    doc = manifest(memoryMb=1024 if move == "behind" else 256, alias="live")
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan_for(aws, context, doc))
    assert calls.writes == ["PublishVersion", "UpdateAlias"]
    # Unchanged since version 1, $LATEST publishes as version 1 again (as AWS does).
    assert config(aws, "live")["Configuration"]["Version"] == ("2" if move == "behind" else "1")
    assert plan_for(aws, context, doc).in_sync


# --- tracing (TracingConfig.Mode) -------------------------------------------------------------


def _without_tracing_config(parsed: dict[str, Any]) -> bool:
    parsed.get("Configuration", {}).pop("TracingConfig", None)
    return True


@pytest.mark.parametrize("answered", ["PassThrough", "absent"])
def test_a_function_made_by_default_passes_through_and_is_in_sync(
    aws: Clients, context: Context, deploy: Callable[..., None], answered: str
) -> None:
    deploy()  # no TracingConfig sent: AWS's default mode
    if answered == "absent":  # an answer without TracingConfig means the default too
        rewrite(aws, "GetFunction", _without_tracing_config)
    doc = manifest(tracing="PassThrough")
    observed = observe_one(aws, context, doc)
    assert observed.fields["tracing"] == "PassThrough"
    assert ENGINE.diff(doc, observed) == []
    assert plan_for(aws, context, doc).in_sync


@pytest.mark.parametrize(
    ("deployed", "wanted"), [("PassThrough", "Active"), ("Active", "PassThrough")]
)
def test_tracing_drift_is_one_diff_applied_and_planned_again_in_sync(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    engine: LambdaFunctionEngine,
    deployed: str,
    wanted: str,
) -> None:
    deploy(tracing=deployed)
    doc = manifest(memoryMb=256, tracing=wanted)
    plan = plan_for(aws, context, doc)
    (change,) = plan.writes
    assert change.diffs == (Diff(field="tracing", desired=wanted, actual=deployed),)
    calls = Calls(aws)

    apply_plan(engine, aws, context, plan)

    assert calls.writes == ["UpdateFunctionConfiguration"]
    assert calls.params("UpdateFunctionConfiguration") == [
        {"FunctionName": FN, "TracingConfig": {"Mode": wanted}}
    ]
    assert config(aws)["Configuration"]["TracingConfig"] == {"Mode": wanted}
    assert plan_for(aws, context, doc).in_sync


def test_tracing_goes_in_the_same_configuration_update_as_memory(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy()
    doc = manifest(memoryMb=512, tracing="Active")
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan_for(aws, context, doc))
    assert calls.params("UpdateFunctionConfiguration") == [
        {"FunctionName": FN, "MemorySize": 512, "TracingConfig": {"Mode": "Active"}}
    ]
    assert plan_for(aws, context, doc).in_sync


def test_a_tracing_change_is_published_and_the_alias_moved_to_it(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy(alias="live")
    doc = manifest(alias="live", tracing="Active")
    calls = Calls(aws)

    apply_plan(engine, aws, context, plan_for(aws, context, doc))

    assert calls.writes == ["UpdateFunctionConfiguration", "PublishVersion", "UpdateAlias"]
    live = config(aws, "live")["Configuration"]
    assert (live["Version"], live["TracingConfig"]) == ("2", {"Mode": "Active"})
    assert plan_for(aws, context, doc).in_sync


def test_an_alias_behind_latest_on_tracing_is_drift(
    aws: Clients, context: Context, deploy: Callable[..., None]
) -> None:
    deploy(alias="live")  # version 1 passes through
    aws.lambda_.update_function_configuration(FunctionName=FN, TracingConfig={"Mode": "Active"})
    doc = manifest(alias="live", tracing="Active")
    assert ENGINE.diff(doc, observe_one(aws, context, doc)) == [
        Diff(field="alias", desired="live", actual="live -> version 1 (behind $LATEST: tracing)")
    ]


def test_null_reserved_concurrency_removes_the_reservation(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy(reserved=5)
    doc = manifest(reservedConcurrency=None)
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan_for(aws, context, doc))
    assert calls.writes == ["DeleteFunctionConcurrency"]
    assert "Concurrency" not in config(aws)
    assert plan_for(aws, context, doc).in_sync


def test_zero_provisioned_concurrency_removes_the_config(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy(alias="live", provisioned=2)
    doc = manifest(alias="live", provisionedConcurrency=0)
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan_for(aws, context, doc))
    assert calls.writes == ["DeleteProvisionedConcurrencyConfig"]
    with pytest.raises(aws.lambda_.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        aws.lambda_.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert plan_for(aws, context, doc).in_sync


@pytest.mark.parametrize(
    ("before", "after", "order"),
    [
        ((10, 8), (4, 2), ["PutProvisionedConcurrencyConfig", "PutFunctionConcurrency"]),
        ((2, 2), (10, 8), ["PutFunctionConcurrency", "PutProvisionedConcurrencyConfig"]),
    ],
    ids=["shrinking", "growing"],
)
def test_reserved_and_provisioned_change_in_an_order_aws_accepts(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    engine: LambdaFunctionEngine,
    before: tuple[int, int],
    after: tuple[int, int],
    order: list[str],
) -> None:
    """The emulator refuses provisioned concurrency above the reservation, as AWS does."""
    deploy(reserved=before[0], alias="live", provisioned=before[1])
    doc = manifest(reservedConcurrency=after[0], alias="live", provisionedConcurrency=after[1])
    calls = Calls(aws)
    apply_plan(engine, aws, context, plan_for(aws, context, doc))
    assert calls.writes == order
    assert plan_for(aws, context, doc).in_sync


def test_apply_refuses_create_delete_and_missing_functions(
    aws: Clients, context: Context, engine: LambdaFunctionEngine
) -> None:
    for action in (Action.CREATE, Action.DELETE):
        with pytest.raises(PermanentError, match="only updates functions"):
            engine.apply(
                aws,
                Change(kind="LambdaFunction", name=FN, action=action, desired={"memoryMb": 512}),
                context,
            )
    update = Change(kind="LambdaFunction", name=FN, action=Action.UPDATE, desired={"memoryMb": 1})
    with pytest.raises(PermanentError, match="does not exist"):
        engine.apply(aws, update.model_copy(update={"desired": {"memoryMb": 512}}), context)


# --- waiting, conflicts and failures ----------------------------------------------------------


@pytest.mark.usefixtures("instant_updates")
def test_update_in_progress_is_waited_for_before_the_next_write(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    engine: LambdaFunctionEngine,
    sleeps: list[float],
) -> None:
    deploy()
    calls = Calls(aws)
    busy = [3]

    def in_progress(parsed: dict[str, Any]) -> bool:
        if "UpdateFunctionCode" not in calls.names:
            return True
        parsed["Configuration"]["LastUpdateStatus"] = "InProgress"
        busy[0] -= 1
        return busy[0] > 0

    rewrite(aws, "GetFunction", in_progress)
    engine.apply(
        aws,
        Change(
            kind="LambdaFunction",
            name=FN,
            action=Action.UPDATE,
            desired={"image": V2, "memoryMb": 512},
        ),
        context,
    )
    between = calls.names[
        calls.names.index("UpdateFunctionCode") + 1 : calls.names.index(
            "UpdateFunctionConfiguration"
        )
    ]
    assert between == ["GetFunction"] * 4
    assert sleeps == [engine.poll_seconds] * 3


@pytest.mark.parametrize("reads", [1, 5])
def test_each_write_waits_until_aws_says_the_last_update_is_successful(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    engine: LambdaFunctionEngine,
    sleeps: list[float],
    reads: int,
) -> None:
    """AWS keeps LastUpdateStatus InProgress after each code or configuration write and answers
    409 to the next write meanwhile: no write (and no publish) is sent before it is Successful."""
    deploy(alias="live")
    calls = Calls(aws)
    doc = manifest(image=V2, memoryMb=512, alias="live")
    with behaviour(lambda_update_reads=reads):
        apply_plan(engine, aws, context, plan_for(aws, context, doc))
        assert plan_for(aws, context, doc).in_sync
    assert calls.writes == [
        "UpdateFunctionCode",
        "UpdateFunctionConfiguration",
        "PublishVersion",
        "UpdateAlias",
    ]  # each sent once: none was refused with a 409 and sent again
    assert sleeps == [engine.poll_seconds] * (2 * reads)


def test_a_reservation_aws_refuses_fails_the_change_in_one_sentence(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    """AWS keeps 100 of the account's 1000 unreserved: a reservation of 950 is refused."""
    deploy()
    plan = plan_for(aws, context, manifest(reservedConcurrency=950))
    (result,) = pipeline.apply(aws, plan, context, {ENGINE.kind: engine})
    assert not result.succeeded
    assert result.error is not None
    assert "\n" not in result.error
    assert "PutFunctionConcurrency" in result.error
    assert "UnreservedConcurrentExecution below its minimum value of [100]" in result.error
    assert "Concurrency" not in config(aws)


def test_update_that_never_settles_is_a_temporary_error(
    aws: Clients, context: Context, deploy: Callable[..., None], sleeps: list[float]
) -> None:
    deploy()
    engine = LambdaFunctionEngine(sleep=sleeps.append, poll_seconds=1, update_wait_seconds=3)
    calls = Calls(aws)

    def stuck(parsed: dict[str, Any]) -> bool:
        if "UpdateFunctionCode" in calls.names:
            parsed["Configuration"]["LastUpdateStatus"] = "InProgress"
        return True

    rewrite(aws, "GetFunction", stuck)
    change = Change(
        kind="LambdaFunction", name=FN, action=Action.UPDATE, desired={"image": V2, "memoryMb": 512}
    )
    with pytest.raises(TemporaryError, match="still updating after 3 s"):
        engine.apply(aws, change, context)
    assert calls.writes == ["UpdateFunctionCode"]
    assert sleeps == [1, 1, 1]


def test_failed_update_stops_with_its_reason(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy()
    calls = Calls(aws)

    def failed(parsed: dict[str, Any]) -> bool:
        if "UpdateFunctionCode" in calls.names:
            parsed["Configuration"].update(
                LastUpdateStatus="Failed",
                LastUpdateStatusReason="Image not found",
                LastUpdateStatusReasonCode="ImageDeleted",
            )
        return True

    rewrite(aws, "GetFunction", failed)
    change = Change(
        kind="LambdaFunction", name=FN, action=Action.UPDATE, desired={"image": V2, "memoryMb": 512}
    )
    with pytest.raises(PermanentError, match=r"update failed \(ImageDeleted\): Image not found"):
        engine.apply(aws, change, context)
    assert calls.writes == ["UpdateFunctionCode"]


def test_failed_provisioning_stops_with_its_reason(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy(alias="live")
    calls = Calls(aws)

    def failed(parsed: dict[str, Any]) -> bool:
        if "PutProvisionedConcurrencyConfig" in calls.names:
            parsed.update(Status="FAILED", StatusReason="FUNCTION_ERROR_INIT_FAILURE")
        return True

    rewrite(aws, "GetProvisionedConcurrencyConfig", failed)
    change = Change(
        kind="LambdaFunction",
        name=FN,
        action=Action.UPDATE,
        desired={"alias": "live", "provisionedConcurrency": 2},
    )
    with pytest.raises(PermanentError, match="FAILED: FUNCTION_ERROR_INIT_FAILURE"):
        engine.apply(aws, change, context)


@pytest.mark.usefixtures("instant_updates")
def test_conflict_is_retried_with_backoff(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    engine: LambdaFunctionEngine,
    sleeps: list[float],
) -> None:
    deploy()
    refused = refuse(aws, "UpdateFunctionConfiguration", "ResourceConflictException", times=2)
    doc = manifest(memoryMb=512)
    apply_plan(engine, aws, context, plan_for(aws, context, doc))
    assert len(refused) == 2
    assert sleeps == [engine.poll_seconds, engine.poll_seconds * 2]
    assert plan_for(aws, context, doc).in_sync


def test_lasting_conflict_becomes_a_temporary_error(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    engine: LambdaFunctionEngine,
    sleeps: list[float],
) -> None:
    deploy()
    refused = refuse(aws, "UpdateFunctionConfiguration", "ResourceConflictException", times=99)
    with pytest.raises(TemporaryError, match="still busy") as raised:
        apply_plan(engine, aws, context, plan_for(aws, context, manifest(memoryMb=512)))
    assert len(refused) == engine.conflict_retries + 1
    assert len(sleeps) == engine.conflict_retries
    assert raised.value.__cause__ is not None


def test_throttling_is_a_temporary_error(aws: Clients, context: Context) -> None:
    refuse(aws, "GetFunction", "TooManyRequestsException", times=1, status=429)
    with pytest.raises(TemporaryError, match="throttling"):
        ENGINE.observe(aws, [manifest(memoryMb=512)], context)


def test_other_errors_propagate(aws: Clients, context: Context) -> None:
    refuse(aws, "GetFunction", "AccessDeniedException", times=1, status=403)
    with pytest.raises(aws.lambda_.exceptions.ClientError, match="AccessDenied"):
        ENGINE.observe(aws, [manifest(memoryMb=512)], context)


def test_latest_changed_before_publish_is_a_temporary_error(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    deploy(alias="live")
    refuse(aws, "PublishVersion", "PreconditionFailedException", times=1, status=412)
    change = plan_for(aws, context, manifest(memoryMb=512, alias="live")).changes[0]
    with pytest.raises(TemporaryError, match="changed by someone else"):
        engine.apply(aws, change, context)
    assert config(aws, "live")["Configuration"]["Version"] == "1"


@pytest.mark.usefixtures("instant_updates")
def test_moving_a_provisioned_alias_waits_until_it_is_ready_again(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    engine: LambdaFunctionEngine,
    sleeps: list[float],
) -> None:
    """AWS re-provisions the new version behind the alias; apply returns once it is READY."""
    deploy(alias="live", provisioned=2)
    calls = Calls(aws)
    reprovisioning = [1]

    def in_progress(parsed: dict[str, Any]) -> bool:
        if "UpdateAlias" not in calls.names:
            return True
        parsed["Status"] = "IN_PROGRESS"
        reprovisioning[0] -= 1
        return reprovisioning[0] > 0

    rewrite(aws, "GetProvisionedConcurrencyConfig", in_progress)
    doc = manifest(memoryMb=512, alias="live", provisionedConcurrency=2)
    apply_plan(engine, aws, context, plan_for(aws, context, doc))
    assert calls.writes == ["UpdateFunctionConfiguration", "PublishVersion", "UpdateAlias"]
    assert calls.names[-2:] == ["GetProvisionedConcurrencyConfig"] * 2
    assert sleeps == [engine.poll_seconds]


def weights(aws: Clients) -> dict[str, float]:
    """The routing weights on the alias (AWS adds them while a provisioned alias moves)."""
    alias: Any = aws.lambda_.get_alias(FunctionName=FN, Name="live")
    return dict((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})


@pytest.mark.parametrize("reads", [None, 4], ids=["default-allocation", "slow-allocation"])
@pytest.mark.parametrize("count", [2, 4, 1], ids=["same", "more", "fewer"])
def test_a_new_image_on_a_provisioned_alias_converges_in_one_apply(
    aws: Clients,
    context: Context,
    deploy: Callable[..., None],
    engine: LambdaFunctionEngine,
    reads: int | None,
    count: int,
) -> None:
    """After the move AWS warms the new version behind routing weights and refuses
    PutProvisionedConcurrencyConfig meanwhile: apply waits for the weights to go, then puts."""
    deploy(alias="live", provisioned=2)
    doc = manifest(image=V2, alias="live", provisionedConcurrency=count)
    with behaviour(provisioning_reads=reads or current().provisioning_reads):
        apply_plan(engine, aws, context, plan_for(aws, context, doc))
        assert weights(aws) == {}
        live = config(aws, "live")["Configuration"]
        provisioned: Any = aws.lambda_.get_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="live"
        )
        assert live["Version"] == "2"
        assert (provisioned["Status"], provisioned["AllocatedProvisionedConcurrentExecutions"]) == (
            "READY",
            count,
        )
        assert plan_for(aws, context, doc).in_sync


def test_the_wait_after_a_move_does_not_end_while_the_new_version_is_not_allocated(
    aws: Clients, context: Context, deploy: Callable[..., None], engine: LambdaFunctionEngine
) -> None:
    """AWS documents AllocatedProvisionedConcurrentExecutions as fluctuating while a weighted
    alias is used: a READY that has not allocated what was requested is the old version's, not
    the new one warmed. Here every answer during the move says READY with nothing allocated."""
    deploy(alias="live", provisioned=2)
    calls = Calls(aws)

    def ready_too_soon(parsed: dict[str, Any]) -> bool:
        if "UpdateAlias" in calls.names and parsed["Status"] == "IN_PROGRESS":
            parsed["Status"] = "READY"
        return True

    rewrite(aws, "GetProvisionedConcurrencyConfig", ready_too_soon)
    doc = manifest(image=V2, alias="live", provisionedConcurrency=2)
    with behaviour(provisioning_reads=3):
        apply_plan(engine, aws, context, plan_for(aws, context, doc))
        assert weights(aws) == {}
    after_move = calls.names[calls.names.index("UpdateAlias") + 1 :]
    assert after_move.count("GetProvisionedConcurrencyConfig") == 4  # 3 during the move, 1 done


# --- functions read from ListFunctions ----------------------------------------------------------


def test_functions_managing_only_listed_fields_are_read_from_list_functions(
    aws: Clients, context: Context, deploy: Callable[..., None]
) -> None:
    deploy("mine", memory=256, env={"AA": "1"})
    deploy("theirs", tags={OWNER_TAG: "prod"})
    deploy("untagged", tags={})
    deploy("imaged")
    docs = [
        manifest("mine", memoryMb=256, environment={"AA": "1"}),
        manifest("theirs", timeoutSeconds=30),
        manifest("untagged", memoryMb=512),
        manifest("ghost", memoryMb=128),
        manifest("imaged", image=V1),  # the image is not in ListFunctions
    ]
    calls = Calls(aws)

    found = LambdaFunctionEngine(list_min=2).observe(aws, docs, context)

    assert sorted(calls.names) == ["GetFunction", "ListFunctions"]
    assert calls.params("GetFunction") == [{"FunctionName": "imaged"}]
    assert sorted(found) == ["imaged", "mine", "theirs", "untagged"]
    assert found["mine"].fields == {
        "memoryMb": 256,
        "timeoutSeconds": 30,
        "environment": {"AA": "1"},
        "tracing": "PassThrough",  # ListFunctions answers TracingConfig too
    }
    assert {name: found[name].tags for name in ("mine", "theirs", "untagged")} == {
        "mine": {OWNER_TAG: "dev"},
        "theirs": {OWNER_TAG: "prod"},
        "untagged": {},
    }
    # The plan is the one GetFunction would give.
    listed = LambdaFunctionEngine(list_min=2)
    assert plan_for(aws, context, *docs) == build_plan(
        environment(*docs),
        Observation(found={"LambdaFunction": listed.observe(aws, docs, context)}),
        {ENGINE.kind: listed},
    )


def test_a_listing_that_serves_too_few_per_page_gives_way_to_get_function(
    aws: Clients, context: Context
) -> None:
    """One declared function that the first page of 50 does not show: the listing stops there
    (reading on could cost the whole account's pages) and `GetFunction` reads it."""
    others = [{"FunctionName": f"other-{i:02}", "MemorySize": 128} for i in range(50)]
    got = {
        "Configuration": {"FunctionName": "late", "MemorySize": 256, "Timeout": 3},
        "Tags": {OWNER_TAG: "dev"},
    }
    with Stubber(aws.lambda_) as stub:
        stub.add_response(
            "list_functions", {"Functions": others, "NextMarker": "m"}, {"MaxItems": 50}
        )
        stub.add_response("get_function", got, {"FunctionName": "late"})
        found = LambdaFunctionEngine(list_min=1).observe(
            aws, [manifest("late", memoryMb=256)], context
        )
        stub.assert_no_pending_responses()
    assert found["late"].fields["memoryMb"] == 256
    assert found["late"].tags == {OWNER_TAG: "dev"}
