"""Turn pydantic's validation errors into one sentence per problem that IT can act on.

Each sentence names the key as written in TOML, where the value came from (the
file or an environment variable), the value itself (never a secret's) and what
would be accepted. pydantic's own text is written for programmers; these
messages are for the person editing the config file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from shared.config_schema import Loc, is_secret, walk

HIDDEN = "<hidden>"
DEFAULT_SOURCE = "the built-in default"
_MAX_SHOWN = 120

_REASONS: Mapping[str, str] = {
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be greater than {gt}",
    "less_than": "must be less than {lt}",
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "finite_number": "must be a finite number",
    "int_parsing": "is not a whole number",
    "int_type": "is not a whole number",
    "int_from_float": "is not a whole number",
    "bool_parsing": "is not true or false",
    "bool_type": "is not true or false",
    "string_type": "is not text",
    "list_type": "is not a list",
    "path_type": "is not a path",
    "model_type": "is not a table",
    "model_attributes_type": "is not a table",
    "dict_type": "is not a table",
    "literal_error": "is not one of the allowed values",
    "too_short": "must not be empty",
    "missing": "is missing",
}


def describe_errors(
    error: ValidationError,
    root: type[BaseModel],
    sources: Mapping[Loc, str],
    expected: Mapping[str, str],
) -> list[str]:
    """One message per problem in `error`, in pydantic's order.

    `sources` maps a section or key to where its value came from; `expected`
    maps a key pattern (like "web.bind" or "analysis.models.*.linearity_spec")
    to the allowed values in words, appended to every error for that key.
    """
    return [
        describe(details, root, sources, expected) for details in error.errors(include_url=False)
    ]


def describe(
    error: ErrorDetails,
    root: type[BaseModel],
    sources: Mapping[Loc, str],
    expected: Mapping[str, str],
) -> str:
    """The message for one pydantic error (see `describe_errors`).

    A check across keys (a model validator) blames one key by raising a
    `PydanticCustomError` whose context holds `blame_key` and `value`.
    """
    loc: Loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        return unknown_key(root, loc, value, sources)
    if "blame_key" in ctx:
        loc = (*loc, str(ctx["blame_key"]))
        value = ctx.get("value")
    key, pattern, _ = walk(root, loc)
    shown = HIDDEN if is_secret(root, loc) else show(value)
    text = f"Invalid config: {key} = {shown} (from {source_of(loc, sources)}): {reason(error)}"
    allowed = expected.get(pattern)
    if allowed:
        text += f"; expected {allowed}"
    return text.rstrip(".") + "."


def unknown_key(root: type[BaseModel], loc: Loc, value: Any, sources: Mapping[Loc, str]) -> str:
    """A misspelt key or section, with the keys that would have been accepted there."""
    source = source_of(loc, sources)
    where = f"from {source}" if source.startswith("environment") else f"in {source}"
    parent_text, _, model = walk(root, loc[:-1])
    name = str(loc[-1])
    if model is root:
        kind = f"section [{name}]" if isinstance(value, dict) else f'key "{name}"'
        known = ", ".join(f"[{section}]" for section in root.model_fields)
        return f"Unknown config {kind} {where}; known sections: {known}."
    known = ", ".join(model.model_fields) if model is not None else "(none)"
    key = f"{parent_text}.{name}" if parent_text else name
    return f'Unknown config key "{key}" {where}; known keys in [{parent_text}]: {known}.'


def source_of(loc: Loc, sources: Mapping[Loc, str]) -> str:
    """Where the value at `loc` came from: its own source, else its section's, else default."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in sources:
            return sources[loc[:end]]
    return DEFAULT_SOURCE


def show(value: Any) -> str:
    """A value as it would be written in TOML, shortened so one problem stays one line."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | Path):
        text = json.dumps(str(value), ensure_ascii=False)
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(show(item) for item in value) + "]"
    elif isinstance(value, dict):
        text = "a table"
    else:
        text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def reason(error: ErrorDetails) -> str:
    """Why the value was rejected, in plain words; limits read as IT would write them."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _REASONS:
        # 10.0 -> "10"
        shown = {k: f"{v:g}" if isinstance(v, float) else v for k, v in ctx.items()}
        try:
            return _REASONS[kind].format(**shown)
        except (KeyError, IndexError):
            return _REASONS[kind]
    message = error["msg"].removeprefix("Value error, ")
    return message[:1].lower() + message[1:]
