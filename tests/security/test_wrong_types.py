"""A value of the wrong type at every field of every kind: one clean line, at that field.

The fields come from each kind's JSON Schema (generated from the models), so a field added to a
model is covered here without anyone writing a case: `test_the_seeds_set_every_field` fails until
a seed document sets it. Each seed is a valid document (`tests/unit/testdata/valid/`); each case
puts one wrong-typed value (a list, a mapping, a string for a number, a number for a string, a
bool, a fraction for an integer, a null) at one field, writes the document out as YAML, and
validates it exactly as `reconciler validate` does. The answer must be exactly one error, on one
line, naming that field's path and the line it is written on, in words (no pydantic dump).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ManifestError
from reconciler.kinds import KINDS
from reconciler.loader import validate_document
from reconciler.schemas import kind_schema
from reconciler.yaml_source import format_path, parse_text

VALID = Path(__file__).parents[1] / "unit" / "testdata" / "valid" / "dev"

Path_ = tuple[str | int, ...]

#: The wrong-typed values tried at every field (each only where the schema refuses its type).
CANDIDATES: list[Any] = [[1], {"a": 1}, "12", 12, True, 1.5, None]


# --------------------------------------------------------------------------- the schemas


def _resolve(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


_SHAPES = ("type", "$ref", "properties", "items", "const", "enum", "anyOf", "oneOf")


def _branches(node: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """`node` and, through anyOf/oneOf, every alternative shape it allows (alternatives that
    only add constraints, like MetricAlarm's `oneOf: [{required: [statistic]}, …]`, are not
    shapes of their own)."""
    node = _resolve(node, schema)
    alternatives = [
        option
        for option in node.get("anyOf", []) + node.get("oneOf", [])
        if any(key in option for key in _SHAPES)
    ]
    if not alternatives:
        return [node]
    return [branch for option in alternatives for branch in _branches(option, schema)]


def schema_fields(schema: dict[str, Any]) -> set[str]:
    """Every field path the schema knows, as `spec.notifications[].subscribers[].type`;
    `*` stands for any key of a map (`spec.environment.*`)."""
    found: set[str] = set()

    def walk(node: dict[str, Any], path: str) -> None:
        for branch in _branches(node, schema):
            for name, child in branch.get("properties", {}).items():
                here = f"{path}.{name}" if path else name
                found.add(here)
                walk(child, here)
            if isinstance(branch.get("items"), dict):
                walk(branch["items"], f"{path}[]")
            if isinstance(branch.get("additionalProperties"), dict):
                found.add(f"{path}.*")
                walk(branch["additionalProperties"], f"{path}.*")

    walk(schema, "")
    return found


def field_of(schema: dict[str, Any], path: Path_) -> tuple[str, list[dict[str, Any]]]:
    """The schema's name for a data path, and the subschemas that apply to its value."""
    nodes = _branches(schema, schema)
    name = ""
    for part in path:
        below: list[dict[str, Any]] = []
        if isinstance(part, int):
            name += "[]"
            for node in nodes:
                if isinstance(node.get("items"), dict):
                    below += _branches(node["items"], schema)
        else:
            named = [n for n in nodes if part in n.get("properties", {})]
            if named:
                name += f".{part}" if name else part
                for node in named:
                    below += _branches(node["properties"][part], schema)
            else:
                name += ".*"
                for node in nodes:
                    if isinstance(node.get("additionalProperties"), dict):
                        below += _branches(node["additionalProperties"], schema)
        nodes = below
    return name, nodes


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def allowed_types(nodes: list[dict[str, Any]]) -> set[str] | None:
    """The JSON types the subschemas accept; None when one of them accepts anything."""
    types: set[str] = set()
    for node in nodes:
        if "type" in node:
            types |= {node["type"]} if isinstance(node["type"], str) else set(node["type"])
        elif "const" in node or "enum" in node:
            values = [node["const"]] if "const" in node else node["enum"]
            types |= {_json_type(value) for value in values}
        else:
            return None
    if "number" in types:
        types.add("integer")
    return types


# --------------------------------------------------------------------------- the documents


def emit(document: dict[str, Any], flow: Path_ = ()) -> tuple[str, dict[Path_, int]]:
    """`document` as block YAML, and the line each key (or list item) is written on.

    Scalars and the value at `flow` are written as JSON (which is YAML) on their key's line, so a
    replaced value and its key share one line.
    """
    lines: list[str] = []
    marks: dict[Path_, int] = {}

    def block(value: Any, path: Path_) -> bool:
        return bool(value) and isinstance(value, dict | list) and path != flow

    def mapping(value: dict[str, Any], path: Path_, indent: int) -> None:
        for key, item in value.items():
            here = (*path, key)
            if block(item, here):
                lines.append(f"{' ' * indent}{json.dumps(key)}:")
                marks[here] = len(lines)
                nested(item, here, indent + 2)
            else:
                lines.append(f"{' ' * indent}{json.dumps(key)}: {json.dumps(item)}")
                marks[here] = len(lines)

    def nested(value: Any, path: Path_, indent: int) -> None:
        if isinstance(value, dict):
            mapping(value, path, indent)
            return
        for index, item in enumerate(value):
            here = (*path, index)
            if block(item, here) and isinstance(item, dict):
                lines.append(f"{' ' * indent}-")
                marks[here] = len(lines) + 1  # a mapping item starts at its first key
                mapping(item, here, indent + 2)
            else:
                lines.append(f"{' ' * indent}- {json.dumps(item)}")
                marks[here] = len(lines)

    mapping(document, (), 0)
    return "\n".join(lines) + "\n", marks


def _paths(value: Any, path: Path_ = ()) -> Iterator[Path_]:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        yield (*path, key)
        if isinstance(item, dict | list):
            yield from _paths(item, (*path, key))


def _seeds() -> list[dict[str, Any]]:
    seeds: list[dict[str, Any]] = []
    for file in sorted(VALID.glob("*.y*ml")):
        documents, errors = parse_text(file.read_text(encoding="utf-8"), file.name)
        assert errors == []
        # Through JSON: the fixtures merge anchors, and shared objects must not change together.
        seeds += [json.loads(json.dumps(document.value)) for document in documents]
    for seed in seeds:  # labels are optional and the fixtures set them on one kind only
        seed["metadata"].setdefault("labels", {"team": "platform"})
    return seeds


SEEDS = _seeds()


@dataclass(frozen=True)
class Case:
    kind: str
    field: str
    seed: dict[str, Any]
    path: Path_
    wrong: tuple[Any, ...]

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.field}"


def _cases() -> list[Case]:
    cases: dict[tuple[str, str], Case] = {}
    for seed in SEEDS:
        kind = seed["kind"]
        schema = kind_schema(kind)
        for path in _paths(seed):
            field, nodes = field_of(schema, path)
            types = allowed_types(nodes)
            if not nodes or types is None or (kind, field) in cases:
                continue
            wrong = tuple(value for value in CANDIDATES if _json_type(value) not in types)
            cases[(kind, field)] = Case(kind, field, seed, path, wrong)
    return list(cases.values())


CASES = _cases()


def replaced(seed: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    document: Any = json.loads(json.dumps(seed))
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return dict(document)


def validated(text: str) -> list[ManifestError]:
    documents, errors = parse_text(text, "dev/case.yaml")
    for document in documents:
        errors += validate_document(document)[1]
    return errors


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_seeds_set_every_field(kind: str) -> None:
    """Every field the schema of `kind` has is reached by a case, so "every field" holds."""
    fields = schema_fields(kind_schema(kind))
    covered = {case.field for case in CASES if case.kind == kind}
    assert fields - covered == set(), f"no valid seed in {VALID} sets these {kind} fields"
    assert len(fields) >= 5


def test_the_seeds_are_valid_and_written_where_the_emitter_says() -> None:
    """The control: unchanged seeds validate, and the emitter's lines are where the keys are."""
    for seed in SEEDS:
        text, marks = emit(seed)
        assert validated(text) == [], text
        lines = text.splitlines()
        for path, line in marks.items():
            if isinstance(path[-1], str):
                assert lines[line - 1].lstrip().startswith(json.dumps(path[-1]) + ":")


def test_there_are_cases_for_every_kind_and_every_candidate() -> None:
    assert {case.kind for case in CASES} == set(KINDS)
    assert len(CASES) >= 60
    tried = {_json_type(value) for case in CASES for value in case.wrong}
    assert tried == {_json_type(value) for value in CANDIDATES}
    assert sum(len(case.wrong) for case in CASES) >= 300


#: Cases that fail today because of a defect outside the tests, and why. Strict: once the defect
#: is fixed the case passes, the xfail fails, and the entry must go.
KNOWN_DEFECTS: dict[str, str] = {}


def _params() -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_DEFECTS[case.id])]
            if case.id in KNOWN_DEFECTS
            else [],
        )
        for case in CASES
    ]


def test_known_defects_name_real_cases() -> None:
    assert set(KNOWN_DEFECTS) <= {case.id for case in CASES}


#: How Python spells what YAML writes `[1]`, `{a: 1}`, `true`, `null`: never in a message.
PYTHON_SPELLINGS = ("{'", "[1]", "True", "False", "None")


@pytest.mark.parametrize("case", _params())
def test_a_wrong_type_is_one_clean_error_at_its_field(case: Case) -> None:
    assert case.wrong, f"{case.id}: the schema allows every candidate type; add one it refuses"
    for value in case.wrong:
        text, marks = emit(replaced(case.seed, case.path, value), flow=case.path)
        errors = validated(text)

        shown = f"{case.id} = {json.dumps(value)}:\n{text}"
        assert len(errors) == 1, f"{shown}\n" + "\n".join(map(str, errors))
        (error,) = errors
        line = str(error)
        assert (error.path, error.line) == (format_path(case.path), marks[case.path]), line
        assert error.file == "dev/case.yaml"
        assert error.column >= 1
        assert "\n" not in line
        assert line.startswith(f"dev/case.yaml:{error.line}:{error.column}: {error.path}: ")
        for leak in ("Input should", "pydantic", "Traceback", "type=", "loc=", *PYTHON_SPELLINGS):
            assert leak not in error.message, line
        if case.field != "kind":  # an unknown kind names no kind; every other error names it
            assert error.kind == case.kind, line
