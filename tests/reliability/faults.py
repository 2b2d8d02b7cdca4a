"""Faults injected into the engine's own AWS clients through botocore's event hooks.

AWS fails in two places, and so do these faults:

* on the wire (`before-send`): an error answered instead of the emulator's (throttling, a 5xx),
  a connection that never opens (`ConnectTimeoutError`: the request is never sent), an answer
  lost after the request landed (`ReadTimeoutError`), a PutEvents that keeps some entries and
  fails others, a Lambda function busy with an update. botocore's own retries see each of these
  exactly as they would against AWS;
* around an API call the engine makes (`before-call` / `after-call`, once per call whatever
  botocore retries underneath): the process killed just before its k-th write is sent, or just
  after that write landed.

`Injector` wires every client of a `Clients` (or any boto3 clients) the same way: moto's
in-process transport (its `botocore_stubber`) is taken off the client and called by the injector
instead, so an injected error means the emulator never saw the request. Random faults draw from
a seeded hash of the request and of how often that same request was sent before, never from the
order of calls, so the engine's observe threads cannot make a run unrepeatable.

The injector keeps two ledgers: `calls`, every API call the engine made (with its parameters), and
`landed`, every write the emulator accepted, per resource and operation: what AWS actually did.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from moto.core.models import botocore_stubber

from reconciler.aws import Clients
from reconciler.kinds import managed, services

READ_PREFIXES = ("Get", "Describe", "List")
#: What the handlers call beyond the kinds' services: events, and the run-history table.
HANDLER_SERVICES = {
    "events": (400, "ThrottlingException"),
    "dynamodb": (400, "ThrottlingException"),
}
#: The services whose clients `Injector.on` wires: every one a kind's description names, and
#: EventBridge.
CLIENTS = (*(service.name for service in services()), "events")

#: The throttling answer of each service: HTTP status and error code, as AWS sends them.
THROTTLING = {service.name: service.throttling for service in services()} | HANDLER_SERVICES
#: The request parameters that name a resource, from every kind's description.
IDENTIFIERS = tuple(dict.fromkeys(key for kind in managed() for key in kind.identifiers))
#: Each service's own request parameters that name a resource (the kinds that call it say which):
#: another service's identifier (DynamoDB's `ResourceArn`) may name something else there.
SERVICE_IDENTIFIERS = {
    service.name: tuple(
        dict.fromkeys(
            key for kind in managed() if service in kind.services for key in kind.identifiers
        )
    )
    for kind in managed()
    for service in kind.services
}
SERVER_ERRORS = ((500, "InternalFailure"), (503, "ServiceUnavailable"))
LAMBDA_WRITES_BLOCKED_WHILE_UPDATING = frozenset(
    {"UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion"}
)


def is_write(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


class Killed(BaseException):
    """The process died here. Not an `Exception`: no `except Exception` in the engine stops it."""


# --- what a fault sees ----------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One API call the engine made (once, whatever botocore retried underneath)."""

    service: str  # botocore's service name: lambda, rds, cloudwatch, budgets, ...
    operation: str
    params: Mapping[str, Any]
    resource: str

    @property
    def write(self) -> bool:
        return is_write(self.operation)


@dataclass(frozen=True)
class Sent:
    """One HTTP attempt of one call, as a wire fault sees it."""

    call: Call
    model: Any  # botocore's OperationModel
    request: AWSPreparedRequest
    seed: int
    repeat: int  # how often this same request (same URL and body) was sent before

    def draw(self, salt: str, key: str | None = None) -> float:
        """A number in [0, 1) that depends only on the seed, the request and `salt`."""
        body = key if key is not None else _text(self.request.body)
        text = f"{self.seed}|{salt}|{self.request.url}|{body}|{self.repeat}"
        return int(hashlib.sha256(text.encode()).hexdigest()[:13], 16) / 16**13


Forward = Callable[[AWSPreparedRequest], AWSResponse]


class WireFault(Protocol):
    """Answers one HTTP attempt: by `forward`ing it to the emulator, by an error instead, or by
    raising what botocore's HTTP layer raises."""

    def __call__(self, sent: Sent, forward: Forward) -> AWSResponse: ...


# --- the injector ---------------------------------------------------------------------------


@dataclass
class Injector:
    """Faults on a set of clients, and the ledgers of what the engine asked and AWS did."""

    seed: int = 0
    faults: list[WireFault] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    landed: Counter[tuple[str, str]] = field(default_factory=Counter)  # (resource, operation)
    landed_bodies: list[tuple[str, str, bytes]] = field(default_factory=list)
    _repeats: Counter[tuple[str, bytes]] = field(default_factory=Counter)
    _writes: int = 0
    begun_at_death: int | None = None  # writes the engine had begun when the process died
    _kill: tuple[int, Literal["before", "after"]] | None = None
    _dead: str | None = None  # why the process died; every later call dies with it
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def on(cls, aws: Clients, *, seed: int = 0) -> Injector:
        """An injector wired to every client `aws` hands the engine."""
        injector = cls(seed=seed)
        injector.wire(aws.service(name) for name in CLIENTS)
        return injector

    def wire(self, clients: Iterable[Any]) -> None:
        for client in clients:
            events = client.meta.events
            events.unregister("before-send", botocore_stubber)
            events.register("before-parameter-build.*.*", self._remember)
            events.register("before-call.*.*", self._before_call)
            events.register("after-call.*.*", self._after_call)
            events.register("before-send.*.*", self._send)

    def add(self, *faults: WireFault) -> Injector:
        self.faults.extend(faults)
        return self

    def heal(self) -> None:
        """No more faults from here on, and a killed process is a new one (the ledgers keep
        counting)."""
        self.faults.clear()
        self._kill = None
        self._dead = None

    def kill(self, k: int, when: Literal["before", "after"]) -> None:
        """Kill the process just before its k-th write from now (1-based) is sent, or just after
        it landed. From then on every call of any thread dies too, as in a killed process."""
        self._kill = (self._writes + k, when)

    @property
    def writes(self) -> list[Call]:
        return [call for call in self.calls if call.write]

    # --- hooks --------------------------------------------------------------------------------

    def _remember(
        self, params: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        service = model.service_model.service_name
        context["fault_call"] = Call(
            service, model.name, dict(params), resource_of(service, params)
        )
        context["fault_model"] = model

    def _before_call(self, context: dict[str, Any], **_: Any) -> None:
        call: Call = context["fault_call"]
        with self._lock:
            self._die_if_dead()
            self.calls.append(call)
            if call.write:
                self._writes += 1
                number = self._writes
                context["fault_write"] = number
                if self._kill == (number, "before"):
                    self._die(f"killed before write {number}: {call.operation} {call.resource}")

    def _after_call(self, context: dict[str, Any], **_: Any) -> None:
        call: Call = context["fault_call"]
        with self._lock:
            self._die_if_dead()
            number = context.get("fault_write")
            if number is not None and self._kill == (number, "after"):
                self._die(f"killed after write {number}: {call.operation} {call.resource}")

    def _die(self, why: str) -> None:
        self._kill = None
        self._dead = why
        self.begun_at_death = self._writes
        raise Killed(why)

    def _die_if_dead(self) -> None:
        if self._dead is not None:
            raise Killed(self._dead)

    def _send(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse:
        context = request.context
        call: Call = context["fault_call"]
        key = (request.url, request.body if isinstance(request.body, bytes) else b"")
        with self._lock:
            self._die_if_dead()
            repeat = self._repeats[key]
            self._repeats[key] += 1
        sent = Sent(call, context["fault_model"], request, self.seed, repeat)

        def through(index: int, request: AWSPreparedRequest) -> AWSResponse:
            if index == len(self.faults):
                return self._emulator(call, request, kwargs)
            here = Sent(call, sent.model, request, sent.seed, sent.repeat)
            return self.faults[index](here, lambda req: through(index + 1, req))

        return through(0, request)

    def _emulator(
        self, call: Call, request: AWSPreparedRequest, kwargs: Mapping[str, Any]
    ) -> AWSResponse:
        response = botocore_stubber(request=request, **kwargs)
        if response is None:
            raise AssertionError("reliability tests run on moto in process (emulated_aws())")
        if call.write and response.status_code < 300:
            with self._lock:
                self.landed[(call.resource, call.operation)] += 1
                self.landed_bodies.append((call.resource, call.operation, _bytes(request.body)))
        return response


def resource_of(service: str, params: Mapping[str, Any]) -> str:
    """The resource a call is about, by name: `flask-api`, `old-canary-errors`, or the service."""
    for key in SERVICE_IDENTIFIERS.get(service, IDENTIFIERS):
        value = params.get(key)
        if isinstance(value, list):
            return ",".join(map(str, value))
        if value is not None:
            return str(value)
    for nested in params.values():  # CreateBudget's Budget, UpdateBudget's NewBudget
        if isinstance(nested, dict):
            found = next((str(nested[key]) for key in IDENTIFIERS if key in nested), None)
            if found is not None:
                return found
    for key in ("Resource", "ResourceName", "ResourceARN", "ResourceArn"):
        if key in params:
            return re.split(r"[:/]", str(params[key]))[-1]
    return service


# --- answers --------------------------------------------------------------------------------


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterable[bytes]:
        if self.data:
            yield self.data


def answer(sent: Sent, status: int, body: bytes, headers: Mapping[str, str]) -> AWSResponse:
    return AWSResponse(
        sent.request.url, status, {"x-amzn-requestid": "fault", **headers}, _Body(body)
    )


def error_answer(sent: Sent, status: int, code: str, message: str) -> AWSResponse:
    """The error as the service's protocol spells it, so botocore parses the right code."""
    service_model = sent.model.service_model
    protocol = getattr(service_model, "resolved_protocol", None) or service_model.protocol
    query_compatible = service_model.metadata.get("awsQueryCompatible") is not None
    headers: dict[str, str] = {}
    if query_compatible:
        headers["x-amzn-query-error"] = f"{code};{'Receiver' if status >= 500 else 'Sender'}"
    if protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            "</Error><RequestId>fault</RequestId></ErrorResponse>"
        ).encode()
        headers["content-type"] = "text/xml"
    elif protocol == "rest-json":
        body = json.dumps({"Type": "User", "message": message}).encode()
        headers.update({"x-amzn-errortype": code, "content-type": "application/json"})
    elif protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        headers["content-type"] = "application/x-amz-json-1.1"
    elif protocol == "smithy-rpc-v2-cbor":
        body = _cbor({"__type": code, "message": message})
        headers.update({"smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor"})
    else:
        raise AssertionError(f"no error format for protocol {protocol}")
    return answer(sent, status, body, headers)


def _cbor(fields: Mapping[str, str]) -> bytes:
    """A CBOR map of short text strings: all an RPC v2 error body needs."""

    def head(major: int, size: int) -> bytes:
        if size < 24:
            return bytes([major << 5 | size])
        if size < 256:
            return bytes([major << 5 | 24, size])
        return bytes([major << 5 | 25]) + size.to_bytes(2, "big")

    out = bytearray(head(5, len(fields)))
    for key, value in fields.items():
        for text in (key.encode(), value.encode()):
            out += head(3, len(text)) + text
    return bytes(out)


def _bytes(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    return str(body or "").encode()


def _text(body: Any) -> str:
    return _bytes(body).decode("utf-8", "replace")


# --- the faults -----------------------------------------------------------------------------


@dataclass
class Throttle:
    """A share of attempts throttled, with each service's own status and error code."""

    rate: float
    services: frozenset[str] = frozenset(THROTTLING)
    every_attempt_of: frozenset[str] = frozenset()  # operations throttled however often retried
    hits: Counter[str] = field(default_factory=Counter)  # service → throttled attempts

    def __call__(self, sent: Sent, forward: Forward) -> AWSResponse:
        service, operation = sent.call.service, sent.call.operation
        if service in self.services and (
            operation in self.every_attempt_of or sent.draw("throttle") < self.rate
        ):
            status, code = THROTTLING[service]
            self.hits[service] += 1
            return error_answer(sent, status, code, "Rate exceeded")
        return forward(sent.request)


@dataclass
class ServerErrors:
    """A share of attempts answered 500 InternalFailure or 503 ServiceUnavailable."""

    rate: float
    hits: Counter[str] = field(default_factory=Counter)  # error code → attempts answered

    def __call__(self, sent: Sent, forward: Forward) -> AWSResponse:
        draw = sent.draw("5xx")
        if draw < self.rate:
            status, code = SERVER_ERRORS[int(draw / self.rate * len(SERVER_ERRORS))]
            self.hits[code] += 1
            return error_answer(sent, status, code, "We encountered an internal error")
        return forward(sent.request)


@dataclass
class Timeouts:
    """A share of attempts time out: `connect` before the request is sent, `read` after it
    landed (the write happened; only the answer is lost)."""

    rate: float
    kind: Literal["connect", "read"]
    first_send_of_writes: bool = False  # instead of `rate`: every write's first send
    services: frozenset[str] | None = None  # None: every service
    hits: int = 0

    def __call__(self, sent: Sent, forward: Forward) -> AWSResponse:
        if self.services is not None and sent.call.service not in self.services:
            hit = False
        elif self.first_send_of_writes:
            hit = sent.call.write and sent.repeat == 0
        else:
            hit = sent.draw(f"timeout-{self.kind}") < self.rate
        if not hit:
            return forward(sent.request)
        self.hits += 1
        if self.kind == "connect":
            raise ConnectTimeoutError(endpoint_url=sent.request.url)
        forward(sent.request)
        raise ReadTimeoutError(endpoint_url=sent.request.url)


@dataclass
class Refuse:
    """The first `times` attempts of `service`'s `operation` (None: of any of its operations)
    answered with an error."""

    service: str
    operation: str | None
    times: int
    status: int = 500
    code: str = "InternalFailure"
    refused: int = 0

    def __call__(self, sent: Sent, forward: Forward) -> AWSResponse:
        call = sent.call
        if (
            call.service == self.service
            and self.operation in (None, call.operation)
            and self.refused < self.times
        ):
            self.refused += 1
            return error_answer(sent, self.status, self.code, f"injected {self.code}")
        return forward(sent.request)


@dataclass
class BusyFunction:
    """A Lambda function that another deployment is updating, as AWS shows it.

    For its next `reads` unqualified `GetFunction` answers its `LastUpdateStatus` is
    `InProgress`, and meanwhile every update or publish is refused with 409
    `ResourceConflictException`. `after_update`: each update that lands makes it busy again for
    that many reads, as AWS does while it applies an update. `lying`: that many more updates are
    refused even though `GetFunction` already says `Successful` (another deployment won the race
    between the read and the write).
    """

    name: str
    reads: int = 0
    after_update: int = 0
    lying: int = 0
    conflicts: int = 0

    def __call__(self, sent: Sent, forward: Forward) -> AWSResponse:
        call = sent.call
        if call.service != "lambda" or call.resource != self.name:
            return forward(sent.request)
        if call.operation in LAMBDA_WRITES_BLOCKED_WHILE_UPDATING:
            if self.reads > 0 or self.lying > 0:
                if self.reads <= 0:
                    self.lying -= 1
                self.conflicts += 1
                return error_answer(
                    sent,
                    409,
                    "ResourceConflictException",
                    "The operation cannot be performed at this time. An update is in progress "
                    f"for resource: arn:aws:lambda:us-east-1:123456789012:function:{self.name}",
                )
            response = forward(sent.request)
            if response.status_code < 300 and call.operation != "PublishVersion":
                self.reads = self.after_update
            return response
        response = forward(sent.request)
        if call.operation == "GetFunction" and "Qualifier" not in call.params and self.reads > 0:
            self.reads -= 1
            got = json.loads(response.content)
            got["Configuration"]["LastUpdateStatus"] = "InProgress"
            got["Configuration"]["LastUpdateStatusReason"] = "The function is being updated"
            return answer(
                sent, response.status_code, json.dumps(got).encode(), dict(response.headers)
            )
        return response


@dataclass
class DeleteAlarmsAsAws:
    """DeleteAlarms as CloudWatch answers it, where moto differs: naming an alarm that does not
    exist (any more) is 404 `ResourceNotFound`, and nothing is deleted."""

    deleted: set[str] = field(default_factory=set)

    def __call__(self, sent: Sent, forward: Forward) -> AWSResponse:
        call = sent.call
        if (call.service, call.operation) != ("cloudwatch", "DeleteAlarms"):
            return forward(sent.request)
        names = set(call.params["AlarmNames"])
        if names & self.deleted:
            return error_answer(sent, 404, "ResourceNotFound", "The named resource does not exist.")
        response = forward(sent.request)
        if response.status_code < 300:
            self.deleted |= names
        return response


_VOLATILE = re.compile(r'"durationMs":\d+')


@dataclass
class PartialPutEvents:
    """PutEvents keeps some entries and fails the others, reporting them as EventBridge does:
    `FailedEntryCount` and an `ErrorCode` at each failed entry's position.

    An entry fails with probability `rate` on each attempt, or on every one of its first
    `stubborn` attempts when its detail contains `stubborn_marker`.
    """

    rate: float
    codes: tuple[str, ...] = ("InternalFailure", "ThrottlingException")
    stubborn_marker: str | None = None
    stubborn: int = 0
    failed_entries: int = 0
    _tries: Counter[str] = field(default_factory=Counter)

    def __call__(self, sent: Sent, forward: Forward) -> AWSResponse:
        if (sent.call.service, sent.call.operation) != ("events", "PutEvents"):
            return forward(sent.request)
        entries = json.loads(_bytes(sent.request.body))["Entries"]
        failures: dict[int, str] = {}
        for index, entry in enumerate(entries):
            key = _VOLATILE.sub("", json.dumps(entry, sort_keys=True))
            tries = self._tries[key]
            self._tries[key] += 1
            draw = sent.draw("put-events", f"{key}|{tries}")
            stubborn = self.stubborn_marker is not None and self.stubborn_marker in entry.get(
                "Detail", ""
            )
            if (stubborn and tries < self.stubborn) or draw < self.rate:
                failures[index] = self.codes[tries % len(self.codes)]
        self.failed_entries += len(failures)
        kept = [entry for index, entry in enumerate(entries) if index not in failures]
        accepted: list[dict[str, Any]] = []
        if kept:
            body = json.dumps({"Entries": kept}).encode()
            headers = dict(sent.request.headers)
            headers["Content-Length"] = str(len(body))
            response = forward(
                AWSPreparedRequest(
                    sent.request.method,
                    sent.request.url,
                    headers,
                    body,
                    sent.request.stream_output,
                    sent.request.context,
                )
            )
            if response.status_code >= 300:
                return response
            accepted = list(json.loads(response.content)["Entries"])
        results: list[dict[str, Any]] = []
        for index in range(len(entries)):
            if index in failures:
                results.append({"ErrorCode": failures[index], "ErrorMessage": "injected"})
            else:
                results.append(accepted.pop(0))
        body = json.dumps({"FailedEntryCount": len(failures), "Entries": results}).encode()
        return answer(sent, 200, body, {"content-type": "application/x-amz-json-1.1"})
