"""The examples, one per seed stack, and where an installed package keeps them.

The examples live in the repository's `examples/` folder. `reconciler/demo/examples` is a
symbolic link to it, listed as package data in `pyproject.toml`: a wheel or sdist built from the
repository holds the files themselves under `reconciler/demo/examples/`, and an editable install
or a checkout reads them through the link. Either way they are found as the package's resources,
so `reconciler demo --stack NAME` works wherever `reconciler` is installed.
"""

from __future__ import annotations

import os
from importlib.resources import files
from importlib.resources.abc import Traversable

#: The examples `reconciler demo --stack` knows, one per seed stack (issue 12).
STACKS = (
    "flask-aurora",
    "python-gateway-dynamodb",
    "container-api-stages",
    "rust-gateway",
    "ecs-fargate",
)


def examples() -> Traversable:
    """The folder holding one folder per example (`<stack>/manifests/{dev,staging,prod}`)."""
    return files("reconciler.demo") / "examples"


def copy_manifests(stack: str, target: str) -> str:
    """Copy the example's `manifests` folder into `target`; returns the copy's path."""
    if stack not in STACKS:
        raise ValueError(f"no example named {stack!r} (examples: {', '.join(STACKS)})")
    source = examples() / stack / "manifests"
    if not source.is_dir():
        raise FileNotFoundError(f"the {stack} example is not installed with this package")
    copy = os.path.join(target, "manifests")
    _copy(source, copy)
    return copy


def _copy(source: Traversable, target: str) -> None:
    os.makedirs(target, exist_ok=True)
    for entry in source.iterdir():
        path = os.path.join(target, entry.name)
        if entry.is_dir():
            _copy(entry, path)
        else:
            with open(path, "wb") as handle:
                handle.write(entry.read_bytes())
