"""Properties of validation, checked on generated documents (hypothesis).

(a) Whatever the schema of a kind allows loads: the only errors left are the kind's `check()`
    rules across fields, which a schema cannot express.
(b) Nothing raises: random mutations of valid documents, and random text, end in errors.
(c) The schema and the model agree on every mutation: schema-valid means model-valid, and a
    document the model and its `check()` accept is schema-valid.

Generation notes, so nobody has to rediscover them:

- hypothesis-jsonschema 0.23.1 (the newest) calls `many.more()`, a Hypothesis internal that
  recent Hypothesis releases replaced by iteration; every object schema fails with
  `AttributeError: 'many' object has no attribute 'more'`. `_LegacyMany` below adapts the new
  API to the old call for hypothesis-jsonschema only (a pin of Hypothesis would do too).
- With that, hypothesis-jsonschema handles every construct in our schemas (patterns,
  propertyNames, oneOf/anyOf, multipleOf, formats). The one place generation is narrowed is
  `RecurringWindow.schedule`: the schema can only bound its length, so arbitrary text is
  generated and the model (rightly) refuses what is not cron. Generation draws 5-field cron
  expressions instead; `test_schema_cannot_tell_a_cron_expression` records the gap.
- The schema is checked as JSON Schema means it, where Python's jsonschema differs: `integer`
  excludes 512.0 (YAML tells 512.0 from 512; JSON cannot, so the schema cannot say it) and `$`
  ends the text (ECMA-262), where Python's `re` also lets it match before a final newline.
- Documents go through YAML (`yaml.safe_dump`, then our reader), as users' documents do.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import hypothesis_jsonschema._from_schema as hjs_from_schema
import pytest
import yaml
from cronsim import CronSim, CronSimError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator, ValidationError, validators
from pydantic import ValidationError as ModelError

from reconciler.errors import ManifestError
from reconciler.explain import printable
from reconciler.kinds import KINDS
from reconciler.loader import validate_document
from reconciler.schemas import kind_schema, manifest_schema
from reconciler.yaml_source import parse_text, read_file


class _LegacyMany:
    """`cu.many(...).more()` as hypothesis-jsonschema 0.23 calls it, on the iterating API."""

    def __init__(self, data: Any, **sizes: Any) -> None:
        self._many = conjecture.many(data, **sizes)
        self._many.__enter__()
        self._elements = iter(self._many)

    def more(self) -> bool:
        if next(self._elements, self) is self:
            self._many.__exit__(None, None, None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


if not hasattr(conjecture.many, "more"):
    hjs_from_schema.cu = SimpleNamespace(many=_LegacyMany)  # type: ignore[attr-defined]


PROFILE = settings(deadline=None, derandomize=True, database=None)
TESTDATA = Path(__file__).parent / "testdata"
FINITE = 1e300  # beyond this a YAML float is inf; JSON has no inf or nan to compare

#: Valid 5-field cron expressions (what `schedule` is generated from; see the module notes).
CRON = (
    r"^(\*|[1-5]?[0-9]) (\*|1?[0-9]|2[0-3]) (\*|[1-9]|1[0-9]|2[0-8]) (\*|[1-9]|1[0-2]) "
    r"(\*|[0-6]|MON|TUE|WED|THU|FRI|SAT|SUN)$"
)


def generation_schema(kind: str) -> dict[str, Any]:
    schema = copy.deepcopy(kind_schema(kind))
    window = schema.get("$defs", {}).get("RecurringWindow")
    if window is not None:
        window["properties"]["schedule"] = {"type": "string", "pattern": CRON}
    return schema


def load(document: Any) -> tuple[list[Any], list[ManifestError]]:
    """The document as a user would write it: dumped to YAML and read back by our reader."""
    parsed, errors = parse_text(yaml.safe_dump(document), "gen.yaml")
    return parsed, errors


def model_and_rules(value: Any) -> tuple[bool, list[str]]:
    """Whether the kind's model accepts `value`, and the messages of its `check()` rules."""
    name = value.get("kind") if isinstance(value, dict) else None
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        return False, []
    try:
        manifest = kind.model.model_validate(value, by_alias=True, by_name=False)
    except ModelError:
        return False, []
    return True, [text for _, text in kind.check(manifest)]


@functools.cache
def _ecma(pattern: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12 as JSON Schema means it (see the module notes), with formats asserted.
Strict = validators.extend(
    Draft202012Validator,
    validators={"pattern": _pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    ),
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)
MANIFEST = Strict(manifest_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


# -- (a) every document the schema allows loads ------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_documents_the_schema_allows_load(kind: str) -> None:
    @settings(PROFILE, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    @given(from_schema(generation_schema(kind)))
    def generated(document: dict[str, Any]) -> None:
        (source,), reading = load(document)
        assert reading == []
        assert source.value == document

        model_ok, rules = model_and_rules(source.value)
        _, errors = validate_document(source)

        assert model_ok, [str(error) for error in errors]
        assert sorted(error.message for error in errors) == sorted(rules)

    generated()


@pytest.mark.slow
def test_schema_generation_is_not_vacuous() -> None:
    """Guard for the test above: generated documents do use the optional fields."""
    seen: set[str] = set()

    @settings(PROFILE, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    @given(from_schema(generation_schema("LambdaFunction")))
    def generated(document: dict[str, Any]) -> None:
        seen.update(document["spec"])

    generated()
    assert {"image", "memoryMb", "environment", "provisionedConcurrency"} <= seen


@pytest.mark.parametrize(
    ("schedule", "schema_ok"),
    [("every friday", False), ("0 18 * FRI", False), ("61 18 * * FRI", True)],
)
def test_the_schema_checks_the_cron_shape_and_the_model_its_values(
    schedule: str, schema_ok: bool
) -> None:
    """The schema can only see five fields; the model parses them. Both refuse a wrong shape,
    and a well-shaped but impossible schedule is a known gap of the schema alone."""
    document = {
        "apiVersion": "reconciler/v1",
        "kind": "Environment",
        "metadata": {"name": "dev"},
        "spec": {
            "account": "123456789012",
            "region": "eu-west-1",
            "freezeWindows": [{"schedule": schedule, "duration": "2h"}],
        },
    }
    assert not model_and_rules(document)[0]
    assert Strict(kind_schema("Environment")).is_valid(document) is schema_ok


# -- (b) nothing raises -------------------------------------------------------------------------


def _seeds() -> list[dict[str, Any]]:
    seeds = []
    for path in sorted((TESTDATA / "valid").rglob("*.y*ml")):
        parsed, errors = parse_text(path.read_text(encoding="utf-8"), path.name)
        assert errors == []
        seeds.extend(document.value for document in parsed)
    return seeds


SEEDS = _seeds()
DataPath = tuple[str | int, ...]


def _paths(value: Any, prefix: DataPath = ()) -> Iterator[DataPath]:
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        yield (*prefix, key)
        yield from _paths(item, (*prefix, key))


def _parent(document: Any, path: DataPath) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


def junk(*, finite: bool) -> st.SearchStrategy[Any]:
    """Values of every type and size; `finite` keeps to what JSON can hold (for comparisons)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.sampled_from([0, -1, 1, 2**31, 2**63, 10**20]),
        st.floats(allow_nan=False, min_value=-FINITE, max_value=FINITE),
        st.text(max_size=20),
        st.sampled_from(
            [
                "",
                " ",
                "null",
                "~",
                "yes",
                "on",
                "0x1F",
                "1e3",
                "2026-01-01",
                "<<",
                "*a",
                "&a",
                "!!python/object/apply:os.system",
                "\x00",
                "\x1b[2J",
                "a\nb",
                "tab\there",
                "\u2028",
                "é" * 300,
                "x" * 5000,
                "arn:aws:sns:eu-west-1:123456789012:alerts",
                "123456789012",
                "p99",
                "Sum",
                "MONTHLY",
                "0 18 * * FRI",
                "2h",
                "2026-12-20T00:00:00Z",
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1",
            ]
        ),
    )
    if not finite:
        scalars |= st.sampled_from([float("nan"), float("inf"), -float("inf"), 10**400, 1e308])
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=6,
    )


def _near_miss(key: str) -> list[str]:
    snake = re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()
    return [snake, key.lower(), key.upper(), key + "s", key[:-1], "x" + key, f"{key} "]


@st.composite
def mutated(draw: st.DrawFn, *, finite: bool = False) -> Any:
    """A valid document with 1 to 4 mutations: keys deleted, renamed or added, values replaced,
    swapped or retyped, and now and then the whole document replaced."""
    # Through JSON, not deepcopy: merge keys share objects, and a swap could make a cycle.
    document: Any = json.loads(json.dumps(draw(st.sampled_from(SEEDS))))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(document))
        operation = draw(st.sampled_from(["delete", "replace", "insert", "rename", "swap"]))
        if not paths or draw(st.integers(0, 40)) == 0:
            document = draw(junk(finite=finite))
            continue
        path = draw(st.sampled_from(paths))
        parent, key = _parent(document, path), path[-1]
        if operation == "delete":
            del parent[key]
        elif operation == "replace":
            parent[key] = draw(junk(finite=finite))
        elif operation == "insert" and isinstance(parent, dict):
            name = draw(st.sampled_from([*_near_miss(str(key)), "extra"]) | st.text(max_size=8))
            parent.setdefault(name, draw(junk(finite=finite)))
        elif operation == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(_near_miss(str(key))))] = parent.pop(key)
        elif operation == "swap":
            other = draw(st.sampled_from(paths))
            if other[: len(path)] != path and path[: len(other)] != other:
                other_parent = _parent(document, other)
                parent[key], other_parent[other[-1]] = other_parent[other[-1]], parent[key]
    return document


def _only_errors(documents: list[Any], errors: list[ManifestError]) -> None:
    for document in documents:
        _, problems = validate_document(document)
        errors = errors + problems
    for error in errors:
        assert isinstance(error, ManifestError)
        assert error.file == "gen.yaml"
        assert error.line >= 1
        assert error.column >= 1
        assert error.message
        assert "\n" not in printable(str(error))


@pytest.mark.slow
@settings(PROFILE, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_documents_only_ever_get_errors(document: Any) -> None:
    _only_errors(*load(document))


#: Token soup: the pieces YAML is made of, in any order.
YAMLISH = st.lists(
    st.sampled_from(
        [
            *"ab:-[]{},&*!<>|'\"#?%@` \n\t.0123456789~",
            "<<",
            "---",
            "...",
            "!!python/",
            "&a",
            "*a",
            "kind: ",
            "spec:",
            "LambdaFunction",
            "\x00",
            "\x85",
            "\ufeff",
            "\u2028",
            "  ",
        ]
    ),
    max_size=60,
).map("".join)


@settings(PROFILE, max_examples=400)
@given(st.one_of(YAMLISH, st.text(max_size=80)))
def test_any_text_only_ever_gets_errors(text: str) -> None:
    documents, errors = parse_text(text, "gen.yaml")
    _only_errors(documents, errors)


@settings(PROFILE, max_examples=100)
@given(st.binary(max_size=200))
def test_any_bytes_only_ever_get_errors(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("bytes") / "gen.yaml"
    path.write_bytes(raw)
    documents, errors = read_file(str(path), "gen.yaml")
    _only_errors(documents, errors)


# -- (c) the schema and the model agree ---------------------------------------------------------


def _known_gap(value: Any) -> str | None:
    """Where the model and the schema are known to differ (see the cron test above)."""
    spec = value.get("spec") if isinstance(value, dict) else None
    windows = spec.get("freezeWindows") if isinstance(spec, dict) else None
    for window in windows if isinstance(windows, list) else []:
        if not isinstance(window, dict):
            continue
        schedule = window.get("schedule")
        shaped = isinstance(schedule, str) and len(schedule.split()) == 5
        if shaped and not _is_cron(schedule):
            return "the schema sees five fields but cannot tell a cron expression"
    return None


def _is_cron(text: str) -> bool:
    try:
        CronSim(text, datetime(2000, 1, 1, tzinfo=UTC))
    except (CronSimError, ValueError, IndexError, KeyError):
        return False
    return len(text.split()) == 5


@pytest.mark.slow
@settings(PROFILE, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(finite=True))
def test_schema_and_model_agree(document: Any) -> None:
    parsed, errors = load(document)
    if errors or len(parsed) != 1:
        return  # not one document (a mutation replaced it with a scalar or nothing)
    value = parsed[0].value
    if _known_gap(value) is not None:
        return

    schema_ok = MANIFEST.is_valid(value)
    model_ok, rules = model_and_rules(value)

    shown = json.dumps(value, default=str)[:2000]
    if schema_ok:
        assert model_ok, f"the schema accepts what the model refuses: {shown}"
    if model_ok and not rules:
        assert schema_ok, f"the model accepts what the schema refuses: {shown}\n" + "\n".join(
            error.message for error in MANIFEST.iter_errors(value)
        )


def test_the_strict_schema_check_is_not_vacuous() -> None:
    """Guard for the test above: the seeds pass, and the differences it relies on are real."""
    lambda_function = next(seed for seed in SEEDS if seed["kind"] == "LambdaFunction")
    assert MANIFEST.is_valid(lambda_function)

    as_float = copy.deepcopy(lambda_function)
    as_float["spec"]["memoryMb"] = 1024.0
    assert not MANIFEST.is_valid(as_float)
    assert Draft202012Validator(manifest_schema()).is_valid(as_float)  # what jsonschema says

    newline = copy.deepcopy(lambda_function)
    newline["metadata"]["name"] += "\n"
    assert not MANIFEST.is_valid(newline)
    assert not model_and_rules(newline)[0]
