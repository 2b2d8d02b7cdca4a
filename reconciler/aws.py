"""The edge where AWS clients are built; everything else receives them.

Two kinds of client are built here: `Clients`, the engine's clients for the account an
environment lives in (paced, perhaps behind an assumed role), and `client`, one client of the
deployment's own account (the run-history table, EventBridge, Step Functions, Secrets Manager, the
S3 bundles) for the handlers, the manifest sources and the command line.

Clients honour the standard credential chain, `AWS_PROFILE` and `AWS_ENDPOINT_URL` (boto3 reads
both), assume `assumeRoleArn` when an Environment sets one, and are created lazily so a run that
touches one service pays for one client. Every client is paced to AWS's request-rate quotas here,
in one place (`reconciler.pacing`), so every call the engine makes, reads and writes alike, waits
for its turn instead of being throttled.
"""

from __future__ import annotations

import threading
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
)

from reconciler.pacing import Pacer, from_environment

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_sts import STSClient

#: Botocore's own retries are the last resort behind the engine's pacing, not the plan.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, max_pool_connections=50
)


@cache
def models(data_path: str | None) -> botocore.loaders.Loader:
    """The one loader of botocore's service models per data path in this process.

    botocore gives every session a loader of its own, which parses a service's JSON model again
    for each new session: about 0.1 s a client. A warm Lambda function builds new sessions on
    every invocation (one per run, one per assumed role), so sharing the parsed models makes its
    clients cost milliseconds after the first. The models are read-only once loaded.
    """
    return botocore.loaders.create_loader(data_path)


def share_models(core: botocore.session.Session) -> botocore.session.Session:
    """`core`, made to read service models through the process's shared loader (`models`)."""
    core.register_component("data_loader", models(core.get_config_variable("data_path")))
    return core


def new_session(**options: Any) -> boto3.Session:
    """A boto3 session (the standard credential chain unless `options` say otherwise) whose
    service models are parsed once per process (`models`)."""
    return boto3.Session(botocore_session=share_models(botocore.session.Session()), **options)


def client(
    service: str, *, session: boto3.Session | None = None, config: Config | None = None
) -> Any:
    """A client of `service` in the deployment's own account: from `session`, else from the
    standard credential chain (the function's role), with botocore's defaults unless `config`."""
    options: dict[str, Any] = {} if config is None else {"config": config}
    return (session or new_session()).client(service, **options)  # type: ignore[call-overload]


class _Assumed(CredentialProvider):
    """Hands botocore the assumed role's refreshable credentials."""

    METHOD = "assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


class Clients:
    """Lazily built AWS clients for one account and region, safe to share between threads.

    `pacing`: True (the default) paces the clients with a `Pacer` of their own, at AWS's quotas
    unless `RECONCILER_PACING` says otherwise (`off`, or a scale); a `Pacer` paces them with that
    one (shared, or scaled for tests); False turns pacing off.
    """

    def __init__(
        self,
        region: str,
        *,
        session: boto3.Session | None = None,
        role_arn: str | None = None,
        config: Config = RETRY_CONFIG,
        pacing: Pacer | bool = True,
    ) -> None:
        self.region = region
        self._session = session or new_session()
        self._role_arn = role_arn
        self._config = config
        self.pacer: Pacer | None = from_environment() if pacing is True else (pacing or None)
        self._lock = threading.Lock()  # building boto3 clients is not thread-safe
        self._built: dict[str, Any] = {}

    @cached_property
    def session(self) -> boto3.Session:
        """The session to act with: the caller's, or the assumed `assumeRoleArn` role's.

        Assumed-role credentials expire (an hour by default); these are refreshed by botocore
        before they do (`DeferredRefreshableCredentials`), so a run or a long `apply` outlives
        them instead of failing with `ExpiredToken` half-way.
        """
        if self._role_arn is None:
            return self._session
        sts = self._session.client("sts", region_name=self.region, config=self._config)
        role_arn = self._role_arn

        def assume() -> dict[str, str]:
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="reconciler")["Credentials"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": creds["Expiration"].isoformat(),
            }

        core = share_models(botocore.session.Session())
        assumed = DeferredRefreshableCredentials(refresh_using=assume, method="assume-role")
        core.register_component("credential_provider", CredentialResolver([_Assumed(assumed)]))
        return boto3.Session(botocore_session=core, region_name=self.region)

    def service(self, name: str) -> Any:
        """The one client of service `name` (botocore's name: "lambda", "rds") these Clients hand
        out, built on first use; how an engine gets the client its kind's description names."""
        return self._shared(name)

    def client(self, service: str) -> Any:
        """A new client for `service`, paced like the others."""
        with self._lock:
            return self._build(service)

    def _build(self, service: str) -> Any:
        client = self.session.client(service, region_name=self.region, config=self._config)  # type: ignore[call-overload]
        if self.pacer is not None:
            self.pacer.attach(client)
        return client

    def _shared(self, service: str) -> Any:
        """The one client for `service` these Clients hand out, built on first use."""
        client = self._built.get(service)
        if client is None:
            with self._lock:
                client = self._built.get(service)
                if client is None:
                    client = self._built[service] = self._build(service)
        return client

    @property
    def lambda_(self) -> LambdaClient:
        return self._shared("lambda")  # type: ignore[no-any-return]

    @property
    def rds(self) -> RDSClient:
        return self._shared("rds")  # type: ignore[no-any-return]

    @property
    def cloudwatch(self) -> CloudWatchClient:
        return self._shared("cloudwatch")  # type: ignore[no-any-return]

    @property
    def budgets(self) -> BudgetsClient:
        return self._shared("budgets")  # type: ignore[no-any-return]

    @property
    def tagging(self) -> ResourceGroupsTaggingAPIClient:
        return self._shared("resourcegroupstaggingapi")  # type: ignore[no-any-return]

    @property
    def sts(self) -> STSClient:
        return self._shared("sts")  # type: ignore[no-any-return]

    @property
    def events(self) -> EventBridgeClient:
        return self._shared("events")  # type: ignore[no-any-return]
