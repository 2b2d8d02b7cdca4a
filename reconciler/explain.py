"""Turn pydantic's validation errors into sentences a person would write.

`reconciler validate` must read like a colleague's review, not a jsonschema dump: "20000 is
greater than the maximum of 10240", "unknown field 'memorySize' (did you mean 'memoryMb'?)".
"""

from __future__ import annotations

import difflib
import math
import unicodedata
from collections.abc import Sequence
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag

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
        # The middle goes, not the end: the end of an image URI or ARN is where mistakes hide.
        text = value if len(value) <= 60 else f"{value[:28]}...{value[-29:]}"
        return f"'{printable(text)}'"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
    if isinstance(value, float) and value.is_integer():
        return str(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int) and value.bit_length() > 200:
        return f"a {'negative ' if value < 0 else ''}{_digits(abs(value))}-digit number"
    return str(value)


def _digits(value: int) -> int:
    """How many decimal digits a non-negative int has, exactly, without `str()` (which refuses
    ints over 4300 digits): log10 estimates, and one comparison settles the boundary."""
    estimate = int(value.bit_length() * math.log10(2)) + 1
    return estimate if value >= 10 ** (estimate - 1) else estimate - 1


def _hidden(char: str) -> bool:
    """Control characters, and the invisible "format" characters (bidi overrides, zero-width
    spaces, the byte-order mark) that can make text display as something it is not."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def printable(text: str) -> str:
    """`text` with control and invisible format characters escaped (`\\t`, `\\x1b`,
    `\\u202e`), so a manifest can neither drive nor disguise the terminal that shows an error
    about it."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        (repr(char)[1:-1] if char.isascii() else f"\\u{ord(char):04x}") if _hidden(char) else char
        for char in text
    )


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
        return _unknown_field(error.get("loc", loc), model)
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
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        if ", " not in expected:
            return f"must be {expected}, not {show(value)}"
        return f"{show(value)} is not one of: {expected}"
    if kind == "finite_number":
        return f"{show(value)} is not a finite number"
    if kind in ("float_type", "float_parsing") and type(value) is int:
        return f"{show(value)} is too large"
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
    """`loc` is pydantic's own location, union tags included: they say which variant applied."""
    parts = [part for part in loc if part != "[key]"]
    name = str(parts[-1]) if parts else "?"
    known = _fields_at(model, parts[:-1]) if model is not None else []
    close = _closest(name, known)
    if close is not None:
        return f"unknown field '{printable(name)}' (did you mean '{close}'?)"
    below = [
        field
        for field in known
        if model is not None and name in _fields_at(model, [*parts[:-1], field])
    ]
    if below:  # `timeoutSeconds:` at the top level: a field of `spec` indented too little
        return f"unknown field '{printable(name)}' (a field of '{below[0]}': check its indentation)"
    if known:
        return f"unknown field '{printable(name)}' (expected one of: {', '.join(known)})"
    return f"unknown field '{printable(name)}'"


def _closest(name: str, known: Sequence[str]) -> str | None:
    """The field `name` most likely misspells: same letters up to case and `_`/`-`, else a close
    spelling that starts with the same letter (a first letter is rarely the typo)."""
    squashed = {field.lower().replace("_", ""): field for field in known if field != name}
    key = name.lower().replace("_", "").replace("-", "")
    if key in squashed:
        return squashed[key]
    same_start = [field for field in squashed if field[:1] == key[:1]]
    close = difflib.get_close_matches(key, same_start, n=1, cutoff=0.6)
    return squashed[close[0]] if close else None


def _fields_at(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The manifest field names allowed at `loc` inside `model`, through lists, maps and unions."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    found = next((m for m in _members(current) if _is_model(m)), None)
    return [f.alias or n for n, f in found.model_fields.items()] if found is not None else []


def _step(annotation: Any, part: Any) -> Any:
    """The type one location step below `annotation` (a field, an item, a union variant)."""
    members = _members(annotation)
    if isinstance(part, str):
        for member, tags in members.items():
            if part in tags:  # a discriminated union's tag names the variant in use
                return member
    for member in members:
        origin, args = get_origin(member), get_args(member)
        if isinstance(part, int) and origin is list and args:
            return args[0]
        if isinstance(part, str) and origin is dict and len(args) == 2:
            return args[1]
        if isinstance(part, str) and _is_model(member):
            field = next(
                (f for n, f in member.model_fields.items() if (f.alias or n) == part), None
            )
            if field is not None:
                return field.annotation
    return None


def _members(annotation: Any) -> dict[Any, set[str]]:
    """The alternatives of a type (`X | None`, tagged unions), each with its union tags."""
    out: dict[Any, set[str]] = {}
    tags: set[str] = set()
    while get_origin(annotation) is Annotated:
        args = get_args(annotation)
        tags |= {meta.tag for meta in args[1:] if isinstance(meta, Tag)}
        annotation = args[0]
    if get_origin(annotation) in (Union, UnionType):
        for arg in get_args(annotation):
            for member, inner in _members(arg).items():
                out[member] = out.get(member, set()) | inner
        return out
    return {annotation: tags}


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)
