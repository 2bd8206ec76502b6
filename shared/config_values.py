"""Field types and checks that both programs' config models are built from.

The agent and central are configured by the same people in the same way, so a
number, a folder, an optional value or a "host:port" must be accepted, cleaned
and rejected identically in both. The config models import these instead of
each writing their own validators.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo
from pydantic_core import PydanticCustomError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_HOST_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class ConfigSection(BaseModel):
    """Base of every config section.

    Frozen so nothing changes settings behind the loader's back; misspelt keys
    are errors; NaN and infinity are never useful limits.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @classmethod
    def default_of(cls, key: str) -> Any:
        """The default a key declares, for the runtime settings built from this section.

        A program's settings objects (ingest limits, the lock-out policy, the
        watcher) take their defaults from here, so each default is written once,
        in the config model IT reads about, and a test that builds settings
        without a config gets exactly what a fresh install runs with.
        """
        return cls.model_fields[key].get_default(call_default_factory=True)


# --------------------------------------------------------------------------- plain values


def reject_bool(value: Any) -> Any:
    """TOML `true` is not a number; pydantic alone would quietly read it as 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_is_bool", "true/false is not a number")
    return value


def required_path(value: Any) -> Any:
    """A blank path is a mistake, not "the current folder"."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise PydanticCustomError("empty_path", "must not be empty")
    return value


def empty_is_none(value: Any) -> Any:
    """An empty string means "not set", so an environment variable can clear a file value."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def normalise_path(path: Path) -> Path:
    """Absolute without resolving links: a network share may be offline at start-up."""
    return path.expanduser().absolute()


def _upper_log_level(value: Any) -> Any:
    """Any case is accepted; the error shows the value as written, not uppercased."""
    if not isinstance(value, str):
        return value
    if value.strip().upper() not in LOG_LEVELS:
        raise ValueError("is not a log level")
    return value.strip().upper()


#: A float that refuses true/false.
Number = Annotated[float, BeforeValidator(reject_bool)]
#: An int that refuses true/false.
WholeNumber = Annotated[int, BeforeValidator(reject_bool)]
#: A folder or file that must be given; made absolute.
RequiredPath = Annotated[Path, BeforeValidator(required_path), AfterValidator(normalise_path)]
#: One of LOG_LEVELS, written in any case.
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper_log_level)
]


# --------------------------------------------------------------------------- host:port


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


def _check_bind(value: str) -> str:
    split_bind(value)
    return value.strip()


#: "host:port" as the web servers take it; checked when the config loads, not at bind time.
BindAddress = Annotated[str, AfterValidator(_check_bind)]


# --------------------------------------------------------------------------- shared sections


class LoggingConfig(ConfigSection):
    """`[logging]`: the same in both programs, so IT learns it once."""

    level: LogLevel = "INFO"


# --------------------------------------------------------------------------- platform defaults


def default_data_dir(
    program: str, environ: Mapping[str, str], platform: str = sys.platform
) -> Path:
    """Where a service account can write on each OS without any setup.

    Windows services have no useful home folder, so the machine-wide ProgramData
    is used there (`LaserTrimAnalyzer\\<program>`); elsewhere the XDG data folder
    of the account running the program (`lta-<program>`).
    """
    if platform == "win32":
        base = environ.get("PROGRAMDATA") or environ.get("ProgramData") or r"C:\ProgramData"
        return Path(base) / "LaserTrimAnalyzer" / program
    xdg = environ.get("XDG_DATA_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore relative values
        return Path(xdg) / f"lta-{program}"
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".local" / "share" / f"lta-{program}"


def validation_environ(info: ValidationInfo) -> Mapping[str, str]:
    """The environment `load_config` validates against (os.environ when built directly).

    Defaults that depend on the environment read it from here, so tests and
    scripts that pass their own environment get defaults from it too.
    """
    context = info.context if isinstance(info.context, dict) else {}
    environ = context.get("environ")
    return environ if isinstance(environ, Mapping) else os.environ
