"""What a function's $LATEST, versions and alias look like in manifest terms. Pure: the engine
reads AWS and hands the answers here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Fields a published version freezes: an alias is current when its version matches $LATEST on
#: the declared ones.
VERSIONED_FIELDS = ("image", "memoryMb", "timeoutSeconds", "environment", "tracing")
#: The tracing mode of a function whose configuration has no `TracingConfig` (AWS's default).
DEFAULT_TRACING = "PassThrough"


def latest_fields(
    configuration: Mapping[str, Any], image: str | None, reserved: int | None
) -> dict[str, Any]:
    """$LATEST (or a version) in manifest spelling; an absent `Environment` is `{}`, an absent
    `TracingConfig` AWS's default mode."""
    return {
        "image": image,
        "memoryMb": configuration.get("MemorySize"),
        "timeoutSeconds": configuration.get("Timeout"),
        "environment": dict(configuration.get("Environment", {}).get("Variables") or {}),
        "tracing": (configuration.get("TracingConfig") or {}).get("Mode") or DEFAULT_TRACING,
        "reservedConcurrency": reserved,
    }


@dataclass(frozen=True)
class Latest:
    """One `GetFunction` answer for $LATEST, as the engine needs it."""

    fields: dict[str, Any]
    tags: dict[str, str]
    code_sha: str | None
    revision_id: str | None

    @classmethod
    def of(cls, got: Mapping[str, Any]) -> Latest:
        configuration = got["Configuration"]
        reserved = got.get("Concurrency", {}).get("ReservedConcurrentExecutions")
        return cls(
            fields=latest_fields(configuration, got.get("Code", {}).get("ImageUri"), reserved),
            tags=dict(got.get("Tags") or {}),
            code_sha=configuration.get("CodeSha256"),
            revision_id=configuration.get("RevisionId"),
        )


@dataclass(frozen=True)
class Alias:
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
