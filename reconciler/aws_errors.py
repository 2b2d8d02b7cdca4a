"""What an AWS error means, decided in one place.

Every code path that catches an error from AWS asks `failure` what it is, and nothing else reads a
botocore error's `Error.Code`: the answer is one of the `Failure` classes below, each with its own
"what to do next". The engines go one step further and run every AWS call inside `translated`,
the one boundary (in the shape of pypa/build's `_handle_backend`) where an error that may pass by
itself becomes a `TemporaryError` (the state machine's `Retry` matches that name) and a write to
a resource that is gone becomes a `PermanentError`, each saying what happened in a sentence.

The table holds the codes of every service the reconciler calls or will call (Lambda, RDS,
CloudWatch and CloudWatch Logs, Budgets, DynamoDB, API Gateway v2, SSM, ECS, Application Auto
Scaling, the tagging API, S3, Step Functions, EventBridge, STS). A code it does not hold is
judged by its HTTP status: 429 is throttling, 5xx transient, anything else permanent.

This module imports botocore; the pure core (model, loader, plan, planner, kinds' models) never
imports it, and `reconciler.errors` keeps the exception types that need no SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AWSConnectionError

from reconciler.errors import PermanentError, ReconcilerError, TemporaryError


class Failure(StrEnum):
    """What an AWS error means for the caller."""

    #: The resource (or the part of it asked for) does not exist.
    MISSING = "missing"
    #: A create found the resource there already (made since it was read, or a create re-sent
    #: after its answer was lost).
    EXISTS = "exists"
    #: The resource is busy with another change: retry once that has settled.
    CONFLICT = "conflict"
    #: The resource changed since it was read (a precondition or condition failed): read again.
    CHANGED = "changed"
    #: The caller may not do this: a permission, not the request, has to change.
    DENIED = "denied"
    #: AWS is holding the caller to a request-rate quota: retry after a backoff.
    THROTTLED = "throttled"
    #: AWS failed or could not be reached: retry after a backoff.
    TRANSIENT = "transient"
    #: Retrying will not help.
    PERMANENT = "permanent"


def _codes(failure: Failure, codes: str) -> dict[str, Failure]:
    return dict.fromkeys(codes.split(), failure)


#: Error codes by what they mean, across the services the reconciler calls.
CODES: dict[str, Failure] = {
    **_codes(
        Failure.MISSING,
        "ResourceNotFoundException ResourceNotFound NotFoundException NotFound NoSuchKey 404 "
        "NoSuchBucket NoSuchEntity DBClusterNotFoundFault DBInstanceNotFound "
        "ProvisionedConcurrencyConfigNotFoundException ParameterNotFound TableNotFoundException "
        "ServiceNotFoundException ServiceNotActiveException ClusterNotFoundException "
        "ObjectNotFoundException StateMachineDoesNotExist ExecutionDoesNotExist "
        # SSM answers ListTagsForResource and AddTagsToResource of a missing parameter so
        "InvalidResourceId",
    ),
    **_codes(
        Failure.EXISTS,
        "DuplicateRecordException ResourceAlreadyExistsException AlreadyExistsException "
        "ParameterAlreadyExists ExecutionAlreadyExists EntityAlreadyExists",
    ),
    **_codes(
        Failure.CONFLICT,
        "ResourceConflictException ConflictException ConcurrentModificationException "
        "InvalidDBClusterStateFault InvalidDBInstanceState InvalidDBInstanceStateFault "
        "OperationAbortedException "
        "ResourceInUseException TooManyUpdates TransactionInProgressException "
        "PriorRequestNotComplete ContinuousBackupsUnavailableException",
    ),
    **_codes(
        Failure.CHANGED,
        "PreconditionFailedException PreconditionFailed ConditionalCheckFailedException",
    ),
    **_codes(
        Failure.DENIED,
        "AccessDenied AccessDeniedException UnauthorizedOperation AuthorizationError "
        "UnrecognizedClientException InvalidClientTokenId 403",
    ),
    **_codes(
        Failure.THROTTLED,
        "Throttling ThrottlingException ThrottledException TooManyRequestsException "
        "RequestLimitExceeded RequestThrottled RequestThrottledException SlowDown "
        "ProvisionedThroughputExceededException BandwidthLimitExceeded ExecutionLimitExceeded",
    ),
    **_codes(
        Failure.TRANSIENT,
        "InternalFailure InternalError InternalServerError InternalServiceError "
        "InternalErrorException InternalException ServiceException ServerException "
        "ServiceUnavailable ServiceUnavailableException ServiceFailure RequestTimeout "
        "RequestTimeoutException ExpiredToken ExpiredTokenException RequestExpired",
    ),
}

#: The classes worth retrying as they are, without reading anything again first.
TRANSIENT = frozenset({Failure.THROTTLED, Failure.TRANSIENT, Failure.CONFLICT})


def is_aws_error(error: BaseException) -> bool:
    """Whether `error` came from botocore (an answer from AWS, or the SDK failing to get one)."""
    return isinstance(error, ClientError | BotoCoreError)


def code(error: BaseException) -> str | None:
    """The AWS error code of an answer from AWS (`ThrottlingException`), None for anything else."""
    if not isinstance(error, ClientError):
        return None
    return str(error.response.get("Error", {}).get("Code", "")) or None


def failure(error: BaseException) -> Failure | None:
    """What `error` means, or None when it is not an AWS error at all."""
    if isinstance(error, AWSConnectionError | HTTPClientError):
        return Failure.TRANSIENT
    if isinstance(error, BotoCoreError):
        return Failure.PERMANENT  # no credentials, a malformed request, …: never passes by itself
    if not isinstance(error, ClientError):
        return None
    known = CODES.get(code(error) or "")
    if known is not None:
        return known
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if status == 429:
        return Failure.THROTTLED
    return Failure.TRANSIENT if status >= 500 else Failure.PERMANENT


def transient(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, may pass by itself: a `TemporaryError`,
    or an AWS error that is throttling, a transient failure or a busy resource."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, TemporaryError) or failure(cause) in TRANSIENT:
            return True
        cause = cause.__cause__
    return False


def describe(error: BaseException) -> str:
    """`PutMetricAlarm answered Throttling: Rate exceeded`, or the error's own text."""
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message") or ""
        answered = f"{error.operation_name} answered {code(error)}"
        return f"{answered}: {' '.join(message.split())}" if message else answered
    return " ".join(str(error).split()) or type(error).__name__


def translate(error: BaseException, subject: str) -> ReconcilerError | None:
    """The reconciler error `error` stands for when it happened to `subject` (`Budget/team`), or
    None when it should travel on as it is (a permission or a request AWS refuses, which already
    names its operation and code, and every caller treats as permanent)."""
    what = failure(error)
    if what is Failure.THROTTLED:
        return TemporaryError(
            f"{subject}: AWS is throttling requests ({describe(error)}); retry later"
        )
    if what is Failure.TRANSIENT:
        return TemporaryError(f"{subject}: AWS failed for now ({describe(error)}); retry later")
    if what is Failure.CONFLICT:
        return TemporaryError(
            f"{subject}: still busy with another change ({describe(error)}); retry later"
        )
    if what is Failure.CHANGED:
        return TemporaryError(
            f"{subject}: changed by someone else while being updated ({describe(error)}); "
            "plan again"
        )
    if what is Failure.MISSING:
        return PermanentError(f"{subject} does not exist ({describe(error)})")
    if what is Failure.EXISTS:
        return PermanentError(f"{subject} already exists ({describe(error)})")
    return None


@contextmanager
def translated(subject: str) -> Iterator[None]:
    """Run the block with every AWS error it raises translated for `subject` (`translate`).

    Errors the reconciler raised on purpose, and errors that are not from AWS (bugs), pass
    through untouched; a translated error is chained to the original (`raise … from`).
    """
    try:
        yield
    except ReconcilerError:
        raise
    except Exception as exc:
        error = translate(exc, subject)
        if error is None:
            raise
        raise error from exc


def answer(error: BaseException) -> dict[str, Any]:
    """The parsed answer of an AWS error (`{}` for anything else), for callers that asked AWS to
    return an item with its error (a failed condition's `ALL_OLD`)."""
    return dict(error.response) if isinstance(error, ClientError) else {}
