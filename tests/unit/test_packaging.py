"""What Lambda gets packaged with must match what the project declares."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_sam_build_target_packages_the_package_without_dev_parts(tmp_path: Path) -> None:
    dry = subprocess.run(
        ["make", "-n", "build-StartFunction", f"ARTIFACTS_DIR={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "cp -R reconciler" in dry.stdout
    assert "reconciler/emulator" in dry.stdout
    assert "--platform manylinux2014_aarch64" in dry.stdout
    assert "--require-hashes -r requirements.txt" in dry.stdout


@pytest.mark.slow
def test_an_installed_wheel_holds_the_examples_for_the_demo(tmp_path: Path) -> None:
    """`reconciler demo --stack` reads the examples as package resources: a wheel must hold them
    as files (the repository links `reconciler/demo/examples` to `examples/`)."""
    uv = os.environ.get("UV") or str(ROOT / ".venv-uv" / "bin" / "uv")
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "reconciler", source / "reconciler", symlinks=True, ignore=ignore)
    shutil.copytree(ROOT / "examples", source / "examples", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [uv, "build", "--wheel", "--offline", "--quiet", "-o", str(tmp_path / "dist"), str(source)],
        check=True, capture_output=True, env={**os.environ, "UV_OFFLINE": "1"},
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("reconciler-*.whl")
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    probe = (
        "import sys, tempfile; from reconciler.demo import catalog; "
        "print(catalog.examples()); "
        "[print(catalog.copy_manifests(s, tempfile.mkdtemp())) for s in catalog.STACKS]"
    )

    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(installed)},
    )  # fmt: skip

    assert found.stdout.splitlines()[0] == str(installed / "reconciler" / "demo" / "examples")
    packaged = installed / "reconciler" / "demo" / "examples"
    for example in (ROOT / "examples").rglob("*"):
        if example.is_file():
            copy = packaged / example.relative_to(ROOT / "examples")
            assert not copy.is_symlink() and copy.read_bytes() == example.read_bytes(), copy
