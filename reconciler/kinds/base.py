"""The one small interface every AWS-backed kind implements, and the comparison they share.

A kind engine observes its resources in batches, says how a declared resource differs from what
AWS has (with AWS's defaults normalised), and applies one change. It never builds AWS clients: it
receives them in `Clients`, so tests hand in moto-backed ones and benchmarks counting ones. The
clients are paced to AWS's quotas (`reconciler.pacing`), so an engine may send its reads from as
many threads as help (`concurrently`) without being throttled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from reconciler.context import Context
from reconciler.model import Manifest
from reconciler.plan import Change, Diff, Observed

if TYPE_CHECKING:
    from reconciler.aws import Clients


T = TypeVar("T")
R = TypeVar("R")

#: Found (declared resources that exist) and owned (resources tagged for the environment), by name.
Reading = tuple[dict[str, Observed], dict[str, Observed]]

#: Reports progress to a person ("observing 300 functions…"); the CLI prints it to stderr.
Progress = Callable[[str], None]


class KindEngine(Protocol):
    """How the reconciler observes, compares and changes one kind of AWS resource."""

    kind: str
    #: What people call several of them, for messages: "functions".
    noun: str
    #: Created when declared but missing (alarms, budgets); otherwise a missing one is blocked.
    creatable: bool
    #: Deleted by prune when owned and no longer declared (alarms, budgets).
    prunable: bool

    def observe(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context
    ) -> dict[str, Observed]:
        """The declared resources that exist, by name, read in as few calls as AWS allows."""
        ...

    def owned(self, aws: Clients, context: Context) -> dict[str, Observed]:
        """Every resource of this kind tagged for `context.environment` (prunable kinds only)."""
        ...

    def read(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """`observe` and, with `owned`, `owned`, sharing the calls they have in common: what a
        run calls, once per kind."""
        ...

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """The managed fields in manifest spelling, normalised as `observe` normalises AWS's."""
        ...

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        """The managed fields that differ (tags are compared by the planner)."""
        ...

    def apply(self, aws: Clients, change: Change, context: Context) -> None:
        """Carry out one create, update or delete, including the ownership tag; raise on failure.

        Waits until AWS reports the change done (function update finished, provisioned
        concurrency READY), so that a verify run right after sees the result.
        """
        ...


class NeverPruned:
    """`read` and `owned` for kinds the reconciler never deletes (functions, clusters): a read is
    the declared resources alone, and nothing is ever listed as owned. Subclasses `observe`."""

    def observe(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context
    ) -> dict[str, Observed]:
        raise NotImplementedError

    def read(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        return (self.observe(aws, manifests, context) if manifests else {}), {}

    def owned(self, aws: Clients, context: Context) -> dict[str, Observed]:
        """Never pruned, so nothing is listed and nothing is read."""
        return {}


class Pruned:
    """`observe` and `owned` for prunable kinds (alarms, budgets), as the two halves of one
    `read`, which subclasses define so that a prune run shares its reads."""

    def read(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        raise NotImplementedError

    def observe(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context
    ) -> dict[str, Observed]:
        """The declared resources that exist."""
        return self.read(aws, manifests, context, owned=False)[0]

    def owned(self, aws: Clients, context: Context) -> dict[str, Observed]:
        """Every resource tagged for `context.environment` (that still exists)."""
        return self.read(aws, [], context, owned=True)[1]


def concurrently(work: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """`work(item)` for every item, at most `workers` at a time; the answers in the items' order.

    The first failure is raised once the calls already running have ended; calls not yet started
    are cancelled. One item (or one worker) runs in the calling thread.
    """
    todo = list(items)
    if len(todo) <= 1 or workers <= 1:
        return [work(item) for item in todo]
    with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
        futures = [pool.submit(work, item) for item in todo]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            error = future.exception() if future in done else None
            if error is not None:
                for other in futures:
                    other.cancel()
                raise error
        return [future.result() for future in futures]


def batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` cut into consecutive slices of at most `size` (AWS's batch limit for a call)."""
    return [items[start : start + size] for start in range(0, len(items), size)]


#: The tagging API's `GetResources` takes at most 100 ARNs a call.
TAG_BATCH = 100


def tags_by_arn(aws: Clients, arns: Sequence[str]) -> dict[str, dict[str, str]]:
    """ARN → tags of up to `TAG_BATCH` resources, in one tagging API call (`ResourceARNList`).

    A resource that does not exist or was never tagged is left out. AWS answers an ARN list in
    one page; a page token (moto pages at 50) is followed all the same.
    """
    answer = aws.tagging.get_resources(ResourceARNList=list(arns))
    found = list(answer.get("ResourceTagMappingList", []))
    while answer.get("PaginationToken"):
        answer = aws.tagging.get_resources(PaginationToken=answer["PaginationToken"])
        found += answer.get("ResourceTagMappingList", [])
    return {
        mapping["ResourceARN"]: {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
        for mapping in found
        if "ResourceARN" in mapping
    }
