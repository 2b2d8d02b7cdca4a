"""Hostile YAML: every attack ends in one clean error line, quickly, and nothing ever executes.

Manifests come from pull requests, so `reconciler validate` (and the deployed reconciler, which
reads a published bundle) must treat them as untrusted input: alias bombs, nesting deep enough to
exhaust a recursive parser, files too large, binary junk, and tags that some YAML loaders turn
into Python calls. The reader is exercised with libyaml and with PyYAML's pure-Python parser
(what a machine without libyaml uses).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import yaml_source
from reconciler.cli import main
from reconciler.errors import ManifestError
from reconciler.loader import validate_document
from reconciler.yaml_source import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, parse_text, read_file

#: Far above what these inputs need (milliseconds); far below what the attacks used to cost.
QUICK = 2.0

ENVIRONMENT = """\
apiVersion: reconciler/v1
kind: Environment
metadata:
  name: dev
spec:
  account: "123456789012"
  region: eu-west-1
"""


@pytest.fixture(params=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure-python":
        monkeypatch.setattr(yaml_source, "_Parser", yaml_source._PureParser)
    elif not yaml.__with_libyaml__:  # pragma: no cover - PyYAML built without libyaml
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)


def timed(read: Callable[[], Any]) -> tuple[Any, float]:
    """`read()` and the CPU seconds it took: the attacks cost CPU, and other processes on a
    busy machine (a CI runner, parallel tests) must not make a quick read look slow."""
    started = time.process_time()
    result = read()
    return result, time.process_time() - started


def only_error(text: str) -> ManifestError:
    """The single error reading `text` must give, within `QUICK` seconds."""
    (documents, errors), seconds = timed(lambda: parse_text(text, "hostile.yaml"))
    assert seconds < QUICK
    assert documents == []
    assert len(errors) == 1, errors
    return errors[0]


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        previous, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_libyaml_is_used_when_present() -> None:
    """`yaml.CParser` is not exported at the top level: the reader must find it in `yaml.cyaml`
    (without it, validation is three times slower and deep nesting takes minutes)."""
    if not yaml.__with_libyaml__:  # pragma: no cover
        pytest.skip("PyYAML was built without libyaml")
    from yaml._yaml import CParser  # only importable with libyaml

    assert yaml_source._Parser is CParser


def test_billion_laughs_is_refused_while_still_small(parser: str) -> None:
    error = only_error(billion_laughs())

    assert str(error) == (
        f"hostile.yaml:5:8: the document expands to more than {MAX_NODES} values "
        "(too many aliases or too large)"
    )


def test_billion_laughs_through_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / "environment.yaml").write_text(ENVIRONMENT)
    (folder / "bomb.yaml").write_text(billion_laughs())
    monkeypatch.chdir(tmp_path)

    code, seconds = timed(lambda: main(["validate", "dev"]))

    assert seconds < QUICK
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"dev/bomb.yaml:5:8: the document expands to more than {MAX_NODES} values "
        "(too many aliases or too large)",
        "1 error",
    ]


def test_aliases_within_the_limit_are_expanded(parser: str) -> None:
    (document,), errors = parse_text(billion_laughs(levels=3), "laughs.yaml")

    assert errors == []
    assert document.value["c"][8][8] == ["lol"] * 9


def test_the_value_limit_counts_values_not_nesting(parser: str) -> None:
    """The limit is on values once aliases are expanded, however deep they sit: 10,000 values
    four levels down are fine, one more is not."""

    def nested(values: int) -> str:
        # a mapping, its key, a list, its key... the 4 containers and 3 keys count too
        items = ", ".join(["1"] * (values - 7))
        return f"a: {{b: {{c: [{items}]}}}}\n"

    (document,), errors = parse_text(nested(MAX_NODES), "big.yaml")
    assert errors == []
    assert len(document.value["a"]["b"]["c"]) == MAX_NODES - 7

    error = only_error(nested(MAX_NODES + 1))
    assert error.message.startswith(f"the document expands to more than {MAX_NODES} values")


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, "[" * 100_000 + "]" * 100_000, "{a: " * 100_000, "? " * 100_000 + "a"],
    ids=["open-brackets", "closed-brackets", "flow-mappings", "complex-keys"],
)
def test_deep_nesting_ends_in_one_error_quickly(parser: str, text: str) -> None:
    """One clean error on the first line, within seconds, whichever limit is met first: ours
    (MAX_DEPTH) or the parser's own (libyaml's depends on its release), so no column is pinned."""
    error = only_error(text)

    assert error.line == 1
    assert error.message == (
        f"nesting is deeper than {MAX_DEPTH} levels; the rest of the file is not read"
    )


def test_deep_block_nesting_ends_in_one_error(parser: str) -> None:
    text = "".join(" " * depth + "- \n" for depth in range(1000))

    error = only_error(text)

    assert (error.line, error.column) == (MAX_DEPTH + 1, MAX_DEPTH + 1)


def test_nesting_up_to_the_limit_is_fine(parser: str) -> None:
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH

    (document,), errors = parse_text(text, "deep.yaml")

    assert errors == []
    depth, value = 0, document.value
    while isinstance(value, list) and value:
        depth, value = depth + 1, value[0]
    assert depth == MAX_DEPTH - 1


def test_documents_after_a_refused_one_are_still_read(parser: str) -> None:
    """A tag or an alias bomb ends its own document only; nesting too deep ends the file."""
    text = "a: !!binary aGk=\n---\nb: 1\n---\n" + billion_laughs() + "---\nc: 2\n"

    documents, errors = parse_text(text, "mixed.yaml")

    assert [document.value for document in documents] == [{"b": 1}, {"c": 2}]
    assert [error.line for error in errors] == [1, 9]


@pytest.mark.parametrize(
    "size",
    [MAX_FILE_BYTES + 1, 8 * 1000 * 1000],
    ids=["one-byte-over", "8-MB"],
)
def test_large_files_are_refused_before_parsing(tmp_path: Path, size: int) -> None:
    path = tmp_path / "large.yaml"
    line = b"key: " + b"x" * 94 + b"\n"
    path.write_bytes((line * (size // len(line) + 1))[:size])

    (documents, errors), seconds = timed(lambda: read_file(str(path), "large.yaml"))

    assert seconds < QUICK
    assert documents == []
    assert [str(error) for error in errors] == ["large.yaml:1:1: the file is larger than 1024 KiB"]


def test_a_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "limit.yaml"
    head = b"apiVersion: reconciler/v1\n"
    path.write_bytes(head + b"#" * (MAX_FILE_BYTES - len(head) - 1) + b"\n")

    documents, errors = read_file(str(path))

    assert errors == []
    assert [document.value for document in documents] == [{"apiVersion": "reconciler/v1"}]


def test_large_text_is_refused_by_the_parser_too() -> None:
    """The deployed reconciler parses text from a bundle, not a file: the same limit holds."""
    error = only_error("a: " + "x" * MAX_FILE_BYTES)

    assert str(error) == "hostile.yaml:1:1: the file is larger than 1024 KiB"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (random.Random(7).randbytes(4096), "junk.yaml:1:1: the file is not UTF-8 text"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "junk.yaml:1:1: the file is not UTF-8 text",
        ),
        ("name: café\n".encode("latin-1"), "junk.yaml:1:1: the file is not UTF-8 text"),
        (b"a: 1\nb: 2\nc: \xff\n", "junk.yaml:3:1: the file is not UTF-8 text"),
        ("kind: Budget\n".encode("utf-16"), "junk.yaml:1:1: the file is not UTF-8 text"),
        (b"a: 1\nb: x\x00y\n", "junk.yaml:2:5: the file contains NUL bytes: not a text file"),
        (bytes(64), "junk.yaml:1:1: the file contains NUL bytes: not a text file"),
        (
            b"a: 1\nb: \x1b[31mred\n",
            "junk.yaml:2:4: the file contains the control character U+001B: not a text file",
        ),
    ],
    ids=["random", "png", "latin-1", "invalid-byte", "utf-16", "nul", "zeros", "escape"],
)
def test_binary_and_non_utf8_files_are_refused(
    parser: str, tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "junk.yaml"
    path.write_bytes(content)

    documents, errors = read_file(str(path), "junk.yaml")

    assert documents == []
    assert [str(error) for error in errors] == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: b\x00c\n", "1:5: the file contains NUL bytes: not a text file"),
        ("a: \x07\n", "1:4: the file contains the control character U+0007: not a text file"),
        ("a: \ud800\n", "1:1: the file is not UTF-8 text"),
        ("a: \ufffe\n", "1:4: the file contains the control character U+FFFE: not a text file"),
    ],
    ids=["nul", "bell", "lone-surrogate", "non-character"],
)
def test_text_yaml_forbids_is_refused_by_the_parser(parser: str, text: str, expected: str) -> None:
    assert str(only_error(text)) == f"hostile.yaml:{expected}"


@pytest.fixture
def constructor_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Register a constructor for `!pwn` on every PyYAML loader: it must never be called."""
    calls: list[Any] = []

    def record(loader: Any, node: Any) -> str:
        calls.append(node)
        return "pwned"

    for name in ("BaseLoader", "SafeLoader", "FullLoader", "Loader", "UnsafeLoader"):
        for module in (yaml, getattr(yaml, "cyaml", None)):
            loader = getattr(module, name, None) or getattr(module, "C" + name, None)
            if loader is not None:
                constructors = dict(loader.yaml_constructors)
                constructors["!pwn"] = record
                monkeypatch.setattr(loader, "yaml_constructors", constructors)
    return calls


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        ("!!python/object/apply:os.system", '["touch {canary}"]'),
        ("!!python/object/apply:builtins.exec", "[\"open('{canary}', 'w').close()\"]"),
        ("!!python/object/new:subprocess.Popen", '[["touch", "{canary}"]]'),
        ("!!python/name:os.system", "''"),
        ("!!python/module:os", "''"),
        ("!!python/object:pathlib.Path", "{{}}"),
        ("!pwn", "'{canary}'"),
        ("!<tag:yaml.org,2002:python/object/apply:os.system>", '["touch {canary}"]'),
    ],
)
def test_tags_are_refused_and_never_run(
    parser: str, tag: str, value: str, tmp_path: Path, constructor_calls: list[Any]
) -> None:
    canary = tmp_path / "pwned"
    text = "apiVersion: reconciler/v1\nkind: LambdaFunction\nmetadata: {name: api}\n"
    text += f"spec: {tag} {value.format(canary=canary)}\n"

    documents, errors = parse_text(text, "tagged.yaml")

    assert not canary.exists()
    assert constructor_calls == []
    assert documents == []
    shown = tag.removeprefix("!<").removesuffix(">").replace("tag:yaml.org,2002:", "!!")
    assert [str(error) for error in errors] == [
        f"tagged.yaml:4:7: spec: YAML tag '{shown}' is not allowed "
        "(only plain values, lists and mappings) (LambdaFunction/api)"
    ]


@pytest.mark.parametrize(
    "tag", ["!!binary", "!!timestamp", "!!set", "!!omap", "!!pairs", "!Ref", "!Sub"]
)
def test_every_tag_beyond_the_core_ones_is_refused(parser: str, tag: str) -> None:
    error = only_error(f"metadata:\n  labels:\n    a: {tag} x\n")

    assert (error.line, error.column, error.path) == (3, 8, "metadata.labels.a")
    assert error.message.startswith(f"YAML tag '{tag}' is not allowed")


def test_core_tags_are_allowed(parser: str) -> None:
    text = "a: !!str 512\nb: !!int '7'\nc: !!float '1.5'\nd: !!bool 'true'\ne: !!null ''\n"
    text += "f: !!seq [1]\ng: !!map {x: 1}\nh: ! 12\n"

    (document,), errors = parse_text(text, "core.yaml")

    assert errors == []
    assert document.value == {
        "a": "512",
        "b": 7,
        "c": 1.5,
        "d": True,
        "e": None,
        "f": [1],
        "g": {"x": 1},
        "h": "12",
    }


def test_merge_keys_merge(parser: str) -> None:
    text = """\
base: &base {memoryMb: 512, timeoutSeconds: 30}
extra: &extra {alias: live}
one:
  <<: *base
  timeoutSeconds: 60
two:
  timeoutSeconds: 90
  <<: [*base, *extra]
quoted: {"<<": 1}
"""
    (document,), errors = parse_text(text, "merge.yaml")

    assert errors == []
    assert document.value["one"] == {"memoryMb": 512, "timeoutSeconds": 60}
    assert document.value["two"] == {"timeoutSeconds": 90, "memoryMb": 512, "alias": "live"}
    assert document.value["quoted"] == {"<<": 1}


def test_merged_values_validate_like_written_ones(parser: str) -> None:
    text = """\
apiVersion: reconciler/v1
kind: Budget
metadata: {name: shop}
spec:
  limit: {amount: 100}
  timeUnit: MONTHLY
  notifications:
    - &actual
      notificationType: ACTUAL
      comparisonOperator: GREATER_THAN
      threshold: 80
      subscribers: [{type: EMAIL, address: finops@example.com}]
    - <<: *actual
      notificationType: FORECASTED
"""
    (document,), errors = parse_text(text, "budget.yaml")
    located, problems = validate_document(document)

    assert (errors, problems) == ([], [])
    assert located is not None
    notifications = located.manifest.spec.notifications  # type: ignore[attr-defined]
    assert [n.notification_type for n in notifications] == ["ACTUAL", "FORECASTED"]
    assert notifications[1].subscribers == notifications[0].subscribers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n  <<: 1\n", "2:3: a: a merge key (<<) takes a mapping or a list of mappings"),
        (
            "b: &b {x: 1}\na: {<<: *b, <<: *b}\n",
            "2:13: a.<<: duplicate key '<<' (first defined at line 2)",
        ),
    ],
    ids=["not-a-mapping", "twice"],
)
def test_merge_key_mistakes(parser: str, text: str, expected: str) -> None:
    documents, errors = parse_text(text, "merge.yaml")

    found = errors + [error for document in documents for error in document.errors]
    assert [str(error) for error in found] == [f"merge.yaml:{expected}"]


def test_yaml_1_1_booleans_stay_keys(parser: str) -> None:
    """`on:` is the GitHub Actions trap: YAML 1.1 reads it as true. Keys here are always text."""
    text = "on: 1\nyes: 2\nno: 3\noff: 4\ny: 5\nnull: 6\n~: 7\n1: 8\n1.5: 9\ntrue: 10\n"
    text += "2026-01-01: 11\n"

    (document,), errors = parse_text(text, "keys.yaml")

    assert errors == []
    assert list(document.value) == [
        "on", "yes", "no", "off", "y", "null", "~", "1", "1.5", "true", "2026-01-01",
    ]  # fmt: skip


def test_yaml_1_1_booleans_as_values_are_booleans_and_say_so() -> None:
    text = (
        "apiVersion: reconciler/v1\nkind: LambdaFunction\n"
        "metadata:\n  name: api\n  labels: {on: yes, release: 2026-01-01}\nspec: {}\n"
    )
    (document,), _ = parse_text(text, "labels.yaml")
    _, problems = validate_document(document)

    assert [str(problem) for problem in problems] == [
        "labels.yaml:5:12: metadata.labels.on: expected a string, got true "
        "(quote it to make it a string) (LambdaFunction/api)"
    ]  # and the date stayed the text '2026-01-01', a valid label


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: *nowhere\n", "1:4: unknown alias *nowhere"),
        ("? [a, b]\n: c\n", "1:3: mapping keys must be plain scalars"),
        ("x: &x {a: 1}\n*x : 2\n", "2:1: mapping keys must be plain scalars"),
        ("a: " + "9" * 5000 + "\n", "1:4: '" + "9" * 57 + "...' is not a valid int"),
    ],
    ids=["unknown-alias", "list-as-key", "alias-as-key", "5000-digit-int"],
)
def test_structural_refusals(parser: str, text: str, expected: str) -> None:
    assert str(only_error(text)) == f"hostile.yaml:{expected}"


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2\n",
        "a: {b\n",
        "a: 'unterminated\n",
        "a:\n\t- b\n",
        "a: b: c\n",
        "- a\nb: c\n",
        "%YAML 9.9\n---\na\n",
        "@\n",
        "---\n...\n...\n--- |\n  x\n  y\n z\n",
    ],
)
def test_malformed_yaml_is_one_line_not_a_traceback(parser: str, text: str) -> None:
    _, errors = parse_text(text, "bad.yaml")

    assert len(errors) == 1
    line = str(errors[0])
    assert line.startswith("bad.yaml:")
    assert "invalid YAML: " in line
    assert "\n" not in line
