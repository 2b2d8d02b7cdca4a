"""A fresh clone installs from the lock alone, and its edit loop and demo pass.

Developers' machines keep old packages and hide a missing install step; CI runs on a clean clone,
and this test repeats that on every `make test`: it clones the committed tree into a new folder,
installs a new venv with uv offline (so nothing can be resolved anew: every package must be named,
versioned and hashed in uv.lock, and come from uv's cache, which the outer install filled), runs
`make demo` there first (it installs only the `demo` extra), then `make install` and `make check`,
and checks the venv holds exactly the locked versions.

It tests what is committed (`git clone` of HEAD), not the work tree.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, (
        f"{' '.join(command)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    if not (ROOT / ".git").exists():
        pytest.fail("not a git checkout: the fresh-clone test needs the repository")
    uv = os.environ.get("UV") or str(ROOT / ".venv-uv" / "bin" / "uv")
    assert Path(uv).is_file(), f"uv not found at {uv}: run the tests through `make`"
    target = tmp_path_factory.mktemp("fresh") / "reconciler"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "PYTEST", "AWS_", "RECONCILER_", "MAKE", "MFLAGS"))
    }
    env |= {"UV": uv, "UV_OFFLINE": "1", "NO_COLOR": "1"}
    run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)], ROOT, env)
    return target, env


def test_the_demo_converges_on_a_fresh_clone(clone: tuple[Path, dict[str, str]]) -> None:
    target, env = clone

    out = run(["make", "demo"], target, env)

    assert "The stack converged in one apply." in out, out[-2000:]


def test_a_fresh_clone_installs_exactly_the_lock(clone: tuple[Path, dict[str, str]]) -> None:
    target, env = clone

    run(["make", "install"], target, env)

    frozen = run(
        [env["UV"], "pip", "freeze", "--python", str(target / ".venv" / "bin" / "python")],
        target,
        env,
    )
    installed = {}
    for line in frozen.splitlines():
        found = re.match(r"^([A-Za-z0-9._-]+)==(\S+)$", line)
        if found:
            installed[re.sub(r"[-_.]+", "-", found[1]).lower()] = found[2]
    locked: dict[str, set[str]] = {}
    for package in tomllib.loads((target / "uv.lock").read_text())["package"]:
        if "version" in package and package["name"] != "reconciler":
            locked.setdefault(package["name"], set()).add(package["version"])
    assert installed, frozen
    unlocked = {
        name: version for name, version in installed.items() if version not in locked.get(name, ())
    }
    assert not unlocked, f"the fresh venv holds versions uv.lock does not name: {unlocked}"


def test_the_edit_loop_passes_on_a_fresh_clone(clone: tuple[Path, dict[str, str]]) -> None:
    target, env = clone

    out = run(["make", "check"], target, env)

    assert re.search(r"\d+ passed", out), out[-2000:]
