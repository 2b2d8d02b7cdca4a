"""Security tests: hostile input, least privilege and secrets, on the emulator and offline.

They reuse the end-to-end deployment (`tests/e2e/deployment.py`, `lambda_in_process.py`) and the
webhook's request builders (`tests/functional/test_webhook.py`), which pytest imports by their
folder, so both folders are put on the import path here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "e2e", TESTS / "functional"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))

REGION = "us-east-1"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials, and no profile or endpoint that could lead to a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "RECONCILER_CACHE_DIR": str(tmp_path / "cache"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
