"""Where a run acts: the environment's name, and the account, region and partition it lives in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.loader import EnvironmentManifests


@dataclass(frozen=True)
class Context:
    """Where a run acts: the environment's name, account, region and partition."""

    environment: str
    account: str
    region: str
    partition: str = "aws"

    @classmethod
    def of(cls, manifests: EnvironmentManifests) -> Context:
        """The context an environment's manifests declare (the partition from the region)."""
        spec = manifests.environment.spec
        partition = "aws"
        if spec.region.startswith("cn-"):
            partition = "aws-cn"
        elif spec.region.startswith("us-gov-"):
            partition = "aws-us-gov"
        return cls(manifests.name, spec.account, spec.region, partition)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        """The ARN of `resource` (`function:api`, `alarm:api-errors`, `budget/team`) of `service`
        in this account: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, the region left empty
        for global services (`regional=False`: Budgets, IAM)."""
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"
