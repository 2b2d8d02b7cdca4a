"""Load an environment's manifests from disk into validated models, or say everything wrong.

`load_environment` is what `plan`, `apply` and the Lambda handlers call: it returns a validated
`EnvironmentManifests` or raises `ManifestsInvalid` carrying every error found. `validate` is what
`reconciler validate` calls over any mix of roots, environment folders and files.

Per document: the YAML is read safely (`yaml_source`), the kind's model validates it, and the
kind's `check` applies the rules across fields. Per folder: exactly one Environment named after
the folder, names unique per kind, and digest pinning when the Environment requires it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pydantic import ValidationError

from reconciler.errors import ManifestError, ManifestsInvalid
from reconciler.explain import message, show
from reconciler.kinds import KINDS
from reconciler.kinds.environment import Environment
from reconciler.model import IMAGE_DIGEST, Manifest
from reconciler.yaml_source import SourceDocument, format_path, read_file

M = TypeVar("M", bound=Manifest)

MANIFEST_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Located:
    """A validated manifest and the source it came from (for errors that span documents)."""

    manifest: Manifest
    source: SourceDocument

    def error(
        self, path: tuple[str | int, ...], text: str, *, at_value: bool = False
    ) -> ManifestError:
        line, column = self.source.mark(path, prefer_value=at_value)
        return ManifestError(
            self.source.file,
            line,
            column,
            format_path(path),
            text,
            self.manifest.kind,
            self.manifest.name,
        )


@dataclass(frozen=True)
class EnvironmentManifests:
    """Every validated document of one environment folder."""

    name: str
    folder: str
    environment: Environment
    resources: tuple[Manifest, ...]

    def of_kind(self, model: type[M]) -> list[M]:
        """The declared resources of one kind, in file order."""
        return [r for r in self.resources if isinstance(r, model)]


def validate_document(source: SourceDocument) -> tuple[Located | None, list[ManifestError]]:
    """Validate one YAML document against its kind's model and rules."""
    value = source.value
    if not isinstance(value, dict):
        return None, [
            *source.errors,
            ManifestError(
                source.file,
                source.line,
                source.column,
                "",
                f"a manifest must be a mapping with apiVersion, kind, metadata and spec, "
                f"got {show(value)}",
            ),
        ]
    name = _name_of(value)
    kind_name = value.get("kind")
    kind = KINDS.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        line, column = source.mark(("kind",), prefer_value=True)
        text = (
            "is required"
            if kind_name is None
            else f"unknown kind {show(kind_name)} (expected one of: {', '.join(KINDS)})"
        )
        return None, [
            *source.errors,
            ManifestError(source.file, line, column, "kind", text, None, name),
        ]
    reading = [replace(error, kind=kind.name, name=name) for error in source.errors]
    try:
        # Manifests use the camelCase spelling only: `memory_mb` is an unknown field, even though
        # the models also accept Python names when built in code (`populate_by_name`).
        manifest = kind.model.model_validate(value, by_alias=True, by_name=False)
    except ValidationError as exc:
        return None, reading + [
            _from_pydantic(source, error, kind.model, kind.name, name) for error in exc.errors()
        ]
    located = Located(manifest, source)
    return located, reading + [located.error(path, text) for path, text in kind.check(manifest)]


def _from_pydantic(
    source: SourceDocument, error: Any, model: type[Manifest], kind: str, name: str | None
) -> ManifestError:
    loc = _data_path(source.value, error["loc"])
    text = message(error, model, loc)
    if error["type"] == "missing":
        line, column = source.mark(loc[:-1])
    else:
        line, column = source.mark(loc)
    return ManifestError(source.file, line, column, format_path(loc), text, kind, name)


def _data_path(value: Any, loc: Iterable[Any]) -> tuple[str | int, ...]:
    """Pydantic's error location without its union and key markers, as a path into the data."""
    path: list[str | int] = []
    current = value
    for part in loc:
        if part == "[key]":
            continue
        in_map = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_map or in_list:
            current = current[part]
            path.append(part)
        elif isinstance(current, dict) and isinstance(part, str) and not _is_union_tag(part):
            path.append(part)  # a missing or unknown key
            current = None
    return tuple(path)


_UNION_TAG = re.compile(r"^(fixed|recurring|none|int|str|float|bool|list\[.*|dict\[.*|.*\[.*\])$")


def _is_union_tag(part: str) -> bool:
    return bool(_UNION_TAG.match(part))


def _name_of(value: dict[str, Any]) -> str | None:
    metadata = value.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def load_folder(folder: str) -> tuple[EnvironmentManifests | None, list[ManifestError]]:
    """Read and validate one environment folder: every document, then the rules across them."""
    errors: list[ManifestError] = []
    located: list[Located] = []
    declared_environments = 0
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return None, [ManifestError(folder, 1, 1, "", f"cannot read the folder: {exc.strerror}")]
    for entry in names:
        path = os.path.join(folder, entry)
        if entry.startswith(".") or not entry.endswith(MANIFEST_SUFFIXES):
            continue
        if not os.path.isfile(path):
            continue
        documents, problems = read_file(path)
        errors.extend(problems)
        for document in documents:
            if isinstance(document.value, dict) and document.value.get("kind") == "Environment":
                declared_environments += 1
            item, document_errors = validate_document(document)
            errors.extend(document_errors)
            if item is not None:
                located.append(item)
    env_name = os.path.basename(os.path.normpath(folder))
    environments = [item for item in located if isinstance(item.manifest, Environment)]
    errors.extend(_folder_rules(folder, env_name, located, environments, declared_environments))
    if errors or len(environments) != 1:
        return None, sorted(errors)
    environment = environments[0].manifest
    assert isinstance(environment, Environment)
    resources = tuple(item.manifest for item in located if item.manifest is not environment)
    return EnvironmentManifests(env_name, folder, environment, resources), []


def _folder_rules(
    folder: str,
    env_name: str,
    located: list[Located],
    environments: list[Located],
    declared_environments: int,
) -> Iterator[ManifestError]:
    if not declared_environments:
        yield ManifestError(
            os.path.join(folder, "environment.yaml"),
            1,
            1,
            "",
            f"no Environment document in {folder} (exactly one is required)",
        )
    for extra in environments[1:]:
        first = environments[0].source
        yield extra.error(
            ("kind",),
            f"a second Environment in one folder (the first is at {first.file}:{first.line})",
        )
    for item in environments[:1]:
        if item.manifest.name != env_name:
            yield item.error(
                ("metadata", "name"),
                f"'{item.manifest.name}' must equal the folder's name '{env_name}'",
            )
    seen: dict[tuple[str, str], Located] = {}
    for item in located:
        key = (item.manifest.kind, item.manifest.name)
        if key in seen and item.manifest.kind != "Environment":
            first = seen[key].source
            yield item.error(
                ("metadata", "name"),
                f"duplicate {key[0]} name '{key[1]}' (first defined at {first.file}:"
                f"{first.mark(('metadata', 'name'))[0]})",
            )
        seen.setdefault(key, item)
    pinned = any(
        isinstance(e.manifest, Environment) and e.manifest.spec.require_image_digest
        for e in environments[:1]
    )
    if pinned:
        for item in located:
            # Every kind that runs an image declares it as `spec.image` (a LambdaFunction's, an
            # EcsService's container's): pinning holds for all of them.
            image = getattr(item.manifest.spec, "image", None)
            if isinstance(image, str) and not re.search(IMAGE_DIGEST, image):
                yield item.error(
                    ("spec", "image"),
                    f"'{image}' is not pinned by digest (@sha256:…) and the Environment "
                    "sets requireImageDigest",
                )


def unpinned_images(manifests: EnvironmentManifests) -> tuple[str, ...]:
    """A warning for each image given by tag while the Environment does not require digests.

    AWS resolves a tag to a digest once, when the function or task definition is updated: a tag
    pushed again to a new image is never deployed, and the plan shows no drift (the Lambda
    developer guide, "Container images"; ECS resolves tags when a task definition revision is
    deployed). The plan says so instead of staying silent.
    """
    if manifests.environment.spec.require_image_digest:
        return ()
    found = []
    for manifest in manifests.resources:
        image = getattr(manifest.spec, "image", None)
        if isinstance(image, str) and not re.search(IMAGE_DIGEST, image):
            found.append(
                f"{manifest.kind}/{manifest.name}: image '{image}' is a tag; AWS resolves a tag "
                "once, so a new image pushed under the same tag is never deployed: pin it by "
                "digest (@sha256:…), or set requireImageDigest to make pinning the rule"
            )
    return tuple(found)


def load_environment(folder: str) -> EnvironmentManifests:
    """The validated manifests of one environment folder; raises `ManifestsInvalid` otherwise."""
    loaded, errors = load_folder(folder)
    if loaded is None:
        raise ManifestsInvalid(errors)
    return loaded


def environment_folders(path: str) -> list[str]:
    """The environment folders a path names: itself, its parent (a file) or its children."""
    if os.path.isfile(path):
        return [os.path.dirname(path) or "."]
    if _has_manifests(path):
        return [path]
    return [
        os.path.join(path, entry)
        for entry in sorted(os.listdir(path))
        if not entry.startswith(".")
        and os.path.isdir(os.path.join(path, entry))
        and _has_manifests(os.path.join(path, entry))
    ]


def _has_manifests(folder: str) -> bool:
    try:
        return any(entry.endswith(MANIFEST_SUFFIXES) for entry in os.listdir(folder))
    except OSError:
        return False


def validate(paths: Iterable[str]) -> tuple[list[EnvironmentManifests], list[ManifestError]]:
    """Validate every environment the paths name; the errors of all of them, at once."""
    loaded: list[EnvironmentManifests] = []
    errors: list[ManifestError] = []
    folders: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            errors.append(ManifestError(path, 1, 1, "", "no such file or folder"))
            continue
        found = environment_folders(path)
        if not found:
            errors.append(ManifestError(path, 1, 1, "", "no manifests (*.yaml, *.yml) here"))
        folders.extend(folder for folder in found if folder not in folders)
    for folder in folders:
        environment, problems = load_folder(folder)
        errors.extend(problems)
        if environment is not None:
            loaded.append(environment)
    return loaded, errors
