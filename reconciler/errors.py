"""Errors a user sees, and the two kinds of failure a run can end in.

A `ManifestError` is one line of `reconciler validate`: it names the file, the line and column of
the offending key or value, the field path, what is wrong and which document it is in. Everything
that refuses input builds these, never raises tracebacks at the user.

`TemporaryError` and `PermanentError` tell the caller what to do next: a temporary one (AWS
throttling, a conflict while a function updates) is worth retrying with backoff; a permanent one
is not. The Step Functions definition maps them to `Retry` and `Catch`. Which AWS errors are which
is decided in `reconciler.aws_errors`, the only module here that needs botocore.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class ManifestError:
    """One problem in one manifest, at a line and column (both 1-based)."""

    file: str
    line: int
    column: int
    path: str
    message: str
    kind: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: "
        field = f"{self.path}: " if self.path else ""
        subject = ""
        if self.kind and self.name:
            subject = f" ({self.kind}/{self.name})"
        elif self.kind:
            subject = f" ({self.kind})"
        return f"{where}{field}{self.message}{subject}"

    def as_json(self) -> dict[str, Any]:
        """The `--format json` shape: `{file, line, column, path, message, kind, name}`."""
        return asdict(self)


class ReconcilerError(Exception):
    """Base of every error the reconciler raises on purpose; its text is meant for a person."""


class ManifestsInvalid(ReconcilerError):
    """The manifests did not validate; `errors` holds every problem found, in file order."""

    def __init__(self, errors: list[ManifestError]) -> None:
        self.errors = sorted(errors)
        first = str(self.errors[0]) if self.errors else "no manifests"
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"manifests are invalid: {first}{more}")


class TemporaryError(ReconcilerError):
    """A failure that may pass by itself: retry after a backoff."""


class PermanentError(ReconcilerError):
    """A failure that retrying will not fix: report it and stop."""
