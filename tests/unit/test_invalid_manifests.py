"""`reconciler validate` on invalid manifests: the exact lines a user reads, one case per file.

Every file in `testdata/invalid/` is one case, in the manner of gitops-engine's `testdata/`: the
manifest itself, preceded by comments that say what it shows and what the command must print:

    # Lambda allows at most 10240 MB.
    # want: dev/lambda-memory-too-high.yaml:8:3: spec.memoryMb: 20000 is greater than ...

The case is copied into an environment folder `dev/` beside a valid `environment.yaml`
(`testdata/environment.yaml`), or replaces it when it says `# as: environment.yaml`, and
`reconciler validate dev` must print exactly the `want` lines, in order, then the count (for a
YAML syntax error, the parser's own words and column are not compared: see `ours`). Line numbers
count the comment lines too, as an editor does.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import main

TESTDATA = Path(__file__).parent / "testdata"
FIXTURES = sorted((TESTDATA / "invalid").glob("*.yaml"))
ENVIRONMENT = TESTDATA / "environment.yaml"
VALID = TESTDATA / "valid"


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    description: str
    target: str
    want: list[str]


def read_case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    comments = [line[2:] for line in text.splitlines() if line.startswith("# ")]
    directives = dict(
        line.split(": ", 1) for line in comments if line.startswith(("want: ", "as: "))
    )
    return Case(
        name=path.name,
        text=text,
        description=comments[0] if comments else "",
        target=directives.get("as", path.name),
        want=[line.removeprefix("want: ") for line in comments if line.startswith("want: ")],
    )


def ours(line: str) -> str:
    """The part of an error line the reconciler promises. A YAML syntax error is the parser's
    own sentence, in words and at a column that change between libyaml releases: what is promised
    there is the file, the line and that it is invalid YAML."""
    where, found, _ = line.partition(": invalid YAML: ")
    if not found:
        return line
    file, row, _column = where.rsplit(":", 2)
    return f"{file}:{row}: invalid YAML"


def environment_folder(root: Path, files: dict[str, str]) -> Path:
    """`root/dev` holding the standard Environment and `files` (which may replace it)."""
    folder = root / "dev"
    folder.mkdir()
    shutil.copy(ENVIRONMENT, folder / "environment.yaml")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def validate(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[str], str]:
    """Run `reconciler validate ARGS` from `root`; the exit code, stderr lines and stdout."""
    monkeypatch.chdir(root)
    code = main(["validate", *args])
    captured = capsys.readouterr()
    return code, captured.err.splitlines(), captured.out


def test_there_is_a_case_for_every_rule() -> None:
    assert len(FIXTURES) >= 45
    for path in FIXTURES:
        case = read_case(path)
        assert case.description, f"{path.name}: the first comment says what the case shows"
        assert case.want, f"{path.name}: a case says which errors it expects (# want: ...)"


@pytest.mark.parametrize("path", FIXTURES, ids=[path.stem for path in FIXTURES])
def test_invalid_manifest_prints_exact_errors(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case = read_case(path)
    environment_folder(tmp_path, {case.target: case.text})

    code, err, out = validate(tmp_path, monkeypatch, capsys, "dev")

    count = len(case.want)
    assert [ours(line) for line in err] == [
        *map(ours, case.want),
        f"{count} error{'s' if count != 1 else ''}",
    ]
    assert code == 1
    assert out == ""


def test_valid_manifests_of_every_kind_pass(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control for the cases above: every field of every kind, set right, is accepted; so is
    one name used by several kinds, and an anchor merged into a notification."""
    code, err, out = validate(VALID, monkeypatch, capsys, "dev")

    assert (code, err) == (0, [])
    assert out == "dev: valid (14 resources, account 123456789012, eu-west-1)\n"


def test_the_standard_environment_is_valid_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment_folder(tmp_path, {})

    code, err, out = validate(tmp_path, monkeypatch, capsys, "dev")

    assert (code, err) == (0, [])
    assert out == "dev: valid (0 resources, account 123456789012, eu-west-1)\n"


FUNCTION = """\
apiVersion: reconciler/v1
kind: LambdaFunction
metadata:
  name: api
spec:
  memoryMb: {memory}
"""


def test_names_are_unique_across_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment_folder(
        tmp_path,
        {"a.yaml": FUNCTION.format(memory=512), "b.yml": FUNCTION.format(memory=1024)},
    )

    code, err, _ = validate(tmp_path, monkeypatch, capsys, "dev")

    assert code == 1
    assert err == [
        "dev/b.yml:4:3: metadata.name: duplicate LambdaFunction name 'api' "
        "(first defined at dev/a.yaml:4) (LambdaFunction/api)",
        "1 error",
    ]


def test_every_environment_is_reported_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "manifests"
    root.mkdir()
    environment_folder(root, {"api.yaml": FUNCTION.format(memory=64)})
    prod = root / "prod"
    prod.mkdir()
    (prod / "environment.yaml").write_text(
        ENVIRONMENT.read_text(encoding="utf-8").replace("name: dev", "name: prod")
    )
    (prod / "api.yaml").write_text(FUNCTION.format(memory=20000))

    code, err, _ = validate(tmp_path, monkeypatch, capsys)  # the default PATH: manifests

    assert code == 1
    assert err == [
        "manifests/dev/api.yaml:6:3: spec.memoryMb: 64 is less than the minimum of 128 "
        "(LambdaFunction/api)",
        "manifests/prod/api.yaml:6:3: spec.memoryMb: 20000 is greater than the maximum of 10240 "
        "(LambdaFunction/api)",
        "2 errors",
    ]


def test_json_format_lists_every_error_with_its_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    several = TESTDATA / "invalid" / "several-mistakes.yaml"
    environment_folder(tmp_path, {"several.yaml": several.read_text(encoding="utf-8")})

    code, err, out = validate(tmp_path, monkeypatch, capsys, "dev", "--format", "json")

    assert (code, err) == (1, [])
    errors = json.loads(out)
    assert isinstance(errors, list)
    assert len(errors) == len(read_case(several).want)
    for error in errors:
        assert set(error) == {"file", "line", "column", "path", "message", "kind", "name"}
        assert isinstance(error["line"], int)
        assert isinstance(error["column"], int)
    assert errors[0] == {
        "file": "dev/several.yaml",
        "line": 17,
        "column": 3,
        "path": "spec.memoryMb",
        "message": "20000 is greater than the maximum of 10240",
        "kind": "LambdaFunction",
        "name": "api",
    }
    unknown_kind = next(error for error in errors if error["path"] == "kind")
    assert (unknown_kind["kind"], unknown_kind["name"]) == (None, None)


def test_json_format_of_valid_manifests_is_an_empty_list(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, out = validate(VALID, monkeypatch, capsys, "dev", "--format", "json")

    assert (code, err) == (0, [])
    assert json.loads(out) == []


def test_a_single_file_validates_its_whole_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment_folder(tmp_path, {"a.yaml": FUNCTION.format(memory=512)})
    (tmp_path / "dev" / "b.yaml").write_text(
        FUNCTION.format(memory=64).replace("name: api", "name: b")
    )

    code, err, _ = validate(tmp_path, monkeypatch, capsys, "dev/a.yaml")

    assert code == 1
    assert err[0].startswith("dev/b.yaml:6:3: spec.memoryMb: 64 is less than the minimum")


def test_control_characters_from_a_manifest_never_reach_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name or key can hold any character in a double-quoted YAML string, ESC included."""
    environment_folder(
        tmp_path,
        {"api.yaml": FUNCTION.format(memory=64).replace("name: api", 'name: "\\e[2Japi"')},
    )

    code, err, _ = validate(tmp_path, monkeypatch, capsys, "dev")

    assert code == 1
    assert "\x1b" not in "".join(err)
    assert "\\x1b[2Japi" in err[0]


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["validate", "dev"], 0),
        (["validate", "dev", "--format", "json"], 0),
        (["validate", "no-such-folder"], 2),
        (["validate", "dev", "no-such-folder"], 2),
        (["validate"], 2),  # the default, `manifests`, does not exist here
    ],
)
def test_exit_codes(
    argv: list[str],
    code: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment_folder(tmp_path, {})
    monkeypatch.chdir(tmp_path)

    assert main(argv) == code
    err = capsys.readouterr().err
    if code == 2:
        assert "no such file or folder" in err


def test_invalid_manifests_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment_folder(tmp_path, {"api.yaml": FUNCTION.format(memory=64)})
    monkeypatch.chdir(tmp_path)

    assert main(["validate", "dev"]) == 1
    assert main(["validate", "dev", "--format", "json"]) == 1


@pytest.mark.parametrize(
    "argv",
    [[], ["validate", "--format", "xml"], ["validate", "--bogus"], ["frobnicate"]],
    ids=["no-command", "unknown-format", "unknown-flag", "unknown-command"],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert "usage: reconciler" in capsys.readouterr().err
