"""Agent configuration: defaults, file, environment, and the messages IT sees on mistakes."""

from __future__ import annotations

import os
import re
import socket
from datetime import UTC, datetime, time, timedelta, timezone
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from pydantic import BaseModel, ValidationError

from agent.config import (
    CONFIG_INVALID,
    AgentConfig,
    ConfigError,
    current_shift_start,
    default_data_dir,
    default_station_id,
    load_config,
    split_bind,
    write_default_config,
)
from shared.analysis_settings import AnalysisSettings, ModelOverride
from shared.errors import ErrorCode, LtaError

TOKEN = "s3cr3t-T0KEN-value"  # noqa: S105 - a test token, hidden in every output
TEMPLATE = resources.files("agent").joinpath("config_template.toml")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None, environ: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ)
    return caught.value


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose platform defaults point into tmp_path."""
    return {"XDG_DATA_HOME": str(tmp_path / "xdg")}


# --------------------------------------------------------------------------- defaults


def test_defaults_without_file_or_environment() -> None:
    config = load_config(None, {})
    data_dir = default_data_dir({}).absolute()
    assert config.storage.data_dir == data_dir
    assert config.inbox.paths == [data_dir / "inbox"]
    assert config.inbox.recursive is True
    assert config.inbox.poll_interval_s == 1.0
    assert config.inbox.settle_s == 0.3
    assert config.inbox.archive_dir is None
    assert config.inbox.history_window_hours == 12.0
    assert config.web.bind == "127.0.0.1:8710"
    assert config.web.page_refresh_ms == 500
    assert config.shift.starts == ["06:00", "14:00", "22:00"]
    assert config.analysis.max_file_mb == 50.0
    assert config.analysis.max_rows == 100_000
    assert config.analysis.models == {}
    assert config.central.url is None
    assert config.central.token is None
    assert config.central.ca_bundle is None
    assert config.central.sync_interval_s == 5.0
    assert config.central.batch_size == 200
    assert config.logging.level == "INFO"
    assert config.station.id == default_station_id()
    assert config.station.name == f"Trim station {config.station.id}"
    assert config.bind_host == "127.0.0.1"
    assert config.bind_port == 8710
    assert config.database_path == data_dir / "agent.sqlite"
    assert config.log_dir == data_dir / "logs"


def test_default_station_id_is_safe_host_name() -> None:
    assert default_station_id() == default_station_id(socket.gethostname())
    assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", default_station_id())
    assert default_station_id("TRIM PC #7.Plant") == "trim-pc-7.plant"
    assert default_station_id("___") == "station"


def test_default_data_dir_per_platform(tmp_path: Path) -> None:
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}, "linux") == tmp_path / "lta-agent"
    assert default_data_dir({"XDG_DATA_HOME": "relative", "HOME": str(tmp_path)}, "linux") == (
        tmp_path / ".local" / "share" / "lta-agent"
    )
    windows = default_data_dir({"PROGRAMDATA": "D:\\PD"}, "win32")
    assert str(windows).startswith("D:\\PD")
    assert windows.parts[-2:] == ("LaserTrimAnalyzer", "agent")


def test_defaults_follow_the_given_environment(tmp_path: Path, env: dict[str, str]) -> None:
    config = load_config(None, env)
    assert config.storage.data_dir == tmp_path / "xdg" / "lta-agent"
    assert config.inbox.paths == [tmp_path / "xdg" / "lta-agent" / "inbox"]


def test_model_constructed_directly_has_defaults() -> None:
    config = AgentConfig()
    assert config.inbox.paths == [config.storage.data_dir / "inbox"]
    assert config.station.name.startswith("Trim station ")


def test_config_is_frozen() -> None:
    config = load_config(None, {})
    with pytest.raises(ValidationError):
        config.web.bind = "0.0.0.0:1"  # type: ignore[misc]


# --------------------------------------------------------------------------- file values

FULL_FILE = """
[station]
id = "trim-07"
name = "Line B, station 7"

[inbox]
paths = ["{inbox}", "relative-inbox"]
recursive = false
poll_interval_s = 2.5
settle_s = 0.5
archive_dir = "{archive}"

[storage]
data_dir = "{data}"

[web]
bind = "0.0.0.0:9000"
page_refresh_ms = 1000

[shift]
starts = ["22:00", "6:00"]

[analysis]
max_file_mb = 2.5
max_rows = 5000

[analysis.models."8340-1"]
sigma_threshold = 0.002

[analysis.models."8340"]
linearity_spec = 0.01

[central]
url = "https://central.example.com/"
token = "{token}"
ca_bundle = "ca.pem"
sync_interval_s = 30
batch_size = 50

[logging]
level = "debug"
"""


def full_file(tmp_path: Path) -> Path:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    text = FULL_FILE.format(
        inbox=(tmp_path / "in").as_posix(),
        archive=(tmp_path / "archive").as_posix(),
        data=(tmp_path / "data").as_posix(),
        token=TOKEN,
    )
    return write(tmp_path / "agent.toml", text)


def test_file_values(tmp_path: Path, env: dict[str, str]) -> None:
    config = load_config(full_file(tmp_path), env)
    assert config.station.id == "trim-07"
    assert config.station.name == "Line B, station 7"
    assert config.inbox.paths == [tmp_path / "in", tmp_path / "relative-inbox"]
    assert config.inbox.recursive is False
    assert config.inbox.poll_interval_s == 2.5
    assert config.inbox.settle_s == 0.5
    assert config.inbox.archive_dir == tmp_path / "archive"
    assert config.storage.data_dir == tmp_path / "data"
    assert config.database_path == tmp_path / "data" / "agent.sqlite"
    assert config.log_dir == tmp_path / "data" / "logs"
    assert (config.bind_host, config.bind_port) == ("0.0.0.0", 9000)  # noqa: S104
    assert config.web.page_refresh_ms == 1000
    assert config.shift.starts == ["06:00", "22:00"]
    assert config.analysis.max_file_mb == 2.5
    assert config.analysis.max_rows == 5000
    assert config.central.url == "https://central.example.com"
    assert config.central.token is not None
    assert config.central.token.get_secret_value() == TOKEN
    assert config.central.ca_bundle == tmp_path / "ca.pem"
    assert config.central.sync_interval_s == 30.0
    assert config.central.batch_size == 50
    assert config.logging.level == "DEBUG"


def test_file_data_dir_moves_default_inbox(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", '[storage]\ndata_dir = "state"\n')
    config = load_config(path, env)
    assert config.storage.data_dir == tmp_path / "state"
    assert config.inbox.paths == [tmp_path / "state" / "inbox"]


def test_single_inbox_string_and_empty_optional_values(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(
        tmp_path / "agent.toml",
        '[inbox]\npaths = "in"\narchive_dir = ""\n[central]\nurl = ""\ntoken = ""\n',
    )
    config = load_config(path, env)
    assert config.inbox.paths == [tmp_path / "in"]
    assert config.inbox.archive_dir is None
    assert config.central.url is None
    assert config.central.token is None


def test_windows_notepad_byte_order_mark_is_accepted(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "agent.toml"
    path.write_bytes(b'\xef\xbb\xbf[station]\nid = "bom"\n')
    assert load_config(path, env).station.id == "bom"


def test_config_file_named_by_environment(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", '[station]\nid = "from-env-file"\n')
    config = load_config(None, {**env, "LTA_AGENT_CONFIG": str(path)})
    assert config.station.id == "from-env-file"
    assert config.station.name == "Trim station from-env-file"


def test_explicit_path_beats_config_variable(tmp_path: Path, env: dict[str, str]) -> None:
    chosen = write(tmp_path / "a.toml", '[station]\nid = "chosen"\n')
    config = load_config(chosen, {**env, "LTA_AGENT_CONFIG": str(tmp_path / "missing.toml")})
    assert config.station.id == "chosen"


# --------------------------------------------------------------------------- environment


def test_fixed_environment_names_beat_the_file(tmp_path: Path, env: dict[str, str]) -> None:
    inbox_a, inbox_b = tmp_path / "env-a", tmp_path / "env-b"
    environ = {
        **env,
        "LTA_AGENT_INBOX": f"{inbox_a}{os.pathsep}{inbox_b}",
        "LTA_AGENT_DATA_DIR": str(tmp_path / "env-data"),
        "LTA_AGENT_BIND": "[::1]:8800",
        "LTA_AGENT_STATION_ID": "env-station",
        "LTA_AGENT_CENTRAL_URL": "http://10.0.0.5:8080",
        "LTA_AGENT_CENTRAL_TOKEN": "other-token",
    }
    config = load_config(full_file(tmp_path), environ)
    assert config.inbox.paths == [inbox_a, inbox_b]
    assert config.storage.data_dir == tmp_path / "env-data"
    assert config.web.bind == "[::1]:8800"
    assert (config.bind_host, config.bind_port) == ("::1", 8800)
    assert config.station.id == "env-station"
    assert config.station.name == "Line B, station 7"  # from the file; not derived again
    assert config.central.url == "http://10.0.0.5:8080"
    assert config.central.token is not None
    assert config.central.token.get_secret_value() == "other-token"
    assert config.inbox.recursive is False  # untouched file value survives


def test_generic_environment_form_beats_the_file(tmp_path: Path, env: dict[str, str]) -> None:
    environ = {
        **env,
        "LTA_AGENT_INBOX__RECURSIVE": "true",
        "LTA_AGENT_INBOX__POLL_INTERVAL_S": "0.5",
        "LTA_AGENT_INBOX__HISTORY_WINDOW_HOURS": "0",
        "LTA_AGENT_SHIFT__STARTS": "18:00, 06:00",
        "LTA_AGENT_WEB__PAGE_REFRESH_MS": "250",
        "LTA_AGENT_ANALYSIS__MAX_ROWS": "123",
        "LTA_AGENT_CENTRAL__BATCH_SIZE": "7",
        "LTA_AGENT_LOGGING__LEVEL": "warning",
        "LTA_AGENT_INBOX__ARCHIVE_DIR": "",  # empty clears an optional value
    }
    config = load_config(full_file(tmp_path), environ)
    assert config.inbox.recursive is True
    assert config.inbox.poll_interval_s == 0.5
    assert config.inbox.history_window_hours == 0  # history off: every file counts
    assert config.shift.starts == ["06:00", "18:00"]
    assert config.web.page_refresh_ms == 250
    assert config.analysis.max_rows == 123
    assert config.central.batch_size == 7
    assert config.logging.level == "WARNING"
    assert config.inbox.archive_dir is None
    assert config.analysis.models["8340-1"].sigma_threshold == 0.002


def test_empty_shift_list_from_environment_means_calendar_day(env: dict[str, str]) -> None:
    config = load_config(None, {**env, "LTA_AGENT_SHIFT__STARTS": ""})
    assert config.shift.starts == []


def test_environment_data_dir_moves_default_inbox(tmp_path: Path, env: dict[str, str]) -> None:
    config = load_config(None, {**env, "LTA_AGENT_DATA_DIR": str(tmp_path / "d")})
    assert config.inbox.paths == [tmp_path / "d" / "inbox"]


def test_other_lta_agent_variables_are_ignored(env: dict[str, str]) -> None:
    config = load_config(None, {**env, "LTA_AGENT_SOMETHING_ELSE": "x", "PATH": "/bin"})
    assert config == load_config(None, env)


def test_same_key_from_two_variables_is_an_error(env: dict[str, str]) -> None:
    error = config_error(None, {**env, "LTA_AGENT_BIND": "a:1", "LTA_AGENT_WEB__BIND": "b:2"})
    assert "LTA_AGENT_BIND" in error.message
    assert "LTA_AGENT_WEB__BIND" in error.message
    assert "web.bind" in error.message


@pytest.mark.parametrize(
    "name",
    ["LTA_AGENT_ANALYSIS__MODELS__X__SIGMA_THRESHOLD", "LTA_AGENT_INBOX__", "LTA_AGENT_A__B__C"],
)
def test_malformed_generic_variable_is_an_error(env: dict[str, str], name: str) -> None:
    error = config_error(None, {**env, name: "1"})
    assert name in error.message


# --------------------------------------------------------------------------- bad values

BAD_VALUES = [
    ("station", "id", '"Trim 7"', "not a valid station id"),
    ("station", "name", '"' + "x" * 101 + '"', "1 to 100 characters"),
    ("inbox", "paths", "[]", "must not be empty"),
    ("inbox", "paths", "[1]", "is not a path"),
    ("inbox", "recursive", '"maybe"', "true or false"),
    ("inbox", "poll_interval_s", "0.1", "at least 0.2"),
    ("inbox", "poll_interval_s", "11", "at most 10"),
    ("inbox", "poll_interval_s", "true", "not a number"),
    ("inbox", "settle_s", '"slow"', "not a number"),
    ("inbox", "settle_s", "6", "at most 5"),
    ("inbox", "history_window_hours", "-1", "at least 0"),
    ("inbox", "history_window_hours", "87601", "at most 87600"),
    ("inbox", "history_window_hours", '"a day"', "not a number"),
    ("storage", "data_dir", '""', "must not be empty"),
    ("web", "bind", '"localhost:99999"', "port must be 1-65535"),
    ("web", "bind", '"localhost"', "port is missing"),
    ("web", "bind", '"::1:8710"', "brackets"),
    ("web", "bind", '"bad_host!:80"', "not an IP address or host name"),
    ("web", "bind", '"999.1.1.1:80"', "not an IP address or host name"),
    ("web", "bind", '":8710"', "host is missing"),
    ("web", "bind", '"[::zz]:80"', "not an IPv6 address"),
    ("web", "bind", "8710", "is not text"),
    ("web", "page_refresh_ms", "100", "at least 200"),
    ("web", "page_refresh_ms", "1.5", "not a whole number"),
    ("shift", "starts", '["6"]', "not a time"),
    ("shift", "starts", '["24:00"]', "not a time of day"),
    ("shift", "starts", '["06:00", "6:00"]', "listed twice"),
    ("shift", "starts", '"06:00"', "not a list"),
    ("analysis", "max_file_mb", "0", "greater than 0"),
    ("analysis", "max_file_mb", "nan", "finite"),
    ("analysis", "max_rows", "-5", "greater than 0"),
    ("central", "url", '"ftp://x.example.com"', "http:// or https://"),
    ("central", "url", '"https://"', "no valid host"),
    ("central", "url", '"https://user:pw@x.example.com"', "user name or password"),
    ("central", "url", '"https://x.example.com:99999"', "invalid port"),
    ("central", "ca_bundle", '"missing.pem"', "does not exist"),
    ("central", "sync_interval_s", "0", "greater than 0"),
    ("central", "sync_interval_s", "4000", "at most 3600"),
    ("central", "batch_size", "0", "at least 1"),
    ("central", "batch_size", "1001", "at most 1000"),
    ("logging", "level", '"verbose"', "not a log level"),
]


@pytest.mark.parametrize(("section", "key", "value", "reason"), BAD_VALUES)
def test_bad_file_value_names_key_source_value_and_reason(
    tmp_path: Path, env: dict[str, str], section: str, key: str, value: str, reason: str
) -> None:
    path = write(tmp_path / "agent.toml", f"[{section}]\n{key} = {value}\n")
    error = config_error(path, env)
    assert error.code is ErrorCode.CONFIG_INVALID
    assert error.code == CONFIG_INVALID
    assert isinstance(error, LtaError)
    assert len(error.problems) == 1
    message = error.message
    assert message.startswith(f"Invalid config: {section}.{key}")
    assert f"(from {path.absolute()})" in message
    assert reason in message
    assert "; expected " in message
    assert "\n" not in message


def test_bad_value_message_matches_documented_shape(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", '[web]\nbind = "localhost:99999"\n')
    assert config_error(path, env).message == (
        f'Invalid config: web.bind = "localhost:99999" (from {path.absolute()}): '
        'port must be 1-65535; expected "host:port" like "127.0.0.1:8710".'
    )


@pytest.mark.parametrize(
    ("name", "value", "key"),
    [
        ("LTA_AGENT_BIND", "localhost:0", "web.bind"),
        ("LTA_AGENT_STATION_ID", "UPPER", "station.id"),
        ("LTA_AGENT_CENTRAL_URL", "nope", "central.url"),
        ("LTA_AGENT_DATA_DIR", "", "storage.data_dir"),
        ("LTA_AGENT_INBOX", "", "inbox.paths"),
        ("LTA_AGENT_INBOX__RECURSIVE", "sometimes", "inbox.recursive"),
        ("LTA_AGENT_SHIFT__STARTS", "06:00,25:61", "shift.starts"),
        ("LTA_AGENT_ANALYSIS__MAX_FILE_MB", "lots", "analysis.max_file_mb"),
    ],
)
def test_bad_environment_value_names_the_variable(
    env: dict[str, str], name: str, value: str, key: str
) -> None:
    message = config_error(None, {**env, name: value}).message
    assert message.startswith(f"Invalid config: {key}")
    assert f"(from environment variable {name})" in message


def test_every_problem_is_reported_once(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(
        tmp_path / "agent.toml", '[web]\nbind = "x"\npage_refresh_ms = 1\n[logging]\nlevel = 3\n'
    )
    error = config_error(path, env)
    assert [problem.split(" = ")[0] for problem in error.problems] == [
        "Invalid config: web.bind",
        "Invalid config: web.page_refresh_ms",
        "Invalid config: logging.level",
    ]
    assert error.message == "\n".join(error.problems)


def test_bad_model_override(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", '[analysis.models."8340-1"]\nsigma_threshold = -1\n')
    message = config_error(path, env).message
    assert message.startswith('Invalid config: analysis.models."8340-1".sigma_threshold = -1')
    assert str(path.absolute()) in message


def test_section_that_is_not_a_table(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", 'inbox = "D:/in"\n')
    message = config_error(path, env).message
    assert message.startswith('Invalid config: inbox = "D:/in"')
    assert "is not a table" in message


def test_archive_inside_watched_folder(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", '[inbox]\npaths = ["in"]\narchive_dir = "in/done"\n')
    message = config_error(path, env).message
    assert message.startswith(f'Invalid config: inbox.archive_dir = "{tmp_path / "in" / "done"}"')
    assert "inside the watched folder" in message
    assert str(path.absolute()) in message
    # Without recursion the scanner never looks into in/done, so it is allowed.
    text = '[inbox]\npaths = ["in"]\nrecursive = false\narchive_dir = "in/done"\n'
    config = load_config(write(tmp_path / "ok.toml", text), env)
    assert config.inbox.archive_dir == tmp_path / "in" / "done"


# --------------------------------------------------------------------------- unknown keys, syntax


def test_unknown_key_in_file(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", "[inbox]\nrecurse = true\n")
    assert config_error(path, env).message == (
        f'Unknown config key "inbox.recurse" in {path.absolute()}; known keys in [inbox]: '
        "paths, recursive, poll_interval_s, settle_s, archive_dir, history_window_hours."
    )


def test_unknown_key_from_environment(env: dict[str, str]) -> None:
    message = config_error(None, {**env, "LTA_AGENT_WEB__PORT": "80"}).message
    assert message.startswith('Unknown config key "web.port" from environment variable')
    assert "LTA_AGENT_WEB__PORT" in message
    assert "known keys in [web]: bind, page_refresh_ms" in message


def test_unknown_section_and_top_level_key(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", "recursive = true\n[inbx]\npaths = []\n")
    problems = config_error(path, env).problems
    assert any(p.startswith('Unknown config key "recursive"') for p in problems)
    assert any(p.startswith("Unknown config section [inbx]") for p in problems)
    assert all("known sections: [station], [inbox]" in p for p in problems)


def test_unknown_key_in_model_override(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", '[analysis.models."8340"]\nsigma = 1\n')
    message = config_error(path, env).message
    assert message.startswith('Unknown config key "analysis.models."8340".sigma"')
    assert "sigma_threshold, linearity_spec" in message


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", '[web]\nbind = "127.0.0.1:8710"\nrefresh = \n')
    message = config_error(path, env).message
    assert str(path.absolute()) in message
    assert "line 3, column 11" in message


def test_unescaped_windows_path_gets_a_hint(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", '[inbox]\npaths = ["C:\\Trim"]\n')
    message = config_error(path, env).message
    assert "line 2" in message
    assert "single quotes" in message


def test_file_that_is_not_utf8(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "agent.toml"
    path.write_bytes(b'[station]\nname = "Station \xe9"\n')
    assert "not UTF-8" in config_error(path, env).message


def test_missing_explicit_file_is_an_error(tmp_path: Path, env: dict[str, str]) -> None:
    missing = tmp_path / "nope.toml"
    assert str(missing) in config_error(missing, env).message
    from_env = config_error(None, {**env, "LTA_AGENT_CONFIG": str(missing)}).message
    assert str(missing) in from_env
    assert "LTA_AGENT_CONFIG" in from_env


def test_folder_given_as_config_file(tmp_path: Path, env: dict[str, str]) -> None:
    assert "is a folder" in config_error(tmp_path, env).message


# --------------------------------------------------------------------------- the token


def test_token_never_shown(tmp_path: Path, env: dict[str, str]) -> None:
    config = load_config(full_file(tmp_path), env)
    for text in (repr(config), str(config), repr(config.central), config.model_dump_json()):
        assert TOKEN not in text
    assert TOKEN not in str(config.model_dump())


@pytest.mark.parametrize("bad_token", ["has space inside", "tab\there", "nön-ascii"])
def test_bad_token_error_hides_the_value(
    tmp_path: Path, env: dict[str, str], bad_token: str
) -> None:
    path = write(tmp_path / "agent.toml", f'[central]\ntoken = "{bad_token}"\n')
    error = config_error(path, env)
    assert error.message.startswith("Invalid config: central.token = <hidden>")
    for text in (error.message, str(error), repr(error)):
        assert bad_token not in text
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_token_of_wrong_type_is_hidden(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", "[central]\ntoken = 123456789\n")
    message = config_error(path, env).message
    assert "123456789" not in message
    assert "<hidden>" in message


def test_other_errors_do_not_leak_the_token(tmp_path: Path, env: dict[str, str]) -> None:
    environ = {**env, "LTA_AGENT_CENTRAL_TOKEN": TOKEN, "LTA_AGENT_BIND": "nope"}
    path = write(tmp_path / "agent.toml", f'[central]\ntokn = "{TOKEN}"\n')
    error = config_error(path, environ)
    assert TOKEN not in str(error)


def test_token_from_environment_is_stripped(env: dict[str, str]) -> None:
    config = load_config(None, {**env, "LTA_AGENT_CENTRAL_TOKEN": f"  {TOKEN}\n"})
    assert config.central.token is not None
    assert config.central.token.get_secret_value() == TOKEN


# --------------------------------------------------------------------------- template


def test_template_as_is_gives_the_defaults(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", TEMPLATE.read_text(encoding="utf-8"))
    assert load_config(path, env) == load_config(None, env)


def test_template_mentions_every_key_and_fixed_variable() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    for section, field in AgentConfig.model_fields.items():
        assert f"[{section}]" in text
        model = field.annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        for key in model.model_fields:
            if key != "models":
                assert f"# {key} = " in text, key
    for name in (
        "LTA_AGENT_INBOX",
        "LTA_AGENT_DATA_DIR",
        "LTA_AGENT_BIND",
        "LTA_AGENT_STATION_ID",
        "LTA_AGENT_CENTRAL_URL",
        "LTA_AGENT_CENTRAL_TOKEN",
        "LTA_AGENT_CONFIG",
    ):
        assert name in text


def test_template_examples_validate_when_uncommented(tmp_path: Path, env: dict[str, str]) -> None:
    """Uncommenting every example must give a valid file, so the examples never rot."""
    (tmp_path / "ca.pem").write_text("x", encoding="utf-8")
    text = TEMPLATE.read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        example = re.match(r"^# ([a-z_]+ = .*|\[analysis\.models\..*\])$", line)
        lines.append(example.group(1) if example else line)
    uncommented = "\n".join(lines)
    uncommented = uncommented.replace(
        "C:\\ProgramData\\LaserTrimAnalyzer\\company-ca.pem", "ca.pem"
    )
    # The [analysis.models."8340-1"] table comes before [central]: keys after it stay in it,
    # so it must be the last table of [analysis] and its keys must be valid override keys.
    config = load_config(write(tmp_path / "agent.toml", uncommented), env)
    assert config.station.id == "trim-07"
    assert config.analysis.models["8340-1"] == ModelOverride(
        sigma_threshold=0.0012, linearity_spec=0.01
    )
    assert config.central.token is not None


def test_write_default_config(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "etc" / "agent.toml"
    write_default_config(path)
    assert path.read_text(encoding="utf-8") == TEMPLATE.read_text(encoding="utf-8")
    assert load_config(path, env) == load_config(None, env)


def test_write_default_config_refuses_to_overwrite(tmp_path: Path) -> None:
    path = write(tmp_path / "agent.toml", f'[central]\ntoken = "{TOKEN}"\n')
    with pytest.raises(ConfigError, match="already exists"):
        write_default_config(path)
    assert TOKEN in path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- shifts

BERLIN_FIXED = timezone(timedelta(hours=1))
Minute = tuple[int, int, int, int, int]


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN_FIXED)


STARTS = ["06:00", "14:00", "22:00"]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ((2024, 3, 5, 6, 0), (2024, 3, 5, 6, 0)),  # exactly at a start
        ((2024, 3, 5, 9, 30), (2024, 3, 5, 6, 0)),
        ((2024, 3, 5, 13, 59), (2024, 3, 5, 6, 0)),
        ((2024, 3, 5, 14, 0), (2024, 3, 5, 14, 0)),
        ((2024, 3, 5, 21, 0), (2024, 3, 5, 14, 0)),
        ((2024, 3, 5, 23, 0), (2024, 3, 5, 22, 0)),
        ((2024, 3, 5, 3, 0), (2024, 3, 4, 22, 0)),  # night shift began yesterday
        ((2024, 3, 1, 0, 0), (2024, 2, 29, 22, 0)),  # across a month (leap day)
        ((2024, 1, 1, 5, 59), (2023, 12, 31, 22, 0)),  # across a year
    ],
)
def test_current_shift_start(now: Minute, expected: Minute) -> None:
    result = current_shift_start(at(*now), STARTS)
    assert result == at(*expected)
    assert result.tzinfo is BERLIN_FIXED


def test_single_shift_start_and_time_objects() -> None:
    now = datetime(2024, 3, 5, 5, 0, tzinfo=UTC)
    assert current_shift_start(now, [time(6, 0)]) == datetime(2024, 3, 4, 6, 0, tzinfo=UTC)


def test_empty_starts_is_the_calendar_day() -> None:
    now = datetime(2024, 3, 5, 0, 30, tzinfo=BERLIN_FIXED)
    assert current_shift_start(now, []) == datetime(2024, 3, 5, tzinfo=BERLIN_FIXED)


def test_shift_start_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        current_shift_start(datetime(2024, 3, 5, 12, 0), STARTS)


def test_shift_start_over_daylight_saving_change() -> None:
    try:
        zone = ZoneInfo("Europe/Berlin")
    except ZoneInfoNotFoundError:
        pytest.skip("no time zone database on this machine")
    # Clocks go forward at 02:00 on 31 March 2024: the night shift began at 22:00 CET.
    now = datetime(2024, 3, 31, 5, 0, tzinfo=zone)
    start = current_shift_start(now, STARTS)
    assert start == datetime(2024, 3, 30, 22, 0, tzinfo=zone)
    # 7 hours on the wall clock, 6 real hours (subtraction in one zone is wall-clock time).
    assert now.timestamp() - start.timestamp() == timedelta(hours=6).total_seconds()


def test_shift_config_method_uses_configured_starts(env: dict[str, str]) -> None:
    config = load_config(None, {**env, "LTA_AGENT_SHIFT__STARTS": "07:30"})
    now = datetime(2024, 3, 5, 7, 0, tzinfo=UTC)
    assert config.shift.current_start(now) == datetime(2024, 3, 4, 7, 30, tzinfo=UTC)


# --------------------------------------------------------------------------- analysis settings


def test_analysis_settings_from_config(tmp_path: Path, env: dict[str, str]) -> None:
    settings = load_config(full_file(tmp_path), env).analysis_settings()
    assert isinstance(settings, AnalysisSettings)
    assert settings.max_file_bytes == int(2.5 * 1024 * 1024)
    assert settings.max_rows == 5000
    assert settings.include_curves is True
    assert settings.model_overrides == {
        "8340-1": ModelOverride(sigma_threshold=0.002),
        "8340": ModelOverride(linearity_spec=0.01),
    }
    assert settings.override_for("8340-1") == ModelOverride(sigma_threshold=0.002)
    assert settings.override_for("8340-2") == ModelOverride(linearity_spec=0.01)
    assert settings.override_for("9999") is None


def test_default_analysis_settings_match_shared_defaults() -> None:
    assert load_config(None, {}).analysis_settings() == AnalysisSettings()


# --------------------------------------------------------------------------- bind parsing


@pytest.mark.parametrize(
    ("bind", "host", "port"),
    [
        ("127.0.0.1:8710", "127.0.0.1", 8710),
        ("0.0.0.0:1", "0.0.0.0", 1),  # noqa: S104 - a test value, nothing is bound
        ("localhost:65535", "localhost", 65535),
        ("station-7.plant.example:80", "station-7.plant.example", 80),
        ("[::1]:8710", "::1", 8710),
        ("[::]:8710", "::", 8710),
    ],
)
def test_split_bind(bind: str, host: str, port: int) -> None:
    assert split_bind(bind) == (host, port)


def test_empty_station_name_means_the_default(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "agent.toml", '[station]\nid = "trim-09"\nname = ""\n')
    assert load_config(path, env).station.name == "Trim station trim-09"


def test_docs_example_validates(tmp_path: Path, env: dict[str, str]) -> None:
    """The example in docs/config.md is what IT copies; it must stay valid."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "config.md"
    match = re.search(r"## Example\n\n```toml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert match is not None
    (tmp_path / "ca.pem").write_text("x", encoding="utf-8")
    example = re.sub(r"(?m)^ca_bundle = .*$", "ca_bundle = 'ca.pem'", match.group(1))
    config = load_config(write(tmp_path / "agent.toml", example), env)
    assert config.station.id == "trim-07"
    assert config.shift.starts == ["06:00", "18:00"]
