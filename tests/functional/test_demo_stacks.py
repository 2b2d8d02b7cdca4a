"""`reconciler demo --stack NAME`: each example's dev environment, created in the emulator from its
own manifests and drifted by hand, converges in one apply; and the drift the demo tells a person
about is exactly what the plan finds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest

from reconciler.cli import main
from reconciler.demo import catalog
from reconciler.demo.seed import seed_environment
from reconciler.emulator import emulated_aws

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow  # 2 to 5 s each here (the CLI paces its calls to AWS's quotas)
@pytest.mark.parametrize("stack", catalog.STACKS)
def test_the_demo_of_each_example_converges_in_one_apply(
    stack: str, credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--stack", stack])

    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    assert "The stack converged in one apply." in out
    first_plan = out.split("── 3. ")[1].split("── 4. ")[0]
    assert re.search(r"Plan: [0-9]+ to create, [0-9]+ to update", first_plan)
    assert not re.search(r"Plan: 0 to create, 0 to update", first_plan), first_plan
    assert "0 blocked" in first_plan
    assert "Status: corrected" in out


@pytest.mark.parametrize("stack", catalog.STACKS)
def test_the_demo_tells_exactly_the_drift_the_plan_finds(
    stack: str, credentials: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifests = catalog.copy_manifests(stack, str(tmp_path))
    with emulated_aws():
        drift = seed_environment(boto3.Session(region_name="us-east-1"), f"{manifests}/dev")
        capsys.readouterr()
        main(["plan", "--env", "dev", "--manifests", manifests, "--format", "json"])
        plan = json.loads(capsys.readouterr().out)

    told = {line.split(": ", 1)[0]: line for line in drift}
    changed = {c["name"]: c["action"] for c in plan["changes"] if c["action"] != "noop"}
    assert changed.keys() == told.keys(), (drift, plan["changes"])
    for name, action in changed.items():
        assert action == (
            "create" if told[name].endswith("missing (deleted by hand)") else "update"
        )
    assert plan["summary"]["noop"] == len(plan["changes"]) - len(changed)
