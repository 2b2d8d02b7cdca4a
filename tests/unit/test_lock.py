"""Installs are reproducible: one lock, and the Lambda's requirements generated from it.

`make demo`, `make test` and `make bench` install from uv.lock only (`uv sync --locked`), so a new
release on the registry cannot change what a fresh machine gets. `sam build` installs
requirements.txt, which `make lock` generates from the same lock for Lambda's platform. These tests
fail when the files drift apart, or when pyproject.toml changed and nobody ran `make lock`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]

#: Lambda's python3.12 runtime on arm64 (template.yaml), as PEP 508 markers see it.
LAMBDA = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
}
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)")


def uv() -> str:
    """The uv that `make` installed from requirements/uv.txt (the Makefile passes it as UV)."""
    found = os.environ.get("UV") or str(ROOT / ".venv-uv" / "bin" / "uv")
    assert Path(found).is_file(), f"uv not found at {found}: run the tests through `make`"
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {canonical(p["name"]): p["version"] for p in lock["package"] if "version" in p}


def pins(path: Path) -> dict[str, str]:
    """name → version of every `name==version` line; fails on any line that is not exact."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "--hash")):
            continue
        found = PIN.match(line)
        assert found, f"{path.name}: not an exact pin: {line!r}"
        out[canonical(found["name"])] = found["version"]
    return out


def assert_every_pin_is_hashed(path: Path) -> None:
    text = path.read_text()
    entries = [e for e in re.split(r"\n(?=[A-Za-z0-9])", text) if PIN.match(e)]
    assert entries, f"{path.name} pins nothing"
    unhashed = [e.split()[0] for e in entries if "--hash=sha256:" not in e]
    assert not unhashed, f"{path.name}: pins without a hash: {unhashed}"


def uv_run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1", "NO_COLOR": "1"}
    return subprocess.run(
        [uv(), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_lambda_requirements_are_the_locked_versions() -> None:
    locked = locked_versions()
    lambda_pins = pins(ROOT / "requirements.txt")

    differ = {n: (v, locked.get(n)) for n, v in lambda_pins.items() if locked.get(n) != v}
    assert not differ, f"requirements.txt and uv.lock disagree (run `make lock`): {differ}"
    assert_every_pin_is_hashed(ROOT / "requirements.txt")


def test_lambda_requirements_are_the_whole_runtime_tree_for_lambda() -> None:
    """Exactly the packages the lock installs at run time on python3.12/arm64: none missing (an
    ImportError on Lambda), none from the dev tools (a bigger artifact)."""
    exported = uv_run("export", "--frozen", "--no-emit-project", "--no-hashes", "--no-header")
    assert exported.returncode == 0, exported.stderr
    runtime = {}
    for line in exported.stdout.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line)
        marker = requirement.marker or Marker("python_version >= '3'")
        if marker.evaluate(LAMBDA):
            runtime[canonical(requirement.name)] = str(requirement.specifier).lstrip("=")

    assert pins(ROOT / "requirements.txt") == runtime


def test_the_lock_is_fresh_against_pyproject() -> None:
    checked = uv_run("lock", "--check", "--python", shutil.which("python3") or "python3")
    assert checked.returncode == 0, (
        f"uv.lock is stale against pyproject.toml: run `make lock`\n{checked.stderr}"
    )


def test_a_stale_lock_is_noticed(tmp_path: Path) -> None:
    """The freshness check above can fail: a range changed without `make lock` is caught."""
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"cronsim>=', '"cronsim>=2.8,<3", "x>='))

    checked = uv_run("lock", "--check", "--python", shutil.which("python3") or "python3",
                     cwd=tmp_path)  # fmt: skip

    assert checked.returncode != 0


@pytest.mark.parametrize("name", ["checkov.txt", "uv.txt"])
def test_the_tool_locks_are_exact_and_hashed(name: str) -> None:
    path = ROOT / "requirements" / name
    assert pins(path)
    assert_every_pin_is_hashed(path)


def test_the_dependency_ranges_stay_in_pyproject() -> None:
    """People who `pip install` the package get ranges; only the lock is exact."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in map(Requirement, project["dependencies"]):
        assert not str(requirement.specifier).startswith("=="), requirement
        assert canonical(requirement.name) in locked_versions()
