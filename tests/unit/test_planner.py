"""The planner is pure: table-driven cases over fake engines, no AWS at all."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.context import Context
from reconciler.kinds.compare import compare, same
from reconciler.kinds.lambda_function.model import LambdaFunction
from reconciler.kinds.metric_alarm.model import MetricAlarm
from reconciler.loader import EnvironmentManifests
from reconciler.model import Manifest
from reconciler.outcome import Status, status_of
from reconciler.pipeline import refusal
from reconciler.plan import OWNER_TAG, Action, Change, Diff, Observed, Plan
from reconciler.planner import Observation, build_plan
from tests.builders import document, environment_of


class FakeEngine:
    """Compares the declared spec fields with `Observed.fields`."""

    def __init__(self, kind: str, *, creatable: bool, prunable: bool) -> None:
        self.kind, self.creatable, self.prunable = kind, creatable, prunable
        self.noun = {"LambdaFunction": "functions"}.get(kind, "resources")

    def observe(
        self, aws: Any, manifests: Sequence[Manifest], context: Context
    ) -> dict[str, Observed]:
        raise AssertionError("the planner must not observe")

    def owned(self, aws: Any, context: Context) -> dict[str, Observed]:
        raise AssertionError("the planner must not observe")

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        return manifest.spec.to_manifest()

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        return compare(self.desired(manifest), observed.fields)

    def apply(self, aws: Any, change: Change, context: Context) -> None:
        raise AssertionError("the planner must not apply")


ENGINES = {
    "LambdaFunction": FakeEngine("LambdaFunction", creatable=False, prunable=False),
    "MetricAlarm": FakeEngine("MetricAlarm", creatable=True, prunable=True),
}


def function(name: str = "api", **spec: Any) -> LambdaFunction:
    return document(LambdaFunction, name, spec)


def alarm(name: str = "api-errors", threshold: float = 5) -> MetricAlarm:
    spec = {
        "namespace": "AWS/Lambda",
        "metricName": "Errors",
        "statistic": "Sum",
        "period": 60,
        "evaluationPeriods": 1,
        "threshold": threshold,
        "comparisonOperator": "GreaterThanThreshold",
    }
    return document(MetricAlarm, name, spec)


def manifests(*resources: Manifest, **env: Any) -> EnvironmentManifests:
    return environment_of(*resources, **env)


OWNED = {OWNER_TAG: "dev"}


def test_in_sync_resource_is_noop() -> None:
    observed = Observation(
        found={"LambdaFunction": {"api": Observed("api", {"memoryMb": 512.0}, OWNED)}}
    )
    plan = build_plan(manifests(function(memoryMb=512)), observed, ENGINES)
    assert [c.action for c in plan.changes] == [Action.NOOP]
    assert plan.in_sync


def test_drift_is_an_update_with_the_field_path() -> None:
    observed = Observation(
        found={"LambdaFunction": {"api": Observed("api", {"memoryMb": 256}, OWNED)}}
    )
    plan = build_plan(manifests(function(memoryMb=512)), observed, ENGINES)
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    assert change.diffs == (Diff(field="memoryMb", desired=512, actual=256),)
    assert change.desired == {"memoryMb": 512}


@pytest.mark.parametrize(("memory", "action"), [(512, Action.NOOP), (256, Action.UPDATE)])
def test_a_kinds_note_is_the_reason_of_its_noop_or_update(memory: int, action: Action) -> None:
    """A kind says what is not drift but matters (a change scheduled for a maintenance window)."""
    note = "scheduled for the next maintenance window"
    observed = Observation(
        found={"LambdaFunction": {"api": Observed("api", {"memoryMb": memory}, OWNED, note=note)}}
    )
    plan = build_plan(manifests(function(memoryMb=512)), observed, ENGINES)
    (change,) = plan.changes
    assert (change.action, change.reason) == (action, note)
    from reconciler.render import Text

    assert note in Text().plan(plan)  # also when the change is a noop


def test_missing_tag_is_part_of_the_plan() -> None:
    observed = Observation(
        found={"LambdaFunction": {"api": Observed("api", {"memoryMb": 512}, {})}}
    )
    (change,) = build_plan(manifests(function(memoryMb=512)), observed, ENGINES).changes
    assert change.action is Action.UPDATE
    assert change.diffs == (Diff(field=f"tags.{OWNER_TAG}", desired="dev", actual=None),)


def test_resource_of_another_environment_is_blocked() -> None:
    observed = Observation(
        found={"LambdaFunction": {"api": Observed("api", {"memoryMb": 1}, {OWNER_TAG: "prod"})}}
    )
    (change,) = build_plan(manifests(function(memoryMb=512)), observed, ENGINES).changes
    assert change.action is Action.BLOCKED
    assert change.reason is not None and "prod" in change.reason


def test_missing_function_is_blocked_but_missing_alarm_is_created() -> None:
    plan = build_plan(manifests(function(memoryMb=512), alarm()), Observation(), ENGINES)
    assert [c.action for c in plan.changes] == [Action.BLOCKED, Action.CREATE]
    assert "never creates functions" in (plan.changes[0].reason or "")
    assert plan.changes[1].desired is not None
    assert Diff(field=f"tags.{OWNER_TAG}", desired="dev", actual=None) in plan.changes[1].diffs


@pytest.mark.parametrize(("prune", "expected"), [(True, [Action.DELETE]), (False, [])])
def test_prune_deletes_only_owned_undeclared_resources(prune: bool, expected: list[Action]) -> None:
    observed = Observation(
        owned={
            "MetricAlarm": {
                "old": Observed("old", {}, OWNED),
                "foreign": Observed("foreign", {}, {OWNER_TAG: "prod"}),
            }
        }
    )
    plan = build_plan(manifests(prune=prune), observed, ENGINES)
    assert [c.action for c in plan.changes] == expected
    assert all(c.name == "old" for c in plan.changes)


def test_plan_json_round_trips_and_has_the_contract_shape() -> None:
    observed = Observation(
        found={"LambdaFunction": {"api": Observed("api", {"memoryMb": 256}, OWNED)}}
    )
    plan = build_plan(manifests(function(memoryMb=512)), observed, ENGINES, revision="abc")
    data = plan.to_json()
    assert list(data) == [
        "apiVersion",
        "environment",
        "account",
        "region",
        "revision",
        "summary",
        "changes",
    ]
    assert data["summary"] == {"create": 0, "update": 1, "delete": 0, "noop": 0, "blocked": 0}
    assert data["changes"][0]["diffs"] == [{"field": "memoryMb", "desired": 512, "actual": 256}]
    assert Plan.from_json(data) == plan


def test_blast_radius_refuses_the_whole_plan() -> None:
    plan = build_plan(manifests(alarm("a"), alarm("b"), maxChangesPerRun=1), Observation(), ENGINES)
    reason = refusal(plan, manifests(maxChangesPerRun=1), datetime(2026, 6, 1, tzinfo=UTC))
    assert reason is not None and "maxChangesPerRun" in reason


def test_freeze_window_refuses_apply_but_not_an_empty_plan() -> None:
    window = [{"start": "2026-12-20T00:00:00Z", "end": "2027-01-02T00:00:00Z"}]
    env = manifests(alarm(), freezeWindows=window)
    plan = build_plan(env, Observation(), ENGINES)
    assert refusal(plan, env, datetime(2026, 12, 25, tzinfo=UTC)) is not None
    assert refusal(plan, env, datetime(2027, 1, 3, tzinfo=UTC)) is None
    assert (
        refusal(
            Plan(environment="dev", account="1", region="r"),
            env,
            datetime(2026, 12, 25, tzinfo=UTC),
        )
        is None
    )


def test_status_of_a_run() -> None:
    empty = Plan(environment="dev", account="1", region="r")
    drift = Plan(
        environment="dev",
        account="1",
        region="r",
        changes=(Change(kind="K", name="n", action=Action.UPDATE),),
    )
    blocked = Plan(
        environment="dev",
        account="1",
        region="r",
        changes=(Change(kind="K", name="n", action=Action.BLOCKED),),
    )
    assert status_of(empty, (), None) is Status.IN_SYNC
    assert status_of(drift, (), None) is Status.DRIFTED
    assert status_of(blocked, (), None) is Status.BLOCKED


@pytest.mark.parametrize(
    ("desired", "actual", "equal"),
    [
        (1, 1.0, True),
        ("50", "50", True),
        (0.5, 0.5, True),
        (True, 1, False),
        (None, 0, False),
        ({"a": 1}, {"a": 1.0}, True),
    ],
)
def test_same_compares_numbers_as_numbers(desired: Any, actual: Any, equal: bool) -> None:
    assert same(desired, actual) is equal


def test_load_diff_and_plan_never_import_boto3() -> None:
    code = (
        "import sys; import reconciler.loader, reconciler.planner, reconciler.plan, reconciler.kinds; "
        "bad = [m for m in ('boto3', 'moto') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_public_surface_resolves_every_name() -> None:
    import reconciler

    for name in reconciler.__all__:
        assert getattr(reconciler, name) is not None, name


@pytest.mark.parametrize(
    ("changes", "mode", "env", "decision", "refused"),
    [
        ((), "apply", {}, "in-sync", False),
        ((Action.UPDATE,), "observe", {}, "observe", False),
        ((Action.BLOCKED,), "apply", {}, "observe", False),
        ((Action.UPDATE, Action.UPDATE), "apply", {"maxChangesPerRun": 1}, "refused", True),
        ((Action.UPDATE, Action.UPDATE), "observe", {"maxChangesPerRun": 1}, "observe", False),
        ((Action.UPDATE,), "apply", {}, "apply", False),
    ],
)
def test_decide_gives_a_refusal_only_to_a_run_that_meant_to_apply(
    changes: tuple[Action, ...], mode: str, env: dict[str, Any], decision: str, refused: bool
) -> None:
    from reconciler.pipeline import decide

    plan = Plan(
        environment="dev", account="1", region="r",
        changes=tuple(Change(kind="K", name=f"n{i}", action=a) for i, a in enumerate(changes)),
    )  # fmt: skip
    got, reason = decide(plan, manifests(**env), mode=mode, now=datetime(2026, 6, 1, tzinfo=UTC))
    assert got == decision
    assert (reason is not None) is refused


class BrokenEngine(FakeEngine):
    """Applies fine, except that one resource hits a bug (not an AWS error)."""

    def __init__(self) -> None:
        super().__init__("MetricAlarm", creatable=True, prunable=True)
        self.applied: list[str] = []

    def apply(self, aws: Any, change: Change, context: Context) -> None:
        if change.name == "buggy":
            raise KeyError("MetricAlarms")
        self.applied.append(change.name)

    def read(self, aws: Any, manifests: Any, context: Context, *, owned: bool) -> Any:
        raise ConnectionError("the verify read failed")


def test_a_bug_in_one_change_is_a_failed_result_and_the_rest_still_apply() -> None:
    from reconciler.pipeline import apply

    engine = BrokenEngine()
    plan = Plan(
        environment="dev", account="1", region="r",
        changes=tuple(Change(kind="MetricAlarm", name=n, action=Action.CREATE) for n in ("a", "buggy", "c")),
    )  # fmt: skip
    results = apply(None, plan, Context("dev", "1", "r"), {"MetricAlarm": engine})  # type: ignore[arg-type]
    assert [(r.change.name, r.succeeded) for r in results] == [
        ("a", True),
        ("buggy", False),
        ("c", True),
    ]
    assert "KeyError" in (results[1].error or "")
    assert engine.applied == ["a", "c"]


def test_a_verify_that_fails_still_returns_every_result() -> None:
    from reconciler.pipeline import apply_and_verify

    engine = BrokenEngine()
    plan = Plan(
        environment="dev", account="123456789012", region="us-east-1",
        changes=(Change(kind="MetricAlarm", name="a", action=Action.CREATE),),
    )  # fmt: skip
    results, verified, error = apply_and_verify(
        None,
        plan,
        manifests(alarm("a")),
        engines={"MetricAlarm": engine},  # type: ignore[arg-type]
    )
    assert [r.succeeded for r in results] == [True]
    assert verified is None
    assert error is not None and "verifying failed" in error


TAGGED = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.14.0"
PINNED = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:" + "a" * 64


def test_an_image_given_by_tag_is_warned_about_in_the_plan() -> None:
    """A tag pushed again is never deployed (AWS resolves tags once): the plan says so."""
    plan = build_plan(
        manifests(function("api", image=TAGGED), function("pinned", image=PINNED)),
        Observation(),
        ENGINES,
    )

    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith(f"LambdaFunction/api: image '{TAGGED}' is a tag")
    assert plan.to_json()["warnings"] == list(plan.warnings)
    assert Plan.from_json(plan.to_json()) == plan
    from reconciler.render import Text, markdown

    assert f"Warning: {plan.warnings[0]}" in Text().plan(plan)
    assert plan.warnings[0] in markdown(plan)


def test_no_warning_when_digests_are_required_or_images_pinned() -> None:
    required = build_plan(
        manifests(function("api", image=PINNED), requireImageDigest=True), Observation(), ENGINES
    )
    pinned = build_plan(manifests(function("api", image=PINNED)), Observation(), ENGINES)

    assert required.warnings == pinned.warnings == ()
    assert "warnings" not in pinned.to_json()
