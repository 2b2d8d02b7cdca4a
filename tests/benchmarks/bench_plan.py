"""The engine's plan and apply of the issue's target fleet, against the ideal reader and writer.

Fleet (`fleet.TARGET`): 300 functions (image, memory, timeout, reserved concurrency), 500
alarms, 20 Aurora clusters, 10 budgets with two notifications each, 200 log groups (retention),
20 DynamoDB tables (point-in-time recovery, deletion protection, TTL, billing mode), 10 HTTP API
stages (throttling, detailed metrics), 300 SSM parameters (value, type, description), 20 ECS
services (desired count or auto scaling range, image, cpu, memory) and 5 DB instances, prune on;
the simulator adds 15 ms to every request and enforces the quotas in `simulator.QUOTAS`.

Figures, each measured once in this run:

- plan of the fleet without drift (`reconciler.pipeline.observe_and_plan`): wall time over the ideal reader's
  (goal ≤ 1.25), requests sent over the minimal (≤ 1.10), throttled answers (0), and changes
  planned although nothing drifted (0);
- apply of the fleet with 50 functions' memory, 100 alarm thresholds, 20 log groups' retention
  and 30 parameters' values drifted (`reconciler.pipeline.apply` of the engine's own plan): wall
  time over the ideal writer's, and write requests over the minimal 200 (the issue sets no goal
  for apply: the plan's 1.25 and 1.10 are assumed), throttled answers (0), and changes still
  planned afterwards (0).

Both sides build their clients inside the timed span. Before each timed run the simulator's
buckets are refilled after a short quiet spell, so client-side pacers refill too. The
per-operation profile (requests, throttled, concurrency, when each operation ended) goes to
stderr and into the JSON, to show where the time goes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler import pipeline
from reconciler.aws import Clients
from reconciler.context import Context
from reconciler.plan import Action, Plan
from tests.benchmarks import fleet as fleets
from tests.benchmarks import ideal
from tests.benchmarks.simulator import (
    DEFAULT_LATENCY,
    QUOTAS,
    Simulator,
    Stats,
    offline,
    profile,
)

TIMES = "×"  # noqa: RUF001 - the multiplication sign is meant
PLAN_TIME_GOAL = 1.25
PLAN_CALLS_GOAL = 1.10
APPLY_TIME_GOAL = 1.25  # assumed: the issue sets it for plan only
APPLY_WRITES_GOAL = 1.10  # assumed likewise
DRIFT = fleets.Drift(functions=50, alarms=100, log_groups=20, parameters=30)
#: Quiet before each timed run, so every bucket (the engine's own pacers too) is full again.
SETTLE_SECONDS = 1.5


@dataclass(frozen=True)
class Run:
    """One timed run of the engine: how long, what it sent, what it returned or raised."""

    seconds: float
    stats: Stats
    result: Any
    error: str | None


def _engine(sim: Simulator, work: Callable[[Clients], Any]) -> Run:
    time.sleep(SETTLE_SECONDS)
    sim.reset()
    started = time.perf_counter()
    try:
        result, error = work(sim.clients(fleets.REGION)), None
    except Exception as exc:  # the engine failing is a figure to report, not a harness crash
        result, error = None, f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    return Run(time.perf_counter() - started, sim.stats(), result, error)


def _reference(sim: Simulator, measure: Callable[[], ideal.Reference]) -> ideal.Reference:
    time.sleep(SETTLE_SECONDS)
    reference = measure()
    if reference.stats.total_throttled:
        raise RuntimeError(f"the ideal run was throttled: {reference.stats.throttled}")
    return reference


def _changes(plan: Plan | None) -> list[str]:
    if plan is None:
        return []
    return [f"{c.action.value} {c.ref}" for c in plan.changes if c.action is not Action.NOOP]


def _row(
    benchmark: str,
    measure: str,
    value: float | int | None,
    unit: str,
    goal: float,
    **extra: Any,
) -> dict[str, Any]:
    """A figure whose goal is a ceiling; a figure the engine could not produce (None) misses."""
    if isinstance(value, float):
        value = round(value, 3)
    ok = value is not None and value <= goal
    return {
        "benchmark": benchmark,
        "measure": measure,
        "value": value,
        "unit": unit,
        "goal": goal,
        "better": "lower",
        "ok": ok,
        **extra,
    }


def _ratio(engine: float, reference: float) -> float:
    return engine / reference if reference else float("inf")


def _profile_table(title: str, engine: Stats, reference: Stats) -> str:
    """Per operation: requests, throttled, peak/mean in flight and end time, engine | reference."""
    mine, best = profile(engine), profile(reference)
    lines = [
        title,
        f"  {'operation':<48}{'calls':>13}{'throttled':>11}{'in flight':>16}{'ends at s':>15}",
    ]
    for key in sorted(set(mine) | set(best)):
        a = mine.get(key, {"calls": 0, "throttled": 0, "peak_in_flight": 0})
        b = best.get(key, {"calls": 0, "throttled": 0, "peak_in_flight": 0})
        flight = f"{a['peak_in_flight']}/{a.get('mean_in_flight', 0):g}|{b['peak_in_flight']}"
        ends = f"{a.get('last_s', 0):.2f}|{b.get('last_s', 0):.2f}"
        lines.append(
            f"  {key:<48}{a['calls']:>6}|{b['calls']:<6}{a['throttled']:>11}{flight:>16}{ends:>15}"
        )
    lines.append("  (engine|ideal; in flight: engine peak/mean|ideal peak)")
    return "\n".join(lines)


def _plan_rows(sim: Simulator) -> list[dict[str, Any]]:
    with offline(fleets.REGION):
        fleet = fleets.create(fleets.TARGET)
        engine = _engine(sim, lambda aws: pipeline.observe_and_plan(aws, fleet.manifests))
        reference = _reference(sim, lambda: ideal.read(sim, fleet))
    print(_profile_table("plan profile", engine.stats, reference.stats), file=sys.stderr)
    what = f"{fleets.TARGET.describe()}, {DEFAULT_LATENCY * 1000:g} ms"
    failed = {"error": engine.error} if engine.error else {}
    drift = _changes(engine.result)
    return [
        _row(
            "plan",
            f"wall time vs ideal reader ({what})",
            None if engine.error else _ratio(engine.seconds, reference.seconds),
            TIMES,
            PLAN_TIME_GOAL,
            engine_seconds=round(engine.seconds, 3),
            ideal_seconds=round(reference.seconds, 3),
            profile={"engine": profile(engine.stats), "ideal": profile(reference.stats)},
            **failed,
        ),
        _row(
            "plan",
            "API requests vs minimal",
            _ratio(engine.stats.total, reference.stats.total),
            TIMES,
            PLAN_CALLS_GOAL,
            engine_calls=engine.stats.total,
            minimal_calls=reference.stats.total,
        ),
        _row(
            "plan",
            "requests answered with throttling",
            engine.stats.total_throttled,
            "requests",
            0,
            throttled={f"{s}.{o}": n for (s, o), n in engine.stats.throttled.items()},
        ),
        _row(
            "plan",
            "false drift (changes in a no-drift plan)",
            None if engine.error else len(drift),
            "changes",
            0,
            examples=drift[:10],
        ),
    ]


def _apply_rows(sim: Simulator) -> list[dict[str, Any]]:
    with offline(fleets.REGION):
        fleet = fleets.create(fleets.TARGET, DRIFT)
        reference = _reference(sim, lambda: ideal.write(sim, fleet))
        fleets.apply_drift(fleet)  # the ideal writer fixed it: drift it again for the engine
        planned = _engine(sim, lambda aws: pipeline.observe_and_plan(aws, fleet.manifests))
        context = Context.of(fleet.manifests)
        plan = planned.result
        applied = _engine(sim, lambda aws: pipeline.apply(aws, plan, context))
        verified = _engine(sim, lambda aws: pipeline.observe_and_plan(aws, fleet.manifests))
    print(_profile_table("apply profile", applied.stats, reference.stats), file=sys.stderr)
    error = planned.error or applied.error
    failures = [r.change.ref for r in applied.result or () if not r.succeeded]
    left = _changes(verified.result)
    what = (
        f"{DRIFT.functions} functions' memory, {DRIFT.alarms} alarm thresholds, "
        f"{DRIFT.log_groups} log groups' retention, {DRIFT.parameters} parameters' values"
    )
    minimal_writes = sum(reference.stats.writes().values())
    return [
        _row(
            "apply",
            f"wall time vs ideal writer ({what})",
            None if error else _ratio(applied.seconds, reference.seconds),
            TIMES,
            APPLY_TIME_GOAL,
            engine_seconds=round(applied.seconds, 3),
            ideal_seconds=round(reference.seconds, 3),
            planned_changes=len(_changes(plan)),
            profile={"engine": profile(applied.stats), "ideal": profile(reference.stats)},
            **({"error": error} if error else {}),
        ),
        _row(
            "apply",
            "writes accepted vs minimal (throttled retries aside)",
            _ratio(sum(applied.stats.writes().values()), minimal_writes),
            TIMES,
            APPLY_WRITES_GOAL,
            engine_requests=applied.stats.total,
            engine_writes=sum(applied.stats.writes().values()),
            minimal_writes=minimal_writes,
        ),
        _row(
            "apply",
            "requests answered with throttling",
            applied.stats.total_throttled,
            "requests",
            0,
            throttled={f"{s}.{o}": n for (s, o), n in applied.stats.throttled.items()},
        ),
        _row(
            "apply",
            "changes left after apply (failed or still drifted)",
            None if verified.error or applied.error else len(left) + len(failures),
            "changes",
            0,
            failed=failures[:10],
            left=left[:10],
            **({"error": verified.error} if verified.error else {}),
        ),
    ]


def _assumptions() -> list[dict[str, Any]]:
    """Information rows: the quotas the simulator enforces that AWS does not publish."""
    rows: list[dict[str, Any]] = []
    for quota in QUOTAS:
        if not quota.source.startswith("assumed"):
            continue
        which = "every operation" if quota.operation == "*" else quota.operation
        if quota.operation == "*" and len([q for q in QUOTAS if q.service == quota.service]) > 1:
            which = "operations without a quota of their own"
        rows.append(
            {
                "benchmark": "simulator",
                "measure": f"assumed quota: {quota.service}, {which} (burst {quota.burst})",
                "value": quota.rate,
                "unit": "requests/s",
            }
        )
    rows.append(
        {
            "benchmark": "simulator",
            "measure": "assumed burst where AWS publishes a rate only (all but RDS, API Gateway, "
            "ECS)",
            "value": 1,
            "unit": "s of the rate",
        }
    )
    return rows


def main() -> list[dict[str, Any]]:
    sim = Simulator()
    return _plan_rows(sim) + _apply_rows(sim) + _assumptions()


if __name__ == "__main__":
    for result in main():
        print({k: v for k, v in result.items() if k != "profile"})
