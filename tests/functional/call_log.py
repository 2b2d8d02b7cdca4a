"""Counting the engine's AWS calls: the tests' way to prove batching and idempotence."""

from __future__ import annotations

from reconciler.aws import Clients
from reconciler.kinds import services


class CallLog:
    """Every AWS operation the engine's clients make, in order: `("lambda", "GetFunction")`.

    Every service a kind's description names is logged, so a new kind's calls are too."""

    READ_PREFIXES = ("Get", "Describe", "List")

    def __init__(self, aws: Clients) -> None:
        self.calls: list[tuple[str, str]] = []
        for service in services():
            aws.service(service.name).meta.events.register("before-call.*.*", self._record)

    def _record(self, model: object, **_: object) -> None:
        operation = model.name  # type: ignore[attr-defined]
        service = model.service_model.service_name  # type: ignore[attr-defined]
        self.calls.append((service, operation))

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [call for call in self.calls if not call[1].startswith(self.READ_PREFIXES)]

    def clear(self) -> None:
        self.calls.clear()
