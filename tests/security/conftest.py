"""Security tests: hostile input, least privilege and secrets, on the emulator and offline.

They reuse the end-to-end deployment (`tests/e2e/deployment.py`, `lambda_in_process.py`) and the
webhook's request builders (`tests/functional/test_webhook.py`), which pytest imports by their
folder, so both folders are put on the import path here.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "e2e", TESTS / "functional"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
