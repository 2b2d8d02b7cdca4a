"""What a DB instance's settings are, will be, and which of them AWS applies when: pure rules
over one `DescribeDBInstances` answer.

AWS's rules (the `ModifyDBInstance` member documentation in botocore's `rds/2014-10-31` model, and
the RDS user guide, "Using the schedule modifications setting"):

- Without `ApplyImmediately`, `DBInstanceClass` and `MultiAZ` wait in `PendingModifiedValues`
  for the next maintenance window, and so does `BackupRetentionPeriod` when it turns backups on
  or off (0 to non-zero or back); from one non-zero retention to another it is applied "as soon
  as possible", and `DeletionProtection` (no member of `PendingModifiedValues`) at once.
- With `ApplyImmediately`, the request's changes *and every modification already pending* are
  applied now; the instance is `modifying` meanwhile.

So the value a setting *will* have is the pending one when there is one, else the current one;
with `applyImmediately: false` a pending value that matches the manifest is in sync. With
`applyImmediately: true` the manifest wants the value now: a pending value counts only while the
instance is applying it (`modifying`), or when it differs from the manifest (the window would
bring drift, and an immediate modification reverts it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from reconciler.kinds.compare import same

#: Manifest field -> DBInstance member (the same name in `PendingModifiedValues` and in
#: `ModifyDBInstance`).
MEMBERS: Final = {
    "instanceClass": "DBInstanceClass",
    "multiAz": "MultiAZ",
    "backupRetentionDays": "BackupRetentionPeriod",
    "deletionProtection": "DeletionProtection",
}
#: How the manifest says when; never compared with AWS.
WHEN: Final = "applyImmediately"


def will_be(instance: Mapping[str, Any], field: str, *, immediately: bool, wanted: Any) -> Any:
    """The value `field` has in manifest terms: current, or pending as the module doc says."""
    member = MEMBERS[field]
    now = instance.get(member)
    pending = instance.get("PendingModifiedValues", {})
    if member not in pending:
        return now
    if not immediately or instance.get("DBInstanceStatus") == "modifying":
        return pending[member]
    return now if same(wanted, pending[member]) else pending[member]


def fields(instance: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """Every managed setting in manifest spelling, as `will_be` reads it for `desired`."""
    immediately = bool(desired.get(WHEN, False))
    return {
        field: will_be(instance, field, immediately=immediately, wanted=desired.get(field))
        for field in MEMBERS
    }


def differing(instance: Mapping[str, Any], desired: Mapping[str, Any]) -> list[str]:
    """The declared fields whose value differs from what the instance has or will have."""
    found = fields(instance, desired)
    return [f for f in MEMBERS if f in desired and not same(desired[f], found[f])]


def modification(instance: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """`ModifyDBInstance` arguments (beyond the identifier) for the declared fields that differ;
    empty when nothing does."""
    changed = differing(instance, desired)
    if not changed:
        return {}
    params: dict[str, Any] = {MEMBERS[f]: desired[f] for f in changed}
    params["ApplyImmediately"] = bool(desired.get(WHEN, False))
    return params


def deferred(instance: Mapping[str, Any], field: str, value: Any) -> bool:
    """Whether AWS keeps a change of `field` to `value` for the maintenance window when it is not
    applied immediately."""
    if field == "deletionProtection":
        return False
    if field == "backupRetentionDays":
        return (int(value) == 0) != (int(instance.get("BackupRetentionPeriod") or 0) == 0)
    return True


def settles_now(instance: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    """Whether a modification sent with `params` starts work AWS does now (worth waiting for),
    rather than only scheduling it for the window."""
    if params.get("ApplyImmediately"):
        return True
    return any(
        not deferred(instance, field, params[member])
        for field, member in MEMBERS.items()
        if member in params
    )


def note(instance: Mapping[str, Any], desired: Mapping[str, Any]) -> str | None:
    """What a person should know that is not drift: when a change will take effect, or that a
    pending modification is what makes the instance in sync; None when there is nothing."""
    window = instance.get("PreferredMaintenanceWindow")
    window = f"{window} UTC" if window else "its maintenance window"
    changed = differing(instance, desired)
    pending = dict(instance.get("PendingModifiedValues", {}))
    if desired.get(WHEN, False):
        managed = {MEMBERS[f] for f in MEMBERS if f in desired}
        others = sorted(member for member in pending if member not in managed)
        if changed and others:
            return (
                "applyImmediately: AWS also applies the modifications already pending now, "
                f"not in the maintenance window ({', '.join(others)})"
            )
        return None
    if changed:
        later = [f for f in changed if deferred(instance, f, desired[f])]
        now = [f for f in changed if f not in later]
        parts = []
        if later:
            parts.append(
                f"{', '.join(later)} scheduled for the next maintenance window ({window}), "
                "not applied now (applyImmediately is false)"
            )
        if now:
            parts.append(f"{', '.join(now)} applied at once (AWS does not defer it)")
        return "; ".join(parts)
    matching = [
        f"{f} {_shown(pending[MEMBERS[f]])}"
        for f in MEMBERS
        if f in desired and MEMBERS[f] in pending
    ]
    if matching:
        return (
            f"in sync once the pending modification is applied in the maintenance window "
            f"({window}): {', '.join(matching)}"
        )
    return None


def _shown(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
