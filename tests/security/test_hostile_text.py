"""Text from a manifest cannot disguise itself in the errors a person reads.

`tests/unit/test_invalid_manifests.py` shows that C0 and C1 control characters (ESC, …) are
escaped. Unicode has quieter ones: the bidirectional overrides that make `api<U+202E>gnp.exe`
display as `apiexe.png` (the "Trojan Source" trick), zero-width spaces that make
`timeout<U+200B>Seconds` look like a known field, and a byte order mark in the middle of a line.
An error must show them, not let the terminal act on them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.explain import show

ENVIRONMENT = Path(__file__).parents[1] / "unit" / "testdata" / "environment.yaml"

#: Invisible or reordering characters, by name.
INVISIBLE = {
    "RIGHT-TO-LEFT OVERRIDE": "\u202e",
    "LEFT-TO-RIGHT ISOLATE": "\u2066",
    "ZERO WIDTH SPACE": "\u200b",
    "ZERO WIDTH JOINER": "\u200d",
    "BYTE ORDER MARK": "\ufeff",
}


def validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> list[str]:
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / "environment.yaml").write_text(ENVIRONMENT.read_text(encoding="utf-8"))
    (folder / "api.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return [str(main(["validate", "dev"]))]


@pytest.mark.parametrize("name", sorted(INVISIBLE))
def test_invisible_characters_are_shown_escaped(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    char = INVISIBLE[name]
    text = (
        "apiVersion: reconciler/v1\nkind: LambdaFunction\nmetadata:\n"
        f'  name: "api{char}gnp.exe"\nspec:\n  "timeout{char}Seconds": 30\n'
    )
    assert validate(tmp_path, monkeypatch, text) == ["1"]
    err = capsys.readouterr().err
    assert "unknown field" in err  # the control: the field was refused, and said so
    assert char not in err, f"{name} reached the terminal"


def test_visible_non_ascii_text_is_shown_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Escaping must not turn ordinary text into noise: accents and scripts stay readable."""
    text = (
        "apiVersion: reconciler/v1\nkind: LambdaFunction\nmetadata:\n"
        "  name: api\nspec:\n  environment: {GRÜSSE: 5}\n"
    )
    assert validate(tmp_path, monkeypatch, text) == ["1"]
    assert "GRÜSSE" in capsys.readouterr().err


@pytest.mark.parametrize("digits", [61, 400, 4000])
def test_huge_numbers_are_described_by_their_true_length(digits: int) -> None:
    assert show(10**digits - 1) == f"a {digits}-digit number"
