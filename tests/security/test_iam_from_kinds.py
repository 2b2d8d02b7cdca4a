"""The templates grant exactly the IAM actions the kinds describe, no more and no less.

Each kind's description (`reconciler/kinds/<kind>/__init__.py`) lists what observing and what
applying it needs; `reconciler.kinds.iam_actions()` adds what every run needs (the account check).
`template.yaml` holds them in EngineObservePolicy (plus `sts:AssumeRole`, which only the
reconciler's own account needs) and EngineApplyPolicy; `bootstrap/target-role.yaml` in its
engine-observe and engine-apply policies. A kind added without its statements, or a statement
left behind by a kind that no longer calls it, fails here with the actions to add or remove.
`test_least_privilege.py` holds the same policies to the calls a real workload makes.
"""

from __future__ import annotations

import pytest
from policies import Stack, target_role_policies

from reconciler.kinds import iam_actions

OBSERVE, APPLY = iam_actions()
ASSUME = "sts:AssumeRole"


def differences(granted: set[str], derived: frozenset[str]) -> dict[str, list[str]]:
    return {"add": sorted(derived - granted), "remove": sorted(granted - derived)}


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(ManifestSource="s3://manifests-bucket/team")


def test_the_template_observe_policy_grants_what_the_kinds_observe(stack: Stack) -> None:
    granted = stack.managed_policy_actions("EngineObservePolicy")
    assert differences(granted, OBSERVE | {ASSUME}) == {"add": [], "remove": []}


def test_the_template_apply_policy_grants_what_the_kinds_apply(stack: Stack) -> None:
    granted = stack.managed_policy_actions("EngineApplyPolicy")
    assert differences(granted, APPLY) == {"add": [], "remove": []}


def test_the_target_role_grants_what_the_kinds_observe_and_apply() -> None:
    policies = target_role_policies()
    assert differences(policies["engine-observe"], OBSERVE) == {"add": [], "remove": []}
    assert differences(policies["engine-apply"], APPLY) == {"add": [], "remove": []}


def test_no_derived_action_is_a_wildcard() -> None:
    for action in OBSERVE | APPLY:
        service, _, name = action.partition(":")
        assert service and name and "*" not in action and "?" not in action, action
