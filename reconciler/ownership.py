"""Ownership: the one rule that keeps an environment's hands off what another environment owns.

Every resource the reconciler manages carries the tag `reconciler:environment=<env>`. A resource
tagged for another environment is never changed: the planner blocks it, and the base engine reads
the tag again just before every write and refuses it there too (the plan may be minutes old). Both
say why with `refusal`, so a person reads one sentence wherever the rule stopped a change.
"""

from __future__ import annotations

from collections.abc import Mapping

OWNER_TAG = "reconciler:environment"


def owner(tags: Mapping[str, str]) -> str | None:
    """The environment that owns a resource with these tags, or None when none does."""
    return tags.get(OWNER_TAG)


def refusal(tags: Mapping[str, str], environment: str) -> str | None:
    """Why `environment` must not change a resource with these tags, or None when it may (the
    resource is its own, or nobody's yet)."""
    found = owner(tags)
    if found is None or found == environment:
        return None
    return f"owned by environment '{found}' (tag {OWNER_TAG}={found}); not changed"


def tags_for(environment: str) -> dict[str, str]:
    """The ownership tag a resource of `environment` carries."""
    return {OWNER_TAG: environment}
