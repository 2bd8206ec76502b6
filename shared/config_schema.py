"""What a config model says about its keys: which hold paths, lists, tables or secrets.

The loader and the error messages need to know, for any key, how to read it
from the environment, whether to resolve it against the file's folder and
whether its value may be shown. Reading that from the model's type hints keeps
one source of truth: a new `Path` or `SecretStr` key is handled correctly
without being listed anywhere else.

A config model here is a pydantic model whose fields are sections (models of
plain keys), like `[web]` with `bind`; tables below a key (such as the agent's
`[analysis.models."8340"]`) are dicts of models.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

#: A position in the settings, as pydantic reports it: section, key, list index, ...
Loc = tuple[str | int, ...]
#: (section, key) of a plain key, like ("web", "bind").
Key = tuple[str, str]


def leaf_types(annotation: Any) -> Iterator[type]:
    """Every class named in a type hint, looking inside Annotated, unions, lists and dicts."""
    origin = get_origin(annotation)
    if origin is Literal:
        return
    if origin is Annotated:
        yield from leaf_types(get_args(annotation)[0])
    elif origin is not None:
        for arg in get_args(annotation):
            yield from leaf_types(arg)
        if isinstance(origin, type) and origin not in (types.UnionType, Union):
            yield origin
    elif isinstance(annotation, type):
        yield annotation


def mentions(annotation: Any, kind: type) -> bool:
    """Whether a type hint names `kind` (or a subclass) anywhere."""
    return any(issubclass(leaf, kind) for leaf in leaf_types(annotation))


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The model class a field holds directly, if it is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def section_fields(model: type[BaseModel]) -> Iterator[tuple[Key, FieldInfo]]:
    """Every plain key of every section, with its field."""
    for section, field in model.model_fields.items():
        section_model = model_of(field.annotation)
        if section_model is not None:
            for key, sub in section_model.model_fields.items():
                yield (section, key), sub


def path_keys(model: type[BaseModel]) -> frozenset[Key]:
    """Keys holding a path or a list of paths (resolved against the config file's folder)."""
    return frozenset(
        key
        for key, field in section_fields(model)
        if get_origin(field.annotation) is not dict and mentions(field.annotation, Path)
    )


def list_keys(model: type[BaseModel]) -> frozenset[Key]:
    """Keys holding a list, which an environment variable gives as separated items."""
    return frozenset(key for key, field in section_fields(model) if _is(field, list))


def table_keys(model: type[BaseModel]) -> frozenset[Key]:
    """Keys holding named tables, which only the file can set."""
    return frozenset(key for key, field in section_fields(model) if _is(field, dict))


def _is(field: FieldInfo, container: type) -> bool:
    return get_origin(field.annotation) is container


def walk(root: type[BaseModel], loc: Loc) -> tuple[str, str, type[BaseModel] | None]:
    """The key as written in TOML, its pattern (table names as "*"), and the model at `loc`.

    `("analysis", "models", "8340-1", "sigma_threshold")` gives
    `analysis.models."8340-1".sigma_threshold` and `analysis.models.*.sigma_threshold`.
    """
    model: type[BaseModel] | None = root
    text: list[str] = []
    pattern: list[str] = []
    dict_key_next = False
    for part in loc:
        if isinstance(part, int):
            text[-1:] = [f"{text[-1]}[{part}]"] if text else [f"[{part}]"]
            model = None
            continue
        if dict_key_next:
            text.append(json.dumps(part))
            pattern.append("*")
            dict_key_next = False
            continue
        text.append(part)
        pattern.append(part)
        field = model.model_fields.get(part) if model is not None else None
        annotation = field.annotation if field is not None else None
        model = model_of(annotation)
        if model is None and get_origin(annotation) is dict:
            model = model_of(get_args(annotation)[1])
            dict_key_next = True
    return ".".join(text), ".".join(pattern), model


def is_secret(root: type[BaseModel], loc: Loc) -> bool:
    """Whether the value at `loc` is, or may contain, a secret that must never be shown.

    True for a `SecretStr` key (whatever was written there, even a wrong type),
    and for a whole section or table that holds one.
    """
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None or isinstance(part, int):
            return False
        field = model.model_fields.get(part)
        if field is None:
            return False
        if mentions(field.annotation, SecretStr):
            return True
        model = model_of(field.annotation)
        if model is None and get_origin(field.annotation) is dict:
            return _holds_secret(get_args(field.annotation)[1])
    return model is not None and _holds_secret(model)


def _holds_secret(annotation: Any) -> bool:
    model = model_of(annotation)
    if model is None:
        return mentions(annotation, SecretStr)
    return any(_holds_secret(field.annotation) for field in model.model_fields.values())
