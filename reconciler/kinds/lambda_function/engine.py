"""The `LambdaFunction` engine: existing functions read in parallel (or from `ListFunctions`
pages) and updated step by step in an order AWS accepts.

Observe reads each declared function with one `GetFunction` (its own 100 requests/s quota, where
every other Lambda control-plane call shares 15/s), from `workers` threads; the clients' pacer
keeps them to the quota. A function that declares `alias` costs one more
`GetFunction(Qualifier=alias)`, one that declares `provisionedConcurrency` one
`GetProvisionedConcurrencyConfig`; nothing else is read.

`ListFunctions` returns memory, timeout, environment and tracing mode but not the image URI,
the reserved concurrency or the tags. When at least `list_min` declared functions manage nothing
else, they are read from its pages (50 functions a page, one after the other) with their tags
from the tagging API (100 ARNs a call); the listing stops as soon as it has shown them all, and
gives up on pages that serve too few of them (`LIST_PAGE_YIELD`), leaving the rest to `GetFunction`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from reconciler.aws_errors import Failure, failure, translate
from reconciler.errors import PermanentError
from reconciler.kinds.base import Busy, Current, Engine, Reading
from reconciler.kinds.compare import same
from reconciler.kinds.lambda_function import KIND
from reconciler.kinds.lambda_function.model import LambdaFunction, LambdaFunctionSpec
from reconciler.kinds.lambda_function.versions import (
    VERSIONED_FIELDS,
    Alias,
    Latest,
    latest_fields,
)
from reconciler.kinds.reading import TAG_BATCH, batches, concurrently, tags_by_arn
from reconciler.plan import Observed

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.model import Manifest

#: The fields `ListFunctions` returns; a function that manages only these can be read from it.
LISTED_FIELDS = frozenset({"memoryMb", "timeoutSeconds", "environment", "tracing"})
#: `ListFunctions` returns at most 50 functions a page.
LIST_PAGE = 50
#: A `ListFunctions` page costs 1/15 s of the shared control-plane quota, a `GetFunction` 1/100 s
#: of its own: the pages pay off while each serves at least this many declared functions.
LIST_PAGE_YIELD = 7

#: What `read_one` reads of a function: one `GetFunction` answer for $LATEST.
GotFunction = Mapping[str, Any]


@dataclass(frozen=True)
class LambdaFunctionEngine(Engine[GotFunction]):
    """Observes, compares and updates existing Lambda functions; never creates or deletes one.

    Apply waits for every asynchronous step (function updates within `update_wait_seconds`,
    provisioned concurrency within `provisioning_wait_seconds`), and writes only what differs
    from a fresh read, so applying the same change twice writes nothing the second time.
    """

    description = KIND

    #: Threads reading functions at once; the pacer, not this, holds them to the quota.
    workers: int = 32
    #: Fewest declared functions managing only `LISTED_FIELDS` for `ListFunctions` to be used.
    list_min: int = 50
    provisioning_wait_seconds: float = 1200.0

    # --- observe --------------------------------------------------------------------------------

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """Every declared function that exists; absent ones are left out (the plan blocks them)."""
        specs = {manifest.name: _spec(manifest) for manifest in manifests}
        listed = [name for name, spec in specs.items() if spec.declared() <= LISTED_FIELDS]
        if len(listed) < self.list_min:
            listed = []
        chosen = set(listed)
        with ThreadPoolExecutor(max_workers=1) as lister:
            listing = lister.submit(self._listing, aws, listed, context) if listed else None
            found = self._get_all(aws, [n for n in specs if n not in chosen], specs)
            if listing is not None:
                seen, unresolved = listing.result()
                found.update(seen)
                found.update(self._get_all(aws, unresolved, specs))
        return {name: found[name] for name in specs if name in found}, {}

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """Exactly the fields the manifest sets (`reservedConcurrency: null` included)."""
        return _spec(manifest).to_manifest()

    def _get_all(
        self, aws: Clients, names: Sequence[str], specs: Mapping[str, LambdaFunctionSpec]
    ) -> dict[str, Observed]:
        """`GetFunction` (and the declared alias reads) for each of `names`, in parallel."""
        lam = aws.lambda_
        answers = concurrently(
            lambda name: self._observe_one(lam, name, specs[name]), names, self.workers
        )
        return {observed.name: observed for observed in answers if observed is not None}

    def _observe_one(
        self, lam: LambdaClient, name: str, spec: LambdaFunctionSpec
    ) -> Observed | None:
        got = self._get(lam, name)
        if got is None:
            return None
        refusal = self._tags_refusal(name, got)
        if refusal is not None:
            return Observed(name, {}, {}, refusal=refusal)
        latest = Latest.of(got)
        fields = dict(latest.fields)
        if spec.alias is not None:
            alias = self._alias(lam, name, spec, latest)
            fields["alias"] = alias.field()
            if spec.provisioned_concurrency is not None:
                fields["provisionedConcurrency"] = alias.provisioned_field()
        return Observed(name, fields, latest.tags)

    def _listing(
        self, aws: Clients, names: Sequence[str], context: Context
    ) -> tuple[dict[str, Observed], list[str]]:
        """`names` read from `ListFunctions` pages, their tags from the tagging API meanwhile;
        and the names still to read with `GetFunction` when the listing gave up early.

        A name the whole listing never showed does not exist.
        """
        wanted = set(names)
        arn = context.arn("lambda", "function:")
        with ThreadPoolExecutor(max_workers=1) as tagger:
            tagged = tagger.submit(
                concurrently,
                partial(tags_by_arn, aws),
                batches([arn + name for name in names], TAG_BATCH),
                self.workers,
            )
            configurations: dict[str, Mapping[str, Any]] = {}
            unresolved: list[str] = []
            most = max(1, math.ceil(len(wanted) / LIST_PAGE_YIELD))
            pages = aws.lambda_.get_paginator("list_functions").paginate(
                PaginationConfig={"PageSize": LIST_PAGE}
            )
            for count, page in enumerate(pages, start=1):
                for configuration in page.get("Functions", []):
                    if configuration.get("FunctionName") in wanted:
                        configurations[configuration["FunctionName"]] = configuration
                if len(configurations) == len(wanted):
                    break
                if count >= most and page.get("NextMarker"):
                    unresolved = sorted(wanted - configurations.keys())
                    break
            tags = {key: value for answer in tagged.result() for key, value in answer.items()}
        seen = {
            name: Observed(
                name,
                {
                    key: value
                    for key, value in latest_fields(configuration, None, None).items()
                    if key in LISTED_FIELDS
                },
                tags.get(arn + name, {}),
            )
            for name, configuration in configurations.items()
        }
        return seen, unresolved

    # --- the primitives of a write --------------------------------------------------------------

    def read_one(self, aws: Clients, name: str, context: Context) -> Current[GotFunction] | None:
        """`GetFunction`: the configuration of $LATEST, its code and its tags."""
        got = self._get(aws.lambda_, name)
        if got is None:
            return None
        refusal = self._tags_refusal(name, got)
        return Current(name, dict(got.get("Tags") or {}), got, refusal=refusal)

    def pending(self, current: Current[GotFunction]) -> str | None:
        return _busy(current.state)

    def failed(self, current: Current[GotFunction]) -> str | None:
        return _failure(current.state)

    def update(
        self,
        aws: Clients,
        current: Current[GotFunction],
        desired: dict[str, Any],
        context: Context,
    ) -> bool:
        """Bring one function to `desired`, in an order AWS accepts.

        Code, then configuration (each waited until `LastUpdateStatus` is `Successful`), then a
        new version and the alias moved to it, then reserved and provisioned concurrency (the
        lower one first when shrinking). The ownership tag comes after all of these (the base
        engine adds it), so no tag write can move the RevisionId guarding the publish. Every
        step is skipped when the fresh read shows it is already done.
        """
        lam, name = aws.lambda_, current.name
        spec = LambdaFunctionSpec.model_validate(desired)
        latest = self._update_function(aws, context, name, spec, Latest.of(current.state))
        alias: Alias | None = None
        if spec.alias is not None:
            alias = self._alias(lam, name, spec, latest)
            if not alias.current:  # missing, on $LATEST, or behind what was just written
                alias = self._move_alias(lam, name, alias, latest)
        self._set_concurrency(lam, name, spec, latest.fields["reservedConcurrency"], alias)
        return True

    def tag(
        self,
        aws: Clients,
        current: Current[GotFunction],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        resource = context.arn("lambda", f"function:{current.name}")
        self.call(aws.lambda_.tag_resource, Resource=resource, Tags=dict(tags))

    # --- the steps of an update -----------------------------------------------------------------

    def _update_function(
        self, aws: Clients, context: Context, name: str, spec: LambdaFunctionSpec, latest: Latest
    ) -> Latest:
        """Image, then memory/timeout/environment/tracing in one configuration update; $LATEST
        as it ends (`latest` if unchanged)."""
        lam, ref, declared, have = (
            aws.lambda_,
            f"{self.kind}/{name}",
            spec.declared(),
            latest.fields,
        )
        if "image" in declared and spec.image != have["image"]:
            self.call(lam.update_function_code, FunctionName=name, ImageUri=spec.image)
            latest = Latest.of(self.settle(aws, name, context, ref).state)
        config: dict[str, Any] = {}
        if "memoryMb" in declared and not same(spec.memory_mb, have["memoryMb"]):
            config["MemorySize"] = spec.memory_mb
        if "timeoutSeconds" in declared and not same(spec.timeout_seconds, have["timeoutSeconds"]):
            config["Timeout"] = spec.timeout_seconds
        if "environment" in declared and not same(spec.environment, have["environment"]):
            config["Environment"] = {"Variables": dict(spec.environment or {})}
        if "tracing" in declared and spec.tracing != have["tracing"]:
            config["TracingConfig"] = {"Mode": spec.tracing}
        if config:
            self.call(lam.update_function_configuration, FunctionName=name, **config)
            latest = Latest.of(self.settle(aws, name, context, ref).state)
        return latest

    def _move_alias(self, lam: LambdaClient, name: str, alias: Alias, latest: Latest) -> Alias:
        """Publish $LATEST (guarded by its revision) and point the alias at the new version."""
        guard: dict[str, Any] = {"RevisionId": latest.revision_id} if latest.revision_id else {}
        published = self.call(lam.publish_version, FunctionName=name, **guard)
        version = published["Version"]
        if published.get("State") == "Pending":
            self._until_published(lam, name, version)
        if alias.version is None:
            self.call(lam.create_alias, FunctionName=name, Name=alias.name, FunctionVersion=version)
        else:
            self.call(lam.update_alias, FunctionName=name, Name=alias.name, FunctionVersion=version)
        return replace(alias, version=version, behind=(), moved=True)

    def _set_concurrency(
        self,
        lam: LambdaClient,
        name: str,
        spec: LambdaFunctionSpec,
        reserved_now: int | None,
        alias: Alias | None,
    ) -> None:
        """Reserved and provisioned concurrency; a shrinking provisioned value goes first.

        An alias with provisioned concurrency that was just moved is waited for first: AWS warms
        the new version behind routing weights on the alias, and refuses
        `PutProvisionedConcurrencyConfig` on a weighted alias until that is done.
        """
        reserved_due = "reservedConcurrency" in spec.declared() and not same(
            spec.reserved_concurrency, reserved_now
        )
        want = spec.provisioned_concurrency
        if alias is None or want is None:
            if reserved_due:
                self._reserve(lam, name, spec.reserved_concurrency)
            return
        if alias.moved and alias.provisioned > 0 and want > 0:
            self._until_provisioned(lam, name, alias.name)  # a moved alias re-provisions
        provisioned_due = want != alias.provisioned or alias.provisioning_failed is not None
        if provisioned_due and want < alias.provisioned:
            self._provision(lam, name, alias.name, want)
            if reserved_due:
                self._reserve(lam, name, spec.reserved_concurrency)
            return
        if reserved_due:
            self._reserve(lam, name, spec.reserved_concurrency)
        if provisioned_due:
            self._provision(lam, name, alias.name, want)

    def _reserve(self, lam: LambdaClient, name: str, count: int | None) -> None:
        if count is None:
            self.call(lam.delete_function_concurrency, FunctionName=name)
        else:
            self.call(
                lam.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=count
            )

    def _provision(self, lam: LambdaClient, name: str, alias: str, count: int) -> None:
        if count == 0:
            self.call(lam.delete_provisioned_concurrency_config, FunctionName=name, Qualifier=alias)
            return
        self.call(
            lam.put_provisioned_concurrency_config,
            FunctionName=name,
            Qualifier=alias,
            ProvisionedConcurrentExecutions=count,
        )
        self._until_provisioned(lam, name, alias)

    # --- reads and waits ------------------------------------------------------------------------

    def _get(self, lam: LambdaClient, name: str, qualifier: str | None = None) -> Any:
        """`GetFunction`, or None when the function (or the qualifier) does not exist."""
        args = {"Qualifier": qualifier} if qualifier else {}
        return self.call(lam.get_function, missing_ok=True, FunctionName=name, **args)

    def _tags_refusal(self, name: str, got: Mapping[str, Any]) -> str | None:
        """Why the function must be left alone when `GetFunction` answered `TagsError` instead
        of `Tags` (the caller lacks `lambda:ListTags`); None when its tags were read.

        Without its tags a function looks unowned: a run would tag it as its own and change it,
        whoever owns it. So it is refused (the plan blocks it, apply writes nothing) with AWS's
        reason; a tag read that was throttled or failed for now is a `TemporaryError` instead.
        """
        error = got.get("TagsError")
        if not error:
            return None
        code = str(error.get("ErrorCode") or "unknown error")
        message = " ".join(str(error.get("Message") or "no reason given").split())
        answer = ClientError({"Error": {"Code": code, "Message": message}}, "ListTags")
        what = failure(answer)
        if what in (Failure.THROTTLED, Failure.TRANSIENT, Failure.CONFLICT):
            temporary = translate(answer, f"{self.kind}/{name}: reading its tags")
            if temporary is not None:
                raise temporary
        needs = ": the reconciler's role needs lambda:ListTags" if what is Failure.DENIED else ""
        return f"cannot read its tags ({code}: {message}){needs}"

    def _alias(
        self, lam: LambdaClient, name: str, spec: LambdaFunctionSpec, latest: Latest
    ) -> Alias:
        """Read the declared alias's version and, when declared, its provisioned concurrency.

        The version is compared with $LATEST on the declared versioned fields; the image by
        `CodeSha256` (the digest the version was published with), not by URI.
        """
        assert spec.alias is not None
        got = self._get(lam, name, qualifier=spec.alias)
        if got is None:
            return Alias(spec.alias, None)
        configuration = got["Configuration"]
        version = str(configuration.get("Version"))
        fields = latest_fields(configuration, None, None)
        declared = spec.declared()
        behind = tuple(
            field
            for field in VERSIONED_FIELDS
            if field in declared
            and (
                configuration.get("CodeSha256") != latest.code_sha
                if field == "image"
                else not same(fields[field], latest.fields[field])
            )
        )
        alias = Alias(spec.alias, version, behind)
        if spec.provisioned_concurrency is None or version == "$LATEST":
            return alias
        config = self._provisioned(lam, name, spec.alias)
        if config is None:
            return alias
        failed = (
            config.get("StatusReason", "no reason given")
            if config.get("Status") == "FAILED"
            else None
        )
        return replace(
            alias,
            provisioned=int(config.get("RequestedProvisionedConcurrentExecutions", 0)),
            provisioning_failed=failed,
        )

    def _provisioned(self, lam: LambdaClient, name: str, alias: str) -> Any:
        return self.call(
            lam.get_provisioned_concurrency_config,
            missing_ok=True,
            FunctionName=name,
            Qualifier=alias,
        )

    def _until_published(self, lam: LambdaClient, name: str, version: str) -> None:
        """Wait until a newly published version is ready to take the alias."""
        ref = f"{self.kind}/{name}:{version}"

        def probe() -> bool | Busy:
            got = self._get(lam, name, version)
            if got is None:
                raise PermanentError(f"{ref}: the version disappeared while being published")
            failed = _failure(got)
            if failed is not None:
                raise PermanentError(f"{ref}: {failed}")
            doing = _busy(got)
            return True if doing is None else Busy(doing)

        self.wait(ref, probe)

    def _until_provisioned(self, lam: LambdaClient, name: str, alias: str) -> None:
        """Wait until the alias's provisioned concurrency is READY with all it requested
        allocated; fail on FAILED with its reason. Nothing provisioned is nothing to wait for.

        `Status` alone is not enough: while AWS moves a provisioned alias to a new version it
        routes to the old one with weights, and the allocated count "fluctuates" (Lambda API
        reference, `AllocatedProvisionedConcurrentExecutions`); the weights go once the new
        version has everything allocated, and only then does AWS accept a new count.
        """
        ref = f"{self.kind}/{name}:{alias}"

        def probe() -> bool | Busy:
            config = self._provisioned(lam, name, alias)
            if config is None:
                return True
            status = config.get("Status")
            if status == "FAILED":
                reason = config.get("StatusReason", "no reason given")
                raise PermanentError(f"{ref}: provisioned concurrency FAILED: {reason}")
            requested = int(config.get("RequestedProvisionedConcurrentExecutions", 0))
            allocated = int(config.get("AllocatedProvisionedConcurrentExecutions", requested))
            if status == "READY" and allocated >= requested:
                return True
            return Busy(f"provisioning concurrency ({allocated} of {requested} allocated)")

        self.wait(ref, probe, self.provisioning_wait_seconds)


ENGINE = LambdaFunctionEngine()


def _spec(manifest: Manifest) -> LambdaFunctionSpec:
    if not isinstance(manifest, LambdaFunction):
        raise TypeError(f"{manifest.ref} is not a LambdaFunction")
    return manifest.spec


def _busy(got: Mapping[str, Any]) -> str | None:
    """`updating` while an update (or a new version) is still settling."""
    configuration = got["Configuration"]
    if configuration.get("LastUpdateStatus") == "InProgress":
        return "updating"
    return "updating" if configuration.get("State") == "Pending" else None


def _failure(got: Mapping[str, Any]) -> str | None:
    """AWS's reason when the last update (or the new version) failed."""
    configuration = got["Configuration"]
    if "Failed" not in (configuration.get("LastUpdateStatus"), configuration.get("State")):
        return None
    reason = configuration.get("LastUpdateStatusReason") or configuration.get(
        "StateReason", "no reason given"
    )
    code = configuration.get("LastUpdateStatusReasonCode") or configuration.get(
        "StateReasonCode", "unknown"
    )
    return f"the update failed ({code}): {reason}"
