"""Fuzzing the loader: 10,000 mutated manifests, and nothing but validation errors comes out.

Each example starts from a real manifest (the valid fixtures, the invalid corpus, the demo's
environment) and applies up to eight text mutations: a YAML token inserted (indicators, anchors,
aliases, tags, document markers, control characters, huge numbers), a span deleted, a line
duplicated, swapped, indented or dedented, the text cut short. Every result goes through what
`reconciler validate` and the Load state run on a file: `parse_text`, then `validate_document` on
each document. Any exception is a failure; so is an error that is not one clean line pointing
into the text.

Derandomized, so CI runs the same 10,000 examples every time, in well under a minute.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.demo.stack import MANIFESTS
from reconciler.errors import ManifestError
from reconciler.loader import validate_document
from reconciler.yaml_source import parse_text

TESTDATA = Path(__file__).parents[1] / "unit" / "testdata"

SEEDS = sorted(
    {
        *(path.read_text(encoding="utf-8") for path in sorted(TESTDATA.rglob("*.yaml"))),
        *(path.read_text(encoding="utf-8") for path in sorted(TESTDATA.rglob("*.yml"))),
        *MANIFESTS.values(),
    }
)

#: What a mutation may insert: YAML's structure, its tricks, and text that breaks parsers.
TOKENS = [
    *":-[]{},&*!|>'\"#%@`?",
    "\n",
    "\t",
    "  ",
    "---\n",
    "...\n",
    "<<: ",
    "&a ",
    "*a",
    "&b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "!!python/object/apply:os.system ['true']",
    "!!binary aGk=",
    "!!set {a, b}",
    "!!timestamp 2026-01-01",
    "!local ",
    "? ",
    "%YAML 1.1\n",
    "%TAG ! tag:example.com,2000:\n",
    "kind: ",
    "kind: Budget\n",
    "spec:\n",
    "metadata: {name: x}\n",
    "apiVersion: reconciler/v1\n",
    "null",
    "~",
    "true",
    "off",
    ".nan",
    "-.inf",
    "0x1F",
    "1e400",
    "9" * 400,
    "0o17",
    "2026-12-20T00:00:00Z",
    "[" * 80,
    "{a: " * 40,
    "\x00",
    "\x1b[2J",
    "\x85",
    "\u2028",
    "\ufeff",
    "\ud800",
    "é",
    "🙂",
]

#: What YAML counts as a line break (NEL and the Unicode separators too).
LINE_BREAKS = re.compile("\r\n|[\n\r\x85\u2028\u2029]")

MUTATION = st.tuples(
    st.sampled_from(["insert", "delete", "duplicate", "swap", "indent", "dedent", "cut"]),
    st.integers(0, 1 << 16),
    st.integers(0, 1 << 16),
    st.sampled_from(TOKENS),
)


def mutate(text: str, mutations: list[tuple[str, int, int, str]]) -> str:
    for operation, first, second, token in mutations:
        at = first % (len(text) + 1)
        lines = text.split("\n")
        line = first % len(lines)
        other = second % len(lines)
        if operation == "insert":
            text = text[:at] + token + text[at:]
        elif operation == "delete":
            text = text[:at] + text[at + 1 + second % 24 :]
        elif operation == "cut":
            text = text[:at]
        else:
            if operation == "duplicate":
                lines.insert(other, lines[line])
            elif operation == "swap":
                lines[line], lines[other] = lines[other], lines[line]
            elif operation == "indent":
                lines[line] = " " * (1 + second % 4) + lines[line]
            else:  # dedent
                lines[line] = lines[line][1 + second % 4 :]
            text = "\n".join(lines)
    return text


def check(text: str) -> int:
    """Validate `text` as one manifest file; every error must be a clean line. The error count."""
    documents, errors = parse_text(text, "dev/fuzz.yaml")
    for document in documents:
        errors = errors + validate_document(document)[1]
    last_line = len(LINE_BREAKS.findall(text)) + 2
    for error in errors:
        assert isinstance(error, ManifestError)
        line = str(error)
        assert "\n" not in line and "\r" not in line, repr(line)
        assert error.file == "dev/fuzz.yaml"
        assert 1 <= error.line <= last_line, line
        assert error.column >= 1, line
        assert error.message.strip(), line
        assert "Traceback" not in line
    return len(errors)


@settings(
    max_examples=10_000,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(seed=st.sampled_from(SEEDS), mutations=st.lists(MUTATION, min_size=1, max_size=8))
def test_mutated_manifests_only_ever_get_validation_errors(
    seed: str, mutations: list[tuple[str, int, int, str]]
) -> None:
    check(mutate(seed, mutations))


def test_the_fuzz_starts_from_many_real_manifests_and_mutates_them() -> None:
    """The guard for the fuzz above: it has seeds of every kind, and mutations do break them."""
    assert len(SEEDS) >= 100
    for kind in ("Environment", "LambdaFunction", "AuroraServerlessCluster", "MetricAlarm"):
        assert any(f"kind: {kind}" in seed for seed in SEEDS), kind
    assert any("kind: Budget" in seed for seed in SEEDS)
    valid = MANIFESTS["budget.yaml"]
    assert check(valid) == 0
    assert check(mutate(valid, [("insert", valid.index("50"), 0, "[")])) == 1
    assert check(mutate(valid, [("insert", 0, 0, "!!python/object/apply:os.system ['true']")]))
    assert check(mutate(valid, [("dedent", 6, 1, "")])) >= 1  # `  name:` loses its indentation
