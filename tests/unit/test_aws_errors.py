"""The one AWS error classifier: what each answer means, and how the engines' boundary says it."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from reconciler import aws_errors
from reconciler.aws_errors import Failure, failure, transient, translated
from reconciler.errors import PermanentError, TemporaryError


def answered(code: str, status: int = 400, operation: str = "PutMetricAlarm") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


@pytest.mark.parametrize(
    ("code", "status", "meaning"),
    [
        ("ResourceNotFoundException", 404, Failure.MISSING),
        ("ResourceNotFound", 404, Failure.MISSING),
        ("DBClusterNotFoundFault", 404, Failure.MISSING),
        ("NotFoundException", 404, Failure.MISSING),
        ("ParameterNotFound", 400, Failure.MISSING),
        ("NoSuchKey", 404, Failure.MISSING),
        ("DuplicateRecordException", 400, Failure.EXISTS),
        ("ResourceAlreadyExistsException", 400, Failure.EXISTS),
        ("ExecutionAlreadyExists", 400, Failure.EXISTS),
        ("ResourceConflictException", 409, Failure.CONFLICT),
        ("InvalidDBClusterStateFault", 400, Failure.CONFLICT),
        ("InvalidDBInstanceState", 400, Failure.CONFLICT),  # the wire code of the Fault shape
        ("ResourceInUseException", 400, Failure.CONFLICT),
        ("OperationAbortedException", 400, Failure.CONFLICT),
        ("PreconditionFailedException", 412, Failure.CHANGED),
        ("ConditionalCheckFailedException", 400, Failure.CHANGED),
        ("AccessDeniedException", 403, Failure.DENIED),
        ("403", 403, Failure.DENIED),
        ("Throttling", 400, Failure.THROTTLED),
        ("ThrottlingException", 400, Failure.THROTTLED),
        ("ThrottledException", 400, Failure.THROTTLED),
        ("TooManyRequestsException", 429, Failure.THROTTLED),
        ("SlowDown", 503, Failure.THROTTLED),
        ("InternalFailure", 500, Failure.TRANSIENT),
        ("ServiceUnavailable", 503, Failure.TRANSIENT),
        ("ServiceException", 500, Failure.TRANSIENT),
        # Expired credentials pass by themselves: the next attempt signs with refreshed ones.
        ("ExpiredToken", 403, Failure.TRANSIENT),
        ("ExpiredTokenException", 403, Failure.TRANSIENT),
        ("ValidationError", 400, Failure.PERMANENT),
        ("SomethingNew", 429, Failure.THROTTLED),
        ("SomethingNew", 502, Failure.TRANSIENT),
        ("SomethingNew", 400, Failure.PERMANENT),
    ],
)
def test_every_answer_has_one_meaning(code: str, status: int, meaning: Failure) -> None:
    assert failure(answered(code, status)) is meaning


def test_errors_that_never_reached_aws_are_judged_by_what_happened() -> None:
    assert failure(EndpointConnectionError(endpoint_url="https://x")) is Failure.TRANSIENT
    assert failure(ConnectTimeoutError(endpoint_url="https://x")) is Failure.TRANSIENT
    assert failure(ReadTimeoutError(endpoint_url="https://x")) is Failure.TRANSIENT
    assert failure(NoCredentialsError()) is Failure.PERMANENT
    assert failure(KeyError("x")) is None


def test_transient_looks_through_the_causes() -> None:
    wrapped = PermanentError("wrapped")
    wrapped.__cause__ = answered("Throttling")
    assert transient(wrapped)
    assert transient(TemporaryError("later"))
    assert not transient(answered("AccessDenied", 403))
    assert not transient(ValueError("a bug"))


@pytest.mark.parametrize(
    ("code", "status", "kind", "words"),
    [
        ("ThrottlingException", 400, TemporaryError, "throttling requests"),
        ("InternalFailure", 500, TemporaryError, "retry later"),
        ("ResourceConflictException", 409, TemporaryError, "still busy"),
        ("PreconditionFailedException", 412, TemporaryError, "changed by someone else"),
        ("ResourceNotFoundException", 404, PermanentError, "does not exist"),
        ("DuplicateRecordException", 400, PermanentError, "already exists"),
    ],
)
def test_the_boundary_says_what_to_do_next(
    code: str, status: int, kind: type[Exception], words: str
) -> None:
    error = answered(code, status)
    with pytest.raises(kind, match=words) as raised, translated("MetricAlarm/errors"):
        raise error
    assert str(raised.value).startswith("MetricAlarm/errors")
    assert code in str(raised.value)
    assert raised.value.__cause__ is error


def test_the_boundary_lets_refusals_and_bugs_through_as_they_are() -> None:
    denied = answered("AccessDeniedException", 403)
    with pytest.raises(ClientError) as raised, translated("MetricAlarm/errors"):
        raise denied
    assert raised.value is denied
    with pytest.raises(KeyError), translated("MetricAlarm/errors"):
        raise KeyError("a bug")
    refused = PermanentError("refused on purpose")
    with pytest.raises(PermanentError) as kept, translated("MetricAlarm/errors"):
        raise refused
    assert kept.value is refused


def test_describe_names_the_operation_and_the_code() -> None:
    assert (
        aws_errors.describe(answered("Throttling"))
        == "PutMetricAlarm answered Throttling: injected"
    )
    assert aws_errors.code(answered("Throttling")) == "Throttling"
    assert aws_errors.code(ValueError()) is None
