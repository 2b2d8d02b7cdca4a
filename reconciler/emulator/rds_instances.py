"""RDS DB instances as AWS modifies them: deferred to the maintenance window unless asked, and
busy for a while when applied at once. moto applies every ``ModifyDBInstance`` at once and never
reports ``PendingModifiedValues``.

Rules kept from AWS (the ``ModifyDBInstance`` member documentation in the botocore model
``rds/2014-10-31``, and the RDS user guide, "Using the schedule modifications setting",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ModifyInstance.ApplyImmediately.html):

- ``ApplyImmediately=False`` (the default) puts ``DBInstanceClass`` and ``MultiAZ`` in the
  instance's ``PendingModifiedValues`` for the next maintenance window, and
  ``BackupRetentionPeriod`` too when it turns backups on or off (0 to non-zero, non-zero to 0);
  a retention changed from one non-zero value to another "is asynchronously applied as soon as
  possible", and ``DeletionProtection`` (not a member of ``PendingModifiedValues``) at once. A
  queued value replaces the one queued before for the same setting. The instance stays
  ``available`` (``Behaviour.rds_pending_modifications``).
- ``ApplyImmediately=True`` applies the request's modifications *and* those already queued ("your
  new changes and any changes in the pending modifications queue are applied"): the instance is
  ``modifying`` for the next ``Behaviour.rds_instance_modify_reads`` ``DescribeDBInstances`` that
  include it, its new class, Multi-AZ and retention showing in ``PendingModifiedValues``
  meanwhile, then ``available`` with them applied. A ``ModifyDBInstance`` meanwhile (itself a
  look) -> ``InvalidDBInstanceState`` (400) "Database instance is not in available state." (AWS's
  text, quoted in hashicorp/terraform-provider-aws#31594; the code is the botocore model's).

The maintenance window itself never comes on its own: :func:`maintenance_window` makes it come
for one instance (tests, the demo).
"""

from __future__ import annotations

from typing import Any, Final

from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBInstance, RDSBackend, rds_backends
from moto.rds.responses import RDSResponse

from reconciler.emulator.settings import Pending, current

_MARKER: Final = "_reconciler_emulator_rds_instances"
_BUSY: Final = "_reconciler_instance_modifying"
#: moto's name of a ModifyDBInstance parameter -> its member of PendingModifiedValues. moto keeps
#: each setting in the attribute of the parameter's name.
DEFERRED: Final = {
    "db_instance_class": "DBInstanceClass",
    "multi_az": "MultiAZ",
    "backup_retention_period": "BackupRetentionPeriod",
}
_ATTRIBUTE: Final = {member: param for param, member in DEFERRED.items()}


class InvalidDBInstanceState(RDSClientError):
    """The botocore model's ``InvalidDBInstanceStateFault`` (code ``InvalidDBInstanceState``)."""

    def __init__(self) -> None:
        super().__init__("InvalidDBInstanceState", "Database instance is not in available state.")


def queued(instance: DBInstance) -> dict[str, Any]:
    """The instance's ``PendingModifiedValues`` (a copy)."""
    return dict(vars(instance).get("pending_modified_values") or {})


def _deferred(param: str, value: Any, instance: DBInstance) -> bool:
    """Whether AWS keeps this modification for the window when not applied immediately."""
    if param != "backup_retention_period":
        return True
    return (int(value) == 0) != (int(instance.backup_retention_period) == 0)


def _apply_queued(instance: DBInstance) -> None:
    """The queued modifications take effect (the window came, or they were applied at once)."""
    for member, value in queued(instance).items():
        setattr(instance, _ATTRIBUTE[member], value)
    vars(instance)["pending_modified_values"] = {}
    vars(instance).pop(_BUSY, None)
    instance.status = "available"


def maintenance_window(identifier: str, account: str = "123456789012", region: str = "us-east-1"
                       ) -> None:  # fmt: skip
    """The instance's maintenance window comes: its pending modifications take effect."""
    _apply_queued(rds_backends[account][region].databases[identifier])


def _looked_at(instance: DBInstance) -> None:
    """A describe included the instance: an immediate modification advances, maybe ends."""
    busy: Pending | None = vars(instance).get(_BUSY)
    if busy is not None and not busy.look():
        _apply_queued(instance)


def install() -> None:
    """Patch moto's ModifyDBInstance and DescribeDBInstances with the rules above. Idempotent."""
    if getattr(RDSBackend, _MARKER, False):
        return
    original_modify = RDSBackend.modify_db_instance
    original_describe = RDSResponse.describe_db_instances

    def modify_db_instance(
        self: RDSBackend, db_instance_identifier: str, db_kwargs: dict[str, Any]
    ) -> DBInstance:
        instance = self.describe_db_instances(db_instance_identifier)[0]  # DBInstanceNotFound
        rules = current()
        busy: Pending | None = vars(instance).get(_BUSY)
        if busy is not None:
            if busy.look():
                raise InvalidDBInstanceState()
            _apply_queued(instance)
        if not rules.rds_pending_modifications:
            answer: DBInstance = original_modify(self, db_instance_identifier, db_kwargs)
            return answer
        waiting = queued(instance)
        for param, member in DEFERRED.items():
            value = db_kwargs.get(param)
            if value is not None and _deferred(param, value, instance):
                waiting[member] = value
                del db_kwargs[param]
        vars(instance)["pending_modified_values"] = waiting  # moto answers it as the member
        answer = original_modify(self, db_instance_identifier, db_kwargs)
        if db_kwargs.get("apply_immediately"):
            started = Pending.start(rules.rds_instance_modify_reads)
            if started is None:
                _apply_queued(answer)
            else:
                vars(answer)[_BUSY] = started
                answer.status = "modifying"
        return answer

    def describe_db_instances(self: RDSResponse) -> ActionResult:
        answer: ActionResult = original_describe(self)
        result: Any = answer.result
        for instance in result.get("DBInstances", []):
            _looked_at(instance)
        return answer

    RDSBackend.modify_db_instance = modify_db_instance  # type: ignore[method-assign]
    RDSResponse.describe_db_instances = describe_db_instances  # type: ignore[method-assign]
    setattr(RDSBackend, _MARKER, True)
