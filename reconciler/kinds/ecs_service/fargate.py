"""Fargate task sizes: the CPU and memory pairs a task definition that runs on Fargate may have.

The table of the Amazon ECS developer guide ("Task CPU and memory", and the `cpu`/`memory`
members of `RegisterTaskDefinition` in the API reference and the botocore model `ecs/2014-11-13`):
memory in MiB for each CPU value in units (1024 units = 1 vCPU). 8 and 16 vCPU need Linux
platform version 1.4.0 or later. AWS refuses any other pair with `ClientException` "No Fargate
configuration exists for given values", so `validate` refuses it first.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

GIB = 1024


def _steps(low_gib: int, high_gib: int, step_gib: int) -> tuple[int, ...]:
    return tuple(gib * GIB for gib in range(low_gib, high_gib + 1, step_gib))


#: CPU units → the memory sizes (MiB) Fargate runs with it.
MEMORY_BY_CPU: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1, 4, 1),
    1024: _steps(2, 8, 1),
    2048: _steps(4, 16, 1),
    4096: _steps(8, 30, 1),
    8192: _steps(16, 60, 4),
    16384: _steps(32, 120, 8),
}

#: Every memory size some CPU value allows.
MEMORIES: frozenset[int] = frozenset(m for sizes in MEMORY_BY_CPU.values() for m in sizes)


def _spelt(values: tuple[int, ...]) -> str:
    step = values[1] - values[0] if len(values) > 1 else 0
    if len(values) > 4 and all(b - a == step for a, b in itertools.pairwise(values)):
        return f"{values[0]} to {values[-1]} in steps of {step}"
    return ", ".join(str(v) for v in values[:-1]) + f" or {values[-1]}"


def cpu_problem(cpu: int) -> str | None:
    """Why `cpu` is no Fargate CPU value, or None."""
    if cpu in MEMORY_BY_CPU:
        return None
    return f"{cpu} is not a Fargate CPU value: use one of {_spelt(tuple(MEMORY_BY_CPU))}"


def memory_problem(memory: int) -> str | None:
    """Why no Fargate CPU value runs with `memory` MiB, or None."""
    if memory in MEMORIES:
        return None
    return (
        f"{memory} MiB is no Fargate task memory size (512, 1024, 2048, then whole GiB from "
        "3072 to 30720, multiples of 4096 up to 61440, of 8192 up to 122880)"
    )


def pair_problem(cpu: int, memory: int) -> str | None:
    """Why Fargate refuses `cpu` units with `memory` MiB, naming what the CPU allows; or None."""
    allowed = MEMORY_BY_CPU.get(cpu)
    if allowed is None:
        return cpu_problem(cpu)
    if memory in allowed:
        return None
    return f"Fargate runs cpu {cpu} with memory {_spelt(allowed)} MiB, not {memory}"
