"""Turn pydantic's validation errors into sentences a person would write.

`reconciler validate` must read like a colleague's review, not a jsonschema dump: "20000 is
greater than the maximum of 10240", "unknown field 'memorySize' (did you mean 'memoryMb'?)".
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from reconciler.model import PATTERN_HINTS

_TYPE_NAMES = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "datetime_type": "an RFC 3339 timestamp with a time zone, like 2026-12-20T00:00:00Z",
    "datetime_parsing": "an RFC 3339 timestamp with a time zone, like 2026-12-20T00:00:00Z",
    "datetime_from_date_parsing": (
        "an RFC 3339 timestamp with a time zone, like 2026-12-20T00:00:00Z"
    ),
    "timezone_aware": "an RFC 3339 timestamp with a time zone, like 2026-12-20T00:00:00Z",
}


def show(value: Any) -> str:
    """A value as it would look in YAML, shortened when long."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return f"'{text}'"
    if isinstance(value, float) and value.is_integer():
        return str(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def message(error: Any, model: type[BaseModel] | None = None, loc: Sequence[Any] = ()) -> str:
    """One sentence for one pydantic error (`error` is an item of `ValidationError.errors()`)."""
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return _unknown_field(loc, model)
    if kind in ("less_than_equal", "less_than"):
        bound = _number(ctx.get("le", ctx.get("lt")))
        word = "the maximum of" if kind == "less_than_equal" else "less than"
        verb = "is greater than" if kind == "less_than_equal" else "must be"
        return f"{show(value)} {verb} {word} {bound}"
    if kind in ("greater_than_equal", "greater_than"):
        if kind == "greater_than":
            return f"{show(value)} must be greater than {_number(ctx['gt'])}"
        return f"{show(value)} is less than the minimum of {_number(ctx['ge'])}"
    if kind == "multiple_of":
        return f"{show(value)} is not a multiple of {_number(ctx['multiple_of'])}"
    if kind == "string_pattern_mismatch":
        hint = PATTERN_HINTS.get(ctx["pattern"], f"text matching {ctx['pattern']}")
        return f"{show(value)} is not {hint}"
    if kind == "string_too_short":
        return (
            "must not be empty"
            if ctx["min_length"] == 1
            else (f"{show(value)} is shorter than {ctx['min_length']} characters")
        )
    if kind == "string_too_long":
        return f"is longer than {ctx['max_length']} characters"
    if kind == "too_long":
        return f"has {ctx.get('actual_length')} items; at most {ctx['max_length']} are allowed"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} item{'s' if ctx['min_length'] != 1 else ''}"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"{show(value)} is not one of: {expected.replace(' or ', ', ')}"
    if kind in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[kind]}, got {show(value)}" + (
            " (quote it to make it a string)"
            if kind == "string_type" and isinstance(value, (bool, int, float))
            else ""
        )
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error.get("msg", "")))
    return str(error.get("msg", "is invalid")).replace("Input should", "should")


def _unknown_field(loc: Sequence[Any], model: type[BaseModel] | None) -> str:
    name = str(loc[-1]) if loc else "?"
    known = _fields_at(model, loc[:-1]) if model is not None else []
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    suffix = f" (did you mean '{close[0]}'?)" if close else ""
    if known and not close:
        suffix = f" (expected one of: {', '.join(known)})"
    return f"unknown field '{name}'{suffix}"


def _fields_at(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The manifest field names allowed at `loc` inside `model`, following nested models."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    """The first pydantic model inside a type like `list[Notification] | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
