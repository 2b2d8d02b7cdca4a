"""Each kind describes itself once, and the description holds together: what the registry, the
pacing, the templates and the tests derive from it is only as good as these facts."""

from __future__ import annotations

import subprocess
import sys

import botocore.session
import pytest

from reconciler.kinds import KINDS, engine, iam_actions, managed, services
from reconciler.kinds.base import Engine

MANAGED = [kind.name for kind in managed()]


def test_apply_order_goes_by_phase() -> None:
    """Clusters before the functions that use them, alarms after what they watch, budgets last;
    every kind with an engine is applied."""
    assert [kind.phase for kind in managed()] == sorted(kind.phase for kind in managed())
    assert set(MANAGED) == {kind.name for kind in KINDS.values() if kind.engine is not None}
    known = ["AuroraServerlessCluster", "LambdaFunction", "MetricAlarm", "Budget"]
    assert [name for name in MANAGED if name in known] == known


@pytest.mark.parametrize("name", MANAGED)
def test_a_kinds_engine_is_described_by_its_kind(name: str) -> None:
    found = engine(name)
    assert isinstance(found, Engine)
    assert found.description is KINDS[name]
    assert (found.kind, found.creatable, found.prunable) == (
        name,
        KINDS[name].creatable,
        KINDS[name].prunable,
    )


#: IAM actions a call of another service needs without the kind calling IAM: passing a role in a
#: request (`iam:PassRole`, e.g. a task definition's task and execution roles), and the
#: service-linked role a service creates on a first call (Application Auto Scaling's for ECS).
IMPLIED = frozenset({"iam:PassRole", "iam:CreateServiceLinkedRole"})


@pytest.mark.parametrize("name", MANAGED)
def test_a_kinds_actions_belong_to_its_services(name: str) -> None:
    kind = KINDS[name]
    prefixes = {service.iam_prefix for service in kind.services}
    assert kind.observe and kind.apply
    own = (kind.observe | kind.apply) - IMPLIED
    assert {action.split(":")[0] for action in own} <= prefixes


@pytest.mark.parametrize("name", MANAGED)
def test_a_kinds_writes_and_identifiers_are_operations_of_its_service(name: str) -> None:
    kind = KINDS[name]
    model = botocore.session.get_session().get_service_model(kind.service.name)
    assert kind.writes <= set(model.operation_names)
    members = {
        member
        for operation in kind.writes
        for member in model.operation_model(operation).input_shape.members
    }
    assert kind.identifiers and set(kind.identifiers) <= members


def test_every_service_has_its_throttling_answer_and_sourced_quotas() -> None:
    for service in services():
        status, code = service.throttling
        assert status in (400, 429) and code
        assert all(quota.service == service.name and quota.source for quota in service.quotas)


def test_observe_and_apply_actions_do_not_overlap() -> None:
    observe, apply = iam_actions()
    assert observe & apply == set()
    assert "sts:GetCallerIdentity" in observe


def test_loading_the_kinds_loads_no_engine_and_no_aws_sdk() -> None:
    """`reconciler validate` and the planner load the registry; the engines come on first use."""
    code = (
        "import sys; import reconciler.kinds, reconciler.loader, reconciler.planner; "
        "bad = [m for m in sys.modules if m.startswith(('botocore', 'boto3')) or m.endswith('.engine')]; "
        "print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
