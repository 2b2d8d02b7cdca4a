"""`AuroraServerlessCluster`: capacity and protection settings of an existing Aurora Serverless v2
cluster. Never created or deleted; changes go out with `ApplyImmediately`. The manifest is in
`model.py`, the engine in `engine.py` (loaded only when a run talks to AWS)."""

from __future__ import annotations

from reconciler.kinds.aurora_cluster.model import AuroraServerlessCluster, check
from reconciler.kinds.description import Kind, Service, quota

RDS = Service(
    "rds",
    "rds",
    (quota("rds", "", 12, 300, "AWS: 12 a second, bursts of 300, per account and region"),),
    (400, "Throttling"),
)

KIND = Kind(
    name="AuroraServerlessCluster",
    model=AuroraServerlessCluster,
    check=check,
    noun="clusters",
    engine="reconciler.kinds.aurora_cluster.engine",
    services=(RDS,),
    phase=1,
    observe=frozenset({"rds:DescribeDBClusters"}),
    apply=frozenset({"rds:ModifyDBCluster", "rds:AddTagsToResource"}),
    writes=frozenset({"ModifyDBCluster", "AddTagsToResource", "RemoveTagsFromResource"}),
    identifiers=("DBClusterIdentifier",),
)
