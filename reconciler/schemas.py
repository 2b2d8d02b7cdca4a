"""JSON Schemas generated from the models: one per kind and one combined for editors.

The committed files under `schemas/` are this module's output (`make schemas`); a test fails when
they differ, so the models stay the single source of truth.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from pydantic.json_schema import models_json_schema

from reconciler.kinds import KINDS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
COMBINED = "manifest.schema.json"


def kind_schema(kind: str) -> dict[str, Any]:
    """The schema of one kind's documents (raises KeyError for an unknown kind)."""
    model = KINDS[kind].model
    body = model.model_json_schema(by_alias=True)
    return {"$schema": DIALECT, "$id": f"{kind}.schema.json", **body}


def manifest_schema() -> dict[str, Any]:
    """One schema for any manifest document: the kind selects which definition applies."""
    refs, top = models_json_schema(
        [(kind.model, "validation") for kind in KINDS.values()], by_alias=True
    )
    return {
        "$schema": DIALECT,
        "$id": COMBINED,
        "title": "reconciler manifest",
        "description": "Any reconciler/v1 document; `kind` selects the definition.",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {"kind": {"enum": list(KINDS)}},
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
                "then": refs[(kind.model, "validation")],
            }
            for name, kind in KINDS.items()
        ],
        "$defs": top["$defs"],
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    """File name → content of everything `make schemas` writes."""
    files = {f"{kind}.schema.json": render(kind_schema(kind)) for kind in KINDS}
    files[COMBINED] = render(manifest_schema())
    return files


def write(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    for name, content in expected_files().items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
            handle.write(content)


if __name__ == "__main__":
    write(sys.argv[1] if len(sys.argv) > 1 else "schemas")
