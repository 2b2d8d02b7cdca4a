"""The DatabaseInstance manifest's instance classes: `db.<family>.<size>`, as RDS names them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reconciler.kinds.database_instance.model import DatabaseInstance
from tests.builders import document_of

instance = document_of(DatabaseInstance)


@pytest.mark.parametrize(
    "klass",
    [
        "db.t4g.micro",
        "db.t3.small",
        "db.r6g.large",
        "db.m5d.24xlarge",
        "db.m7g.xlarge",
        "db.x2iedn.metal",
        "db.r6id.metal-32xl",
        "db.r5.2xlarge.tpc2.mem4x",
    ],
)
def test_rds_instance_classes_are_accepted(klass: str) -> None:
    assert instance("orders", instanceClass=klass).spec.instance_class == klass


@pytest.mark.parametrize(
    "klass",
    [
        "db.serverless",  # Aurora Serverless v2 only
        "t3.micro",
        "db.t3",
        "db.t3.micro.",
        "DB.T3.MICRO",
        "db.t3.huge",
        "cache.t3.micro",
    ],
)
def test_other_classes_are_refused(klass: str) -> None:
    with pytest.raises(ValidationError):
        instance("orders", instanceClass=klass)


def test_apply_immediately_defaults_to_false_and_is_not_a_declared_field() -> None:
    spec = instance("orders", multiAz=True).spec

    assert spec.apply_immediately is False
    assert spec.to_manifest() == {"multiAz": True}
