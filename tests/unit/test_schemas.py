"""The JSON Schemas: committed files match the models, are valid 2020-12 schemas, and say what the
loader says about the examples and the test manifests.

Editors (yaml-language-server, IntelliJ) and CI tools read `schemas/`; the loader reads the
models. The files are generated (`make schemas`), so the only way they can disagree with the
models is by being stale, which is what the first test catches.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.cli import main
from reconciler.kinds import KINDS
from reconciler.loader import validate
from reconciler.schemas import COMBINED, DIALECT, expected_files, kind_schema, manifest_schema
from reconciler.yaml_source import parse_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
MANIFESTS = ROOT / "manifests"
TESTDATA = Path(__file__).parent / "testdata"
EXPECTED = expected_files()


def documents(path: Path) -> list[Any]:
    parsed, errors = parse_text(path.read_text(encoding="utf-8"), str(path))
    assert errors == []
    return [document.value for document in parsed]


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(schema: dict[str, Any], value: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(schema).iter_errors(value)
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_committed_schema_matches_the_models(name: str) -> None:
    path = SCHEMAS / name
    assert path.exists(), f"schemas/{name} is missing: run `make schemas` and commit the result"
    assert path.read_text(encoding="utf-8") == EXPECTED[name], (
        f"schemas/{name} differs from the models: run `make schemas` and commit the result"
    )


def test_no_stale_schema_is_left_behind() -> None:
    """A kind that was renamed or removed must not leave its old schema for editors to find."""
    committed = {path.name for path in SCHEMAS.glob("*.schema.json")}

    assert committed <= set(EXPECTED), (
        f"not generated any more: {sorted(committed - set(EXPECTED))}; delete them"
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    schema = json.loads(EXPECTED[name])

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT
    assert schema["$id"] == name


def test_every_kind_has_a_schema() -> None:
    assert set(EXPECTED) == {f"{kind}.schema.json" for kind in KINDS} | {COMBINED}


def test_the_schema_command_prints_the_committed_schemas(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == EXPECTED[COMBINED]
    for kind in KINDS:
        assert main(["schema", kind]) == 0
        assert capsys.readouterr().out == EXPECTED[f"{kind}.schema.json"]


def _example_files() -> list[Path]:
    if not MANIFESTS.is_dir():
        return []
    return sorted(path for path in MANIFESTS.rglob("*") if path.suffix in (".yaml", ".yml"))


@pytest.mark.skipif(not MANIFESTS.is_dir(), reason="no manifests/ folder in this checkout")
def test_the_examples_load() -> None:
    loaded, errors = validate([str(MANIFESTS)])

    assert [str(error) for error in errors] == []
    assert loaded, "manifests/ holds no environment"


@pytest.mark.skipif(not MANIFESTS.is_dir(), reason="no manifests/ folder in this checkout")
@pytest.mark.parametrize(
    "path", _example_files(), ids=[str(p.relative_to(ROOT)) for p in _example_files()]
)
def test_the_examples_match_the_combined_schema(path: Path) -> None:
    schema = manifest_schema()
    for document in documents(path):
        assert schema_errors(schema, document) == []


VALID = sorted((TESTDATA / "valid").rglob("*.y*ml"))


@pytest.mark.parametrize("path", VALID, ids=[path.name for path in VALID])
def test_valid_test_manifests_match_both_schemas(path: Path) -> None:
    for document in documents(path):
        assert schema_errors(manifest_schema(), document) == []
        assert schema_errors(kind_schema(document["kind"]), document) == []


# The combined schema selects a kind's definition with if/then: if that wiring broke, every
# document would pass it. These are wrong in ways a schema can say, one per kind.
WRONG = {
    "Environment": ("spec", "region", "Ireland"),
    "LambdaFunction": ("spec", "memoryMb", 20000),
    "AuroraServerlessCluster": ("spec", "maxCapacity", 2.25),
    "MetricAlarm": ("spec", "period", 45),
    "Budget": ("spec", "timeUnit", "WEEKLY"),
    "DynamoDBTable": ("spec", "billingMode", "ON_DEMAND"),
    "SsmParameter": ("spec", "type", "SecureString"),
    "HttpApiStage": ("spec", "throttling", {"rateLimit": -1, "burstLimit": 1}),
    "DatabaseInstance": ("spec", "instanceClass", "db.serverless"),
    "LogGroup": ("spec", "retentionDays", 8),
    "EcsService": ("spec", "cpu", 20000),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_combined_schema_applies_each_kinds_rules(kind: str) -> None:
    document = next(value for path in VALID for value in documents(path) if value["kind"] == kind)
    section, field, wrong = WRONG[kind]
    broken = {**document, section: {**document[section], field: wrong}}

    assert schema_errors(manifest_schema(), document) == []
    assert schema_errors(manifest_schema(), broken) != []
    assert schema_errors(kind_schema(kind), broken) != []


@pytest.mark.parametrize(
    "document",
    [
        {"apiVersion": "reconciler/v1", "kind": "Widget", "metadata": {"name": "x"}, "spec": {}},
        {"apiVersion": "reconciler/v2", "kind": "Budget", "metadata": {"name": "x"}, "spec": {}},
        {"kind": "LambdaFunction", "metadata": {"name": "x"}, "spec": {}},
        {
            "apiVersion": "reconciler/v1",
            "kind": "LambdaFunction",
            "metadata": {"name": "x"},
            "spec": {"memory_mb": 512},
        },
    ],
    ids=["unknown-kind", "wrong-api-version", "no-api-version", "snake-case-field"],
)
def test_the_combined_schema_refuses_what_the_loader_refuses(document: dict[str, Any]) -> None:
    assert schema_errors(manifest_schema(), document) != []
