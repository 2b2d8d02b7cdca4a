"""The process killed around its k-th AWS write, for every k of a real apply of the drifted demo
environment: just before the write is sent, and just after it landed. The next run converges,
nothing lands twice, and in between no resource is in a state that is neither its original one
nor the planned one."""

from __future__ import annotations

from typing import Literal

import pytest
from convergence import Engines, Runs, applied_twice, drifted_demo, strays
from faults import Injector, Killed
from world import CleanApply

from reconciler.loader import EnvironmentManifests


def test_a_clean_apply_of_the_drifted_demo_writes_each_resource(clean: CleanApply) -> None:
    """The baseline the kill tests walk through: every drifted resource gets its writes."""
    touched = {call.resource for call in clean.writes}
    assert touched >= {
        "flask-api", "gateway", "flask-api-db", "flask-api-errors", "flask-api-latency-p99",
        "demo-monthly-cost", "old-canary-errors", "worker",
    }  # fmt: skip
    assert sum(clean.landed.values()) == len(clean.writes)


@pytest.mark.parametrize("when", ["before", "after"])
def test_killed_around_every_write_the_next_run_converges(
    when: Literal["before", "after"],
    clean: CleanApply,
    manifests: EnvironmentManifests,
    engines: Engines,
) -> None:
    problems: list[str] = []
    for k in range(1, len(clean.writes) + 1):
        where = f"killed {when} {clean.label(k)}"
        with drifted_demo() as aws:
            faults = Injector.on(aws)
            runs = Runs(aws, manifests, engines)
            original = runs.plan()
            faults.kill(k, when)
            with pytest.raises(Killed):
                runs.apply()
            faults.heal()
            # Writes run side by side, so others may have been on the wire when the process died
            # and landed; the one it died before never left.
            landed, begun = sum(faults.landed.values()), faults.begun_at_death or 0
            never_sent = 1 if when == "before" else 0
            if begun < k or landed > begun - never_sent:
                problems.append(f"{where}: {landed} writes landed of {begun} begun")
            problems += [f"{where}: {stray}" for stray in strays(original, runs.plan())]
            if runs.until_converged(limit=1) != 1:
                problems.append(f"{where}: the next run did not converge: {runs.describe()}")
            if not runs.plan().in_sync:
                problems.append(f"{where}: not in sync after the next run")
            problems += [
                f"{where}: {twice}" for twice in applied_twice(faults.landed, clean.landed)
            ]
    assert not problems, "\n".join(problems)
