"""What engines share to read AWS in few calls: batches, parallel reads, tags by ARN.

The clients are paced to AWS's quotas (`reconciler.pacing`), so an engine may send its reads from
as many threads as help (`concurrently`) without being throttled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, TypeVar

from reconciler.ownership import OWNER_TAG

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi.type_defs import TagFilterTypeDef

    from reconciler.aws import Clients

T = TypeVar("T")
R = TypeVar("R")

#: The tagging API's `GetResources` takes at most 100 ARNs a call.
TAG_BATCH = 100


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
    return tag_map(found)


def tagged_for(aws: Clients, environment: str, resource_type: str) -> dict[str, dict[str, str]]:
    """ARN → all tags, of every resource of `resource_type` (the tagging API's spelling:
    `cloudwatch:alarm`, `ssm:parameter`) in the region tagged for `environment`: one pass, what
    prune needs to find the owned resources that left the manifests."""
    filters: list[TagFilterTypeDef] = [{"Key": OWNER_TAG, "Values": [environment]}]
    pages = aws.tagging.get_paginator("get_resources").paginate(
        TagFilters=filters,
        ResourceTypeFilters=[resource_type],
        PaginationConfig={"PageSize": TAG_BATCH},
    )
    return {
        arn: tags
        for page in pages
        for arn, tags in tag_map(page.get("ResourceTagMappingList", [])).items()
    }


def tag_map(mappings: Iterable[object]) -> dict[str, dict[str, str]]:
    """ARN → tags, from the tagging API's `ResourceTagMappingList` entries."""
    found: dict[str, dict[str, str]] = {}
    for mapping in mappings:
        if isinstance(mapping, dict) and "ResourceARN" in mapping:
            found[mapping["ResourceARN"]] = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}
    return found
