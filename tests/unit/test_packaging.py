"""What Lambda gets packaged with must match what the project declares."""

from __future__ import annotations

import subprocess
from pathlib import Path

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
