"""The `SsmParameter` engine: parameters described in batches of 50, their values read in
batches of 10, and a `SecureString` never read, written or deleted."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from reconciler.kinds.base import Current, Engine, Reading
from reconciler.kinds.compare import compare
from reconciler.kinds.reading import batches, concurrently, tagged_for
from reconciler.kinds.ssm_parameter import KIND
from reconciler.kinds.ssm_parameter.model import SsmParameter, SsmParameterSpec
from reconciler.ownership import owner
from reconciler.plan import Observed

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_ssm.type_defs import ParameterMetadataTypeDef

    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.model import Manifest

#: `DescribeParameters` takes at most 50 values in a filter and returns at most 50 a page.
DESCRIBE_BATCH = 50
#: `GetParameters` takes at most 10 names.
VALUE_BATCH = 10
SECURE = "SecureString"
REFUSAL = (
    "is a SecureString: secrets never live in manifests, so the reconciler never reads, "
    "overwrites or deletes it"
)


@dataclass(frozen=True)
class Parameter:
    """A parameter as AWS describes it, and its value (None for a SecureString: never read)."""

    metadata: ParameterMetadataTypeDef
    value: str | None

    @property
    def secure(self) -> bool:
        return self.metadata.get("Type") == SECURE

    @property
    def refusal(self) -> str | None:
        return REFUSAL if self.secure else None

    def fields(self) -> dict[str, Any]:
        """In manifest spelling; a missing description is the empty one."""
        return {
            "value": self.value,
            "type": self.metadata.get("Type"),
            "description": self.metadata.get("Description", ""),
        }


@dataclass(frozen=True)
class SsmParameterEngine(Engine[Parameter]):
    """Reads N declared parameters in ⌈N/50⌉ `DescribeParameters` (a `Name` filter of up to 50
    values: type and description, which `GetParameters` does not return), ⌈N/10⌉ `GetParameters`
    for the values of those that are not a `SecureString` (a `SecureString`'s value is never
    asked for), and one `ListTagsForResource` per parameter, all in parallel and paced. With
    prune, one tag-filtered pass of the tagging API lists the environment's parameters; it also
    gives the tags of the declared ones it lists, and only the parameters it lists that are not
    declared are described and read besides. A `SecureString` is refused (`Observed.refusal`):
    the plan blocks it when declared, and prune never lists it.

    Writes follow `PutParameter`'s rule that `Tags` and `Overwrite` never go together: a create
    sends `Tags` without `Overwrite`, an update `Overwrite` without `Tags`, and the ownership tag
    of an existing parameter goes on with `AddTagsToResource`. An update sends the value, type
    and description in one `PutParameter`, the description AWS has when the manifest does not
    manage it, so that it is kept. A type change is `String` ↔ `StringList` only, sent as `Type`
    with `Overwrite` ("Specifying a parameter type isn't required when updating a parameter",
    so AWS takes one); to or from `SecureString` never happens (`validate` refuses it and an
    existing one is refused here), which is the change AWS's `HierarchyTypeMismatchException`
    names ("you can't change a parameter from a String type to a SecureString type"). Should AWS
    refuse a type change, its error travels to the change's result as it is.
    """

    description = KIND

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        names = list(dict.fromkeys(manifest.name for manifest in manifests))
        describe: list[Callable[[], dict[str, Any]]] = [
            partial(self._describe, aws, batch) for batch in batches(names, DESCRIBE_BATCH)
        ]
        tag_pass = [partial(tagged_for, aws, context.environment, "ssm:parameter")] if owned else []
        reads: list[Callable[[], dict[str, Any]]] = [*describe, *tag_pass]
        answers = concurrently(lambda read: read(), reads, self.workers)
        described: dict[str, ParameterMetadataTypeDef] = {}
        for answer in answers[: len(describe)]:
            described.update(answer)
        listed: dict[str, dict[str, str]] = answers[-1] if owned else {}
        mine = {_key(_name(arn)): tags for arn, tags in listed.items()}
        if owned:
            declared = {_key(name) for name in names}
            undeclared = [_name(arn) for arn in listed if _key(_name(arn)) not in declared]
            described.update(self._described(aws, undeclared))
        tags = {name: mine[_key(name)] for name in described if _key(name) in mine}
        plain = [name for name, metadata in described.items() if metadata.get("Type") != SECURE]
        unlisted = [name for name in described if name not in tags]
        values = self._values(aws, plain)
        tags.update(zip(unlisted, self._tags_of(aws, unlisted), strict=True))
        parameters = {name: Parameter(meta, values.get(name)) for name, meta in described.items()}
        found = {
            name: _observed(name, parameters[name], tags[name])
            for name in names
            if name in parameters
        }
        if not owned:
            return found, {}
        return found, {
            name: _observed(name, parameter, tags[name])
            for name, parameter in parameters.items()
            if not parameter.secure and owner(tags[name]) == context.environment
        }

    def _described(self, aws: Clients, names: Sequence[str]) -> dict[str, ParameterMetadataTypeDef]:
        """`_describe` of any number of names, 50 a call, in parallel."""
        found: dict[str, ParameterMetadataTypeDef] = {}
        read = partial(self._describe, aws)
        for answer in concurrently(read, batches(names, DESCRIBE_BATCH), self.workers):
            found.update(answer)
        return found

    def _describe(self, aws: Clients, names: Sequence[str]) -> dict[str, ParameterMetadataTypeDef]:
        """Type and description of the parameters among `names` (at most 50), by the name asked
        for. AWS returns a page "on a best-effort basis" (from none to `MaxResults`), so every
        page is followed. A one-level name is the same parameter with or without its leading
        `/` (moto keeps AWS's rule), so AWS may answer `a` for `/a`: it counts as `/a`."""
        ssm: SSMClient = self.client(aws)
        pages = ssm.get_paginator("describe_parameters").paginate(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": list(names)}],
            PaginationConfig={"PageSize": DESCRIBE_BATCH},
        )
        asked = {_key(name): name for name in names}
        return {
            asked[_key(meta["Name"])]: meta
            for page in pages
            for meta in page.get("Parameters", [])
            if _key(meta.get("Name", "")) in asked
        }

    def _values(self, aws: Clients, names: Sequence[str]) -> dict[str, str]:
        """The values of `names` (none of them a SecureString), 10 a `GetParameters` call."""
        ssm: SSMClient = self.client(aws)

        def read(batch: Sequence[str]) -> dict[str, str]:
            asked = {_key(name): name for name in batch}
            answer = ssm.get_parameters(Names=list(batch))
            return {
                asked[_key(found["Name"])]: found["Value"]
                for found in answer.get("Parameters", [])
                if _key(found["Name"]) in asked
            }

        values: dict[str, str] = {}
        for answer in concurrently(read, batches(names, VALUE_BATCH), self.workers):
            values.update(answer)
        return values

    def _tags_of(self, aws: Clients, names: Sequence[str]) -> list[dict[str, str]]:
        return concurrently(partial(self._tags, aws), names, self.workers)

    def _tags(self, aws: Clients, name: str) -> dict[str, str]:
        """`ListTagsForResource` of one parameter, by name; {} when it is gone by now."""
        ssm: SSMClient = self.client(aws)
        listed = self.call(
            ssm.list_tags_for_resource, missing_ok=True, ResourceType="Parameter", ResourceId=name
        )
        return {} if listed is None else _tags(listed.get("TagList", []))

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """Value and type always (type `String` unless set); description when set."""
        spec = _spec(manifest)
        fields: dict[str, Any] = {"value": spec.value, "type": spec.type}
        if "description" in spec.declared():
            fields["description"] = spec.description or ""
        return fields

    # --- the primitives of a write --------------------------------------------------------------

    def read_one(self, aws: Clients, name: str, context: Context) -> Current[Parameter] | None:
        """`DescribeParameters` first: a SecureString's value is never asked for."""
        metadata = self._describe(aws, [name]).get(name)
        if metadata is None:
            return None
        value = None
        if metadata.get("Type") != SECURE:
            value = self._values(aws, [name]).get(name)
            if value is None:
                return None  # deleted between the two reads
        parameter = Parameter(metadata, value)
        return Current(name, self._tags(aws, name), parameter, parameter.refusal)

    def create(
        self,
        aws: Clients,
        name: str,
        desired: dict[str, Any],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        """`PutParameter` with `Tags` and without `Overwrite` (AWS refuses the two together);
        a parameter made since the plan answers `ParameterAlreadyExists` and is updated."""
        ssm: SSMClient = self.client(aws)
        params: dict[str, Any] = {
            "Name": name,
            "Value": desired["value"],
            "Type": desired["type"],
            "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
        }
        if desired.get("description"):
            params["Description"] = desired["description"]
        self._put(ssm, params)

    def update(
        self, aws: Clients, current: Current[Parameter], desired: dict[str, Any], context: Context
    ) -> bool:
        """One `PutParameter(Overwrite=True)`, without `Tags`, when value, type or description
        differ from the parameter read just before."""
        have = current.state.fields()
        if not compare(desired, have):
            return False
        ssm: SSMClient = self.client(aws)
        description = desired.get("description", have["description"])
        params: dict[str, Any] = {
            "Name": current.name,
            "Value": desired["value"],
            "Type": desired["type"],
            "Overwrite": True,
        }
        if description or have["description"]:
            params["Description"] = description
        self._put(ssm, params)
        return True

    def _put(self, ssm: SSMClient, params: dict[str, Any]) -> None:
        """`PutParameter`; an error that echoes the value (a `ValidationException` quotes what it
        refused) says `<value>` instead: the plan shows values, errors and logs never do."""
        try:
            self.call(ssm.put_parameter, **params)
        except Exception as exc:
            _redact(exc, params["Value"])
            raise

    def tag(
        self, aws: Clients, current: Current[Parameter], context: Context, tags: Mapping[str, str]
    ) -> None:
        ssm: SSMClient = self.client(aws)
        self.call(
            ssm.add_tags_to_resource,
            ResourceType="Parameter",
            ResourceId=current.name,
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )

    def delete(self, aws: Clients, current: Current[Parameter], context: Context) -> None:
        ssm: SSMClient = self.client(aws)
        self.call(ssm.delete_parameter, Name=current.name)


ENGINE = SsmParameterEngine()


def _spec(manifest: Manifest) -> SsmParameterSpec:
    if not isinstance(manifest, SsmParameter):
        raise TypeError(f"expected an SsmParameter, got {manifest.ref}")
    return manifest.spec


def _observed(name: str, parameter: Parameter, tags: Mapping[str, str]) -> Observed:
    fields = {} if parameter.secure else parameter.fields()
    return Observed(name, fields, dict(tags), parameter.refusal)


def _tags(tag_list: Sequence[Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_list}


#: Values shorter than this are replaced only where an error quotes them ('600'): left bare, a
#: short value would be found inside unrelated words and numbers of the message.
_BARE_VALUE_MIN = 8


def _redact(error: BaseException, value: str) -> None:
    """Replace `value` in `error`'s text and in AWS's answer inside it, in place."""

    def scrub(text: str) -> str:
        text = text.replace(f"'{value}'", "'<value>'").replace(f'"{value}"', '"<value>"')
        return text.replace(value, "<value>") if len(value) >= _BARE_VALUE_MIN else text

    error.args = tuple(scrub(arg) if isinstance(arg, str) else arg for arg in error.args)
    answer = getattr(error, "response", None)
    if isinstance(answer, dict) and isinstance(answer.get("Error"), dict):
        message = answer["Error"].get("Message")
        if isinstance(message, str):
            answer["Error"]["Message"] = scrub(message)


def _key(name: str) -> str:
    """What identifies a parameter: a one-level name with or without its leading `/` is one
    parameter (`/a` and `a`), whose ARN is `…:parameter/a`; deeper names start with `/`."""
    return name.removeprefix("/")


def _name(arn: str) -> str:
    """A parameter's name from its ARN: `…:parameter/a/b` → `/a/b`; `…:parameter/a` → `a`."""
    rest = arn.split(":parameter/", 1)[1]
    return "/" + rest if "/" in rest else rest
