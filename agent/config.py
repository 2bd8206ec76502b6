"""The station agent's configuration: one optional TOML file plus environment overrides.

IT edits one file per station (or sets a few environment variables from an
installer script), so every setting has a default that works on a fresh PC,
and every mistake is reported as one sentence that names the key, where the
value came from and what would be accepted. Nothing here touches the network
or creates folders: loading the configuration only reads and checks it.

Precedence, lowest to highest: built-in defaults, the config file, the
environment (`LTA_AGENT_*`).
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import tomllib
from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from importlib import resources
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from shared.analysis_settings import AnalysisSettings, ModelOverride
from shared.errors import ErrorCode, LtaError

CONFIG_INVALID = ErrorCode.CONFIG_INVALID

ENV_PREFIX = "LTA_AGENT_"
CONFIG_ENV = "LTA_AGENT_CONFIG"
#: The fixed environment names installer scripts rely on; never rename them.
FIXED_ENV: Mapping[str, tuple[str, str]] = {
    "LTA_AGENT_INBOX": ("inbox", "paths"),
    "LTA_AGENT_DATA_DIR": ("storage", "data_dir"),
    "LTA_AGENT_BIND": ("web", "bind"),
    "LTA_AGENT_STATION_ID": ("station", "id"),
    "LTA_AGENT_CENTRAL_URL": ("central", "url"),
    "LTA_AGENT_CENTRAL_TOKEN": ("central", "token"),
}

TEMPLATE_NAME = "config_template.toml"
DATABASE_FILE = "agent.sqlite"
LOG_DIR_NAME = "logs"
DEFAULT_BIND = "127.0.0.1:8710"
DEFAULT_SHIFT_STARTS = ("06:00", "14:00", "22:00")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_STATION_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_HOST_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces: it goes in an HTTP header
_TOML_POSITION_RE = re.compile(r"\(at line (\d+), column (\d+)\)")
_HIDDEN = "<hidden>"
_MAX_SHOWN = 120

# What each key accepts, in words IT can act on; appended to every error for that key.
_EXPECTED: Mapping[str, str] = {
    "station.id": 'lowercase letters, digits, ".", "_" and "-" (at most 64), like "trim-07"',
    "station.name": "a non-empty display name of at most 100 characters",
    "inbox.paths": 'a list of folders, like ["D:/TrimResults"]',
    "inbox.recursive": "true or false",
    "inbox.poll_interval_s": "a number of seconds from 0.2 to 10",
    "inbox.settle_s": "a number of seconds from 0.05 to 5",
    "inbox.archive_dir": (
        "a folder outside the watched folders, or no value to never move station files"
    ),
    "storage.data_dir": "a folder the agent can write to",
    "web.bind": '"host:port" like "127.0.0.1:8710"',
    "web.page_refresh_ms": "a whole number of milliseconds from 200 to 10000",
    "shift.starts": (
        'a list of local start times "HH:MM" like ["06:00", "14:00", "22:00"], '
        "or [] to count by calendar day"
    ),
    "analysis.max_file_mb": "a number of megabytes greater than 0",
    "analysis.max_rows": "a whole number greater than 0",
    "analysis.models": 'tables like [analysis.models."8340-1"]',
    "analysis.models.*": "a table with sigma_threshold and/or linearity_spec",
    "analysis.models.*.sigma_threshold": "a number greater than 0",
    "analysis.models.*.linearity_spec": "a number greater than 0",
    "central.url": 'an http:// or https:// address like "https://lta.example.com"',
    "central.token": "the station token issued by the central service",
    "central.ca_bundle": "the path of an existing file of PEM CA certificates",
    "central.sync_interval_s": "a number of seconds greater than 0 and at most 3600",
    "central.batch_size": "a whole number from 1 to 1000",
    "logging.level": "one of DEBUG, INFO, WARNING, ERROR",
}


class ConfigError(LtaError):
    """The configuration cannot be used; the message lists every problem, one per line."""

    def __init__(self, message: str, problems: Iterable[str] | None = None) -> None:
        super().__init__(CONFIG_INVALID, message)
        self.problems: tuple[str, ...] = tuple(problems) if problems is not None else (message,)


# --------------------------------------------------------------------------- defaults


def default_station_id(hostname: str | None = None) -> str:
    """The host name made safe for ids: result ids and central's station list key on it."""
    raw = socket.gethostname() if hostname is None else hostname
    safe = re.sub(r"[^a-z0-9._-]+", "-", raw.strip().lower()).strip("-._")
    return safe[:64].rstrip("-._") or "station"


def default_data_dir(environ: Mapping[str, str], platform: str = sys.platform) -> Path:
    """Where a service account can write on each OS without any setup.

    Windows services have no useful home folder, so the machine-wide ProgramData
    is used there; elsewhere the XDG data folder of the user running the agent.
    """
    if platform == "win32":
        base = environ.get("PROGRAMDATA") or environ.get("ProgramData") or r"C:\ProgramData"
        return Path(base) / "LaserTrimAnalyzer" / "agent"
    xdg = environ.get("XDG_DATA_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore relative values
        return Path(xdg) / "lta-agent"
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".local" / "share" / "lta-agent"


# --------------------------------------------------------------------------- value helpers


def _reject_bool(value: Any) -> Any:
    """TOML `true` is not a number; pydantic alone would quietly read it as 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_is_bool", "true/false is not a number")
    return value


Number = Annotated[float, BeforeValidator(_reject_bool)]
WholeNumber = Annotated[int, BeforeValidator(_reject_bool)]


def _required_path(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise PydanticCustomError("empty_path", "must not be empty")
    return value


def _empty_is_none(value: Any) -> Any:
    """An empty string means "not set", so an environment variable can clear a file value."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _normalise_path(path: Path) -> Path:
    """Absolute without resolving links: a network share may be offline at start-up."""
    return path.expanduser().absolute()


def parse_time_of_day(text: str) -> time:
    """ "HH:MM" (24-hour clock, leading zero optional) to a naive `time`."""
    match = _TIME_RE.match(text.strip())
    if match is None:
        raise ValueError(f'"{text}" is not a time "HH:MM"')
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f'"{text}" is not a time of day (00:00 to 23:59)')
    return time(hour, minute)


def split_bind(bind: str) -> tuple[str, int]:
    """Split and check "host:port"; IPv6 hosts come in brackets and are returned without."""
    text = bind.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError("IPv6 address has no closing bracket")
        host, rest = text[1:end], text[end + 1 :]
        if not rest.startswith(":"):
            raise ValueError("port is missing")
        port_text = rest[1:]
        try:
            IPv6Address(host)
        except ValueError:
            raise ValueError(f'"{host}" is not an IPv6 address') from None
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise ValueError("port is missing")
        if ":" in host:
            raise ValueError('an IPv6 address must be in brackets, like "[::1]:8710"')
        if not host:
            raise ValueError("host is missing")
        if not _valid_host(host):
            raise ValueError(f'"{host}" is not an IP address or host name')
    if not port_text.isdigit():
        raise ValueError("port must be a number 1-65535")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError("port must be 1-65535")
    return host, port


def _valid_host(host: str) -> bool:
    try:
        return isinstance(ip_address(host), IPv4Address)
    except ValueError:
        pass
    if len(host) > 253 or host.replace(".", "").isdigit():  # "999.1.1.1" is a bad IP, not a name
        return False
    return all(_HOST_LABEL_RE.match(label) for label in host.rstrip(".").split("."))


# --------------------------------------------------------------------------- sections


class _Section(BaseModel):
    """Frozen so nothing changes settings behind the loader's back; misspelt keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class StationConfig(_Section):
    id: str = Field(default_factory=default_station_id)
    name: str = ""

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        """The display name follows the id unless given, so a new station is still labelled."""
        name = data.get("name") if isinstance(data, dict) else None
        if isinstance(data, dict) and (
            name is None or (isinstance(name, str) and not name.strip())
        ):
            station_id = data.get("id")
            if station_id is None:
                station_id = default_station_id()
                data = {**data, "id": station_id}
            shown = station_id.strip() if isinstance(station_id, str) else ""
            data = {**data, "name": f"Trim station {shown}".strip()[:100]}
        return data

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        """Strict, not silently fixed: the id is part of every result id sent to central."""
        value = value.strip()
        if not _STATION_ID_RE.match(value):
            raise ValueError("not a valid station id")
        return value

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        value = value.strip()
        if not value or len(value) > 100:
            raise ValueError("must be 1 to 100 characters")
        return value


class InboxConfig(_Section):
    paths: list[Annotated[Path, BeforeValidator(_required_path)]] = Field(
        default_factory=lambda: [default_data_dir(os.environ) / "inbox"], min_length=1
    )
    recursive: bool = True
    poll_interval_s: Number = Field(default=1.0, ge=0.2, le=10.0)
    settle_s: Number = Field(default=0.3, ge=0.05, le=5.0)
    archive_dir: Annotated[Path | None, BeforeValidator(_empty_is_none)] = None

    @field_validator("paths", mode="before")
    @classmethod
    def _one_path_is_a_list(cls, value: Any) -> Any:
        """`paths = "D:/Trim"` is what people write for one folder; accept it."""
        return [value] if isinstance(value, str | Path) else value

    @field_validator("paths")
    @classmethod
    def _clean_paths(cls, value: list[Path]) -> list[Path]:
        """Absolute, without duplicates, so the scanner never sees a folder twice by name."""
        unique: list[Path] = []
        for path in map(_normalise_path, value):
            if path not in unique:
                unique.append(path)
        return unique

    @field_validator("archive_dir")
    @classmethod
    def _clean_archive(cls, value: Path | None) -> Path | None:
        return None if value is None else _normalise_path(value)

    @model_validator(mode="after")
    def _archive_outside_inbox(self) -> InboxConfig:
        """An archive the scanner also watches would hand every moved file back to it."""
        if self.archive_dir is None:
            return self
        for folder in self.paths:
            inside = self.archive_dir.is_relative_to(folder)
            if self.archive_dir == folder or (inside and self.recursive):
                raise PydanticCustomError(
                    "archive_in_inbox",
                    "is inside the watched folder {folder}",
                    {
                        "blame_key": "archive_dir",
                        "value": str(self.archive_dir),
                        "folder": str(folder),
                    },
                )
        return self


class StorageConfig(_Section):
    data_dir: Annotated[Path, BeforeValidator(_required_path)] = Field(
        default_factory=lambda: default_data_dir(os.environ)
    )

    @field_validator("data_dir")
    @classmethod
    def _clean(cls, value: Path) -> Path:
        return _normalise_path(value)


class WebConfig(_Section):
    bind: str = DEFAULT_BIND
    page_refresh_ms: WholeNumber = Field(default=500, ge=200, le=10_000)

    @field_validator("bind")
    @classmethod
    def _check_bind(cls, value: str) -> str:
        split_bind(value)
        return value.strip()


class ShiftConfig(_Section):
    starts: list[str] = Field(default_factory=lambda: list(DEFAULT_SHIFT_STARTS))

    @field_validator("starts")
    @classmethod
    def _check_starts(cls, value: list[str]) -> list[str]:
        """Normalised to zero-padded and sorted, so the page and counters agree on labels."""
        parsed = [parse_time_of_day(item) for item in value]
        if len(set(parsed)) != len(parsed):
            raise ValueError("a start time is listed twice")
        return [t.strftime("%H:%M") for t in sorted(parsed)]

    def current_start(self, now: datetime) -> datetime:
        """When the shift running at `now` began (see `current_shift_start`)."""
        return current_shift_start(now, self.starts)


class AnalysisConfig(_Section):
    max_file_mb: Number = Field(default=50.0, gt=0)
    max_rows: WholeNumber = Field(default=100_000, gt=0)
    models: dict[str, ModelOverride] = Field(default_factory=dict)

    @field_validator("models")
    @classmethod
    def _check_model_names(cls, value: dict[str, ModelOverride]) -> dict[str, ModelOverride]:
        if any(not name.strip() for name in value):
            raise ValueError("a model name is empty")
        return value


class CentralConfig(_Section):
    # Errors must never echo the token, even if someone prints a raw ValidationError.
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, hide_input_in_errors=True
    )

    url: Annotated[str | None, BeforeValidator(_empty_is_none)] = None
    token: Annotated[SecretStr | None, BeforeValidator(_empty_is_none)] = None
    ca_bundle: Annotated[Path | None, BeforeValidator(_empty_is_none)] = None
    sync_interval_s: Number = Field(default=5.0, gt=0, le=3600)
    batch_size: WholeNumber = Field(default=200, ge=1, le=1000)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError("must start with http:// or https://")
        if not parts.hostname or any(ch.isspace() for ch in value):
            raise ValueError("has no valid host name")
        if parts.username or parts.password:
            raise ValueError("must not contain a user name or password; use central.token")
        try:
            _ = parts.port
        except ValueError:
            raise ValueError("has an invalid port") from None
        return value.rstrip("/")

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        if not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("contains spaces or characters that cannot be sent in an HTTP header")
        return value

    @field_validator("ca_bundle")
    @classmethod
    def _check_ca_bundle(cls, value: Path | None) -> Path | None:
        """Checked now, not at the first sync: a typo should stop start-up, not fail later."""
        if value is None:
            return None
        value = _normalise_path(value)
        if not value.is_file():
            raise ValueError("file does not exist")
        return value


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        """Any case is accepted; the error shows the value as written, not uppercased."""
        if not isinstance(value, str):
            return value
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError("is not a log level")
        return value.strip().upper()


class AgentConfig(_Section):
    """Everything the agent reads from its config; build it with `load_config`."""

    station: StationConfig = Field(default_factory=StationConfig)
    inbox: InboxConfig = Field(default_factory=InboxConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    shift: ShiftConfig = Field(default_factory=ShiftConfig)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    central: CentralConfig = Field(default_factory=CentralConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @model_validator(mode="before")
    @classmethod
    def _platform_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        """Fill the defaults that depend on the environment given to `load_config`.

        The inbox defaults to a folder inside the data folder, so a data folder set
        in the file or environment moves the default inbox with it.
        """
        if not isinstance(data, dict):
            return data
        context = info.context if isinstance(info.context, dict) else {}
        environ: Mapping[str, str] = context.get("environ", os.environ)
        data = dict(data)
        storage = data.get("storage", {})
        if isinstance(storage, dict) and "data_dir" not in storage:
            storage = {**storage, "data_dir": default_data_dir(environ)}
            data["storage"] = storage
        inbox = data.get("inbox", {})
        if isinstance(inbox, dict) and "paths" not in inbox:
            base = storage.data_dir if isinstance(storage, StorageConfig) else None
            if isinstance(storage, dict) and isinstance(storage["data_dir"], str | Path):
                base = Path(storage["data_dir"]) if str(storage["data_dir"]).strip() else None
            if base is not None:
                data["inbox"] = {**inbox, "paths": [_normalise_path(base) / "inbox"]}
        return data

    @property
    def bind_host(self) -> str:
        """Host part of web.bind, IPv6 without brackets (as socket APIs want it)."""
        return split_bind(self.web.bind)[0]

    @property
    def bind_port(self) -> int:
        return split_bind(self.web.bind)[1]

    @property
    def database_path(self) -> Path:
        return self.storage.data_dir / DATABASE_FILE

    @property
    def log_dir(self) -> Path:
        return self.storage.data_dir / LOG_DIR_NAME

    def analysis_settings(self) -> AnalysisSettings:
        """The verdict-relevant settings in the shape the analysis (and later central) uses."""
        return AnalysisSettings(
            model_overrides=dict(self.analysis.models),
            max_file_bytes=max(1, round(self.analysis.max_file_mb * 1024 * 1024)),
            max_rows=self.analysis.max_rows,
            include_curves=True,
        )


# --------------------------------------------------------------------------- shifts


def current_shift_start(now: datetime, starts: Iterable[str | time]) -> datetime:
    """Start of the shift running at `now`, in `now`'s time zone.

    Start times are wall-clock times in `now`'s zone, so pass a `ZoneInfo`-aware
    `now` for correct results on daylight-saving nights. A shift that began
    yesterday (the 22:00 shift at 03:00) is found by also trying the previous
    days. No start times means counting by calendar day: midnight.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    zone = now.tzinfo
    times = [
        parse_time_of_day(item) if isinstance(item, str) else item.replace(tzinfo=None)
        for item in starts
    ]
    midnight = datetime.combine(now.date(), time(0), tzinfo=zone)
    if not times:
        return midnight
    instant = now.timestamp()
    best: datetime | None = None
    for days_back in range(3):  # two would do; the third covers odd DST rules
        day = now.date() - timedelta(days=days_back)
        for start in times:
            candidate = datetime.combine(day, start, tzinfo=zone)
            stamp = candidate.timestamp()
            if stamp <= instant and (best is None or stamp > best.timestamp()):
                best = candidate
    return best if best is not None else midnight


# --------------------------------------------------------------------------- loading

_Loc = tuple[str | int, ...]
_PATH_KEYS = (("storage", "data_dir"), ("inbox", "archive_dir"), ("central", "ca_bundle"))


def resolve_config_path(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The config file to read: the one given, else `LTA_AGENT_CONFIG`, else none."""
    env = os.environ if environ is None else environ
    if path is not None:
        return path
    named = env.get(CONFIG_ENV, "").strip()
    return Path(named).expanduser() if named else None


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Read the file (if any), apply the environment, validate; ConfigError on any problem."""
    env = os.environ if environ is None else environ
    config_path = resolve_config_path(path, env)
    raw: dict[str, Any] = {}
    sources: dict[_Loc, str] = {}
    if config_path is not None:
        via = "" if path is not None else f" (named by {CONFIG_ENV})"
        raw = _read_toml(config_path, via)
        label = str(config_path.absolute())
        _resolve_relative_paths(raw, config_path.absolute().parent)
        for section, body in raw.items():
            sources[(section,)] = label
            if isinstance(body, dict):
                for key in body:
                    sources[(section, key)] = label
    _apply_environment(raw, sources, env)
    try:
        return AgentConfig.model_validate(raw, context={"environ": env})
    except ValidationError as err:
        problems = [_describe(error, sources) for error in err.errors(include_url=False)]
        # `from None`: the pydantic error holds the raw input, which may include the token.
        raise ConfigError("\n".join(problems), problems) from None


def write_default_config(path: Path) -> None:
    """Write the commented template; never overwrite, since it may hold a station's token."""
    text = resources.files("agent").joinpath(TEMPLATE_NAME).read_text(encoding="utf-8")
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


def _read_toml(path: Path, via: str) -> dict[str, Any]:
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
            hint = " Write Windows paths in single quotes, like 'C:\\TrimResults'."
        raise ConfigError(f"Config file {where} is not valid TOML{at}: {reason}.{hint}") from None


def _resolve_relative_paths(raw: dict[str, Any], base: Path) -> None:
    """Relative paths in the file are relative to the file, not to the service's cwd."""

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            path = Path(value.strip()).expanduser()
            return str(path if path.is_absolute() else base / path)
        return value

    for section, key in (*_PATH_KEYS, ("inbox", "paths")):
        body = raw.get(section)
        if not isinstance(body, dict) or key not in body:
            continue
        value = body[key]
        body[key] = [resolve(item) for item in value] if isinstance(value, list) else resolve(value)


def _list_keys() -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for section, field in AgentConfig.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for key, sub in model.model_fields.items():
                if get_origin(sub.annotation) is list:
                    keys.add((section, key))
    return keys


def _apply_environment(
    raw: dict[str, Any], sources: dict[_Loc, str], env: Mapping[str, str]
) -> None:
    """Overlay LTA_AGENT_* variables on the file's values, remembering where each came from."""
    list_keys = _list_keys()
    problems: list[str] = []
    set_by: dict[tuple[str, str], str] = {}
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper == CONFIG_ENV:
            continue
        value: Any = env[name].strip()
        if upper in FIXED_ENV:
            target = FIXED_ENV[upper]
            if target == ("inbox", "paths"):
                value = [item.strip() for item in value.split(os.pathsep) if item.strip()]
        elif "__" in upper:
            parts = upper[len(ENV_PREFIX) :].lower().split("__")
            if parts[:2] == ["analysis", "models"]:
                problems.append(
                    f"Environment variable {name}: analysis.models cannot be set from the "
                    'environment; use [analysis.models."MODEL"] tables in the config file.'
                )
                continue
            if len(parts) != 2 or not all(parts):
                problems.append(
                    f"Environment variable {name}: expected {ENV_PREFIX}<SECTION>__<KEY>, "
                    f"like {ENV_PREFIX}INBOX__RECURSIVE."
                )
                continue
            target = (parts[0], parts[1])
            if target in list_keys:
                value = [item.strip() for item in value.split(",") if item.strip()]
        else:
            continue  # not a setting (perhaps another tool's variable): leave it alone
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


# --------------------------------------------------------------------------- error messages


def _walk(loc: _Loc) -> tuple[str, str, type[BaseModel] | None]:
    """Key as written in TOML, the key pattern for `_EXPECTED`, and the model at `loc`."""
    model: type[BaseModel] | None = AgentConfig
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
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        elif get_origin(annotation) is dict:
            value_type = get_args(annotation)[1]
            is_model = isinstance(value_type, type) and issubclass(value_type, BaseModel)
            model = value_type if is_model else None
            dict_key_next = True
        else:
            model = None
    return ".".join(text), ".".join(pattern), model


def _source(loc: _Loc, sources: Mapping[_Loc, str]) -> str:
    for end in range(len(loc), 0, -1):
        if loc[:end] in sources:
            return sources[loc[:end]]
    return "the built-in default"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | Path):
        text = json.dumps(str(value), ensure_ascii=False)
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_show(item) for item in value) + "]"
    elif isinstance(value, dict):
        text = "a table"
    else:
        text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


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


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _REASONS:
        # 10.0 -> "10": the limits read as IT would write them.
        shown = {k: f"{v:g}" if isinstance(v, float) else v for k, v in ctx.items()}
        try:
            return _REASONS[kind].format(**shown)
        except (KeyError, IndexError):
            return _REASONS[kind]
    message = error["msg"].removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _describe(error: ErrorDetails, sources: Mapping[_Loc, str]) -> str:
    loc: _Loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        return _unknown_key(loc, value, sources)
    if "blame_key" in ctx:  # a check across keys reports the key it blames
        loc = (*loc, str(ctx["blame_key"]))
        value = ctx.get("value")
    key, pattern, _ = _walk(loc)
    secret = loc[:1] == ("central",) and (len(loc) == 1 or loc[1] == "token")
    shown = _HIDDEN if secret else _show(value)
    text = f"Invalid config: {key} = {shown} (from {_source(loc, sources)}): {_reason(error)}"
    expected = _EXPECTED.get(pattern)
    if expected:
        text += f"; expected {expected}"
    return text.rstrip(".") + "."


def _unknown_key(loc: _Loc, value: Any, sources: Mapping[_Loc, str]) -> str:
    source = _source(loc, sources)
    where = f"from {source}" if source.startswith("environment") else f"in {source}"
    parent_text, _, model = _walk(loc[:-1])
    name = str(loc[-1])
    if model is AgentConfig:
        kind = f"section [{name}]" if isinstance(value, dict) else f'key "{name}"'
        known = ", ".join(f"[{section}]" for section in AgentConfig.model_fields)
        return f"Unknown config {kind} {where}; known sections: {known}."
    known = ", ".join(model.model_fields) if model is not None else "(none)"
    key = f"{parent_text}.{name}" if parent_text else name
    return f'Unknown config key "{key}" {where}; known keys in [{parent_text}]: {known}.'
