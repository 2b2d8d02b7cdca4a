"""How fast `reconciler validate` checks a large repository: 10,000 documents, goal ≥ 5,000/s.

The tree is what a big user might keep: 10 environments, each with its Environment document and
a mix of every kind spread over several files (one or many documents per file), written the way
people write them (block style, comments, labels, quoted account ids). Everything is valid, so
the measurement covers the whole path: reading, YAML events, models, cross-field and folder rules.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

from reconciler.loader import validate

DOCUMENTS = 10_000
ENVIRONMENTS = 10
FILES_PER_ENVIRONMENT = 20
GOAL_PER_SECOND = 5_000
ROUNDS = 3

_ENVIRONMENT = """\
apiVersion: reconciler/v1
kind: Environment
metadata:
  name: {env}
  labels: {{team: platform}}
spec:
  account: "123456789012"
  region: eu-west-1
  mode: apply
  prune: true
  maxChangesPerRun: 50
  freezeWindows:
    - start: 2026-12-20T00:00:00Z
      end: 2027-01-04T00:00:00Z
    - schedule: "0 18 * * FRI"
      duration: 2d14h
"""

_LAMBDA = """\
# Function {n}: owned by the payments team.
apiVersion: reconciler/v1
kind: LambdaFunction
metadata:
  name: fn-{n}
  labels:
    team: payments
    tier: "{tier}"
spec:
  image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/fn-{n}@sha256:{digest}
  memoryMb: {memory}
  timeoutSeconds: {timeout}
  environment:
    LOG_LEVEL: info
    TABLE_NAME: table-{n}
  reservedConcurrency: {reserved}
  alias: live
  provisionedConcurrency: {provisioned}
"""

_AURORA = """\
apiVersion: reconciler/v1
kind: AuroraServerlessCluster
metadata:
  name: db-{n}
spec:
  minCapacity: 0
  maxCapacity: {capacity}
  secondsUntilAutoPause: 600
  backupRetentionDays: 7
  deletionProtection: true
"""

_ALARM = """\
apiVersion: reconciler/v1
kind: MetricAlarm
metadata:
  name: fn-{n}-errors
spec:
  namespace: AWS/Lambda
  metricName: Errors
  dimensions: {{FunctionName: fn-{n}}}
  statistic: Sum
  period: 60
  evaluationPeriods: 5
  datapointsToAlarm: 3
  threshold: {threshold}
  comparisonOperator: GreaterThanOrEqualToThreshold
  treatMissingData: notBreaching
  description: Errors of fn-{n}
  alarmActions: ["arn:aws:sns:eu-west-1:123456789012:alerts"]
  okActions: ["arn:aws:sns:eu-west-1:123456789012:alerts"]
"""

_BUDGET = """\
apiVersion: reconciler/v1
kind: Budget
metadata:
  name: budget-{n}
spec:
  limit: {{amount: {amount}, unit: USD}}
  timeUnit: MONTHLY
  notifications:
    - notificationType: ACTUAL
      comparisonOperator: GREATER_THAN
      threshold: 80
      subscribers:
        - {{type: EMAIL, address: finops@example.com}}
    - notificationType: FORECASTED
      comparisonOperator: GREATER_THAN
      threshold: 100
      subscribers:
        - {{type: SNS, address: "arn:aws:sns:eu-west-1:123456789012:budgets"}}
"""

#: Out of every 20 resources: 8 functions, 3 clusters, 7 alarms, 2 budgets.
_MIX = [_LAMBDA] * 8 + [_AURORA] * 3 + [_ALARM] * 7 + [_BUDGET] * 2


def _document(n: int) -> str:
    template = _MIX[n % len(_MIX)]
    return template.format(
        n=n,
        tier=n % 3,
        digest=f"{n:064x}",
        memory=128 * (1 + n % 80),
        timeout=1 + n % 900,
        reserved=10 + n % 50,
        provisioned=n % 10,
        capacity=1 + (n % 100) / 2,
        threshold=n % 7,
        amount=100 + n,
    )


def write_tree(root: str, documents: int = DOCUMENTS) -> int:
    """Write `documents` documents under `root`; returns how many were written."""
    per_environment = documents // ENVIRONMENTS
    written = 0
    for e in range(ENVIRONMENTS):
        env = f"env{e}"
        folder = os.path.join(root, env)
        os.makedirs(folder)
        with open(os.path.join(folder, "environment.yaml"), "w", encoding="utf-8") as handle:
            handle.write(_ENVIRONMENT.format(env=env))
        written += 1
        resources = per_environment - 1
        for f in range(FILES_PER_ENVIRONMENT):
            numbers = range(f, resources, FILES_PER_ENVIRONMENT)
            suffix = ".yml" if f % 4 == 0 else ".yaml"
            path = os.path.join(folder, f"resources-{f:02d}{suffix}")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write("---\n".join(_document(n) for n in numbers))
            written += len(numbers)
    return written


def main() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as root:
        documents = write_tree(root)
        best = float("inf")
        for _ in range(ROUNDS):
            started = time.perf_counter()
            loaded, errors = validate([root])
            best = min(best, time.perf_counter() - started)
        if errors:
            raise SystemExit(f"the benchmark tree is invalid: {errors[0]}")
        resources = sum(len(environment.resources) + 1 for environment in loaded)
        assert resources == documents, (resources, documents)
    rate = documents / best
    return [
        {
            "benchmark": "validate",
            "measure": f"{documents:,} documents, {ENVIRONMENTS} environments (best of {ROUNDS})",
            "value": round(rate),
            "unit": "documents/s",
            "goal": GOAL_PER_SECOND,
            "ok": rate >= GOAL_PER_SECOND,
            "seconds": round(best, 3),
        }
    ]


if __name__ == "__main__":
    for row in main():
        print(row)
