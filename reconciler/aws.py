"""The edge where AWS clients are built; everything else receives them.

Clients honour the standard credential chain, `AWS_PROFILE` and `AWS_ENDPOINT_URL` (boto3 reads
both), assume `assumeRoleArn` when an Environment sets one, and are created lazily so a run that
touches one service pays for one client.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_sts import STSClient

#: Botocore's own retries are the last resort behind the engine's pacing, not the plan.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5)


class Clients:
    """Lazily built AWS clients for one account and region."""

    def __init__(
        self,
        region: str,
        *,
        session: boto3.Session | None = None,
        role_arn: str | None = None,
        config: Config = RETRY_CONFIG,
    ) -> None:
        self.region = region
        self._session = session or boto3.Session()
        self._role_arn = role_arn
        self._config = config

    @cached_property
    def session(self) -> boto3.Session:
        """The session to act with: the caller's, or the assumed `assumeRoleArn` role's."""
        if self._role_arn is None:
            return self._session
        sts = self._session.client("sts", region_name=self.region, config=self._config)
        creds = sts.assume_role(RoleArn=self._role_arn, RoleSessionName="reconciler")["Credentials"]
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.region,
        )

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region, config=self._config)  # type: ignore[call-overload]

    @cached_property
    def lambda_(self) -> LambdaClient:
        return self.client("lambda")  # type: ignore[no-any-return]

    @cached_property
    def rds(self) -> RDSClient:
        return self.client("rds")  # type: ignore[no-any-return]

    @cached_property
    def cloudwatch(self) -> CloudWatchClient:
        return self.client("cloudwatch")  # type: ignore[no-any-return]

    @cached_property
    def budgets(self) -> BudgetsClient:
        return self.client("budgets")  # type: ignore[no-any-return]

    @cached_property
    def tagging(self) -> ResourceGroupsTaggingAPIClient:
        return self.client("resourcegroupstaggingapi")  # type: ignore[no-any-return]

    @cached_property
    def sts(self) -> STSClient:
        return self.client("sts")  # type: ignore[no-any-return]

    @cached_property
    def events(self) -> EventBridgeClient:
        return self.client("events")  # type: ignore[no-any-return]
