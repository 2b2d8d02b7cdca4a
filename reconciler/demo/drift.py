"""What the examples' demos change by hand behind the manifests' back, one kind at a time.

Each function takes a declared `spec` (manifest spelling, as `Manifest.to_manifest()` gives it)
and returns the resource as AWS holds it after someone changed one field by hand, with the line
a person reads in the demo. The choice is the field a person most plausibly changes in a console
(a memory size, a threshold, a retention, a throttle), falling back to another field when the
manifest does not set the first. Pure: no AWS, so a test can read every choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Spec = Mapping[str, Any]


@dataclass(frozen=True)
class Drift:
    """A resource as it is held in AWS, and what differs from its manifest, in words."""

    spec: dict[str, Any]
    line: str
    #: False when the resource lacks the ownership tag too (created outside the reconciler).
    tagged: bool = True


def _with(spec: Spec, **changes: Any) -> dict[str, Any]:
    held = dict(spec)
    for field, value in changes.items():
        if value is None:
            held.pop(field, None)
        else:
            held[field] = value
    return held


def _figure(value: float) -> str:
    return f"{value:g}"


def lambda_function(spec: Spec) -> Drift:
    if "tracing" in spec:
        other = "PassThrough" if spec["tracing"] == "Active" else "Active"
        return Drift(_with(spec, tracing=other), f"tracing {other} instead of {spec['tracing']}")
    if spec.get("reservedConcurrency"):
        return Drift(
            _with(spec, reservedConcurrency=None),
            f"no reserved concurrency instead of {spec['reservedConcurrency']} (no cost ceiling)",
        )
    memory = int(spec.get("memoryMb", 128))
    held = memory // 2 if memory >= 256 else 256
    return Drift(_with(spec, memoryMb=held), f"{held} MB instead of {memory}")


def aurora_cluster(spec: Spec) -> Drift:
    if "maxCapacity" in spec:
        declared = float(spec["maxCapacity"])
        held = min(256.0, declared * 4)
        return Drift(
            _with(spec, maxCapacity=held),
            f"maximum {_figure(held)} ACU instead of {_figure(declared)}",
        )
    days = int(spec.get("backupRetentionDays", 1))
    held_days = 7 if days != 7 else 1
    return Drift(
        _with(spec, backupRetentionDays=held_days),
        f"backups kept {held_days} days instead of {days}",
    )


def metric_alarm(spec: Spec) -> Drift:
    """Silenced by hand (a noisy alarm's actions turned off), else its threshold raised."""
    if spec.get("actionsEnabled", True):
        return Drift(_with(spec, actionsEnabled=False), "actions disabled (silenced by hand)")
    declared = float(spec.get("threshold", 0))
    held = declared * 10 if declared else 1.0
    return Drift(
        _with(spec, threshold=held), f"threshold {_figure(held)} instead of {_figure(declared)}"
    )


def budget(spec: Spec) -> Drift:
    limit = dict(spec["limit"])
    declared = float(limit["amount"])
    limit["amount"] = declared * 10
    return Drift(
        _with(spec, limit=limit),
        f"limit ${_figure(declared * 10)} instead of ${_figure(declared)}",
    )


def log_group(spec: Spec) -> Drift:
    """As Lambda or the awslogs driver creates a group on first write: no retention, no tag."""
    declared = spec.get("retentionDays")
    if declared is None:
        return Drift(_with(spec, retentionDays=7), "7-day retention instead of never expiring")
    held = dict(spec)
    held["retentionDays"] = None
    return Drift(
        held,
        f"never expires instead of {declared} days, and untagged (created on first write)",
        tagged=False,
    )


def dynamodb_table(spec: Spec) -> Drift:
    if "pointInTimeRecovery" in spec:
        on = bool(spec["pointInTimeRecovery"])
        words = ("on", "off") if on else ("off", "on")
        return Drift(
            _with(spec, pointInTimeRecovery=not on),
            f"point-in-time recovery {words[1]} instead of {words[0]}",
        )
    if spec.get("ttlAttribute"):
        held = dict(spec)
        held["ttlAttribute"] = None
        return Drift(held, f"TTL off instead of on '{spec['ttlAttribute']}'")
    protected = bool(spec.get("deletionProtection", False))
    return Drift(
        _with(spec, deletionProtection=not protected),
        f"deletion protection {'off' if protected else 'on'}",
    )


def http_api_stage(spec: Spec) -> Drift:
    if "throttling" in spec:
        rate = float(spec["throttling"]["rateLimit"])
        burst = int(spec["throttling"]["burstLimit"])
        held = {"rateLimit": rate * 10, "burstLimit": burst * 10}
        return Drift(
            _with(spec, throttling=held),
            f"throttling {_figure(rate * 10)} rps / {burst * 10} burst "
            f"instead of {_figure(rate)} / {burst}",
        )
    enabled = bool(spec.get("detailedMetrics", False))
    return Drift(
        _with(spec, detailedMetrics=not enabled),
        f"detailed metrics {'off' if enabled else 'on'} instead of {'on' if enabled else 'off'}",
    )


def ssm_parameter(spec: Spec) -> Drift:
    value = str(spec["value"])
    held = str(int(value) * 10) if value.isdigit() else f"{value}-edited"
    return Drift(_with(spec, value=held), f"value {held!r} instead of {value!r}")


def ecs_service(spec: Spec) -> Drift:
    image = spec.get("image")
    if image:
        found = re.match(r"^(?P<repo>.+/[^/:@]+)(?P<ref>[:@].+)$", str(image))
        if found and found["ref"].startswith(":"):
            held = f"{image}-hotfix"
            return Drift(
                _with(spec, image=held),
                f"image {found['ref'][1:]}-hotfix instead of {found['ref'][1:]} (deployed by hand)",
            )
        if found:
            held = f"{found['repo']}@sha256:{'0' * 64}"
            return Drift(_with(spec, image=held), "image digest changed (deployed by hand)")
    if "autoscaling" in spec:
        bounds = dict(spec["autoscaling"])
        declared = int(bounds["maxCapacity"])
        bounds["maxCapacity"] = declared + 2
        return Drift(
            _with(spec, autoscaling=bounds),
            f"autoscaling up to {declared + 2} tasks instead of {declared}",
        )
    count = int(spec.get("desiredCount", 1))
    return Drift(_with(spec, desiredCount=count + 1), f"{count + 1} tasks instead of {count}")


def database_instance(spec: Spec) -> Drift:
    if "backupRetentionDays" in spec:
        days = int(spec["backupRetentionDays"])
        held = 1 if days != 1 else 7
        return Drift(
            _with(spec, backupRetentionDays=held),
            f"backups kept {held} day{'s' if held != 1 else ''} instead of {days}",
        )
    if "multiAz" in spec:
        multi = bool(spec["multiAz"])
        return Drift(
            _with(spec, multiAz=not multi),
            f"{'single-AZ' if multi else 'Multi-AZ'} instead of "
            f"{'Multi-AZ' if multi else 'single-AZ'}",
        )
    return Drift(
        _with(spec, deletionProtection=not spec.get("deletionProtection", False)),
        "deletion protection flipped",
    )


#: The drift of each kind the examples use, by manifest kind.
DRIFTS: dict[str, Callable[[Spec], Drift]] = {
    "LambdaFunction": lambda_function,
    "AuroraServerlessCluster": aurora_cluster,
    "MetricAlarm": metric_alarm,
    "Budget": budget,
    "LogGroup": log_group,
    "DynamoDBTable": dynamodb_table,
    "HttpApiStage": http_api_stage,
    "SsmParameter": ssm_parameter,
    "EcsService": ecs_service,
    "DatabaseInstance": database_instance,
}
