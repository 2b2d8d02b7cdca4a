"""`LambdaFunction`: the runtime knobs of an existing Lambda function.

The reconciler never creates or deletes a function; it manages only the fields a manifest sets:
image, memory, timeout, environment variables, reserved concurrency, and, through an alias,
published versions and provisioned concurrency.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StringConstraints

from reconciler.context import Context
from reconciler.errors import PermanentError, TemporaryError
from reconciler.kinds.base import TAG_BATCH, NeverPruned, batches, concurrently, tags_by_arn
from reconciler.kinds.compare import compare, same
from reconciler.model import PATTERN_HINTS, ImageUri, Manifest, Metadata, Strict
from reconciler.plan import OWNER_TAG, Action, Change, Diff, Observed

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from reconciler.aws import Clients

FUNCTION_NAME = r"^[a-zA-Z0-9_-]{1,64}$"
ALIAS_NAME = r"^[a-zA-Z_-][a-zA-Z0-9_-]{0,127}$|^[0-9]+[a-zA-Z_-][a-zA-Z0-9_-]*$"
ENV_KEY = r"^[a-zA-Z][a-zA-Z0-9_]*$"
PATTERN_HINTS[FUNCTION_NAME] = "a Lambda function name (letters, digits, '-', '_'; up to 64)"
PATTERN_HINTS[ALIAS_NAME] = "an alias name (letters, digits, '-', '_'; not only digits)"
PATTERN_HINTS[ENV_KEY] = "an environment variable name (a letter, then letters, digits, '_')"

#: Variables Lambda sets itself; AWS refuses them in `Environment.Variables`.
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
        "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip


class LambdaFunctionSpec(Strict):
    """`spec` of a LambdaFunction; every field is optional and only set fields are managed."""

    NULLABLE = frozenset({"reservedConcurrency"})

    image: ImageUri | None = Field(default=None, description="Container image: tag or digest.")
    memory_mb: int | None = Field(default=None, ge=128, le=10240, description="MemorySize (MB).")
    timeout_seconds: int | None = Field(default=None, ge=1, le=900, description="Timeout (s).")
    environment: (
        dict[
            Annotated[str, StringConstraints(pattern=ENV_KEY)],
            Annotated[str, StringConstraints(max_length=4096)],
        ]
        | None
    ) = Field(default=None, description="Environment variables; the whole map is managed.")
    reserved_concurrency: int | None = Field(
        default=None, ge=0, description="Reserved concurrency; null removes it."
    )
    alias: Annotated[str, StringConstraints(pattern=ALIAS_NAME)] | None = Field(
        default=None,
        description="Alias moved to a newly published version after each change.",
    )
    provisioned_concurrency: int | None = Field(
        default=None, ge=0, description="Provisioned concurrency on the alias; 0 removes it."
    )


class LambdaFunctionMetadata(Metadata):
    name: Annotated[str, StringConstraints(pattern=FUNCTION_NAME)] = Field(
        description="The function name."
    )


class LambdaFunction(Manifest):
    """An existing Lambda function whose runtime knobs are managed."""

    kind: Literal["LambdaFunction"]
    metadata: LambdaFunctionMetadata
    spec: LambdaFunctionSpec


def check(manifest: LambdaFunction) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Rules across fields: provisioned concurrency needs an alias and fits the reservation."""
    spec = manifest.spec
    for key in sorted(set(spec.environment or {}) & RESERVED_VARIABLES):
        yield ("spec", "environment", key), f"'{key}' is reserved by Lambda and cannot be set"
    if spec.provisioned_concurrency is None:
        return
    if spec.alias is None:
        yield (
            ("spec", "provisionedConcurrency"),
            "provisioned concurrency needs an alias (set spec.alias)",
        )
    reserved = spec.reserved_concurrency
    if reserved is not None and spec.provisioned_concurrency > reserved:
        yield (
            ("spec", "provisionedConcurrency"),
            f"{spec.provisioned_concurrency} is more than reservedConcurrency {reserved}",
        )


# --- The engine -------------------------------------------------------------------------------
#
# Observe reads each declared function with one `GetFunction` (its own 100 requests/s quota,
# where every other Lambda control-plane call shares 15/s), from `workers` threads; the clients'
# pacer keeps them to the quota. A function that declares `alias` costs one more
# `GetFunction(Qualifier=alias)`, one that declares `provisionedConcurrency` one
# `GetProvisionedConcurrencyConfig`; nothing else is read.
#
# `ListFunctions` returns memory, timeout and environment but not the image URI, the reserved
# concurrency or the tags. When at least `list_min` declared functions manage nothing else, they
# are read from its pages (50 functions a page, one after the other) with their tags from the
# tagging API (100 ARNs a call); the listing stops as soon as it has shown them all, and gives up
# on pages that serve too few of them (`LIST_PAGE_YIELD`), leaving the rest to `GetFunction`.

#: Fields a published version freezes: an alias is current when its version matches $LATEST on
#: the declared ones.
VERSIONED_FIELDS = ("image", "memoryMb", "timeoutSeconds", "environment")

#: The fields `ListFunctions` returns; a function that manages only these can be read from it.
LISTED_FIELDS = frozenset({"memoryMb", "timeoutSeconds", "environment"})
#: `ListFunctions` returns at most 50 functions a page.
LIST_PAGE = 50
#: A `ListFunctions` page costs 1/15 s of the shared control-plane quota, a `GetFunction` 1/100 s
#: of its own: the pages pay off while each serves at least this many declared functions.
LIST_PAGE_YIELD = 7
_NOT_FOUND = frozenset(
    {"ResourceNotFoundException", "ProvisionedConcurrencyConfigNotFoundException"}
)
_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException"})


def _code(exc: Exception) -> str | None:
    """The AWS error code of a botocore `ClientError`, None for any other exception.

    Read from the error's `response` so that `reconciler.kinds` loads without botocore (the
    planner's no-boto3 rule); AWS calls only ever happen in `apply` and `observe`.
    """
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return None
    return str(response.get("Error", {}).get("Code", "")) or None


def _latest_fields(
    configuration: Mapping[str, Any], image: str | None, reserved: int | None
) -> dict[str, Any]:
    """$LATEST (or a version) in manifest spelling; an absent `Environment` is `{}`."""
    return {
        "image": image,
        "memoryMb": configuration.get("MemorySize"),
        "timeoutSeconds": configuration.get("Timeout"),
        "environment": dict(configuration.get("Environment", {}).get("Variables") or {}),
        "reservedConcurrency": reserved,
    }


@dataclass(frozen=True)
class _Latest:
    """One `GetFunction` answer for $LATEST, as the engine needs it."""

    fields: dict[str, Any]
    tags: dict[str, str]
    code_sha: str | None
    revision_id: str | None

    @classmethod
    def of(cls, got: Mapping[str, Any]) -> _Latest:
        configuration = got["Configuration"]
        reserved = got.get("Concurrency", {}).get("ReservedConcurrentExecutions")
        return cls(
            fields=_latest_fields(configuration, got.get("Code", {}).get("ImageUri"), reserved),
            tags=dict(got.get("Tags") or {}),
            code_sha=configuration.get("CodeSha256"),
            revision_id=configuration.get("RevisionId"),
        )


@dataclass(frozen=True)
class _Alias:
    """The declared alias: the version it routes to and how that version lags $LATEST."""

    name: str
    version: str | None  # None: the alias does not exist
    behind: tuple[str, ...] = ()
    provisioned: int = 0
    provisioning_failed: str | None = None
    moved: bool = False  # apply just pointed it at a new version

    @property
    def current(self) -> bool:
        return self.version not in (None, "$LATEST") and not self.behind

    def field(self) -> str | None:
        """`alias` in manifest terms: the name when current, else what is wrong with it."""
        if self.version is None:
            return None
        if self.version == "$LATEST":
            return f"{self.name} -> $LATEST (not a published version)"
        if self.behind:
            return (
                f"{self.name} -> version {self.version} (behind $LATEST: {', '.join(self.behind)})"
            )
        return self.name

    def provisioned_field(self) -> int | str:
        if self.provisioning_failed is not None:
            return f"{self.provisioned} (FAILED: {self.provisioning_failed})"
        return self.provisioned


@dataclass(frozen=True)
class LambdaFunctionEngine(NeverPruned):
    """Observes, compares and updates existing Lambda functions; never creates or deletes one.

    Apply waits for every asynchronous step (function updates, provisioned concurrency) within
    `update_wait_seconds` / `provisioning_wait_seconds`, retries `ResourceConflictException` up
    to `conflict_retries` times, and writes only what differs from a fresh read, so applying the
    same change twice writes nothing the second time.
    """

    kind = "LambdaFunction"
    noun = "functions"
    creatable = False
    prunable = False

    sleep: Callable[[float], None] = time.sleep
    #: Threads reading functions at once; the pacer, not this, holds them to the quota.
    workers: int = 32
    #: Fewest declared functions managing only `LISTED_FIELDS` for `ListFunctions` to be used.
    list_min: int = 50
    poll_seconds: float = 2.0
    update_wait_seconds: float = 600.0
    provisioning_wait_seconds: float = 1200.0
    conflict_retries: int = 5

    # --- observe and compare ------------------------------------------------------------------

    def observe(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context
    ) -> dict[str, Observed]:
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
        return {name: found[name] for name in specs if name in found}

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """Exactly the fields the manifest sets (`reservedConcurrency: null` included)."""
        return _spec(manifest).to_manifest()

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        """Declared fields only; `environment` as a whole map, `image` exactly as AWS has it."""
        return compare(self.desired(manifest), observed.fields)

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
        latest = _Latest.of(got)
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
        arn = f"arn:{context.partition}:lambda:{context.region}:{context.account}:function:"
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
            for count, page in enumerate(self._pages(pages), start=1):
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
                    for key, value in _latest_fields(configuration, None, None).items()
                    if key in LISTED_FIELDS
                },
                tags.get(arn + name, {}),
            )
            for name, configuration in configurations.items()
        }
        return seen, unresolved

    @staticmethod
    def _pages(pages: Iterable[Any]) -> Iterator[Any]:
        """Pages of a paginated read, throttling (past botocore's retries) made temporary."""
        iterator = iter(pages)
        while True:
            try:
                page = next(iterator)
            except StopIteration:
                return
            except Exception as exc:
                if _code(exc) in _THROTTLED:
                    raise TemporaryError(
                        f"AWS Lambda is throttling requests ({_code(exc)})"
                    ) from exc
                raise
            yield page

    # --- apply --------------------------------------------------------------------------------

    def apply(self, aws: Clients, change: Change, context: Context) -> None:
        """Bring one function to `change.desired`, in an order AWS accepts.

        Code, then configuration (each waited until `LastUpdateStatus` is `Successful`), then a
        new version and the alias moved to it, then reserved and provisioned concurrency (the
        lower one first when shrinking), then the ownership tag. Every step is skipped when a
        fresh read shows it is already done.
        """
        if change.action is not Action.UPDATE or change.desired is None:
            raise PermanentError(
                f"{change.ref}: the reconciler only updates functions (got {change.action.value})"
            )
        lam, name = aws.lambda_, change.name
        spec = LambdaFunctionSpec.model_validate(change.desired)
        declared = spec.declared()
        got = self._get(lam, name)
        if got is None:
            raise PermanentError(f"{change.ref}: the function does not exist")
        owner = (got.get("Tags") or {}).get(OWNER_TAG)
        if owner not in (None, context.environment):
            raise PermanentError(f"{change.ref}: owned by environment '{owner}'; not changed")
        if got["Configuration"].get("LastUpdateStatus") == "InProgress":
            got = self._until_updated(lam, name)
        latest = self._update_function(lam, name, spec, declared, _Latest.of(got))

        alias: _Alias | None = None
        if spec.alias is not None:
            alias = self._alias(lam, name, spec, latest)
            if not alias.current:  # missing, on $LATEST, or behind what was just written
                alias = self._move_alias(lam, name, alias, latest)

        self._set_concurrency(lam, name, spec, latest.fields["reservedConcurrency"], alias)
        if owner is None:  # last, so no tag write can move the RevisionId guarding the publish
            arn = (
                f"arn:{context.partition}:lambda:{context.region}:{context.account}:function:{name}"
            )
            self._call(lam.tag_resource, Resource=arn, Tags={OWNER_TAG: context.environment})

    def _update_function(
        self,
        lam: LambdaClient,
        name: str,
        spec: LambdaFunctionSpec,
        declared: set[str],
        latest: _Latest,
    ) -> _Latest:
        """Image, then memory/timeout/environment; $LATEST as it ends (`latest` if unchanged)."""
        have = latest.fields
        if "image" in declared and spec.image != have["image"]:
            self._call(lam.update_function_code, FunctionName=name, ImageUri=spec.image)
            latest = _Latest.of(self._until_updated(lam, name))
        config: dict[str, Any] = {}
        if "memoryMb" in declared and not same(spec.memory_mb, have["memoryMb"]):
            config["MemorySize"] = spec.memory_mb
        if "timeoutSeconds" in declared and not same(spec.timeout_seconds, have["timeoutSeconds"]):
            config["Timeout"] = spec.timeout_seconds
        if "environment" in declared and not same(spec.environment, have["environment"]):
            config["Environment"] = {"Variables": dict(spec.environment or {})}
        if config:
            self._call(lam.update_function_configuration, FunctionName=name, **config)
            latest = _Latest.of(self._until_updated(lam, name))
        return latest

    def _move_alias(self, lam: LambdaClient, name: str, alias: _Alias, latest: _Latest) -> _Alias:
        """Publish $LATEST (guarded by its revision) and point the alias at the new version."""
        guard: dict[str, Any] = {"RevisionId": latest.revision_id} if latest.revision_id else {}
        published = self._call(lam.publish_version, FunctionName=name, **guard)
        version = published["Version"]
        if published.get("State") == "Pending":
            self._until_updated(lam, name, qualifier=version)
        if alias.version is None:
            self._call(
                lam.create_alias, FunctionName=name, Name=alias.name, FunctionVersion=version
            )
        else:
            self._call(
                lam.update_alias, FunctionName=name, Name=alias.name, FunctionVersion=version
            )
        return replace(alias, version=version, behind=(), moved=True)

    def _set_concurrency(
        self,
        lam: LambdaClient,
        name: str,
        spec: LambdaFunctionSpec,
        reserved_now: int | None,
        alias: _Alias | None,
    ) -> None:
        """Reserved and provisioned concurrency; a shrinking provisioned value goes first."""
        reserved_due = "reservedConcurrency" in spec.declared() and not same(
            spec.reserved_concurrency, reserved_now
        )
        want = spec.provisioned_concurrency
        if alias is None or want is None:
            if reserved_due:
                self._reserve(lam, name, spec.reserved_concurrency)
            return
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
        elif want > 0 and alias.moved:
            self._until_provisioned(lam, name, alias.name)  # a moved alias re-provisions

    def _reserve(self, lam: LambdaClient, name: str, count: int | None) -> None:
        if count is None:
            self._call(lam.delete_function_concurrency, FunctionName=name)
        else:
            self._call(
                lam.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=count
            )

    def _provision(self, lam: LambdaClient, name: str, alias: str, count: int) -> None:
        if count == 0:
            self._call(
                lam.delete_provisioned_concurrency_config, FunctionName=name, Qualifier=alias
            )
            return
        self._call(
            lam.put_provisioned_concurrency_config,
            FunctionName=name,
            Qualifier=alias,
            ProvisionedConcurrentExecutions=count,
        )
        self._until_provisioned(lam, name, alias)

    # --- reads and waits ----------------------------------------------------------------------

    def _get(self, lam: LambdaClient, name: str, qualifier: str | None = None) -> Any:
        """`GetFunction`, or None when the function (or the qualifier) does not exist."""
        args = {"Qualifier": qualifier} if qualifier else {}
        return self._call(lam.get_function, missing_ok=True, FunctionName=name, **args)

    def _alias(
        self, lam: LambdaClient, name: str, spec: LambdaFunctionSpec, latest: _Latest
    ) -> _Alias:
        """Read the declared alias's version and, when declared, its provisioned concurrency.

        The version is compared with $LATEST on the declared versioned fields; the image by
        `CodeSha256` (the digest the version was published with), not by URI.
        """
        assert spec.alias is not None
        got = self._get(lam, name, qualifier=spec.alias)
        if got is None:
            return _Alias(spec.alias, None)
        configuration = got["Configuration"]
        version = str(configuration.get("Version"))
        fields = _latest_fields(configuration, None, None)
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
        alias = _Alias(spec.alias, version, behind)
        if spec.provisioned_concurrency is None or version == "$LATEST":
            return alias
        config = self._call(
            lam.get_provisioned_concurrency_config,
            missing_ok=True,
            FunctionName=name,
            Qualifier=spec.alias,
        )
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

    def _until_updated(self, lam: LambdaClient, name: str, qualifier: str | None = None) -> Any:
        """Poll `GetFunction` until the update (or a new version) settles; fail on `Failed`."""
        target = f"LambdaFunction/{name}" + (f":{qualifier}" if qualifier else "")
        for _ in range(self._attempts(self.update_wait_seconds)):
            got = self._get(lam, name, qualifier)
            if got is None:
                raise PermanentError(f"{target}: the function disappeared while being updated")
            configuration = got["Configuration"]
            status = configuration.get("LastUpdateStatus")
            if status == "Failed" or configuration.get("State") == "Failed":
                reason = configuration.get("LastUpdateStatusReason") or configuration.get(
                    "StateReason", "no reason given"
                )
                code = configuration.get("LastUpdateStatusReasonCode") or configuration.get(
                    "StateReasonCode", "unknown"
                )
                raise PermanentError(f"{target}: the update failed ({code}): {reason}")
            if status != "InProgress" and configuration.get("State") != "Pending":
                return got
            self.sleep(self.poll_seconds)
        raise TemporaryError(
            f"{target}: still updating after {self.update_wait_seconds:.0f} s; retry later"
        )

    def _until_provisioned(self, lam: LambdaClient, name: str, alias: str) -> None:
        """Poll the alias's provisioned concurrency until READY; fail on FAILED with its reason."""
        target = f"LambdaFunction/{name}:{alias}"
        for _ in range(self._attempts(self.provisioning_wait_seconds)):
            config = self._call(
                lam.get_provisioned_concurrency_config,
                missing_ok=True,
                FunctionName=name,
                Qualifier=alias,
            )
            if config is None:
                return  # nothing provisioned on the alias: nothing to wait for
            status = config.get("Status")
            if status == "READY":
                return
            if status == "FAILED":
                reason = config.get("StatusReason", "no reason given")
                raise PermanentError(f"{target}: provisioned concurrency FAILED: {reason}")
            self.sleep(self.poll_seconds)
        raise TemporaryError(
            f"{target}: provisioned concurrency not READY after "
            f"{self.provisioning_wait_seconds:.0f} s; retry later"
        )

    def _attempts(self, seconds: float) -> int:
        return max(1, math.ceil(seconds / self.poll_seconds))

    def _call(
        self, operation: Callable[..., Any], *, missing_ok: bool = False, **kwargs: Any
    ) -> Any:
        """One AWS call; a busy function is retried with backoff, throttling is temporary.

        With `missing_ok`, a missing function, alias or config answers None instead of raising.
        """
        for attempt in range(self.conflict_retries + 1):
            try:
                return operation(**kwargs)
            except Exception as exc:
                code = _code(exc)
                if code is None:
                    raise
                if missing_ok and code in _NOT_FOUND:
                    return None
                if code in _THROTTLED:
                    raise TemporaryError(f"AWS Lambda is throttling requests ({code})") from exc
                if code == "PreconditionFailedException":
                    raise TemporaryError(
                        f"LambdaFunction/{kwargs.get('FunctionName')}: changed by someone else "
                        "while being updated; plan again"
                    ) from exc
                if code != "ResourceConflictException":
                    raise
                if attempt == self.conflict_retries:
                    raise TemporaryError(
                        f"LambdaFunction/{kwargs.get('FunctionName')}: still busy with another "
                        f"update after {self.conflict_retries} retries; retry later"
                    ) from exc
                self.sleep(self.poll_seconds * 2**attempt)
        raise AssertionError("unreachable")


def _spec(manifest: Manifest) -> LambdaFunctionSpec:
    if not isinstance(manifest, LambdaFunction):
        raise TypeError(f"{manifest.ref} is not a LambdaFunction")
    return manifest.spec


ENGINE = LambdaFunctionEngine()
