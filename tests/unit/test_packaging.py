"""What Lambda gets packaged with must match what the project declares."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _names(requirements: list[str]) -> dict[str, str]:
    out = {}
    for raw in requirements:
        line = raw.split("#", 1)[0].strip()
        if line:
            name = re.split(r"[<>=\[ ]", line, maxsplit=1)[0].lower()
            out[name] = line.replace(" ", "")
    return out


def test_lambda_requirements_match_the_project_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lambda_side = (ROOT / "requirements.txt").read_text().splitlines()
    assert _names(project) == _names(lambda_side)


def test_sam_build_target_packages_the_package_without_dev_parts(tmp_path: Path) -> None:
    dry = subprocess.run(
        ["make", "-n", "build-StartFunction", f"ARTIFACTS_DIR={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "cp -R reconciler" in dry.stdout
    assert "reconciler/emulator" in dry.stdout
    assert "--platform manylinux2014_aarch64" in dry.stdout
    assert "-r requirements.txt" in dry.stdout
