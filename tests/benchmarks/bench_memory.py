"""Peak memory of a plan over the largest fleet (1,000 functions + 2,000 alarms); goal ≤ 200 MB.

Measured in a fresh interpreter with `resource.getrusage(RUSAGE_SELF).ru_maxrss`, the process's
high-water mark, subtracting nothing: the peak includes the interpreter, boto3, moto and moto's
own copy of the fleet, which a real run would not hold. So the baseline (the interpreter with
reconciler, the emulator and the simulator loaded) and the mark after creating the fleet are
reported beside it, to show how much of the peak is the plan's.

The plan runs on the simulator (15 ms latency, AWS's quotas), as `bench_plan` runs it.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GOAL_MB = 200


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure() -> dict[str, Any]:
    """In this process: baseline, after the fleet, and after the plan (the peak)."""
    from reconciler import pipeline
    from reconciler.plan import Action
    from tests.benchmarks import fleet as fleets
    from tests.benchmarks.simulator import Simulator, offline

    with offline(fleets.REGION):
        sim = Simulator()
        baseline = _peak_mb()
        fleet = fleets.create(fleets.LARGEST)
        after_fleet = _peak_mb()
        sim.reset()
        started = time.perf_counter()
        plan = pipeline.observe_and_plan(sim.clients(fleets.REGION), fleet.manifests)
        seconds = time.perf_counter() - started
        peak = _peak_mb()
        stats = sim.stats()
    return {
        "baseline_mb": round(baseline, 1),
        "after_fleet_mb": round(after_fleet, 1),
        "peak_mb": round(peak, 1),
        "plan_seconds": round(seconds, 2),
        "changes": sum(1 for c in plan.changes if c.action is not Action.NOOP),
        "requests": stats.total,
        "throttled": stats.total_throttled,
    }


def main() -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_memory", "--child"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the measuring process failed:\n{done.stderr.strip()[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    what = "1,000 functions + 2,000 alarms"
    return [
        {
            "benchmark": "memory",
            "measure": f"peak RSS of a plan over {what} (absolute)",
            "value": figures["peak_mb"],
            "unit": "MB",
            "goal": GOAL_MB,
            "better": "lower",
            "ok": figures["peak_mb"] <= GOAL_MB,
            **figures,
        },
        {
            "benchmark": "memory",
            "measure": "baseline RSS: interpreter, reconciler, moto emulator, simulator",
            "value": figures["baseline_mb"],
            "unit": "MB",
        },
        {
            "benchmark": "memory",
            "measure": "RSS after creating the fleet in moto (before the plan)",
            "value": figures["after_fleet_mb"],
            "unit": "MB",
        },
    ]


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(measure()))
    else:
        for row in main():
            print(row)
