"""The station agent's configuration: one optional TOML file plus environment overrides.

IT edits one file per station (or sets a few environment variables from an
installer script), so every setting has a default that works on a fresh PC,
and every mistake is reported as one sentence that names the key, where the
value came from and what would be accepted. Nothing here touches the network
or creates folders: loading the configuration only reads and checks it.

Precedence, lowest to highest: built-in defaults, the config file, the
environment (`LTA_AGENT_*`). The reading, overriding and error messages are
shared with central (`shared.config_loader`); this module holds what is the
agent's own: its keys, defaults, allowed values and the shift arithmetic.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from agent.specs_file import load_spec_file
from shared import config_loader
from shared.analysis_settings import AnalysisSettings, ModelOverride
from shared.config_loader import TEMPLATE_NAME, ConfigError, ConfigSpec
from shared.config_values import (
    LOG_LEVELS,
    BindAddress,
    ConfigSection,
    LoggingConfig,
    Number,
    RequiredPath,
    WholeNumber,
    empty_is_none,
    normalise_path,
    required_path,
    split_bind,
    validation_environ,
)
from shared.config_values import default_data_dir as _program_data_dir
from shared.curves import MAX_POINTS
from shared.errors import ErrorCode, SpecFileError

__all__ = [
    "CONFIG_ENV",
    "CONFIG_INVALID",
    "DATABASE_FILE",
    "DEFAULT_BIND",
    "DEFAULT_SHIFT_STARTS",
    "ENV_PREFIX",
    "FIXED_ENV",
    "LOG_DIR_NAME",
    "LOG_LEVELS",
    "TEMPLATE_NAME",
    "AgentConfig",
    "AnalysisConfig",
    "CentralConfig",
    "ConfigError",
    "InboxConfig",
    "LoggingConfig",
    "Number",
    "ShiftConfig",
    "StationConfig",
    "StorageConfig",
    "WebConfig",
    "WholeNumber",
    "current_shift_start",
    "default_data_dir",
    "default_station_id",
    "load_config",
    "parse_time_of_day",
    "resolve_config_path",
    "split_bind",
    "write_default_config",
]

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

DATABASE_FILE = "agent.sqlite"
LOG_DIR_NAME = "logs"
DEFAULT_BIND = "127.0.0.1:8710"
DEFAULT_SHIFT_STARTS = ("06:00", "14:00", "22:00")

_STATION_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
# A DNS name, or ".suffix" for every name under it (web.allowed_hosts).
HOST_NAME = re.compile(r"\.?[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*")
_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces: it goes in an HTTP header


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
    "inbox.history_window_hours": (
        "a number of hours from 0 to 87600 (0: no file is history, every file counts)"
    ),
    "storage.data_dir": "a folder the agent can write to",
    "storage.retention_days": (
        "a whole number of days from 0 to 36500 (0: keep every result forever)"
    ),
    "web.bind": '"host:port" like "127.0.0.1:8710"',
    "web.page_refresh_ms": "a whole number of milliseconds from 200 to 10000",
    "web.sync_alert_minutes": "a whole number of minutes from 1 to 10080",
    "web.allowed_hosts": (
        'a list of host names like ["trim-07.plant.local"]; ".plant.local" allows every '
        "name under it"
    ),
    "shift.starts": (
        'a list of local start times "HH:MM" like ["06:00", "14:00", "22:00"], '
        "or [] to count by calendar day"
    ),
    "analysis.max_file_mb": "a number of megabytes greater than 0",
    "analysis.max_rows": f"a whole number from 1 to {MAX_POINTS}",
    "analysis.models": 'tables like [analysis.models."8340-1"]',
    "analysis.specs_file": "the path of a model-spec CSV or XLSX file",
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


# --------------------------------------------------------------------------- defaults


def default_station_id(hostname: str | None = None) -> str:
    """The host name made safe for ids: result ids and central's station list key on it."""
    raw = socket.gethostname() if hostname is None else hostname
    safe = re.sub(r"[^a-z0-9._-]+", "-", raw.strip().lower()).strip("-._")
    return safe[:64].rstrip("-._") or "station"


def default_data_dir(environ: Mapping[str, str], platform: str = sys.platform) -> Path:
    """Where a service account can write on each OS without any setup.

    Windows: `%PROGRAMDATA%\\LaserTrimAnalyzer\\agent`; elsewhere the XDG data
    folder, `lta-agent` (see `shared.config_values.default_data_dir`).
    """
    return _program_data_dir("agent", environ, platform)


# --------------------------------------------------------------------------- value helpers


def parse_time_of_day(text: str) -> time:
    """ "HH:MM" (24-hour clock, leading zero optional) to a naive `time`."""
    match = _TIME_RE.match(text.strip())
    if match is None:
        raise ValueError(f'"{text}" is not a time "HH:MM"')
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f'"{text}" is not a time of day (00:00 to 23:59)')
    return time(hour, minute)


# --------------------------------------------------------------------------- sections


class StationConfig(ConfigSection):
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


class InboxConfig(ConfigSection):
    paths: list[Annotated[Path, BeforeValidator(required_path)]] = Field(
        default_factory=lambda: [default_data_dir(os.environ) / "inbox"], min_length=1
    )
    recursive: bool = True
    poll_interval_s: Number = Field(default=1.0, ge=0.2, le=10.0)
    settle_s: Number = Field(default=0.3, ge=0.05, le=5.0)
    archive_dir: Annotated[Path | None, BeforeValidator(empty_is_none)] = None
    # Files tested longer ago than this are history: stored and synced, not counted in
    # the shift nor shown as the latest unit (a folder of old results on first start).
    history_window_hours: Number = Field(default=12.0, ge=0.0, le=87_600.0)

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
        for path in map(normalise_path, value):
            if path not in unique:
                unique.append(path)
        return unique

    @field_validator("archive_dir")
    @classmethod
    def _clean_archive(cls, value: Path | None) -> Path | None:
        return None if value is None else normalise_path(value)

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


class StorageConfig(ConfigSection):
    data_dir: RequiredPath = Field(default_factory=lambda: default_data_dir(os.environ))
    # Delivered results older than this are pruned (agent.retention); undelivered never.
    retention_days: WholeNumber = Field(default=180, ge=0, le=36_500)


class WebConfig(ConfigSection):
    bind: BindAddress = DEFAULT_BIND
    page_refresh_ms: WholeNumber = Field(default=500, ge=200, le=10_000)
    # Results waiting longer than this raise the page's sync banner (agent/web/sync_alert.py).
    sync_alert_minutes: WholeNumber = Field(default=15, ge=1, le=10_080)
    # Names (besides this PC's own, localhost and IP addresses) the page may be opened by;
    # ".plant.local" allows every name under it. Others get 400 (agent/web/security.py).
    allowed_hosts: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        names = [name.strip().rstrip(".").lower() for name in value]
        for name in names:
            if not HOST_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a host name")
        return names


class ShiftConfig(ConfigSection):
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


class AnalysisConfig(ConfigSection):
    max_file_mb: Number = Field(default=50.0, gt=0)
    # At most what one curve may carry to central (shared/curves.py): a longer sheet
    # could be analysed here but never delivered.
    max_rows: WholeNumber = Field(default=100_000, gt=0, le=MAX_POINTS)
    models: dict[str, ModelOverride] = Field(default_factory=dict)
    # QA's model specs (CSV or XLSX, agent/specs_file.py); read at start, refused whole if bad.
    specs_file: Annotated[Path | None, BeforeValidator(empty_is_none)] = None

    @field_validator("models")
    @classmethod
    def _check_model_names(cls, value: dict[str, ModelOverride]) -> dict[str, ModelOverride]:
        if any(not name.strip() for name in value):
            raise ValueError("a model name is empty")
        return value


class CentralConfig(ConfigSection):
    # Errors must never echo the token, even if someone prints a raw ValidationError.
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, hide_input_in_errors=True
    )

    url: Annotated[str | None, BeforeValidator(empty_is_none)] = None
    token: Annotated[SecretStr | None, BeforeValidator(empty_is_none)] = None
    ca_bundle: Annotated[Path | None, BeforeValidator(empty_is_none)] = None
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
        value = normalise_path(value)
        if not value.is_file():
            raise ValueError("file does not exist")
        return value


class AgentConfig(ConfigSection):
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
        environ = validation_environ(info)
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
                data["inbox"] = {**inbox, "paths": [normalise_path(base) / "inbox"]}
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
        """The verdict-relevant settings in the shape the analysis (and later central) uses.

        Raises ConfigError naming `analysis.specs_file` when the spec file cannot be used.
        """
        specs = None
        if self.analysis.specs_file is not None:
            try:
                specs = load_spec_file(self.analysis.specs_file)
            except SpecFileError as exc:
                raise ConfigError(
                    f"analysis.specs_file: {exc.message}",
                    [f"analysis.specs_file: {p}" for p in exc.problems] or None,
                ) from exc
        return AnalysisSettings(
            model_overrides=dict(self.analysis.models),
            max_file_bytes=max(1, round(self.analysis.max_file_mb * 1024 * 1024)),
            max_rows=self.analysis.max_rows,
            include_curves=True,
            specs=specs,
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

_SPEC = ConfigSpec(
    model=AgentConfig,
    env_prefix=ENV_PREFIX,
    config_env=CONFIG_ENV,
    fixed_env=FIXED_ENV,
    expected=_EXPECTED,
    env_example="INBOX__RECURSIVE",
)


def resolve_config_path(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The config file to read: the one given, else `LTA_AGENT_CONFIG`, else none."""
    return config_loader.resolve_config_path(_SPEC, path, environ)


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Read the file (if any), apply the environment, validate; ConfigError on any problem."""
    return config_loader.load_config(_SPEC, path, environ)


def write_default_config(path: Path) -> None:
    """Write the commented template; never overwrite, since it may hold a station's token."""
    config_loader.write_default_config(path, "agent", TEMPLATE_NAME)
