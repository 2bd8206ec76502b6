"""The central service's configuration: one optional TOML file plus environment overrides.

Same rules as the station agent's (see `shared.config_loader`), so IT learns
them once: built-in defaults, then the file (`--config` or `LTA_CENTRAL_CONFIG`),
then the environment (`LTA_CENTRAL_*`), later winning. With no file and no
variables central runs for evaluation: an embedded PostgreSQL in its data
folder, serving this machine only.

The database URL usually carries a password, so it is a secret: never shown
in messages, logs or `repr`; only `CentralConfig.database_url_value` gives it
to the code that connects.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

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

from shared import config_loader
from shared.config_loader import TEMPLATE_NAME, ConfigError, ConfigSpec
from shared.config_values import (
    BindAddress,
    ConfigSection,
    LoggingConfig,
    RequiredPath,
    WholeNumber,
    empty_is_none,
    split_bind,
    validation_environ,
)
from shared.config_values import default_data_dir as _program_data_dir

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_BIND",
    "ENV_PREFIX",
    "FIXED_ENV",
    "TEMPLATE_NAME",
    "AlarmsConfig",
    "CentralConfig",
    "ConfigError",
    "DatabaseConfig",
    "IngestConfig",
    "LoggingConfig",
    "LoginConfig",
    "StorageConfig",
    "WebConfig",
    "default_data_dir",
    "load_config",
    "resolve_config_path",
    "write_default_config",
]

ENV_PREFIX = "LTA_CENTRAL_"
CONFIG_ENV = "LTA_CENTRAL_CONFIG"
#: The fixed environment names deployment scripts rely on; never rename them.
FIXED_ENV: Mapping[str, tuple[str, str]] = {
    "LTA_CENTRAL_DATABASE_URL": ("database", "url"),
    "LTA_CENTRAL_BIND": ("web", "bind"),
    "LTA_CENTRAL_DATA_DIR": ("storage", "data_dir"),
}

DEFAULT_BIND = "127.0.0.1:8720"
LOG_DIR_NAME = "logs"
EMBEDDED_PG_DIR_NAME = "pgdata"
KIB = 1024
MIB = 1024 * KIB
_URL_SCHEMES = ("postgresql", "postgres")

# What each key accepts, in words IT can act on; appended to every error for that key.
_EXPECTED: Mapping[str, str] = {
    "database.url": (
        'a PostgreSQL URL like "postgresql://lta:PASSWORD@db.example.com:5432/lta", '
        "or no value for the embedded database"
    ),
    "database.pool_min_size": "a whole number from 1 to 50",
    "database.pool_max_size": "a whole number from 1 to 200, at least pool_min_size",
    "storage.data_dir": "a folder the central service can write to",
    "web.bind": '"host:port" like "127.0.0.1:8720"',
    "ingest.max_body_bytes": "a whole number of bytes, at least 1",
    "ingest.max_uncompressed_bytes": "a whole number of bytes, at least 1",
    "ingest.max_batch_results": "a whole number from 1 to 1000",
    "ingest.rate_limit_per_minute": "a whole number of requests, at least 1",
    "ingest.rate_burst": "a whole number of requests, at least 1",
    "logging.level": "one of DEBUG, INFO, WARNING, ERROR",
    "web.behind_tls_proxy": "true or false",
    "web.max_request_header_bytes": "a whole number of bytes from 8192 to 1048576",
    "web.connection_limit": "a whole number of connections from 10 to 10000",
    "web.request_buffer_bytes": "a whole number of bytes from 65536 to 268435456",
    "web.max_concurrent_exports": "a whole number of exports from 1 to 6",
    "login.session_hours": "a whole number of hours from 1 to 720",
    "login.max_failures": "a whole number of failed sign-ins from 1 to 100",
    "login.failure_window_minutes": "a whole number of minutes from 1 to 1440",
    "login.lockout_minutes": "a whole number of minutes from 1 to 1440",
    "alarms.silent_after_minutes": "a whole number of minutes from 1 to 10080",
    "alarms.evaluate_every_seconds": "a whole number of seconds from 10 to 3600",
    "alarms.recent_days": "a whole number of days from 1 to 90",
    "alarms.baseline_days": "a whole number of days from 7 to 730",
    "alarms.yield_units": "a whole number of units from 20 to 1000",
}


def default_data_dir(environ: Mapping[str, str], platform: str = sys.platform) -> Path:
    """Windows: `%PROGRAMDATA%\\LaserTrimAnalyzer\\central`; elsewhere `lta-central` in XDG data."""
    return _program_data_dir("central", environ, platform)


# --------------------------------------------------------------------------- sections


class DatabaseConfig(ConfigSection):
    """`[database]`: where results are stored; no URL means an embedded PostgreSQL."""

    # Errors must never echo the URL's password, even if someone prints a raw ValidationError.
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, hide_input_in_errors=True
    )

    url: Annotated[SecretStr | None, BeforeValidator(empty_is_none)] = None
    pool_min_size: WholeNumber = Field(default=1, ge=1, le=50)
    pool_max_size: WholeNumber = Field(default=10, ge=1, le=200)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: SecretStr | None) -> SecretStr | None:
        """Only the scheme is checked: libpq accepts many forms (sockets, several hosts)."""
        if value is None:
            return None
        scheme, sep, _ = value.get_secret_value().partition("://")
        if not sep or scheme.lower() not in _URL_SCHEMES:
            raise ValueError("must start with postgresql:// or postgres://")
        return value

    @model_validator(mode="after")
    def _pool_sizes(self) -> DatabaseConfig:
        """A pool that may hold fewer connections than it opens at start cannot be built."""
        if self.pool_max_size < self.pool_min_size:
            raise PydanticCustomError(
                "pool_too_small",
                "must be at least database.pool_min_size ({minimum})",
                {
                    "blame_key": "pool_max_size",
                    "value": self.pool_max_size,
                    "minimum": self.pool_min_size,
                },
            )
        return self


class StorageConfig(ConfigSection):
    """`[storage]`: central's own files (logs, the embedded database)."""

    data_dir: RequiredPath = Field(default_factory=lambda: default_data_dir(os.environ))


class WebConfig(ConfigSection):
    """`[web]`: where the dashboard and the ingest API listen."""

    bind: BindAddress = DEFAULT_BIND
    # A TLS proxy in front: session cookies only over https, and its X-Forwarded-For
    # (the browser's address, for the audit log) is believed.
    behind_tls_proxy: bool = False
    # What the web server takes before any handler (and so before authentication) runs.
    # A request body over ingest.max_body_bytes is refused (413) from its Content-Length,
    # unread. Worst case memory of request bodies: connection_limit x request_buffer_bytes;
    # larger bodies wait in a temporary file.
    max_request_header_bytes: WholeNumber = Field(default=64 * KIB, ge=8 * KIB, le=MIB)
    connection_limit: WholeNumber = Field(default=100, ge=10, le=10_000)
    request_buffer_bytes: WholeNumber = Field(default=8 * MIB, ge=64 * KIB, le=256 * MIB)
    # Excel exports writing at once in one process; more wait with a 429 (Retry-After).
    max_concurrent_exports: WholeNumber = Field(default=2, ge=1, le=6)


class IngestConfig(ConfigSection):
    """`[ingest]`: limits that keep one station (or a broken one) from swamping central."""

    max_body_bytes: WholeNumber = Field(default=32 * MIB, ge=1)
    max_uncompressed_bytes: WholeNumber = Field(default=256 * MIB, ge=1)
    max_batch_results: WholeNumber = Field(default=1000, ge=1, le=1000)
    rate_limit_per_minute: WholeNumber = Field(default=600, ge=1)
    rate_burst: WholeNumber = Field(default=60, ge=1)


class LoginConfig(ConfigSection):
    """`[login]`: dashboard sessions and the lock-out after repeated failed sign-ins."""

    session_hours: WholeNumber = Field(default=12, ge=1, le=720)
    max_failures: WholeNumber = Field(default=5, ge=1, le=100)
    failure_window_minutes: WholeNumber = Field(default=15, ge=1, le=1440)
    lockout_minutes: WholeNumber = Field(default=15, ge=1, le=1440)


class AlarmsConfig(ConfigSection):
    """`[alarms]`: when the overview raises an alarm (docs/decisions/0013-alarms.md)."""

    silent_after_minutes: WholeNumber = Field(default=60, ge=1, le=10080)
    evaluate_every_seconds: WholeNumber = Field(default=60, ge=10, le=3600)
    recent_days: WholeNumber = Field(default=7, ge=1, le=90)
    baseline_days: WholeNumber = Field(default=90, ge=7, le=730)
    yield_units: WholeNumber = Field(default=50, ge=20, le=1000)


class CentralConfig(ConfigSection):
    """Everything central reads from its config; build it with `load_config`."""

    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    login: LoginConfig = Field(default_factory=LoginConfig)
    alarms: AlarmsConfig = Field(default_factory=AlarmsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @model_validator(mode="before")
    @classmethod
    def _platform_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        """The default data folder follows the environment given to `load_config`."""
        if not isinstance(data, dict):
            return data
        storage = data.get("storage", {})
        if isinstance(storage, dict) and "data_dir" not in storage:
            data_dir = default_data_dir(validation_environ(info))
            data = {**data, "storage": {**storage, "data_dir": data_dir}}
        return data

    @property
    def bind_host(self) -> str:
        """Host part of web.bind, IPv6 without brackets (as socket APIs want it)."""
        return split_bind(self.web.bind)[0]

    @property
    def bind_port(self) -> int:
        return split_bind(self.web.bind)[1]

    @property
    def database_url_value(self) -> str | None:
        """The URL in plain text, for the code that connects; None means embedded PostgreSQL."""
        url = self.database.url
        return None if url is None else url.get_secret_value()

    @property
    def log_dir(self) -> Path:
        return self.storage.data_dir / LOG_DIR_NAME

    @property
    def embedded_pg_dir(self) -> Path:
        """Where the embedded PostgreSQL keeps its cluster when no URL is set."""
        return self.storage.data_dir / EMBEDDED_PG_DIR_NAME


# --------------------------------------------------------------------------- loading

_SPEC = ConfigSpec(
    model=CentralConfig,
    env_prefix=ENV_PREFIX,
    config_env=CONFIG_ENV,
    fixed_env=FIXED_ENV,
    expected=_EXPECTED,
    env_example="INGEST__RATE_BURST",
)


def resolve_config_path(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The config file to read: the one given, else `LTA_CENTRAL_CONFIG`, else none."""
    return config_loader.resolve_config_path(_SPEC, path, environ)


def load_config(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> CentralConfig:
    """Read the file (if any), apply the environment, validate; ConfigError on any problem."""
    return config_loader.load_config(_SPEC, path, environ)


def write_default_config(path: Path) -> None:
    """Write the commented template; never overwrite, since it may hold the database password."""
    config_loader.write_default_config(path, "central", TEMPLATE_NAME)
