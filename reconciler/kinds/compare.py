"""Comparing what a manifest wants with what AWS has, as a person means "the same"."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from reconciler.plan import Diff


def same(desired: Any, actual: Any) -> bool:
    """Equality as a person means it: 1 == 1.0 == Decimal('1.0'), but True is not 1."""
    if isinstance(desired, bool) or isinstance(actual, bool):
        return desired is actual or (desired == actual and type(desired) is type(actual))
    numbers = (int, float, Decimal)
    if isinstance(desired, numbers) and isinstance(actual, numbers):
        return Decimal(str(desired)) == Decimal(str(actual))
    if isinstance(desired, Mapping) and isinstance(actual, Mapping):
        return desired.keys() == actual.keys() and all(same(desired[k], actual[k]) for k in desired)
    if isinstance(desired, (list, tuple)) and isinstance(actual, (list, tuple)):
        return len(desired) == len(actual) and all(map(same, desired, actual))
    return bool(desired == actual)


def compare(desired: Mapping[str, Any], actual: Mapping[str, Any], prefix: str = "") -> list[Diff]:
    """A `Diff` for each key of `desired` whose value differs from `actual` (missing = None)."""
    return [
        Diff(field=f"{prefix}{key}", desired=value, actual=actual.get(key))
        for key, value in desired.items()
        if not same(value, actual.get(key))
    ]
