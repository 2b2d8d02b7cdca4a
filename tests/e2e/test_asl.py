"""The state machine definition is checked here, since cfn-lint does not look inside it:
grammar (moto's ASL parser), every transition names a state, every state is reachable, every
Task is caught, and the substitutions are exactly the template's."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ASL = Path(__file__).resolve().parents[2] / "statemachine" / "reconcile.asl.json"
SUBSTITUTIONS = {
    f"{name}FunctionArn" for name in ("Start", "Load", "Plan", "Apply", "Report", "Fail")
}


def definition() -> dict[str, Any]:
    return json.loads(ASL.read_text())


def filled() -> str:
    text = ASL.read_text()
    for name in SUBSTITUTIONS:
        text = text.replace(
            "${" + name + "}", f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        )
    return text


def targets(state: dict[str, Any]) -> Iterator[str]:
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for choice in state.get("Choices", []):
        yield choice["Next"]
    for catcher in state.get("Catch", []):
        yield catcher["Next"]


def test_grammar_is_accepted_by_the_asl_parser() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program, _ = AmazonStateLanguageParser.parse(filled())
    assert program is not None


def test_substitutions_are_exactly_the_six_functions() -> None:
    assert set(re.findall(r"\$\{(\w+)\}", ASL.read_text())) == SUBSTITUTIONS


def test_every_transition_names_an_existing_state() -> None:
    states = definition()["States"]
    assert definition()["StartAt"] in states
    for name, state in states.items():
        for target in targets(state):
            assert target in states, f"{name} → {target}, which does not exist"


def test_every_state_is_reachable_and_every_path_ends() -> None:
    states = definition()["States"]
    seen: set[str] = set()
    todo = [definition()["StartAt"]]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(targets(states[name]))
    assert seen == set(states), f"unreachable: {set(states) - seen}"
    for name, state in states.items():
        ends = state.get("End") or state["Type"] in ("Succeed", "Fail")
        assert ends or list(targets(state)), f"{name} neither ends nor moves on"


@pytest.mark.parametrize("name", ["Start", "Load", "Plan", "Apply", "Report"])
def test_every_stage_is_caught_and_retried(name: str) -> None:
    state = definition()["States"][name]
    assert state["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}
    ]
    retried = {error for rule in state["Retry"] for error in rule["ErrorEquals"]}
    assert "Lambda.TooManyRequestsException" in retried
