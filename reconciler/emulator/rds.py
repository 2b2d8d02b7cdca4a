"""Aurora Serverless v2 clusters as AWS modifies them: not at once, and not to every capacity.

Rules kept from AWS:

- After ``ModifyDBCluster`` the cluster's ``Status`` is ``modifying`` for the next
  ``Behaviour.rds_modify_reads`` ``DescribeDBClusters`` that include it, then ``available``; a
  ``ModifyDBCluster`` meanwhile (itself a look) -> ``InvalidDBClusterStateFault`` (400) "DB cluster
  is not available for modification with status modifying" (the text AWS answers, quoted in
  aws-controllers-k8s/community#1107). moto is ``available`` at once. A modify of a cluster that
  does not exist -> ``DBClusterNotFoundFault`` (moto answered 500).

Switch ``Behaviour.rds_capacity_rules`` (model shape ``ServerlessV2ScalingConfiguration``; the
versions from the Aurora user guide, "Aurora Serverless v2 capacity",
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.how-it-works.html,
and "Scaling to Zero ACUs", .../aurora-serverless-v2-auto-pause.html), on ``CreateDBCluster`` and
``ModifyDBCluster``, all ``InvalidParameterValue`` (400):

- both ``MinCapacity`` and ``MaxCapacity`` when the cluster has no configuration yet: "Both
  MinCapacity and MaxCapacity must be specified when you initialize Serverless v2 scaling
  configuration." (quoted in crossplane-contrib/provider-upjet-aws#1165); later, a bound left out
  keeps its value (moto dropped it);
- capacities in steps of 0.5; ``MaxCapacity`` at least 1: "Serverless v2 maximum capacity 0.0
  isn't valid. The maximum capacity must be at least 1.0." (hashicorp/terraform-provider-aws
  #40473); ``MinCapacity`` at most ``MaxCapacity``;
- ``MinCapacity`` 0 (auto-pause) only on aurora-postgresql 13.15, 14.12, 15.7, 16.3 or later in
  their major version, or 17 and later, and aurora-mysql 3.08.0 and later;
- ``MaxCapacity`` above 128 (up to 256) only on aurora-postgresql 13.13, 14.10, 15.5, 16.1 or
  later in their major version, or 17 and later, and aurora-mysql 3.06.0 and later;
- ``SecondsUntilAutoPause`` from 300 to 86,400.

The wording of the messages other than the two quoted is the emulator's, in the same form. AWS also
ties the 256 maximum to the cluster's platform version, which the emulator takes as the newest.
``CreateDBCluster`` without ``EngineVersion`` gets aurora-postgresql 16.6 or aurora-mysql
8.0.mysql_aurora.3.08.2 (moto's defaults, 12.7 and 5.7 / 2.07.2, are past AWS's standard support
and do not run Serverless v2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from moto.core.responses import ActionResult
from moto.rds.exceptions import (
    DBClusterNotFoundError,
    InvalidDBClusterStateFault,
    InvalidParameterValue,
)
from moto.rds.models import DBCluster, RDSBackend
from moto.rds.responses import RDSResponse

from reconciler.emulator.settings import Pending, current

_MARKER: Final = "_reconciler_emulator_rds"
_PENDING_ATTR: Final = "_reconciler_modifying"
_SCALING: Final = "serverless_v2_scaling_configuration"
#: aurora-postgresql major -> first (major, minor) with MinCapacity 0 / with MaxCapacity 256.
_PG_MIN_ZERO: Final = {13: (13, 15), 14: (14, 12), 15: (15, 7), 16: (16, 3)}
_PG_MAX_256: Final = {13: (13, 13), 14: (14, 10), 15: (15, 5), 16: (16, 1)}
_MYSQL_MIN_ZERO: Final = (3, 8, 0)
_MYSQL_MAX_256: Final = (3, 6, 0)
_DEFAULT_VERSIONS: Final = {
    "aurora-postgresql": "16.6",
    "aurora-mysql": "8.0.mysql_aurora.3.08.2",
}


def capacity_range(engine: str, version: str) -> tuple[float, float]:
    """The lowest ``MinCapacity`` and highest ``MaxCapacity`` `engine` `version` accepts."""
    min_zero = max_256 = False
    if engine == "aurora-postgresql":
        match = re.match(r"^(\d+)\.(\d+)", version)
        if match:
            major, minor = int(match.group(1)), int(match.group(2))
            min_zero = major >= 17 or (major, minor) >= _PG_MIN_ZERO.get(major, (99, 0))
            max_256 = major >= 17 or (major, minor) >= _PG_MAX_256.get(major, (99, 0))
    elif engine == "aurora-mysql":
        match = re.search(r"mysql_aurora\.(\d+)\.(\d+)\.(\d+)", version)
        if match:
            release = tuple(int(part) for part in match.groups())
            min_zero, max_256 = release >= _MYSQL_MIN_ZERO, release >= _MYSQL_MAX_256
    return (0.0 if min_zero else 0.5), (256.0 if max_256 else 128.0)


def _invalid(label: str, value: float, rule: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Serverless v2 {label} capacity {value} isn't valid. {rule}")


def check_scaling(
    engine: str, version: str, new: Mapping[str, Any], existing: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The whole configuration `new` asks for (bounds left out kept from `existing`), checked
    against the rules in the module doc."""
    merged: dict[str, Any] = {}
    for key in ("MinCapacity", "MaxCapacity", "SecondsUntilAutoPause"):
        value = new.get(key)
        if value is None and existing:
            value = existing.get(key)
        if value is not None:
            merged[key] = value
    if not existing and (new.get("MinCapacity") is None or new.get("MaxCapacity") is None):
        raise InvalidParameterValue(
            "Both MinCapacity and MaxCapacity must be specified when you initialize Serverless v2 "
            "scaling configuration."
        )
    low, high = float(merged["MinCapacity"]), float(merged["MaxCapacity"])
    floor, ceiling = capacity_range(engine, version)
    for label, value in (("minimum", low), ("maximum", high)):
        if (value * 2) % 1:
            raise _invalid(label, value, "Capacity must be specified in increments of 0.5.")
    if high < 1:
        raise _invalid("maximum", high, "The maximum capacity must be at least 1.0.")
    if high > ceiling:
        raise _invalid(
            "maximum",
            high,
            f"The maximum capacity must be at most {ceiling} for {engine} {version}.",
        )
    if low < floor:
        raise _invalid(
            "minimum",
            low,
            f"The minimum capacity must be at least {floor} for {engine} {version}.",
        )
    if low > high:
        raise _invalid(
            "minimum", low, f"The minimum capacity can't be greater than the maximum {high}."
        )
    pause = merged.get("SecondsUntilAutoPause")
    if pause is not None and not 300 <= int(pause) <= 86_400:
        raise InvalidParameterValue(
            f"SecondsUntilAutoPause {pause} isn't valid. Specify a value between 300 and 86400."
        )
    return merged


def _looked_at(cluster: DBCluster) -> None:
    """A describe included the cluster: a modification under way advances, maybe ends."""
    pending: Pending | None = vars(cluster).get(_PENDING_ATTR)
    if pending is None:
        return
    if not pending.look():
        vars(cluster).pop(_PENDING_ATTR)
        cluster.status = "available"


def install() -> None:
    """Patch moto's RDS backend and DescribeDBClusters with the rules above. Idempotent."""
    if getattr(RDSBackend, _MARKER, False):
        return
    original_modify = RDSBackend.modify_db_cluster
    original_create = RDSBackend.create_db_cluster
    original_describe = RDSResponse.describe_db_clusters
    original_default = DBCluster.default_engine_version

    def modify_db_cluster(self: RDSBackend, kwargs: Any) -> DBCluster:
        identifier = kwargs["db_cluster_identifier"]
        cluster = self.clusters.get(identifier)
        if cluster is None:
            raise DBClusterNotFoundError(identifier)
        pending: Pending | None = vars(cluster).get(_PENDING_ATTR)
        if pending is not None and pending.look():
            raise InvalidDBClusterStateFault(
                "DB cluster is not available for modification with status modifying"
            )
        scaling = kwargs.get(_SCALING)
        if scaling and current().rds_capacity_rules:
            existing = cluster.serverless_v2_scaling_configuration
            merged = check_scaling(cluster.engine, cluster.engine_version, scaling, existing)
            for key, value in merged.items():
                scaling[key] = value
        answer: DBCluster = original_modify(self, kwargs)
        now = self.clusters[kwargs.get("new_db_cluster_identifier") or identifier]
        vars(now).pop(_PENDING_ATTR, None)
        started = Pending.start(current().rds_modify_reads)
        if started is not None:
            vars(now)[_PENDING_ATTR] = started
            now.status = "modifying"
        return answer

    def create_db_cluster(self: RDSBackend, kwargs: Any) -> DBCluster:
        scaling = kwargs.get(_SCALING)
        if scaling and current().rds_capacity_rules:
            engine = kwargs.get("engine", "")
            version = kwargs.get("engine_version") or DBCluster.default_engine_version(engine)
            check_scaling(engine, version, scaling, None)
        cluster: DBCluster = original_create(self, kwargs)
        return cluster

    def describe_db_clusters(self: RDSResponse) -> ActionResult:
        answer: ActionResult = original_describe(self)
        result: Any = answer.result
        for cluster in result.get("DBClusters", []):
            _looked_at(cluster)
        return answer

    def default_engine_version(engine: str) -> str:
        if current().rds_capacity_rules and engine in _DEFAULT_VERSIONS:
            return _DEFAULT_VERSIONS[engine]
        version: str = original_default(engine)
        return version

    RDSBackend.modify_db_cluster = modify_db_cluster  # type: ignore[method-assign]
    RDSBackend.create_db_cluster = create_db_cluster  # type: ignore[method-assign]
    RDSResponse.describe_db_clusters = describe_db_clusters  # type: ignore[method-assign]
    DBCluster.default_engine_version = staticmethod(default_engine_version)  # type: ignore[method-assign]
    setattr(RDSBackend, _MARKER, True)
