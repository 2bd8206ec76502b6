"""Load a program's settings from one optional TOML file plus environment overrides.

Both programs are configured the same way, so IT learns it once: built-in
defaults, then the file, then environment variables (`<PREFIX>...`), later
winning. Every mistake becomes one line naming the key, where the value came
from and what is allowed (see `shared.config_messages`); secrets are never
shown. Loading only reads and checks: nothing touches the network or creates
folders, except `write_default_config`, which writes the commented template.

A program describes itself with a `ConfigSpec` (its model, environment names,
allowed-values texts) and calls `load_config(spec, path, environ)`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from shared.config_messages import describe_errors
from shared.config_schema import Key, Loc, list_keys, path_keys, table_keys
from shared.errors import ErrorCode, LtaError

M = TypeVar("M", bound=BaseModel)

TEMPLATE_NAME = "config_template.toml"
_TOML_POSITION_RE = re.compile(r"\(at line (\d+), column (\d+)\)")


class ConfigError(LtaError):
    """The configuration cannot be used; the message lists every problem, one per line."""

    def __init__(self, message: str, problems: Iterable[str] | None = None) -> None:
        super().__init__(ErrorCode.CONFIG_INVALID, message)
        self.problems: tuple[str, ...] = tuple(problems) if problems is not None else (message,)


@dataclass(frozen=True)
class ConfigSpec(Generic[M]):
    """What the loader needs to know about one program's configuration.

    `fixed_env` maps the short variable names installer scripts rely on to the
    (section, key) they set; every other key is reachable as
    `<env_prefix><SECTION>__<KEY>`. `expected` maps a key pattern to the allowed
    values in words (see `shared.config_messages.describe_errors`).
    `env_example` is the `SECTION__KEY` shown when a generic name is malformed;
    by default the first key of the first section.
    """

    model: type[M]
    env_prefix: str
    config_env: str
    fixed_env: Mapping[str, Key] = field(default_factory=dict)
    expected: Mapping[str, str] = field(default_factory=dict)
    env_example: str | None = None


def resolve_config_path(
    spec: ConfigSpec[Any], path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The config file to read: the one given, else the one `spec.config_env` names, else none."""
    env = os.environ if environ is None else environ
    if path is not None:
        return path
    named = env.get(spec.config_env, "").strip()
    return Path(named).expanduser() if named else None


def load_config(
    spec: ConfigSpec[M], path: Path | None = None, environ: Mapping[str, str] | None = None
) -> M:
    """Read the file (if any), apply the environment, validate; ConfigError on any problem.

    The model is validated with `context={"environ": env}`, so defaults that
    depend on the environment (see `shared.config_values.validation_environ`)
    follow the environment given here rather than the process's.
    """
    env = os.environ if environ is None else environ
    config_path = resolve_config_path(spec, path, env)
    raw: dict[str, Any] = {}
    sources: dict[Loc, str] = {}
    if config_path is not None:
        via = "" if path is not None else f" (named by {spec.config_env})"
        raw = read_toml(config_path, via)
        label = str(config_path.absolute())
        resolve_relative_paths(raw, path_keys(spec.model), config_path.absolute().parent)
        for section, body in raw.items():
            sources[(section,)] = label
            if isinstance(body, dict):
                for key in body:
                    sources[(section, key)] = label
    apply_environment(spec, raw, sources, env)
    try:
        return spec.model.model_validate(raw, context={"environ": env})
    except ValidationError as err:
        problems = describe_errors(err, spec.model, sources, spec.expected)
        # `from None`: the pydantic error holds the raw input, which may include a secret.
        raise ConfigError("\n".join(problems), problems) from None


def write_default_config(path: Path, package: str, resource: str = TEMPLATE_NAME) -> None:
    """Copy the package's commented template to `path`.

    Never overwrites: an existing file may hold a token or password that exists
    nowhere else.
    """
    text = resources.files(package).joinpath(resource).read_text(encoding="utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise ConfigError(
            f"Config file {path.absolute()} already exists; not overwriting it. "
            "Edit it, or remove it first to start from the template."
        ) from None
    except OSError as err:
        raise ConfigError(f"Cannot write config file {path.absolute()}: {err.strerror}") from err


def read_toml(path: Path, via: str = "") -> dict[str, Any]:
    """The file's tables; `via` says how the file was chosen, for the messages."""
    where = f"{path.absolute()}{via}"
    try:
        # utf-8-sig: Windows Notepad may save a byte-order mark, which TOML rejects.
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"Config file {where} does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(f"Config file {where} is a folder, not a file.") from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"Config file {where} is not UTF-8 text (byte {err.start}); save it as UTF-8."
        ) from None
    except OSError as err:
        raise ConfigError(f"Cannot read config file {where}: {err.strerror}.") from err
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        position = _TOML_POSITION_RE.search(message)
        reason = _TOML_POSITION_RE.sub("", message).strip()
        at = f" at line {position.group(1)}, column {position.group(2)}" if position else ""
        hint = ""
        if "escape" in reason.lower() or "\\" in reason:
            # The mistake everyone on Windows makes once: "C:\Trim" is an escape sequence.
            hint = " Write Windows paths in single quotes, like 'C:\\TrimResults'."
        raise ConfigError(f"Config file {where} is not valid TOML{at}: {reason}.{hint}") from None


def resolve_relative_paths(raw: dict[str, Any], keys: Iterable[Key], base: Path) -> None:
    """Make the file's relative paths relative to the file, not to the service's cwd.

    A service starts in some system folder, so a path relative to that would
    point somewhere nobody expects. `~` is expanded; blank values stay blank
    for the model to judge.
    """

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            path = Path(value.strip()).expanduser()
            return str(path if path.is_absolute() else base / path)
        return value

    for section, key in keys:
        body = raw.get(section)
        if not isinstance(body, dict) or key not in body:
            continue
        value = body[key]
        body[key] = [resolve(item) for item in value] if isinstance(value, list) else resolve(value)


def apply_environment(
    spec: ConfigSpec[Any], raw: dict[str, Any], sources: dict[Loc, str], env: Mapping[str, str]
) -> None:
    """Overlay the program's variables on the file's values, remembering where each came from.

    List keys come comma-separated in the generic form; a fixed name for a list
    of paths is split like PATH (`;` on Windows, `:` elsewhere), since Windows
    paths may contain commas. Variables with the prefix but without `__` are
    left alone (they may belong to another tool); a malformed `__` name, a
    table key, or one key set by two variables is an error.
    """
    prefix = spec.env_prefix
    lists, paths, tables = list_keys(spec.model), path_keys(spec.model), table_keys(spec.model)
    problems: list[str] = []
    set_by: dict[Key, str] = {}
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(prefix) or upper == spec.config_env:
            continue
        value: Any = env[name].strip()
        separator = ","
        if upper in spec.fixed_env:
            target = spec.fixed_env[upper]
            separator = os.pathsep if target in paths else ","
        elif "__" in upper:
            parts = upper[len(prefix) :].lower().split("__")
            if len(parts) >= 2 and (parts[0], parts[1]) in tables:
                problems.append(_table_from_env(spec, name, (parts[0], parts[1])))
                continue
            if len(parts) != 2 or not all(parts):
                problems.append(
                    f"Environment variable {name}: expected {prefix}<SECTION>__<KEY>, "
                    f"like {prefix}{_example_key(spec)}."
                )
                continue
            target = (parts[0], parts[1])
        else:
            continue  # not a setting (perhaps another tool's variable): leave it alone
        if target in lists:
            value = [item.strip() for item in value.split(separator) if item.strip()]
        if target in set_by:
            problems.append(
                f"Environment variables {set_by[target]} and {name} both set "
                f"{'.'.join(target)}; remove one."
            )
            continue
        set_by[target] = name
        section = raw.setdefault(target[0], {})
        sources.setdefault((target[0],), f"environment variable {name}")
        if isinstance(section, dict):  # else the file's bad section is reported by validation
            section[target[1]] = value
            sources[target] = f"environment variable {name}"
    if problems:
        raise ConfigError("\n".join(problems), problems)


def _table_from_env(spec: ConfigSpec[Any], name: str, key: Key) -> str:
    dotted = ".".join(key)
    example = spec.expected.get(dotted, f'tables like [{dotted}."NAME"]')
    return (
        f"Environment variable {name}: {dotted} cannot be set from the environment; "
        f"use {example} in the config file."
    )


def _example_key(spec: ConfigSpec[Any]) -> str:
    """A real `<SECTION>__<KEY>` of this program, for the malformed-name message."""
    if spec.env_example:
        return spec.env_example
    for section, field_info in spec.model.model_fields.items():
        model = field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for key in model.model_fields:
                return f"{section.upper()}__{key.upper()}"
    return "SECTION__KEY"
