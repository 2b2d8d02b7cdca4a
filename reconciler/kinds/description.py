"""How a kind describes itself, once, and what the rest of the reconciler derives from that.

A kind's package holds its `Kind`: the manifest model and its cross-field rules (what `validate`
needs), whether it is created and pruned, the AWS services it calls with their request-rate
quotas, the IAM actions it needs to observe and to apply, and the API operations that change one
of its resources. From these the reconciler derives the clients an engine gets, the pacing of
every call (`reconciler.pacing`), the permissions both templates must grant (a test holds
`template.yaml` and `bootstrap/target-role.yaml` to them), and the tests' fault injection, call
log and AWS simulator. A kind wired in one place cannot be half-wired in another.

Nothing here talks to AWS or imports an engine: the engine is named by module and loaded only
when a run talks to AWS (`reconciler.kinds.engine`), so `reconciler validate` never loads one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.model import Manifest

#: A problem found by a kind's cross-field rules: the field path and what is wrong.
Issue = tuple[tuple[str | int, ...], str]


@dataclass(frozen=True)
class Quota:
    """A request-rate quota of one service: for `operations`, or with none, for every call of the
    service that has no quota of its own. `source` says where the figure comes from."""

    service: str  # botocore's service name: "lambda", "cloudwatch", "rds", …
    operations: frozenset[str]
    rate: float
    burst: int
    source: str


def quota(service: str, operations: str, rate: float, burst: int, source: str) -> Quota:
    """A `Quota` for the space-separated `operations` ("" for the service's shared quota)."""
    return Quota(service, frozenset(operations.split()), rate, burst, source)


@dataclass(frozen=True)
class Service:
    """An AWS service as the reconciler calls it."""

    #: botocore's name for it, which `Clients.service` builds a client for: "lambda", "rds".
    name: str
    #: Its prefix in IAM actions: "lambda", "tag" (for "resourcegroupstaggingapi").
    iam_prefix: str
    #: How fast it may be called (AWS's figures, or an assumption that says so).
    quotas: tuple[Quota, ...] = ()
    #: How AWS answers a request beyond a quota: HTTP status and error code.
    throttling: tuple[int, str] = (400, "ThrottlingException")


#: The Resource Groups Tagging API: ownership tags of many resources in one call, by ARN or tag.
TAGGING = Service(
    "resourcegroupstaggingapi",
    "tag",
    (quota("resourcegroupstaggingapi", "", 5, 5, "assumed: AWS publishes no figure"),),
    (400, "ThrottledException"),
)
#: STS: the account check before every run, and the role assumed for a target account. One call
#: a run: not paced.
STS = Service("sts", "sts", (), (400, "Throttling"))
#: What every run needs beyond its kinds: the account check (`sts:GetCallerIdentity`).
ACCOUNT_CHECK = "sts:GetCallerIdentity"


@dataclass(frozen=True)
class Kind:
    """One `kind:` of manifest, as the reconciler knows it.

    Only `name`, `model` and `check` are needed of a kind that AWS does not hold (Environment);
    every kind the reconciler manages in AWS fills in the rest.
    """

    name: str
    model: type[Manifest]
    #: The rules across fields that a schema cannot express.
    check: Callable[[Any], Iterable[Issue]]
    #: What people call several of them, in messages: "functions".
    noun: str = "resources"
    #: The module whose `ENGINE` observes and changes them; imported on first use.
    engine: str | None = None
    #: The services its engine calls, its own first (`service`); the clients it gets.
    services: tuple[Service, ...] = ()
    #: Created when declared but missing; otherwise a missing one is `blocked`.
    creatable: bool = False
    #: Deleted by prune when owned and no longer declared.
    prunable: bool = False
    #: Apply creates and updates kinds of a lower phase first, and deletes them last: 1 what
    #: others run on (clusters, tables, log groups), 2 what runs (functions, services, stages),
    #: 3 what watches them (alarms), 4 what accounts for them (budgets).
    phase: int = 0
    #: The IAM actions observing needs (Plan's role, and the target role's engine-observe).
    observe: frozenset[str] = frozenset()
    #: The IAM actions applying needs beyond those (Apply's role, and engine-apply).
    apply: frozenset[str] = frozenset()
    #: The API operations (botocore's names, as CloudTrail names the events) that change one of
    #: its resources; what the reconciler itself calls among them is a write.
    writes: frozenset[str] = frozenset()
    #: The request parameters that name the resource in those operations: ("FunctionName",).
    identifiers: tuple[str, ...] = ()

    @property
    def service(self) -> Service:
        """The service that holds its resources (the first of `services`)."""
        if not self.services:
            raise LookupError(f"{self.name} is not held in AWS")
        return self.services[0]

    @property
    def managed(self) -> bool:
        """Whether the reconciler observes and changes it in AWS (every kind but Environment)."""
        return self.engine is not None
