"""`DatabaseInstance`: the class, Multi-AZ, backup retention and deletion protection of an existing
RDS DB instance (not Aurora: an Aurora instance's backups and protection are its cluster's). Never
created or deleted. Changes wait for the instance's maintenance window unless the manifest says
`applyImmediately`. The manifest is in `model.py`, the engine in `engine.py` (loaded only when a
run talks to AWS)."""

from __future__ import annotations

# RDS is described once, by the kind that came first: the registry refuses two descriptions.
from reconciler.kinds.aurora_cluster import RDS
from reconciler.kinds.database_instance.model import DatabaseInstance, check
from reconciler.kinds.description import Kind

KIND = Kind(
    name="DatabaseInstance",
    model=DatabaseInstance,
    check=check,
    noun="DB instances",
    engine="reconciler.kinds.database_instance.engine",
    services=(RDS,),
    phase=1,
    observe=frozenset({"rds:DescribeDBInstances"}),
    apply=frozenset({"rds:ModifyDBInstance", "rds:AddTagsToResource"}),
    writes=frozenset({"ModifyDBInstance", "AddTagsToResource", "RemoveTagsFromResource"}),
    identifiers=("DBInstanceIdentifier",),
)
