"""Planning: the pure step from (manifests, what AWS has) to a `Plan`.

For every declared resource: missing → `create` (or `blocked` for kinds the reconciler never
creates); tagged for another environment, or refused by its kind (`Observed.refusal`) →
`blocked`; otherwise the managed fields and the ownership tag are compared → `update` or `noop`
(with the kind's `Observed.note` as the reason, when it has one).
With prune on, every owned resource of a prunable kind that left the manifests → `delete`.
Nothing here performs I/O, and nothing here knows how a kind reads or writes AWS: it sees each
kind through `KindRules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler import ownership
from reconciler.loader import EnvironmentManifests, unpinned_images
from reconciler.model import Manifest
from reconciler.plan import OWNER_TAG, Action, Change, Diff, Observed, Plan, owner_of


class KindRules(Protocol):
    """What planning needs of a kind: whether it is created and pruned, and how to compare."""

    @property
    def kind(self) -> str: ...

    #: What people call several of them, for messages: "functions".
    @property
    def noun(self) -> str: ...

    @property
    def creatable(self) -> bool: ...

    @property
    def prunable(self) -> bool: ...

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """The managed fields in manifest spelling, normalised as observing normalises AWS's."""
        ...

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        """The managed fields that differ (the ownership tag is compared here, not there)."""
        ...


@dataclass(frozen=True)
class Observation:
    """What AWS has: declared resources that exist, and resources owned by the environment."""

    found: Mapping[str, Mapping[str, Observed]] = field(default_factory=dict)
    owned: Mapping[str, Mapping[str, Observed]] = field(default_factory=dict)


def build_plan(
    manifests: EnvironmentManifests,
    observation: Observation,
    kinds: Mapping[str, KindRules],
    *,
    revision: str | None = None,
) -> Plan:
    """The plan for one environment. Pure: the same inputs always give the same plan."""
    env = manifests.name
    changes: list[Change] = []
    for manifest in manifests.resources:
        rules = kinds[manifest.kind]
        observed = observation.found.get(manifest.kind, {}).get(manifest.name)
        changes.append(_change(manifest, observed, rules, env))
    if manifests.environment.spec.prune:
        declared = {(m.kind, m.name) for m in manifests.resources}
        for kind, owned in observation.owned.items():
            if not kinds[kind].prunable:
                continue
            for name in sorted(owned):
                if (kind, name) not in declared and owner_of(owned[name]) == env:
                    changes.append(
                        Change(
                            kind=kind,
                            name=name,
                            action=Action.DELETE,
                            reason=f"owned by environment '{env}' and no longer declared (prune)",
                        )
                    )
    spec = manifests.environment.spec
    return Plan(
        environment=env,
        account=spec.account,
        region=spec.region,
        revision=revision,
        changes=tuple(changes),
        warnings=unpinned_images(manifests),
    )


def _change(manifest: Manifest, observed: Observed | None, rules: KindRules, env: str) -> Change:
    kind, name = manifest.kind, manifest.name
    desired = rules.desired(manifest)
    if observed is None:
        if not rules.creatable:
            return Change(
                kind=kind,
                name=name,
                action=Action.BLOCKED,
                reason=f"{kind} '{name}' does not exist; the reconciler never creates {rules.noun}",
            )
        diffs = [Diff(field=key, desired=value, actual=None) for key, value in desired.items()]
        diffs.append(Diff(field=f"tags.{OWNER_TAG}", desired=env, actual=None))
        return Change(
            kind=kind, name=name, action=Action.CREATE, diffs=tuple(diffs), desired=desired
        )
    refused = ownership.refusal(observed.tags, env) or observed.refusal
    if refused is not None:
        return Change(kind=kind, name=name, action=Action.BLOCKED, reason=refused)
    diffs = rules.diff(manifest, observed)
    if owner_of(observed) is None:
        diffs.append(Diff(field=f"tags.{OWNER_TAG}", desired=env, actual=None))
    if not diffs:
        return Change(kind=kind, name=name, action=Action.NOOP, reason=observed.note)
    return Change(
        kind=kind,
        name=name,
        action=Action.UPDATE,
        diffs=tuple(diffs),
        reason=observed.note,
        desired=desired,
    )
