"""What every manifest shares: the document envelope, metadata and the constrained value types.

The models are the source of truth: `reconciler schema` and the committed files in `schemas/` are
generated from them (`make schemas`), and a test fails when the two drift apart. Every constraint
a JSON Schema can express lives here as a field constraint, so that editors see it too; the rules
a schema cannot express (one field compared with another) live in each kind's `check`.

Models are frozen and strict (a quoted `"512"` is not a number), and refuse unknown keys. Python
attribute names are snake_case; the manifest spelling is the camelCase alias.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

ACCOUNT_ID = r"^[0-9]{12}$"
REGION = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$"
ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
ANY_ARN = r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12})?:.+$"
ECR_IMAGE = (
    r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?"
    r"/[a-z0-9]+(?:[._/-][a-z0-9]+)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$"
)
IMAGE_DIGEST = r"@sha256:[a-f0-9]{64}$"
LABEL_KEY = r"^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62}[A-Za-z0-9])?$"

#: Plain-English names for the patterns above, used in error messages instead of the regex.
PATTERN_HINTS: dict[str, str] = {
    ACCOUNT_ID: "an AWS account id (12 digits, quoted)",
    REGION: "an AWS region such as us-east-1",
    ROLE_ARN: "an IAM role ARN (arn:aws:iam::123456789012:role/NAME)",
    ANY_ARN: "an ARN (arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE)",
    ECR_IMAGE: (
        "an ECR image URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG "
        "or …@sha256:<64 hex digits>)"
    ),
    LABEL_KEY: "a label key (letters, digits, '.', '_', '/', '-'; up to 64 characters)",
}

AccountId = Annotated[str, StringConstraints(pattern=ACCOUNT_ID)]
Region = Annotated[str, StringConstraints(pattern=REGION)]
RoleArn = Annotated[str, StringConstraints(pattern=ROLE_ARN)]
Arn = Annotated[str, StringConstraints(pattern=ANY_ARN, max_length=1024)]
ImageUri = Annotated[str, StringConstraints(pattern=ECR_IMAGE, max_length=512)]
LabelKey = Annotated[str, StringConstraints(pattern=LABEL_KEY)]
LabelValue = Annotated[str, StringConstraints(max_length=256)]


def tidy_schema(schema: dict[str, Any], model: type[Any]) -> None:
    """Make the generated schema say what the model does.

    Optional fields are typed `X | None` so a default can be "not set"; unless the model lists a
    field in `NULLABLE`, a manifest may not write `null` for it, so the schema drops the null.
    Maps with constrained keys refuse other keys, so `patternProperties` becomes `propertyNames`.
    """
    nullable: frozenset[str] = getattr(model, "NULLABLE", frozenset())
    for name, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        _keys_as_property_names(prop)
        for branch in prop.get("anyOf", []):
            _keys_as_property_names(branch)
        if prop.get("default", 0) is None:
            del prop["default"]
        branches = prop.get("anyOf")
        if name in nullable or not branches or {"type": "null"} not in branches:
            continue
        rest = [branch for branch in branches if branch != {"type": "null"}]
        del prop["anyOf"]
        if len(rest) == 1:
            prop.update(rest[0])
        else:
            prop["anyOf"] = rest


def _keys_as_property_names(prop: dict[str, Any]) -> None:
    patterns = prop.pop("patternProperties", None)
    if patterns:
        ((pattern, values),) = patterns.items()
        prop["propertyNames"] = {"pattern": pattern}
        prop["additionalProperties"] = values


class Strict(BaseModel):
    """Base of every manifest model: frozen, strict, unknown keys refused, camelCase aliases."""

    model_config = ConfigDict(
        frozen=True,
        strict=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=False,
        allow_inf_nan=False,
        json_schema_extra=tidy_schema,
    )

    #: Fields (manifest spelling) for which an explicit `null` means something.
    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name is not None:
            alias = cls.model_fields[info.field_name].alias or info.field_name
            if alias not in cls.NULLABLE:
                raise ValueError("must not be null (leave the field out to leave it unmanaged)")
        return value

    def declared(self) -> set[str]:
        """The manifest spellings of the fields this document set (the managed fields)."""
        fields = type(self).model_fields
        return {fields[name].alias or name for name in self.model_fields_set}

    def to_manifest(self) -> dict[str, Any]:
        """The declared fields only, in manifest spelling, as plain JSON-able values."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class Metadata(Strict):
    """`metadata`: the AWS name of the resource and optional labels."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(
        description="The AWS name of the resource; unique per kind within an environment."
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Free-form string labels; never sent to AWS."
    )


class Manifest(Strict):
    """The envelope every document shares. Subclasses narrow `kind`, `metadata` and `spec`."""

    api_version: Literal["reconciler/v1"] = Field(alias="apiVersion")
    kind: str
    metadata: Metadata
    spec: Strict

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def ref(self) -> str:
        """`Kind/name`, how people and error messages refer to a document."""
        return f"{self.kind}/{self.metadata.name}"
