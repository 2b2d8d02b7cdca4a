"""Cold import time of every Lambda handler module against `import boto3`; goal ≤ 1.3 times.

A handler module is any module of `reconciler/handlers/` that defines `handler` at top level. Each
import is timed inside a fresh interpreter (`time.perf_counter` around the `import` statement, so
the interpreter's own start is left out), with the environment a deployed function has; the
figure is the median of 5 processes, the runs interleaved so that a busy moment of the machine
hits every module alike. One untimed round first writes the bytecode caches.
"""

from __future__ import annotations

import ast
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "reconciler" / "handlers"
BASELINE = "boto3"
RUNS = 5
GOAL = 1.3
TIMES = "×"  # noqa: RUF001 - the multiplication sign is meant

#: What the SAM template gives the functions (no value is read at import, but Powertools reads
#: its settings when a Logger is made), and fake credentials: nothing may reach AWS.
LAMBDA_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "MANIFEST_SOURCE": "s3://bench-bucket/manifests",
    "RUNS_TABLE": "bench-runs",
    "EVENT_BUS_NAME": "default",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:bench",
    "ENVIRONMENTS": "dev,staging,prod",
    "BRANCH": "main",
    "WEBHOOK_SECRET_NAME": "reconciler/webhook",
    "POWERTOOLS_SERVICE_NAME": "reconciler",
    "POWERTOOLS_METRICS_NAMESPACE": "Reconciler",
}


def handler_modules() -> list[str]:
    """`reconciler.handlers.<name>` for every module there that defines `handler`."""
    found = []
    for path in sorted(HANDLERS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defines = any(
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "handler"
            for node in tree.body
        )
        if defines:
            found.append(f"reconciler.handlers.{path.stem}")
    return found


def _environment() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, **LAMBDA_ENVIRONMENT}


def import_seconds(module: str) -> float:
    """Seconds one fresh interpreter spends on `import module`."""
    code = (
        "import time\n"
        "started = time.perf_counter()\n"
        f"import {module}\n"
        "print(time.perf_counter() - started)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_environment(),
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{done.stderr.strip()[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> list[dict[str, Any]]:
    modules = [BASELINE, *handler_modules()]
    for module in modules:
        import_seconds(module)  # bytecode caches
    samples: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(RUNS):
        for module in modules:
            samples[module].append(import_seconds(module))
    median = {module: statistics.median(times) for module, times in samples.items()}
    baseline = median[BASELINE]
    rows: list[dict[str, Any]] = [
        {
            "benchmark": "imports",
            "measure": f"cold import {BASELINE} (median of {RUNS} processes)",
            "value": round(baseline * 1000, 1),
            "unit": "ms",
            "samples_ms": [round(s * 1000, 1) for s in samples[BASELINE]],
        }
    ]
    for module in modules[1:]:
        ratio = median[module] / baseline
        rows.append(
            {
                "benchmark": "imports",
                "measure": f"cold import {module} vs {BASELINE}",
                "value": round(ratio, 3),
                "unit": TIMES,
                "goal": GOAL,
                "better": "lower",
                "ok": ratio <= GOAL,
                "ms": round(median[module] * 1000, 1),
                "samples_ms": [round(s * 1000, 1) for s in samples[module]],
            }
        )
    return rows


if __name__ == "__main__":
    for row in main():
        print(row)
