"""The `SsmParameter` manifest: a Systems Manager Parameter Store parameter of type `String` or
`StringList`.

Secrets never live in manifests: `SecureString` is refused here, and an existing `SecureString`
parameter is left alone by the engine (never read, never overwritten).

The naming rules are `PutParameter`'s (botocore `ssm/2014-11-06`, documentation of `Name`):
letters, digits and `_.-`, with `/` between the levels of a hierarchy, which then starts with
`/`; at most fifteen levels; no name prefixed with `aws` or `ssm` (case-insensitive); and at most
1011 characters counted together with the ARN that precedes the name
(`arn:aws:ssm:us-east-2:111122223333:parameter/`, 45 characters in that Region).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from reconciler.model import PATTERN_HINTS, Manifest, Metadata, Strict

#: A plain name, or a hierarchy of at most fifteen levels that starts with `/`.
PARAMETER_NAME = r"^(?:[A-Za-z0-9_.-]+|(?:/[A-Za-z0-9_.-]+){1,15})$"
PATTERN_HINTS[PARAMETER_NAME] = (
    "a parameter name (letters, digits, '_', '.', '-'; a hierarchy starts with '/' and has at "
    "most 15 levels, such as /team/dev/RATE_LIMIT)"
)
#: The model's maximum for `Name`; AWS reserves all but 1011 of it (see `check`).
NAME_MAX = 2048
#: What AWS allows for the name and the ARN before it, together.
NAME_WITH_ARN_MAX = 1011
#: The longest ARN before a name: `arn:aws:ssm:` + a Region such as `ap-southeast-2` + `:` +
#: a 12-digit account + `:parameter/` (the name's own leading `/` is not repeated).
ARN_PREFIX_MAX = len("arn:aws:ssm:ap-southeast-2:111122223333:parameter/")
#: A standard parameter's value holds at most 4 KB (`PutParameter`, documentation of `Value`).
VALUE_BYTES_MAX = 4096
_RESERVED = re.compile(r"^/?(aws|ssm)", re.IGNORECASE)
#: "You can't include values wrapped in double brackets {{}} or {{ssm:parameter-name}} in a
#: parameter value" (`PutParameter`, documentation of `Value`).
_NESTED = re.compile(r"\{\{.*\}\}", re.DOTALL)
SECRETS_REFUSED = (
    "SecureString is refused: secrets never live in manifests (keep them in Secrets Manager or "
    "a SecureString parameter managed outside the reconciler)"
)


class SsmParameterSpec(Strict):
    """`spec` of an SsmParameter. `value` is required; `type` is `String` unless set;
    `description` is managed only when set."""

    value: Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(
        description="The parameter's value, 1 to 4096 characters (a standard parameter: 4 KB)."
    )
    type: Literal["String", "StringList"] = Field(
        default="String",
        description="String (the default) or StringList (comma-separated items). SecureString "
        "is refused: secrets never live in manifests.",
    )
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _no_secrets(cls, value: Any) -> Any:
        if value == "SecureString":
            raise ValueError(SECRETS_REFUSED)
        return value


class SsmParameterMetadata(Metadata):
    name: Annotated[
        str, StringConstraints(min_length=1, max_length=NAME_MAX, pattern=PARAMETER_NAME)
    ] = Field(description="The parameter name, such as /phoney/dev/RATE_LIMIT_PER_MINUTE.")

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        reserved = _RESERVED.match(value)
        if reserved:
            raise ValueError(
                f"'{value}' is prefixed with '{reserved.group(1)}': AWS reserves parameter names "
                "that begin with 'aws' or 'ssm' (in any case)"
            )
        return value


class SsmParameter(Manifest):
    """A Systems Manager parameter (String or StringList), created when missing and deleted by
    prune when it carries this environment's tag."""

    kind: Literal["SsmParameter"]
    metadata: SsmParameterMetadata
    spec: SsmParameterSpec


def check(manifest: SsmParameter) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Rules a schema cannot express: the name fits 1011 characters with its ARN; the value fits
    a standard parameter's 4 KB and nests no other parameter."""
    name = manifest.metadata.name
    longest = NAME_WITH_ARN_MAX - ARN_PREFIX_MAX
    if len(name.lstrip("/")) > longest:
        yield (
            ("metadata", "name"),
            f"{len(name)} characters: AWS allows {NAME_WITH_ARN_MAX} for the name together with "
            f"its ARN (up to {ARN_PREFIX_MAX} characters before the name), so at most {longest}",
        )
    value = manifest.spec.value
    size = len(value.encode("utf-8"))
    if size > VALUE_BYTES_MAX:
        yield (
            ("spec", "value"),
            f"{size} bytes in UTF-8: a standard parameter's value holds at most "
            f"{VALUE_BYTES_MAX} bytes (4 KB)",
        )
    if _NESTED.search(value):
        yield (
            ("spec", "value"),
            "AWS refuses a value with '{{…}}' in it: a parameter cannot reference another",
        )
