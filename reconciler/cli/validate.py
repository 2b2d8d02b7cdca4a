"""`reconciler validate [PATH…]` and `reconciler schema [KIND]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from reconciler.explain import printable
from reconciler.kinds import KINDS
from reconciler.loader import validate
from reconciler.schemas import kind_schema, manifest_schema, render


def register(commands: Any) -> None:
    check = commands.add_parser(
        "validate",
        help="check manifests without touching AWS",
        description="Parse and check every environment under the given paths.",
    )
    check.add_argument(
        "paths", nargs="*", default=["manifests"], metavar="PATH",
        help="manifest roots, environment folders or files (default: manifests)",
    )  # fmt: skip
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.set_defaults(run=run_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of the manifests")
    schema.add_argument("kind", nargs="?", choices=list(KINDS), metavar="KIND")
    schema.set_defaults(run=run_schema)


def run_validate(args: argparse.Namespace) -> int:
    missing = [path for path in args.paths if not os.path.exists(path)]
    if missing:  # a usage mistake, not an invalid manifest: exit 2 like argparse
        for path in missing:
            print(f"reconciler validate: no such file or folder: {path}", file=sys.stderr)
        return 2
    environments, errors = validate(args.paths)
    if args.format == "json":
        print(json.dumps([error.as_json() for error in sorted(errors)], indent=2))
    else:
        for error in sorted(errors):
            # Names and keys come from the manifest: never let them drive the terminal.
            print(printable(str(error)), file=sys.stderr)
    if errors:
        if args.format == "text":
            count = len(errors)
            print(f"{count} error{'s' if count != 1 else ''}", file=sys.stderr)
        return 1
    if args.format == "text":
        for environment in environments:
            resources = len(environment.resources)
            print(
                f"{environment.folder}: valid ({resources} resource"
                f"{'s' if resources != 1 else ''}, account {environment.environment.spec.account}, "
                f"{environment.environment.spec.region})"
            )
    return 0


def run_schema(args: argparse.Namespace) -> int:
    schema = kind_schema(args.kind) if args.kind else manifest_schema()
    sys.stdout.write(render(schema))
    return 0
